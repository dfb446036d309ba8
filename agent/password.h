/*
 * The registry user's password: generation from OpenSSL's CSPRNG, and the one
 * struct that keeps it in memory.
 */
#ifndef EDGECR_AGENT_PASSWORD_H
#define EDGECR_AGENT_PASSWORD_H

#include <stdbool.h>

#define AGENT_USERNAME "ase-ecr-user"
#define AGENT_PASSWORD_LEN 15

/* The registry credentials.  Wipe with agent_credentials_clear before the
 * memory is released, so the password does not linger in freed pages. */
struct agent_credentials {
	char username[sizeof(AGENT_USERNAME)];
	char password[AGENT_PASSWORD_LEN + 1];
};

/*
 * Writes a new password of AGENT_PASSWORD_LEN characters from [A-Za-z0-9] into
 * ret_password (AGENT_PASSWORD_LEN + 1 bytes).  Each character is uniform over
 * the 62 symbols.  Returns 0, or -EIO when RAND_bytes fails.
 */
int agent_password_generate(char *ret_password);

/* Returns true when PASSWORD has the length and alphabet of a generated one. */
bool agent_password_is_valid(const char *password);

/* Fills CREDS with AGENT_USERNAME and PASSWORD. */
void agent_credentials_set(struct agent_credentials *creds, const char *password);

/* Overwrites CREDS with zeros in a way the compiler cannot drop. */
void agent_credentials_clear(struct agent_credentials *creds);

#endif
