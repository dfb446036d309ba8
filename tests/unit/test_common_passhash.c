/* Unit tests for common/passhash.c: PBKDF2-SHA256 password hashes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>

#include "passhash.h"
#include "unit.h"

/* Salt and hash for "pw" at 1000 iterations, built by encode_hash below. */
static char known_hash[ECR_PASSHASH_ENCODED_MAX];

/* Writes the encoding of PASSWORD at ITERATIONS with a salt of 0x42 bytes. */
static void encode_hash(const char *password, unsigned long iterations, char *encoded)
{
	unsigned char salt[16], hash[32];
	char salt64[25], hash64[45];

	memset(salt, 0x42, sizeof(salt));
	PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), (int)iterations,
			  EVP_sha256(), sizeof(hash), hash);
	EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)hash64, hash, sizeof(hash));
	snprintf(encoded, ECR_PASSHASH_ENCODED_MAX, "$pbkdf2-sha256$i=%lu$%s$%s", iterations,
		 salt64, hash64);
}

static void make_verify_round_trip(void)
{
	char encoded[ECR_PASSHASH_ENCODED_MAX], again[ECR_PASSHASH_ENCODED_MAX];
	char prefix[64];

	CHECK_INT(ecr_passhash_make("s3cret:p\xc3\xa4ss", 13, encoded), 0);
	snprintf(prefix, sizeof(prefix), "$pbkdf2-sha256$i=%d$", ECR_PASSHASH_ITERATIONS);
	CHECK(strncmp(encoded, prefix, strlen(prefix)) == 0);
	/* 16-byte salt and 32-byte hash in padded base64 after the prefix. */
	CHECK_INT(strlen(encoded), strlen(prefix) + 24 + 1 + 44);

	CHECK_INT(ecr_passhash_verify("s3cret:p\xc3\xa4ss", 13, encoded), 1);
	CHECK_INT(ecr_passhash_verify("s3cret:p\xc3\xa4sS", 13, encoded), 0);

	/* A fresh salt each time: the same password encodes differently. */
	CHECK_INT(ecr_passhash_make("s3cret:p\xc3\xa4ss", 13, again), 0);
	CHECK(strcmp(encoded, again) != 0);
}

static void verify_known_hash(void)
{
	CHECK_INT(ecr_passhash_verify("pw", 2, known_hash), 1);
	CHECK_INT(ecr_passhash_verify("pw ", 3, known_hash), 0);
	CHECK_INT(ecr_passhash_verify("p", 1, known_hash), 0);
	CHECK_INT(ecr_passhash_verify("", 0, known_hash), 0);
	CHECK_INT(ecr_passhash_verify("PW", 2, known_hash), 0);
	/* LEN decides, not the NUL: "pwx" cut to two bytes is "pw". */
	CHECK_INT(ecr_passhash_verify("pwx", 2, known_hash), 1);
}

static void password_with_nul_bytes(void)
{
	char encoded[ECR_PASSHASH_ENCODED_MAX];

	CHECK_INT(ecr_passhash_make("a\0b", 3, encoded), 0);
	CHECK_INT(ecr_passhash_verify("a\0b", 3, encoded), 1);
	CHECK_INT(ecr_passhash_verify("a\0c", 3, encoded), 0);
	CHECK_INT(ecr_passhash_verify("a", 1, encoded), 0);
}

static void malformed_encodings(void)
{
	static const char *const malformed[] = {
		"",
		"pw",
		"$pbkdf2-sha256$",
		"$pbkdf2-sha256$i=",
		"$pbkdf2-sha256$i=1000",
		"$pbkdf2-sha256$i=1000$",
		"$pbkdf2-sha256$i=1000$QkJCQkJCQkJCQkJCQkJCQg==",
		"$pbkdf2-sha256$i=1000$QkJCQkJCQkJCQkJCQkJCQg==$",
		"$pbkdf2-sha512$i=1000$QkJCQkJCQkJCQkJCQkJCQg==$QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=",
		"$pbkdf2-sha256$n=1000$QkJCQkJCQkJCQkJCQkJCQg==$QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=",
		"$pbkdf2-sha256$i=x$QkJCQkJCQkJCQkJCQkJCQg==$QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=",
		"$pbkdf2-sha256$i=0$QkJCQkJCQkJCQkJCQkJCQg==$QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=",
		/* A salt of 15 bytes, then of 17. */
		"$pbkdf2-sha256$i=1000$QkJCQkJCQkJCQkJCQkJC$QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=",
		"$pbkdf2-sha256$i=1000$QkJCQkJCQkJCQkJCQkJCQkI=$QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=",
		/* A hash of 30 bytes, of 33, and one without padding. */
		"$pbkdf2-sha256$i=1000$QkJCQkJCQkJCQkJCQkJCQg==$QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC",
		"$pbkdf2-sha256$i=1000$QkJCQkJCQkJCQkJCQkJCQg==$QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC",
		"$pbkdf2-sha256$i=1000$QkJCQkJCQkJCQkJCQkJCQg==$QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI",
		/* Characters outside base64. */
		"$pbkdf2-sha256$i=1000$QkJCQkJCQkJCQkJCQkJC!g==$QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=",
	};

	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		int r = ecr_passhash_verify("pw", 2, malformed[i]);

		if (r != -EINVAL)
			fprintf(stderr, "  \"%s\" returned %d\n", malformed[i], r);
		CHECK_INT(r, -EINVAL);
	}
}

static void iterations_capped(void)
{
	char encoded[ECR_PASSHASH_ENCODED_MAX];

	/* Over the cap is rejected before any hashing. */
	snprintf(encoded, sizeof(encoded), "$pbkdf2-sha256$i=%d$QkJCQkJCQkJCQkJCQkJCQg==$"
		 "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=", ECR_PASSHASH_ITERATIONS_MAX + 1);
	CHECK_INT(ecr_passhash_verify("pw", 2, encoded), -EINVAL);
	CHECK_INT(ecr_passhash_verify("pw", 2, "$pbkdf2-sha256$i=99999999999999999999999$"
				      "QkJCQkJCQkJCQkJCQkJCQg==$QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="),
		  -EINVAL);

	/* One iteration, the least, is accepted. */
	encode_hash("pw", 1, encoded);
	CHECK_INT(ecr_passhash_verify("pw", 2, encoded), 1);
}

int main(void)
{
	encode_hash("pw", 1000, known_hash);

	RUN(make_verify_round_trip);
	RUN(verify_known_hash);
	RUN(password_with_nul_bytes);
	RUN(malformed_encodings);
	RUN(iterations_capped);
	return UNIT_EXIT();
}
