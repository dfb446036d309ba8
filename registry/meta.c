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
 */
#include "meta_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

struct reg_meta {
	char *path;
	pthread_mutex_t lock; /* guards pool and n_pool */
	sqlite3 *pool[POOL_MAX];
	size_t n_pool;
};

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

int meta_begin(sqlite3 *db)
{
	return meta_exec(db, "BEGIN IMMEDIATE");
}

int meta_commit(sqlite3 *db)
{
	return meta_exec(db, "COMMIT");
}

void meta_rollback(sqlite3 *db)
{
	/* Fails only when no transaction is open, which is the state we want. */
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
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

static int connection_open(const char *path, sqlite3 **ret_db)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return meta_errno(rc);
	}
	sqlite3_busy_timeout(db, META_BUSY_TIMEOUT_MS);

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
	return connection_open(meta->path, ret_db);
}

void meta_release(struct reg_meta *meta, sqlite3 *db)
{
	if (!db)
		return;

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
		r = connection_open(path, &db);
	if (r < 0) {
		snprintf(err, err_size, "%s: cannot open database: %s", path, strerror(-r));
		goto out;
	}
	r = meta_schema_apply(db, err, err_size);
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
	free(meta->path);
	free(meta);
}
