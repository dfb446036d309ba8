/*
 * Blob links and uploads in the metadata; see meta.h.
 */
#include "meta_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int reg_meta_blob_readable(struct reg_meta *meta, const char *repo, const char *digest)
{
	const char *args[] = { repo, digest };

	return meta_query_has_row(meta,
				  "SELECT 1 FROM repository_blobs b JOIN repositories r "
				  "ON r.id = b.repository_id WHERE r.name = ?1 AND b.digest = ?2",
				  args, 2);
}

int meta_blob_link_tx(sqlite3 *db, int64_t repo_id, const char *digest, uint64_t size)
{
	const char *args[] = { digest };
	sqlite3_stmt *stmt;
	int r;

	r = meta_prepare(db, "INSERT OR IGNORE INTO blobs(digest, size, created) VALUES (?1, ?2, ?3)",
			 args, 1, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)size);
	sqlite3_bind_int64(stmt, 3, meta_now());
	r = meta_step_done(stmt);
	if (r < 0)
		return r;

	r = meta_prepare(db, "INSERT OR IGNORE INTO repository_blobs(repository_id, digest, created) "
			 "VALUES (?2, ?1, ?3)", args, 1, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 2, repo_id);
	sqlite3_bind_int64(stmt, 3, meta_now());
	r = meta_step_done(stmt);
	return r < 0 ? r : 0;
}

int reg_meta_blob_link(struct reg_meta *meta, const char *repo, const char *digest,
		       uint64_t size)
{
	sqlite3 *db = NULL;
	int64_t repo_id;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = meta_repo_id(db, repo, true, &repo_id);
	if (r < 0)
		goto out;
	r = meta_blob_link_tx(db, repo_id, digest, size);
	if (r < 0)
		goto out;
	r = meta_commit(meta, db);
out:
	if (r < 0 && db)
		meta_rollback(meta, db);
	meta_release(meta, db);
	return r;
}

/* Runs SQL (arguments ?1 = repository name, ?2 = VALUE) as one statement in
 * its own transaction.  Returns 0, -ENOENT when no row changed, or an errno. */
static int meta_change_one(struct reg_meta *meta, const char *sql, const char *repo,
			   const char *value)
{
	const char *args[] = { repo, value };
	sqlite3_stmt *stmt;
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	/* An explicit transaction, though one statement would commit by itself,
	 * so that it waits for its turn like every other write. */
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = meta_prepare(db, sql, args, 2, &stmt);
	if (r < 0)
		goto out;
	r = meta_step_done(stmt);
	if (r == 0)
		r = -ENOENT;
	if (r > 0)
		r = meta_commit(meta, db);
out:
	if (r < 0 && db)
		meta_rollback(meta, db);
	meta_release(meta, db);
	return r < 0 ? r : 0;
}

int reg_meta_blob_unlink(struct reg_meta *meta, const char *repo, const char *digest)
{
	return meta_change_one(meta,
			       "DELETE FROM repository_blobs WHERE digest = ?2 AND repository_id = "
			       "(SELECT id FROM repositories WHERE name = ?1)", repo, digest);
}

int reg_meta_upload_create(struct reg_meta *meta, const char *repo, const char *id)
{
	const char *args[] = { id };
	sqlite3_stmt *stmt;
	sqlite3 *db = NULL;
	int64_t repo_id;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = meta_repo_id(db, repo, true, &repo_id);
	if (r < 0)
		goto out;
	r = meta_prepare(db, "INSERT INTO uploads(id, repository_id, created, updated) "
			 "VALUES (?1, ?2, ?3, ?3)", args, 1, &stmt);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(stmt, 2, repo_id);
	sqlite3_bind_int64(stmt, 3, meta_now());
	r = meta_step_done(stmt);
	if (r >= 0)
		r = meta_commit(meta, db);
out:
	if (r < 0 && db)
		meta_rollback(meta, db);
	meta_release(meta, db);
	return r < 0 ? r : 0;
}

int reg_meta_upload_find(struct reg_meta *meta, const char *repo, const char *id)
{
	const char *args[] = { repo, id };
	int r;

	r = meta_query_has_row(meta, "SELECT 1 FROM uploads u JOIN repositories r "
			       "ON r.id = u.repository_id WHERE r.name = ?1 AND u.id = ?2",
			       args, 2);
	if (r < 0)
		return r;
	return r == 1 ? 0 : -ENOENT;
}

int reg_meta_upload_exists(struct reg_meta *meta, const char *id)
{
	const char *args[] = { id };

	return meta_query_has_row(meta, "SELECT 1 FROM uploads WHERE id = ?1", args, 1);
}

int reg_meta_upload_touch(struct reg_meta *meta, const char *id)
{
	char now[24];

	snprintf(now, sizeof(now), "%lld", (long long)meta_now());
	return meta_change_one(meta, "UPDATE uploads SET updated = CAST(?1 AS INTEGER) WHERE id = ?2",
			       now, id);
}

int reg_meta_upload_delete(struct reg_meta *meta, const char *id)
{
	/* ?1 (the repository) is bound but unused: upload ids are unique. */
	return meta_change_one(meta, "DELETE FROM uploads WHERE id = ?2", NULL, id);
}

int reg_meta_upload_complete(struct reg_meta *meta, const char *repo, const char *id,
			     const char *digest, uint64_t size)
{
	const char *args[] = { id };
	sqlite3_stmt *stmt;
	sqlite3 *db = NULL;
	int64_t repo_id;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = meta_prepare(db, "DELETE FROM uploads WHERE id = ?1", args, 1, &stmt);
	if (r < 0)
		goto out;
	r = meta_step_done(stmt);
	if (r == 0)
		r = -ENOENT;
	if (r < 0)
		goto out;
	r = meta_repo_id(db, repo, true, &repo_id);
	if (r < 0)
		goto out;
	r = meta_blob_link_tx(db, repo_id, digest, size);
	if (r < 0)
		goto out;
	r = meta_commit(meta, db);
out:
	if (r < 0 && db)
		meta_rollback(meta, db);
	meta_release(meta, db);
	return r;
}

int reg_meta_uploads_expired(struct reg_meta *meta, int64_t before,
			     char (*ret_ids)[REG_UPLOAD_ID_LEN + 1], size_t max, size_t *ret_n)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;
	size_t n = 0;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_prepare(db, "SELECT id FROM uploads WHERE updated < ?1 LIMIT ?2", NULL, 0, &stmt);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, before);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)max);
	while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(stmt, 0);

		if (id && strlen(id) == REG_UPLOAD_ID_LEN)
			memcpy(ret_ids[n++], id, REG_UPLOAD_ID_LEN + 1);
	}
	r = r == SQLITE_DONE ? 0 : meta_errno(r);
out:
	sqlite3_finalize(stmt);
	meta_release(meta, db);
	if (r == 0)
		*ret_n = n;
	return r;
}
