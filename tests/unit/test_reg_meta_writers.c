/*
 * Unit tests of the metadata's write queue (registry/meta.c): many threads
 * of one process write at once with a short busy timeout, and each write
 * must succeed, because only another process's write lock may time out.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "meta_internal.h"
#include "unit.h"

/* 48 threads of 40 writes each: on a 2-core machine, sqlite's own busy
 * handler let at least one of them wait past a 100 ms timeout in every run. */
#define WRITER_THREADS 48
#define WRITES_PER_THREAD 40
#define SHORT_TIMEOUT_MS 100

static char dir[] = "/tmp/test_reg_meta_writers.XXXXXX";
static char db_path[PATH_MAX];

struct writer {
	pthread_t thread;
	struct reg_meta *meta;
	pthread_barrier_t *start;
	int index;
	int failures;
	int first_error;
	double max_seconds;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Counts a failed write of W; called only by W's own thread. */
static void writer_note(struct writer *w, int r, double started)
{
	double seconds = now_seconds() - started;

	if (seconds > w->max_seconds)
		w->max_seconds = seconds;
	if (r < 0 && w->failures++ == 0)
		w->first_error = r;
}

/* Runs one upload's writes as the registry does: create, touch (a single
 * statement), complete (a transaction of several). */
static void *writer_run(void *arg)
{
	struct writer *w = arg;
	char id[REG_UPLOAD_ID_LEN + 1], digest[7 + 64 + 1];
	double started;

	pthread_barrier_wait(w->start);
	for (int i = 0; i < WRITES_PER_THREAD; i++) {
		snprintf(id, sizeof(id), "%016x%016x", w->index, i);
		snprintf(digest, sizeof(digest), "sha256:%032x%032x", w->index, i);

		started = now_seconds();
		writer_note(w, reg_meta_upload_create(w->meta, "lib/app", id), started);
		started = now_seconds();
		writer_note(w, reg_meta_upload_touch(w->meta, id), started);
		started = now_seconds();
		writer_note(w, reg_meta_upload_complete(w->meta, "lib/app", id, digest, 10), started);
	}
	return NULL;
}

static struct reg_meta *meta_open(void)
{
	struct reg_meta *meta = NULL;
	char err[256] = "";

	CHECK_INT(reg_meta_open(db_path, &meta, err, sizeof(err)), 0);
	return meta;
}

static void writers_never_time_out(void)
{
	struct writer writers[WRITER_THREADS] = { 0 };
	struct reg_meta_write_stats stats;
	pthread_barrier_t start;
	struct reg_meta *meta = meta_open();
	double max_seconds = 0;
	int failures = 0;

	if (!meta)
		return;
	meta_busy_timeout_set(meta, SHORT_TIMEOUT_MS);
	pthread_barrier_init(&start, NULL, WRITER_THREADS);
	for (int i = 0; i < WRITER_THREADS; i++) {
		writers[i] = (struct writer){ .meta = meta, .start = &start, .index = i };
		CHECK_INT(pthread_create(&writers[i].thread, NULL, writer_run, &writers[i]), 0);
	}
	for (int i = 0; i < WRITER_THREADS; i++) {
		pthread_join(writers[i].thread, NULL);
		if (writers[i].failures)
			fprintf(stderr, "  writer %d: %d failed writes, first %s\n", i,
				writers[i].failures, strerror(-writers[i].first_error));
		failures += writers[i].failures;
		if (writers[i].max_seconds > max_seconds)
			max_seconds = writers[i].max_seconds;
	}
	pthread_barrier_destroy(&start);

	reg_meta_write_stats(meta, &stats);
	printf("# %d writes, slowest %.3f s; queue wait max %.3f s, lock wait max %.3f s\n",
	       WRITER_THREADS * WRITES_PER_THREAD * 3, max_seconds, stats.queue_wait_max,
	       stats.lock_wait_max);
	CHECK_INT(failures, 0);
	CHECK(stats.writes >= WRITER_THREADS * WRITES_PER_THREAD * 3);
	CHECK(stats.lock_wait_max < SHORT_TIMEOUT_MS / 1000.0);
	reg_meta_free(meta);
}

/* Holds sqlite's write lock from a second connection, as edgecr-registry gc
 * does from its own process, for HOLD_MS milliseconds. */
struct holder {
	pthread_t thread;
	pthread_barrier_t locked;
	int hold_ms;
	int rc;
};

static void *holder_run(void *arg)
{
	struct holder *h = arg;
	sqlite3 *db = NULL;

	h->rc = sqlite3_open(db_path, &db);
	if (h->rc == SQLITE_OK)
		h->rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	pthread_barrier_wait(&h->locked);
	if (h->rc == SQLITE_OK) {
		usleep((useconds_t)h->hold_ms * 1000);
		h->rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return NULL;
}

/* Runs upload_create while another connection holds the write lock for
 * HOLD_MS, with a busy timeout of TIMEOUT_MS.  Returns its result. */
static int create_while_locked(struct reg_meta *meta, const char *id, int hold_ms, int timeout_ms)
{
	struct holder h = { .hold_ms = hold_ms };
	int r;

	pthread_barrier_init(&h.locked, NULL, 2);
	meta_busy_timeout_set(meta, timeout_ms);
	CHECK_INT(pthread_create(&h.thread, NULL, holder_run, &h), 0);
	pthread_barrier_wait(&h.locked);
	r = reg_meta_upload_create(meta, "lib/app", id);
	pthread_join(h.thread, NULL);
	pthread_barrier_destroy(&h.locked);
	CHECK_INT(h.rc, SQLITE_OK);
	return r;
}

static void other_writer_waited_for_then_timed_out(void)
{
	struct reg_meta_write_stats stats;
	struct reg_meta *meta = meta_open();

	if (!meta)
		return;
	/* A lock held for less than the busy timeout is waited for. */
	CHECK_INT(create_while_locked(meta, "0000000000000000000000000000aaaa", 300, 5000), 0);
	reg_meta_write_stats(meta, &stats);
	CHECK(stats.lock_wait_max >= 0.25);

	/* One held for longer fails with -ETIMEDOUT, which callers report as a
	 * lock timeout, and leaves the queue free for the next writer. */
	CHECK_INT(create_while_locked(meta, "0000000000000000000000000000bbbb", 600, 100),
		  -ETIMEDOUT);
	meta_busy_timeout_set(meta, 5000);
	CHECK_INT(reg_meta_upload_create(meta, "lib/app", "0000000000000000000000000000cccc"), 0);
	CHECK_INT(reg_meta_upload_find(meta, "lib/app", "0000000000000000000000000000bbbb"), -ENOENT);
	reg_meta_free(meta);
}

int main(void)
{
	char command[PATH_MAX + 16];

	if (!mkdtemp(dir))
		return 1;
	snprintf(db_path, sizeof(db_path), "%s/metadata.db", dir);
	RUN(writers_never_time_out);
	RUN(other_writer_waited_for_then_timed_out);
	snprintf(command, sizeof(command), "rm -rf %s", dir);
	if (system(command) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return UNIT_EXIT();
}
