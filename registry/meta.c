/*
 * The connection pool and statement helpers behind meta.h.
 *
 * sqlite connections are not shared between threads at the same time: each
 * call takes one from the pool and gives it back.  Idle connections beyond
 * POOL_MAX are closed, so a burst of 256 clients does not keep 256 open.
 *
 * The queries that every pull runs stay prepared on the connection that ran
 * them (meta_prepare_cached).  Any statement still alive on a pooled
 * connection is such a cached one, because every other statement is
 * finalized before its connection goes back to the pool.
 *
 * Writers of this process queue for their turn in arrival order before
 * they ask sqlite for its write lock (meta_begin), and pass the turn on at
 * COMMIT or ROLLBACK.  sqlite's own busy handler polls with growing sleeps
 * and no order, so with dozens of request threads asking at once a writer
 * could lose every race for the lock until its busy timeout ran out.  With
 * the queue, at most one thread of this process waits in sqlite's busy
 * handler, and only for a writer of another process (edgecr-registry gc or
 * fsck), so the busy timeout bounds only that wait.  Readers take no turn:
 * in WAL mode they read a snapshot while a write is in progress.
 */
#include "meta_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define POOL_MAX 16
/* Page cache of each connection, in KiB (sqlite's default is 2000 KiB).  A
 * lookup reads a few pages per index, and a burst of requests opens one
 * connection per concurrent request, each with its own cache. */
#define CONNECTION_CACHE_KIB 256
#define STRINGIFY_VALUE(x) STRINGIFY(x)
#define STRINGIFY(x) #x
/* Mode of metadata.db, like the blob files: the metadata names every
 * repository and tag, so other users must not read it. */
#define DATABASE_MODE 0640

/* A thread waiting for its write turn; lives on that thread's stack. */
struct write_waiter {
	pthread_cond_t granted_cond;
	sqlite3 *db;
	bool granted;
	struct write_waiter *next;
};

struct reg_meta {
	char *path;
	pthread_mutex_t lock; /* guards pool and n_pool */
	sqlite3 *pool[POOL_MAX];
	size_t n_pool;

	/* The write queue; write_lock guards every field below it. */
	pthread_mutex_t write_lock;
	sqlite3 *writer; /* connection whose write turn it is, or NULL */
	struct write_waiter *queue_head, *queue_tail;
	struct reg_meta_write_stats stats;
	/* Read by busy_wait without write_lock, hence atomic. */
	atomic_int busy_timeout_ms;
	uint64_t serial; /* see reg_meta_serial */
};

/* Start of the busy wait in progress on this thread, in monotonic seconds.
 * sqlite calls the busy handler on the thread that waits, with a count of 0
 * at the first retry, so one value per thread is enough. */
static _Thread_local double busy_started;

static atomic_ullong meta_serial_next;

uint64_t reg_meta_serial(const struct reg_meta *meta)
{
	return meta->serial;
}

int64_t meta_now(void)
{
	return (int64_t)time(NULL);
}

int meta_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
		/* Only after busy_wait gave up; callers report a lock timeout. */
		return -ETIMEDOUT;
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return -EACCES;
	default:
		return -EIO;
	}
}

