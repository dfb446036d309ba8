/* Unit tests of registry/upload_hash.c: the table of running upload digests. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "upload_hash.h"
#include "unit.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccccccccc"
#define HELLO_WORLD_SHA256 \
	"sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"

/* Concurrent test: threads, bytes per upload, uploads per thread.  Every
 * third upload is a large one, of several MiB. */
#define THREADS 8
#define UPLOAD_BYTES (256 * 1024)
#define LARGE_UPLOAD_BYTES (6 * 1024 * 1024)
#define UPLOADS_PER_THREAD 12

static void expected_digest(const void *data, size_t len, char *ret_text)
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned hash_len = 0;

	EVP_Digest(data, len, hash, &hash_len, EVP_sha256(), NULL);
	strcpy(ret_text, "sha256:");
	for (unsigned i = 0; i < hash_len; i++)
		sprintf(ret_text + 7 + 2 * i, "%02x", hash[i]);
}

static void hashes_in_order(void)
{
	struct reg_upload_hashes table;
	struct reg_digest digest;

	CHECK_INT(reg_upload_hashes_init(&table, 4), 0);
	reg_upload_hashes_update(&table, ID_A, 0, "hello ", 6);
	reg_upload_hashes_update(&table, ID_A, 6, "", 0);
	reg_upload_hashes_update(&table, ID_A, 6, "world", 5);
	CHECK_INT(reg_upload_hashes_count(&table), 1);

	CHECK_INT(reg_upload_hashes_take(&table, ID_A, 11, REG_DIGEST_SHA256, &digest), 0);
	CHECK_STR(digest.text, HELLO_WORLD_SHA256);
	CHECK_INT(reg_upload_hashes_count(&table), 0);
	CHECK_INT(reg_upload_hashes_take(&table, ID_A, 11, REG_DIGEST_SHA256, &digest), -ENOENT);
	reg_upload_hashes_release(&table);
}

static void hashes_out_of_order_dropped(void)
{
	struct reg_upload_hashes table;
	struct reg_digest digest;

	CHECK_INT(reg_upload_hashes_init(&table, 4), 0);

	/* A chunk past the state's end (one the table missed) drops it. */
	reg_upload_hashes_update(&table, ID_A, 0, "hello ", 6);
	reg_upload_hashes_update(&table, ID_A, 7, "orld", 4);
	CHECK_INT(reg_upload_hashes_count(&table), 0);
	reg_upload_hashes_update(&table, ID_A, 11, "!", 1);
	CHECK_INT(reg_upload_hashes_take(&table, ID_A, 12, REG_DIGEST_SHA256, &digest), -ENOENT);

	/* A second write at offset 0 drops the state and creates none. */
	reg_upload_hashes_update(&table, ID_A, 0, "hello ", 6);
	reg_upload_hashes_update(&table, ID_A, 0, "hello ", 6);
	reg_upload_hashes_update(&table, ID_A, 6, "world", 5);
	CHECK_INT(reg_upload_hashes_take(&table, ID_A, 11, REG_DIGEST_SHA256, &digest), -ENOENT);

	/* A state that covers less or more than the file is not used. */
	reg_upload_hashes_update(&table, ID_A, 0, "hello world", 11);
	CHECK_INT(reg_upload_hashes_take(&table, ID_A, 12, REG_DIGEST_SHA256, &digest), -ENOENT);
	reg_upload_hashes_update(&table, ID_A, 0, "hello world", 11);
	CHECK_INT(reg_upload_hashes_take(&table, ID_A, 10, REG_DIGEST_SHA256, &digest), -ENOENT);

	/* Nothing is hashed for sha512; the file is read instead. */
	reg_upload_hashes_update(&table, ID_A, 0, "hello world", 11);
	CHECK_INT(reg_upload_hashes_take(&table, ID_A, 11, REG_DIGEST_SHA512, &digest), -ENOENT);

	/* After a drop (a truncation) the upload starts again at offset 0. */
	reg_upload_hashes_update(&table, ID_A, 0, "hello world, and more", 21);
	reg_upload_hashes_drop(&table, ID_A);
	CHECK_INT(reg_upload_hashes_count(&table), 0);
	reg_upload_hashes_update(&table, ID_A, 0, "hello world", 11);
	CHECK_INT(reg_upload_hashes_take(&table, ID_A, 11, REG_DIGEST_SHA256, &digest), 0);
	CHECK_STR(digest.text, HELLO_WORLD_SHA256);

	/* A malformed id is ignored. */
	reg_upload_hashes_update(&table, "short", 0, "x", 1);
	CHECK_INT(reg_upload_hashes_count(&table), 0);
	reg_upload_hashes_drop(&table, "");
	reg_upload_hashes_release(&table);
}

