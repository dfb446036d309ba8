/*
 * The stored result of the last garbage collection; see gc_meta.h.
 */
#include "gc_meta.h"
#include "meta_internal.h"

#include <errno.h>

int reg_meta_gc_result_save(struct reg_meta *meta, const struct reg_meta_gc_result *result)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = meta_prepare(db, "INSERT OR REPLACE INTO gc_last_run(id, started, seconds, manifests, "
			 "links, blobs, bytes, uploads, files_pending) "
			 "VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", NULL, 0, &stmt);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, result->started);
	sqlite3_bind_double(stmt, 2, result->seconds);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)result->manifests);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)result->links);
	sqlite3_bind_int64(stmt, 5, (sqlite3_int64)result->blobs);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)result->bytes);
	sqlite3_bind_int64(stmt, 7, (sqlite3_int64)result->uploads);
	sqlite3_bind_int64(stmt, 8, (sqlite3_int64)result->files_pending);
	/* meta_step_done finalizes the statement. */
	r = meta_step_done(stmt);
	stmt = NULL;
	if (r >= 0)
		r = meta_commit(meta, db);
out:
	sqlite3_finalize(stmt);
	if (r < 0 && db)
		meta_rollback(meta, db);
	meta_release(meta, db);
	return r < 0 ? r : 0;
}

int reg_meta_gc_result_load(struct reg_meta *meta, struct reg_meta_gc_result *ret)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;
	struct reg_meta_gc_result result;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_prepare(db, "SELECT started, seconds, manifests, links, blobs, bytes, uploads, "
			 "files_pending FROM gc_last_run WHERE id = 1", NULL, 0, &stmt);
	if (r < 0)
		goto out;
	r = meta_step_row(stmt);
	if (r == 0)
		r = -ENOENT;
	if (r < 0)
		goto out;
	result.started = sqlite3_column_int64(stmt, 0);
	result.seconds = sqlite3_column_double(stmt, 1);
	result.manifests = (uint64_t)sqlite3_column_int64(stmt, 2);
	result.links = (uint64_t)sqlite3_column_int64(stmt, 3);
	result.blobs = (uint64_t)sqlite3_column_int64(stmt, 4);
	result.bytes = (uint64_t)sqlite3_column_int64(stmt, 5);
	result.uploads = (uint64_t)sqlite3_column_int64(stmt, 6);
	result.files_pending = (uint64_t)sqlite3_column_int64(stmt, 7);
	r = 0;
out:
	sqlite3_finalize(stmt);
	meta_release(meta, db);
	if (r == 0)
		*ret = result;
	return r;
}
