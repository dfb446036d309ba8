/*
 * Hashing thread with double buffering; see hash_pipe.h.
 */
#include "hash_pipe.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Stack of the hashing thread: an estimate with headroom, since OpenSSL's
 * SHA-256 and SHA-512 use a few KiB. */
#define HASH_THREAD_STACK (256 * 1024)

struct reg_hash_pipe {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* work handed over, work done, or stop */
	EVP_MD_CTX *md;          /* borrowed, used only by the thread */
	unsigned char *fill;     /* the writer's buffer */
	size_t fill_len;
	unsigned char *work;     /* the thread's buffer */
	size_t work_len;         /* above 0 while the thread has work */
	bool stop;
	bool failed;
};

static void *pipe_run(void *arg)
{
	struct reg_hash_pipe *hasher = arg;

	pthread_mutex_lock(&hasher->lock);
	for (;;) {
		bool ok;

		while (hasher->work_len == 0 && !hasher->stop)
			pthread_cond_wait(&hasher->cond, &hasher->lock);
		if (hasher->work_len == 0)
			break;

		/* The writer touches work only after work_len went back to 0. */
		pthread_mutex_unlock(&hasher->lock);
		ok = EVP_DigestUpdate(hasher->md, hasher->work, hasher->work_len) == 1;
		pthread_mutex_lock(&hasher->lock);

		if (!ok)
			hasher->failed = true;
		hasher->work_len = 0;
		pthread_cond_broadcast(&hasher->cond);
	}
	pthread_mutex_unlock(&hasher->lock);
	return NULL;
}

static void pipe_free(struct reg_hash_pipe *hasher)
{
	pthread_cond_destroy(&hasher->cond);
	pthread_mutex_destroy(&hasher->lock);
	free(hasher->fill);
	free(hasher->work);
	free(hasher);
}

int reg_hash_pipe_new(EVP_MD_CTX *md, struct reg_hash_pipe **ret_hasher)
{
	struct reg_hash_pipe *hasher;
	pthread_attr_t attr;
	int r;

	hasher = calloc(1, sizeof(*hasher));
	if (!hasher)
		return -ENOMEM;
	hasher->md = md;
	hasher->fill = malloc(REG_HASH_PIPE_BUFFER);
	hasher->work = malloc(REG_HASH_PIPE_BUFFER);
	if (!hasher->fill || !hasher->work) {
		free(hasher->fill);
		free(hasher->work);
		free(hasher);
		return -ENOMEM;
	}
	pthread_mutex_init(&hasher->lock, NULL);
	pthread_cond_init(&hasher->cond, NULL);

	r = pthread_attr_init(&attr);
	if (r == 0) {
		pthread_attr_setstacksize(&attr, HASH_THREAD_STACK);
		r = pthread_create(&hasher->thread, &attr, pipe_run, hasher);
		pthread_attr_destroy(&attr);
	}
	if (r != 0) {
		pipe_free(hasher);
		return -r;
	}
	*ret_hasher = hasher;
	return 0;
}

/* Hands the fill buffer to the thread once it is done with the one before.
 * Returns 0, or -EIO when hashing failed. */
static int pipe_submit(struct reg_hash_pipe *hasher)
{
	unsigned char *full = hasher->fill;
	bool failed;

	pthread_mutex_lock(&hasher->lock);
	while (hasher->work_len != 0)
		pthread_cond_wait(&hasher->cond, &hasher->lock);
	hasher->fill = hasher->work;
	hasher->work = full;
	hasher->work_len = hasher->fill_len;
	hasher->fill_len = 0;
	failed = hasher->failed;
	pthread_cond_broadcast(&hasher->cond);
	pthread_mutex_unlock(&hasher->lock);
	return failed ? -EIO : 0;
}

int reg_hash_pipe_write(struct reg_hash_pipe *hasher, const void *data, size_t len)
{
	const unsigned char *bytes = data;

	while (len > 0) {
		size_t n = REG_HASH_PIPE_BUFFER - hasher->fill_len;
		int r;

		if (n > len)
			n = len;
		memcpy(hasher->fill + hasher->fill_len, bytes, n);
		hasher->fill_len += n;
		bytes += n;
		len -= n;
		if (hasher->fill_len < REG_HASH_PIPE_BUFFER)
			continue;
		r = pipe_submit(hasher);
		if (r < 0)
			return r;
	}
	return 0;
}

int reg_hash_pipe_finish(struct reg_hash_pipe *hasher)
{
	bool failed;

	if (!hasher)
		return 0;
	if (hasher->fill_len > 0)
		pipe_submit(hasher);

	pthread_mutex_lock(&hasher->lock);
	hasher->stop = true;
	pthread_cond_broadcast(&hasher->cond);
	pthread_mutex_unlock(&hasher->lock);
	pthread_join(hasher->thread, NULL);

	failed = hasher->failed;
	pipe_free(hasher);
	return failed ? -EIO : 0;
}
