/*
 * Salted, slow password hashes for the registry's credentials file.
 *
 * An encoded hash reads "$pbkdf2-sha256$i=ITERATIONS$SALT$HASH" with SALT (16
 * random bytes) and HASH (32 bytes) in standard base64.  PBKDF2-HMAC-SHA256 comes
 * from OpenSSL.  The credentials file contains one "user:encoded-hash" per
 * line, and '#' starts a comment line.
 */
#ifndef EDGECR_PASSHASH_H
#define EDGECR_PASSHASH_H

#include <stddef.h>

/* PBKDF2-SHA256 iterations of new hashes. */
#define ECR_PASSHASH_ITERATIONS 600000

/* Iterations accepted when verifying, so a crafted file cannot stall a check. */
#define ECR_PASSHASH_ITERATIONS_MAX 10000000

/* Size of a buffer for any encoded hash, NUL included. */
#define ECR_PASSHASH_ENCODED_MAX 128

/*
 * Hashes PASSWORD (LEN bytes, any content) with a fresh random salt and writes
 * the NUL-terminated encoding to ret_encoded, of size ECR_PASSHASH_ENCODED_MAX.
 * Returns 0, or -EIO when OpenSSL's random generator or PBKDF2 fails.
 */
int ecr_passhash_make(const char *password, size_t len, char *ret_encoded);

/*
 * Compares PASSWORD with ENCODED in constant time.  Returns 1 on a match, 0 on
 * a mismatch, -EINVAL when ENCODED is not a hash in the format above.
 */
int ecr_passhash_verify(const char *password, size_t len, const char *encoded);

#endif
