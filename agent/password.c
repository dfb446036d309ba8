/*
 * Password generation; see password.h.
 *
 * Random bytes are mapped onto the 62-symbol alphabet by rejection sampling: a
 * byte is used only when it is below 248 (4 * 62), so byte % 62 is uniform.
 * Taking every byte modulo 62 would make the first 8 symbols more likely.
 */
#include "password.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#define ALPHABET_SIZE (sizeof(alphabet) - 1)
#define REJECT_FROM (256 - 256 % ALPHABET_SIZE)

int agent_password_generate(char *ret_password)
{
	char password[AGENT_PASSWORD_LEN + 1];
	unsigned char bytes[64];
	size_t n = 0;
	int r = 0;

	while (n < AGENT_PASSWORD_LEN) {
		if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
			r = -EIO;
			goto out;
		}
		for (size_t i = 0; i < sizeof(bytes) && n < AGENT_PASSWORD_LEN; i++) {
			if (bytes[i] >= REJECT_FROM)
				continue;
			password[n++] = alphabet[bytes[i] % ALPHABET_SIZE];
		}
	}
	password[n] = '\0';
	memcpy(ret_password, password, sizeof(password));

out:
	OPENSSL_cleanse(password, sizeof(password));
	OPENSSL_cleanse(bytes, sizeof(bytes));
	return r;
}

bool agent_password_is_valid(const char *password)
{
	return strlen(password) == AGENT_PASSWORD_LEN &&
	       strspn(password, alphabet) == AGENT_PASSWORD_LEN;
}

void agent_credentials_set(struct agent_credentials *creds, const char *password)
{
	memcpy(creds->username, AGENT_USERNAME, sizeof(creds->username));
	snprintf(creds->password, sizeof(creds->password), "%s", password);
}

void agent_credentials_clear(struct agent_credentials *creds)
{
	OPENSSL_cleanse(creds, sizeof(*creds));
}
