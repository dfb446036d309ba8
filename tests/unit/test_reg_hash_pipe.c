/* Unit tests of registry/hash_pipe.c: hashing on a thread of its own. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "hash_pipe.h"
#include "unit.h"

/* Three and a half buffers, so the last one is handed over by finish. */
#define STREAM_BYTES (3 * REG_HASH_PIPE_BUFFER + REG_HASH_PIPE_BUFFER / 2)

static void hash_pipe_matches_inline_digest(void)
{
	unsigned char expected[EVP_MAX_MD_SIZE], actual[EVP_MAX_MD_SIZE];
	unsigned expected_len = 0, actual_len = 0, seed = 7;
	struct reg_hash_pipe *hasher = NULL;
	unsigned char *data = malloc(STREAM_BYTES);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t offset = 0;

	CHECK(data != NULL);
	CHECK(md != NULL);
	for (size_t i = 0; i < STREAM_BYTES; i++)
		data[i] = (unsigned char)rand_r(&seed);
	EVP_Digest(data, STREAM_BYTES, expected, &expected_len, EVP_sha256(), NULL);

	CHECK_INT(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	CHECK_INT(reg_hash_pipe_new(md, &hasher), 0);
	/* Odd sizes, so writes straddle the buffer boundaries. */
	while (offset < STREAM_BYTES) {
		size_t len = 1 + (size_t)rand_r(&seed) % 300000;

		if (len > STREAM_BYTES - offset)
			len = STREAM_BYTES - offset;
		CHECK_INT(reg_hash_pipe_write(hasher, data + offset, len), 0);
		offset += len;
	}
	CHECK_INT(reg_hash_pipe_finish(hasher), 0);

	CHECK_INT(EVP_DigestFinal_ex(md, actual, &actual_len), 1);
	CHECK_INT(actual_len, expected_len);
	CHECK(memcmp(actual, expected, expected_len) == 0);
	EVP_MD_CTX_free(md);
	free(data);
}

static void hash_pipe_finish_without_data(void)
{
	struct reg_hash_pipe *hasher = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	CHECK_INT(reg_hash_pipe_finish(NULL), 0);
	CHECK_INT(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	CHECK_INT(reg_hash_pipe_new(md, &hasher), 0);
	CHECK_INT(reg_hash_pipe_finish(hasher), 0);
	EVP_MD_CTX_free(md);
}

int main(void)
{
	RUN(hash_pipe_matches_inline_digest);
	RUN(hash_pipe_finish_without_data);
	return UNIT_EXIT();
}