int meta_exec(sqlite3 *db, const char *sql)
{
	return meta_errno(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

static double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * sqlite's busy handler for META's connections.  Retries every 1 ms, then
 * every 2 ms, until META's busy timeout has passed since the first retry.
 * sqlite's default handler sleeps up to 100 ms between tries, so a writer
 * of another process that commits often (a busy server seen from gc) could
 * take the lock back in every pause.
 *
 * NOTE: processes do not queue for each other.  gc beside a server that
 * writes without pause gets the lock only in a gap between two commits, so
 * its wait is short in practice (0.33 s at most against 64 pushing
 * threads on 2 CPUs) but is bounded only by the busy timeout.
 */
static int busy_wait(void *userdata, int count)
{
	struct reg_meta *meta = userdata;
	double now = monotonic_seconds();

	if (count == 0)
		busy_started = now;
	if ((now - busy_started) * 1000.0 >= atomic_load(&meta->busy_timeout_ms))
		return 0;
	usleep(count < 100 ? 1000 : 2000);
	return 1;
}

void meta_busy_timeout_set(struct reg_meta *meta, int milliseconds)
{
	atomic_store(&meta->busy_timeout_ms, milliseconds);
}

/* Waits until it is DB's turn to write: at once when no writer is active or
 * queued, else after every writer queued before it. */
static void write_turn_take(struct reg_meta *meta, sqlite3 *db)
{
	struct write_waiter waiter = { .db = db };

	pthread_mutex_lock(&meta->write_lock);
	if (!meta->writer && !meta->queue_head) {
		meta->writer = db;
		pthread_mutex_unlock(&meta->write_lock);
		return;
	}

	pthread_cond_init(&waiter.granted_cond, NULL);
	if (meta->queue_tail)
		meta->queue_tail->next = &waiter;
	else
		meta->queue_head = &waiter;
	meta->queue_tail = &waiter;
	/* write_turn_pass sets meta->writer to DB before it sets granted, so
	 * no thread that arrives later can take the turn in between. */
	while (!waiter.granted)
		pthread_cond_wait(&waiter.granted_cond, &meta->write_lock);
	pthread_mutex_unlock(&meta->write_lock);
	pthread_cond_destroy(&waiter.granted_cond);
}

/* Hands DB's write turn to the first waiter.  A no-op when DB does not have
 * the turn, such as after a read transaction. */
static void write_turn_pass(struct reg_meta *meta, sqlite3 *db)
{
	struct write_waiter *next;

	pthread_mutex_lock(&meta->write_lock);
	if (meta->writer != db) {
		pthread_mutex_unlock(&meta->write_lock);
		return;
	}
	next = meta->queue_head;
	meta->writer = next ? next->db : NULL;
	if (next) {
		meta->queue_head = next->next;
		if (!meta->queue_head)
			meta->queue_tail = NULL;
		next->granted = true;
		pthread_cond_signal(&next->granted_cond);
	}
	pthread_mutex_unlock(&meta->write_lock);
}

static void write_stats_add(struct reg_meta *meta, double queue_wait, double lock_wait, int r)
{
	struct reg_meta_write_stats *stats = &meta->stats;

	pthread_mutex_lock(&meta->write_lock);
	stats->writes++;
	if (r == -ETIMEDOUT)
		stats->lock_timeouts++;
	if (queue_wait > stats->queue_wait_max)
		stats->queue_wait_max = queue_wait;
	if (lock_wait > stats->lock_wait_max)
		stats->lock_wait_max = lock_wait;
	pthread_mutex_unlock(&meta->write_lock);
}

int meta_begin(struct reg_meta *meta, sqlite3 *db)
{
	double queued = monotonic_seconds(), turn;
	int r;

	write_turn_take(meta, db);
	turn = monotonic_seconds();
	r = meta_exec(db, "BEGIN IMMEDIATE");
	write_stats_add(meta, turn - queued, monotonic_seconds() - turn, r);
	if (r < 0)
		write_turn_pass(meta, db);
	return r;
}

int meta_commit(struct reg_meta *meta, sqlite3 *db)
{
	int r = meta_exec(db, "COMMIT");

	/* A failed COMMIT may leave the transaction open, and the next writer
	 * must not wait behind it. */
	if (r < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	write_turn_pass(meta, db);
	return r;
}

void meta_rollback(struct reg_meta *meta, sqlite3 *db)
{
	/* Fails only when no transaction is open, which is the state we want. */
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	write_turn_pass(meta, db);
}

void reg_meta_write_stats(struct reg_meta *meta, struct reg_meta_write_stats *ret)
{
	pthread_mutex_lock(&meta->write_lock);
	*ret = meta->stats;
	pthread_mutex_unlock(&meta->write_lock);
}

int meta_prepare(sqlite3 *db, const char *sql, const char *const *args, int n_args,
		 sqlite3_stmt **ret_stmt)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return meta_errno(rc);
	for (int i = 0; i < n_args; i++) {
		rc = args[i] ? sqlite3_bind_text(stmt, i + 1, args[i], -1, SQLITE_TRANSIENT)
			     : sqlite3_bind_null(stmt, i + 1);
		if (rc != SQLITE_OK) {
			sqlite3_finalize(stmt);
			return meta_errno(rc);
		}
	}
	*ret_stmt = stmt;
	return 0;
}

/* Returns the idle statement kept on DB for SQL, or NULL. */
static sqlite3_stmt *cached_find(sqlite3 *db, const char *sql)
{
	for (sqlite3_stmt *stmt = sqlite3_next_stmt(db, NULL); stmt; stmt = sqlite3_next_stmt(db, stmt))
		if (!sqlite3_stmt_busy(stmt) && strcmp(sqlite3_sql(stmt), sql) == 0)
			return stmt;
	return NULL;
}

int meta_prepare_cached(sqlite3 *db, const char *sql, const char *const *args, int n_args,
			sqlite3_stmt **ret_stmt)
{
	sqlite3_stmt *stmt = cached_find(db, sql);
	int rc;

	if (!stmt) {
		rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
		if (rc != SQLITE_OK)
			return meta_errno(rc);
	}
	for (int i = 0; i < n_args; i++) {
		rc = args[i] ? sqlite3_bind_text(stmt, i + 1, args[i], -1, SQLITE_TRANSIENT)
			     : sqlite3_bind_null(stmt, i + 1);
		if (rc != SQLITE_OK) {
			meta_finish_cached(stmt);
			return meta_errno(rc);
		}
	}
	*ret_stmt = stmt;
	return 0;
}

void meta_finish_cached(sqlite3_stmt *stmt)
{
	if (!stmt)
		return;
	/* reset returns the error of the last step, which the caller has seen. */
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

int meta_step_row(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return meta_errno(rc);
}

int meta_query_has_row(struct reg_meta *meta, const char *sql, const char *const *args,
		       int n_args)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_prepare_cached(db, sql, args, n_args, &stmt);
	if (r < 0)
		goto out;
	r = meta_step_row(stmt);
out:
	meta_finish_cached(stmt);
	meta_release(meta, db);
	return r;
}

int meta_step_done(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	int changes = sqlite3_changes(sqlite3_db_handle(stmt));

	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? changes : meta_errno(rc);
}

int meta_repo_id(sqlite3 *db, const char *repo, bool create, int64_t *ret_id)
{
	const char *args[] = { repo };
	sqlite3_stmt *stmt;
	int r;

	if (create) {
		r = meta_prepare(db, "INSERT OR IGNORE INTO repositories(name, created) VALUES (?1, ?2)",
				 args, 1, &stmt);
		if (r < 0)
			return r;
		sqlite3_bind_int64(stmt, 2, meta_now());
		r = meta_step_done(stmt);
		if (r < 0)
			return r;
	}

	r = meta_prepare(db, "SELECT id FROM repositories WHERE name = ?1", args, 1, &stmt);
	if (r < 0)
		return r;
	r = meta_step_row(stmt);
	if (r == 1)
		*ret_id = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (r == 0)
		return -ENOENT;
	return r < 0 ? r : 0;
}

/* Finalizes the statements cached on DB and closes it; NULL is a no-op. */
static void connection_close(sqlite3 *db)
{
	sqlite3_stmt *stmt;

	if (!db)
		return;
	while ((stmt = sqlite3_next_stmt(db, NULL)))
		sqlite3_finalize(stmt);
	sqlite3_close(db);
}

static int connection_open(struct reg_meta *meta, sqlite3 **ret_db)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(meta->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return meta_errno(rc);
	}
	sqlite3_busy_handler(db, busy_wait, meta);

	/* FULL makes every commit durable before the client gets its success response. */
	rc = meta_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
		       "PRAGMA cache_size=-" STRINGIFY_VALUE(CONNECTION_CACHE_KIB));
	if (rc < 0) {
		sqlite3_close(db);
		return rc;
	}
	*ret_db = db;
	return 0;
}

