/* PBKDF2-SHA256 password hashes; see passhash.h for the encoding. */
#include "passhash.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SALT_LEN 16
#define HASH_LEN 32
#define PREFIX "$pbkdf2-sha256$i="

static int derive(const char *password, size_t len, const unsigned char *salt,
		  size_t salt_len, unsigned long iterations, unsigned char *out)
{
	if (!PKCS5_PBKDF2_HMAC(password, (int)len, salt, (int)salt_len, (int)iterations,
			       EVP_sha256(), HASH_LEN, out))
		return -EIO;
	return 0;
}

int ecr_passhash_make(const char *password, size_t len, char *ret_encoded)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char salt64[4 * ((SALT_LEN + 2) / 3) + 1], hash64[4 * ((HASH_LEN + 2) / 3) + 1];
	int r;

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -EIO;
	r = derive(password, len, salt, sizeof(salt), ECR_PASSHASH_ITERATIONS, hash);
	if (r < 0)
		return r;

	EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)hash64, hash, sizeof(hash));
	snprintf(ret_encoded, ECR_PASSHASH_ENCODED_MAX, PREFIX "%d$%s$%s",
		 ECR_PASSHASH_ITERATIONS, salt64, hash64);
	OPENSSL_cleanse(hash, sizeof(hash));
	return 0;
}

/* Decodes padded base64 of exactly WANT bytes. */
static int decode_exact(const char *text, size_t text_len, unsigned char *out, size_t want)
{
	unsigned char buf[64];
	int n;

	if (text_len == 0 || text_len % 4 != 0 || text_len / 4 * 3 > sizeof(buf))
		return -EINVAL;
	n = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)text_len);
	if (n < 0)
		return -EINVAL;
	/* EVP_DecodeBlock counts the padding bytes as output; drop them. */
	for (size_t i = text_len; i > 0 && text[i - 1] == '='; i--)
		n--;
	if ((size_t)n != want)
		return -EINVAL;
	memcpy(out, buf, want);
	return 0;
}

int ecr_passhash_verify(const char *password, size_t len, const char *encoded)
{
	unsigned char salt[SALT_LEN], expected[HASH_LEN], actual[HASH_LEN];
	const char *salt64, *hash64;
	unsigned long iterations;
	char *end;
	int r;

	if (strncmp(encoded, PREFIX, strlen(PREFIX)) != 0)
		return -EINVAL;
	/* strtoul would also take a sign or blanks; the format has digits only. */
	if (!isdigit((unsigned char)encoded[strlen(PREFIX)]))
		return -EINVAL;
	iterations = strtoul(encoded + strlen(PREFIX), &end, 10);
	if (*end != '$' || iterations == 0 || iterations > ECR_PASSHASH_ITERATIONS_MAX)
		return -EINVAL;
	salt64 = end + 1;
	hash64 = strchr(salt64, '$');
	if (!hash64)
		return -EINVAL;
	hash64++;

	if (decode_exact(salt64, (size_t)(hash64 - 1 - salt64), salt, sizeof(salt)) < 0 ||
	    decode_exact(hash64, strlen(hash64), expected, sizeof(expected)) < 0)
		return -EINVAL;

	r = derive(password, len, salt, sizeof(salt), iterations, actual);
	if (r < 0)
		return r;
	r = CRYPTO_memcmp(expected, actual, HASH_LEN) == 0;
	OPENSSL_cleanse(actual, sizeof(actual));
	return r;
}
