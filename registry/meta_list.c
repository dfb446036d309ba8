/*
 * Listings from the metadata: tags, the catalog and referrers; see meta.h.
 * Pages are fetched with LIMIT + 1 rows so the caller learns whether a next
 * page exists without a second query.
 */
#include "meta_internal.h"

#include <errno.h>

/* Passes column 0 of up to LIMIT rows of STMT to FN.  Returns 0 or a negative errno. */
static int names_collect(sqlite3_stmt *stmt, unsigned limit, reg_meta_name_fn fn,
			 void *userdata, bool *ret_more)
{
	unsigned n = 0;
	int rc, r;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(stmt, 0);

		if (n == limit) {
			*ret_more = true;
			return 0;
		}
		if (!name)
			return -ENOMEM;
		r = fn(userdata, name, (size_t)sqlite3_column_bytes(stmt, 0));
		if (r < 0)
			return r;
		n++;
	}
	*ret_more = false;
	return rc == SQLITE_DONE ? 0 : meta_errno(rc);
}

static int generation_read(sqlite3 *db, int64_t *ret)
{
	sqlite3_stmt *stmt = NULL;
	int r;

	r = meta_prepare_cached(db, "SELECT value FROM tag_generation WHERE id = 1", NULL, 0,
				&stmt);
	if (r == 0)
		r = meta_step_row(stmt);
	if (r == 1)
		*ret = sqlite3_column_int64(stmt, 0);
	meta_finish_cached(stmt);
	if (r == 0)
		return -EIO; /* the row is made with the table */
	return r < 0 ? r : 0;
}

/* Runs the listing SQL; with RET_GENERATION also reads the tag generation,
 * inside one read transaction so both come from one snapshot. */
static int names_list(struct reg_meta *meta, const char *sql, const char *repo, const char *last,
		      unsigned limit, reg_meta_name_fn fn, void *userdata, bool *ret_more,
		      int64_t *ret_generation)
{
	const char *args[] = { repo, last ? last : "" };
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;
	bool more = false, in_transaction = false;
	int64_t repo_id, generation = 0;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	if (ret_generation) {
		/* A deferred transaction that only reads: one snapshot, no write lock. */
		r = meta_exec(db, "BEGIN");
		if (r < 0)
			goto out;
		in_transaction = true;
		r = generation_read(db, &generation);
		if (r < 0)
			goto out;
	}
	if (repo) {
		r = meta_repo_id(db, repo, false, &repo_id);
		if (r < 0)
			goto out;
	}
	r = meta_prepare(db, sql, args, 2, &stmt);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)limit + 1);
	r = names_collect(stmt, limit, fn, userdata, &more);
out:
	sqlite3_finalize(stmt);
	if (in_transaction && r == 0)
		r = meta_commit(meta, db);
	else if (in_transaction)
		meta_rollback(meta, db);
	meta_release(meta, db);
	if (r == 0) {
		*ret_more = more;
		if (ret_generation)
			*ret_generation = generation;
	}
	return r;
}

int reg_meta_tags_list(struct reg_meta *meta, const char *repo, const char *last,
		       unsigned limit, reg_meta_name_fn fn, void *userdata, bool *ret_more,
		       int64_t *ret_generation)
{
	return names_list(meta,
			  "SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id "
			  "WHERE r.name = ?1 AND t.name > ?2 ORDER BY t.name LIMIT ?3",
			  repo, last, limit, fn, userdata, ret_more, ret_generation);
}

int reg_meta_tags_generation(struct reg_meta *meta, int64_t *ret)
{
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r == 0)
		r = generation_read(db, ret);
	meta_release(meta, db);
	return r;
}

int reg_meta_catalog(struct reg_meta *meta, const char *last, unsigned limit,
		     reg_meta_name_fn fn, void *userdata, bool *ret_more)
{
	/* ?1 is NULL here; repositories that only saw an upload start are left out. */
	return names_list(meta,
			  "SELECT r.name FROM repositories r WHERE r.name > ?2 AND ?1 IS NULL AND "
			  "(EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id) OR "
			  " EXISTS (SELECT 1 FROM repository_blobs b WHERE b.repository_id = r.id)) "
			  "ORDER BY r.name LIMIT ?3",
			  NULL, last, limit, fn, userdata, ret_more, NULL);
}

static json_t *referrer_descriptor(sqlite3_stmt *stmt)
{
	const char *digest = (const char *)sqlite3_column_text(stmt, 0);
	const char *media_type = (const char *)sqlite3_column_text(stmt, 1);
	const char *artifact_type = (const char *)sqlite3_column_text(stmt, 3);
	const char *annotations = (const char *)sqlite3_column_text(stmt, 4);
	json_t *descriptor;

	descriptor = json_pack("{s:s, s:s, s:I}", "mediaType", media_type ? media_type : "",
			       "digest", digest ? digest : "",
			       "size", (json_int_t)sqlite3_column_int64(stmt, 2));
	if (!descriptor)
		return NULL;
	if (artifact_type)
		json_object_set_new(descriptor, "artifactType", json_string(artifact_type));
	if (annotations)
		json_object_set_new(descriptor, "annotations", json_loads(annotations, 0, NULL));
	return descriptor;
}

int reg_meta_referrers(struct reg_meta *meta, const char *repo, const char *subject,
		       const char *artifact_type, json_t *array)
{
	const char *args[] = { repo, subject, artifact_type };
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_prepare(db, "SELECT f.digest, f.media_type, f.size, f.artifact_type, f.annotations "
			 "FROM referrers f JOIN repositories r ON r.id = f.repository_id "
			 "WHERE r.name = ?1 AND f.subject = ?2 AND (?3 IS NULL OR f.artifact_type = ?3) "
			 "ORDER BY f.digest", args, 3, &stmt);
	if (r < 0)
		goto out;
	while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (json_array_append_new(array, referrer_descriptor(stmt)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = r == SQLITE_DONE ? 0 : meta_errno(r);
out:
	sqlite3_finalize(stmt);
	meta_release(meta, db);
	return r;
}