int meta_acquire(struct reg_meta *meta, sqlite3 **ret_db)
{
	sqlite3 *db = NULL;

	pthread_mutex_lock(&meta->lock);
	if (meta->n_pool > 0)
		db = meta->pool[--meta->n_pool];
	pthread_mutex_unlock(&meta->lock);

	if (db) {
		*ret_db = db;
		return 0;
	}
	return connection_open(meta, ret_db);
}

void meta_release(struct reg_meta *meta, sqlite3 *db)
{
	if (!db)
		return;

	/* Every meta_begin is paired with meta_commit or meta_rollback before
	 * this.  Should one path miss it, the open transaction would keep
	 * sqlite's write lock and the write turn, and stop every later write. */
	if (!sqlite3_get_autocommit(db)) {
		ecr_log(LOG_ERR, "bug: metadata connection released inside a transaction; "
			"rolling it back");
		meta_rollback(meta, db);
	}

	pthread_mutex_lock(&meta->lock);
	if (meta->n_pool < POOL_MAX) {
		meta->pool[meta->n_pool++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&meta->lock);

	if (db)
		connection_close(db);
}

/*
 * Creates the database file at PATH with DATABASE_MODE unless it exists, and
 * takes read access from other users on an existing one.  sqlite creates
 * the -wal and -shm files with the mode of the database file, so they follow.
 */
static int database_file_prepare(const char *path)
{
	struct stat st;
	int fd, r = 0;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, DATABASE_MODE);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if ((st.st_mode & 07) && fchmod(fd, st.st_mode & 07770) < 0)
		r = -errno;
	close(fd);
	return r;
}