static void hashes_evict_oldest_idle(void)
{
	struct reg_upload_hashes table;
	struct reg_digest digest;

	CHECK_INT(reg_upload_hashes_init(&table, 2), 0);
	reg_upload_hashes_update(&table, ID_A, 0, "hello ", 6);
	reg_upload_hashes_update(&table, ID_B, 0, "hello ", 6);
	/* A is used again, so B is now the one idle longest. */
	reg_upload_hashes_update(&table, ID_A, 6, "world", 5);
	reg_upload_hashes_update(&table, ID_C, 0, "hello world", 11);
	CHECK_INT(reg_upload_hashes_count(&table), 2);

	/* B lost its state, so its next chunk does not make a new one. */
	reg_upload_hashes_update(&table, ID_B, 6, "world", 5);
	CHECK_INT(reg_upload_hashes_take(&table, ID_B, 11, REG_DIGEST_SHA256, &digest), -ENOENT);
	CHECK_INT(reg_upload_hashes_take(&table, ID_A, 11, REG_DIGEST_SHA256, &digest), 0);
	CHECK_STR(digest.text, HELLO_WORLD_SHA256);
	CHECK_INT(reg_upload_hashes_take(&table, ID_C, 11, REG_DIGEST_SHA256, &digest), 0);
	CHECK_STR(digest.text, HELLO_WORLD_SHA256);
	reg_upload_hashes_release(&table);
}

/* A large upload's digest, a drop in the middle, a chunk out of order and
 * an eviction behave as for a small one. */
static void hashes_large_upload(void)
{
	size_t size = LARGE_UPLOAD_BYTES, half = LARGE_UPLOAD_BYTES / 2;
	char expected[REG_DIGEST_TEXT_MAX];
	struct reg_upload_hashes table;
	struct reg_digest digest;
	unsigned char *data = malloc(LARGE_UPLOAD_BYTES);
	unsigned seed = 3;

	CHECK(data != NULL);
	for (size_t i = 0; i < size; i++)
		data[i] = (unsigned char)rand_r(&seed);
	expected_digest(data, size, expected);
	CHECK_INT(reg_upload_hashes_init(&table, 2), 0);

	reg_upload_hashes_update(&table, ID_A, 0, data, half);
	reg_upload_hashes_update(&table, ID_A, half, data + half, size - half);
	CHECK_INT(reg_upload_hashes_take(&table, ID_A, size, REG_DIGEST_SHA256, &digest), 0);
	CHECK_STR(digest.text, expected);

	reg_upload_hashes_update(&table, ID_A, 0, data, half);
	reg_upload_hashes_drop(&table, ID_A);
	CHECK_INT(reg_upload_hashes_count(&table), 0);

	reg_upload_hashes_update(&table, ID_A, 0, data, half);
	reg_upload_hashes_update(&table, ID_A, half + 1, data + half + 1, size - half - 1);
	CHECK_INT(reg_upload_hashes_take(&table, ID_A, size, REG_DIGEST_SHA256, &digest), -ENOENT);

	/* Two more uploads in a table of two evict the one idle longest. */
	reg_upload_hashes_update(&table, ID_A, 0, data, half);
	reg_upload_hashes_update(&table, ID_B, 0, data, half);
	reg_upload_hashes_update(&table, ID_C, 0, data, size);
	CHECK_INT(reg_upload_hashes_take(&table, ID_A, half, REG_DIGEST_SHA256, &digest), -ENOENT);
	CHECK_INT(reg_upload_hashes_take(&table, ID_C, size, REG_DIGEST_SHA256, &digest), 0);
	CHECK_STR(digest.text, expected);
	reg_upload_hashes_release(&table);
	free(data);
}

struct worker {
	struct reg_upload_hashes *table;
	unsigned seed;
	unsigned char *data;   /* LARGE_UPLOAD_BYTES */
	int correct, missing, wrong;
};

