/*
 * Helpers shared by the meta_*.c files, which together implement meta.h.
 * Not for use outside them.
 */
#ifndef EDGECR_REG_META_INTERNAL_H
#define EDGECR_REG_META_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "meta.h"

/* Milliseconds a connection waits for another process's write lock before
 * its statement fails with -ETIMEDOUT. */
#define META_BUSY_TIMEOUT_MS REG_META_BUSY_TIMEOUT_MS

/* Takes a connection from META's pool, opening one when the pool is empty. */
int meta_acquire(struct reg_meta *meta, sqlite3 **ret_db);

/* Returns DB to the pool (or closes it when the pool is full); NULL is a no-op. */
void meta_release(struct reg_meta *meta, sqlite3 *db);

/* Maps an sqlite result code to a negative errno. */
int meta_errno(int rc);

/* Runs SQL, which returns no rows. */
int meta_exec(sqlite3 *db, const char *sql);

/* Sets META's busy timeout for every connection; for tests. */
void meta_busy_timeout_set(struct reg_meta *meta, int milliseconds);

/*
 * Begins a write transaction on DB, a connection of META: waits for this
 * process's earlier writers, then takes sqlite's write lock (BEGIN
 * IMMEDIATE), waiting at most the busy timeout for another process.
 * Returns 0, or -ETIMEDOUT or another negative errno with nothing held.
 * After 0 the caller must end the transaction with meta_commit or
 * meta_rollback before it releases DB, on every path.
 */
int meta_begin(struct reg_meta *meta, sqlite3 *db);

/* Commits DB's transaction (a read transaction too) and lets the next
 * writer go.  On failure the transaction is rolled back. */
int meta_commit(struct reg_meta *meta, sqlite3 *db);

/* Rolls back DB's transaction, if any, and lets the next writer go. */
void meta_rollback(struct reg_meta *meta, sqlite3 *db);

/* Prepares SQL and binds the text ARGS (N_ARGS of them, NULL binds NULL) to
 * ?1..?N. */
int meta_prepare(sqlite3 *db, const char *sql, const char *const *args, int n_args,
		 sqlite3_stmt **ret_stmt);

/* Like meta_prepare, but keeps the statement prepared on DB for the next
 * caller with the same SQL text.  Release it with meta_finish_cached, never
 * with sqlite3_finalize.  For the queries that run on every request. */
int meta_prepare_cached(sqlite3 *db, const char *sql, const char *const *args, int n_args,
			sqlite3_stmt **ret_stmt);

/* Resets a statement from meta_prepare_cached for its next use; NULL is a no-op. */
void meta_finish_cached(sqlite3_stmt *stmt);

/* Steps STMT once.  Returns 1 for a row, 0 when done, or a negative errno. */
int meta_step_row(sqlite3_stmt *stmt);

/* Runs the query SQL with the text ARGS on a pooled connection of META.
 * Returns 1 when it yields a row, 0 when not, or a negative errno. */
int meta_query_has_row(struct reg_meta *meta, const char *sql, const char *const *args,
		       int n_args);

/* Runs a prepared statement that returns no rows and finalizes it.  Returns
 * the number of changed rows or a negative errno. */
int meta_step_done(sqlite3_stmt *stmt);

/* Looks up REPO's id.  With CREATE a missing repository is added (inside the
 * caller's transaction).  Returns 0, -ENOENT, or a negative errno. */
int meta_repo_id(sqlite3 *db, const char *repo, bool create, int64_t *ret_id);

/* Inserts the blob row of DIGEST and REPO_ID's link to it, inside the
 * caller's transaction. */
int meta_blob_link_tx(sqlite3 *db, int64_t repo_id, const char *digest, uint64_t size);

/* Creates or upgrades the schema of DB.  Returns 0 or a negative errno with
 * the reason in ERR. */
int meta_schema_apply(struct reg_meta *meta, sqlite3 *db, char *err, size_t err_size);

/* Current time in Unix seconds. */
int64_t meta_now(void);

#endif