int reg_meta_open(const char *path, struct reg_meta **ret, char *err, size_t err_size)
{
	struct reg_meta *meta;
	sqlite3 *db = NULL;
	int r;

	meta = calloc(1, sizeof(*meta));
	if (!meta || !(meta->path = strdup(path))) {
		free(meta);
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&meta->lock, NULL);
	pthread_mutex_init(&meta->write_lock, NULL);
	atomic_init(&meta->busy_timeout_ms, META_BUSY_TIMEOUT_MS);
	meta->serial = atomic_fetch_add(&meta_serial_next, 1) + 1;

	/* With its memory statistics on, sqlite takes one process-wide mutex
	 * in every allocation, and request threads queued on it.  These
	 * settings only apply before sqlite initializes, so later calls fail,
	 * which is harmless. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* A burst of requests opens one connection per request in flight.  The
	 * lookaside buffer and the first page-cache block that each connection
	 * allocates up front cost about 3 MiB at 64 connections. */
	sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);

	r = database_file_prepare(path);
	if (r == 0)
		r = connection_open(meta, &db);
	if (r < 0) {
		snprintf(err, err_size, "%s: cannot open database: %s", path, strerror(-r));
		goto out;
	}
	r = meta_schema_apply(meta, db, err, err_size);
out:
	if (r < 0) {
		sqlite3_close(db);
		reg_meta_free(meta);
		return r;
	}
	meta_release(meta, db);
	*ret = meta;
	return 0;
}

void reg_meta_free(struct reg_meta *meta)
{
	if (!meta)
		return;
	for (size_t i = 0; i < meta->n_pool; i++)
		connection_close(meta->pool[i]);
	pthread_mutex_destroy(&meta->lock);
	pthread_mutex_destroy(&meta->write_lock);
	free(meta->path);
	free(meta);
}