/* Uploads UPLOADS_PER_THREAD distinct uploads in chunks of random sizes and
 * checks each digest the table returns. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char id[REG_UPLOAD_ID_LEN + 1], expected[REG_DIGEST_TEXT_MAX];
	struct reg_digest digest;

	for (int u = 0; u < UPLOADS_PER_THREAD; u++) {
		size_t size = u % 3 == 0 ? LARGE_UPLOAD_BYTES : UPLOAD_BYTES;
		uint64_t offset = 0;

		for (size_t i = 0; i < size; i++)
			w->data[i] = (unsigned char)rand_r(&w->seed);
		for (int i = 0; i < REG_UPLOAD_ID_LEN; i++)
			id[i] = "0123456789abcdef"[rand_r(&w->seed) % 16];
		id[REG_UPLOAD_ID_LEN] = '\0';

		while (offset < size) {
			size_t len = 1 + (size_t)rand_r(&w->seed) % 40000;

			if (len > size - offset)
				len = size - offset;
			reg_upload_hashes_update(w->table, id, offset, w->data + offset, len);
			offset += len;
		}

		expected_digest(w->data, size, expected);
		if (reg_upload_hashes_take(w->table, id, size, REG_DIGEST_SHA256, &digest) < 0)
			w->missing++;
		else if (strcmp(digest.text, expected) == 0)
			w->correct++;
		else
			w->wrong++;
	}
	return NULL;
}

/* Runs THREADS workers on a table of CAPACITY states and checks the totals. */
static void workers_run(size_t capacity, int *ret_correct, int *ret_missing, int *ret_wrong)
{
	struct worker workers[THREADS];
	pthread_t threads[THREADS];
	struct reg_upload_hashes table;

	*ret_correct = *ret_missing = *ret_wrong = 0;
	CHECK_INT(reg_upload_hashes_init(&table, capacity), 0);
	for (int i = 0; i < THREADS; i++) {
		workers[i] = (struct worker){ .table = &table, .seed = 1000u + (unsigned)i };
		workers[i].data = malloc(LARGE_UPLOAD_BYTES);
		CHECK(workers[i].data != NULL);
		CHECK_INT(pthread_create(&threads[i], NULL, worker_run, &workers[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
		*ret_correct += workers[i].correct;
		*ret_missing += workers[i].missing;
		*ret_wrong += workers[i].wrong;
		free(workers[i].data);
	}
	CHECK_INT(reg_upload_hashes_count(&table), 0);
	reg_upload_hashes_release(&table);
}

static void hashes_concurrent_uploads(void)
{
	int correct, missing, wrong;

	/* Room for every upload: each one keeps its state to the end. */
	workers_run(THREADS, &correct, &missing, &wrong);
	CHECK_INT(correct, THREADS * UPLOADS_PER_THREAD);
	CHECK_INT(missing, 0);
	CHECK_INT(wrong, 0);

	/* Room for fewer uploads than run at once: evicted ones have no
	 * state, and no digest is ever wrong. */
	workers_run(THREADS / 4, &correct, &missing, &wrong);
	CHECK_INT(correct + missing, THREADS * UPLOADS_PER_THREAD);
	CHECK_INT(wrong, 0);
}

struct rival {
	struct reg_upload_hashes *table;
	char fill;
};

/* Writes 64 chunks of 4 KiB of its own byte to ID_A from offset 0, as a
 * second connection of a hostile client would. */
static void *rival_run(void *arg)
{
	struct rival *r = arg;
	char chunk[4096];

	memset(chunk, r->fill, sizeof(chunk));
	for (uint64_t i = 0; i < 64; i++)
		reg_upload_hashes_update(r->table, ID_A, i * sizeof(chunk), chunk, sizeof(chunk));
	return NULL;
}

static void hashes_two_writers_one_upload(void)
{
	struct reg_upload_hashes table;
	struct rival rivals[2];
	pthread_t threads[2];
	struct reg_digest digest;

	CHECK_INT(reg_upload_hashes_init(&table, 4), 0);
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 2; i++) {
			rivals[i] = (struct rival){ .table = &table, .fill = (char)('x' + i) };
			CHECK_INT(pthread_create(&threads[i], NULL, rival_run, &rivals[i]), 0);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(threads[i], NULL);
		/* Both started at offset 0, so whatever the interleaving, the
		 * second one to arrive dropped the state. */
		CHECK_INT(reg_upload_hashes_take(&table, ID_A, 64 * 4096, REG_DIGEST_SHA256, &digest),
			  -ENOENT);
		CHECK_INT(reg_upload_hashes_count(&table), 0);
	}
	reg_upload_hashes_release(&table);
}

int main(void)
{
	RUN(hashes_in_order);
	RUN(hashes_out_of_order_dropped);
	RUN(hashes_evict_oldest_idle);
	RUN(hashes_large_upload);
	RUN(hashes_concurrent_uploads);
	RUN(hashes_two_writers_one_upload);
	return UNIT_EXIT();
}
