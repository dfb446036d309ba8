/*
 * Manifests, tags and referrer entries in the metadata; see meta.h.
 */
#include "meta_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Returns 0 when DIGEST is in TABLE for REPO_ID, -ENOENT when not. */
static int reference_present(sqlite3 *db, const char *sql, int64_t repo_id, const char *digest)
{
	const char *args[] = { digest };
	sqlite3_stmt *stmt;
	int r;

	r = meta_prepare(db, sql, args, 1, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 2, repo_id);
	r = meta_step_row(stmt);
	if (r >= 0)
		r = r == 1 ? 0 : -ENOENT;
	sqlite3_finalize(stmt);
	return r;
}

static int reference_add(sqlite3 *db, int64_t repo_id, const char *manifest_digest,
			 const struct reg_descriptor *child, bool is_manifest, char *ret_missing)
{
	static const char *const check_blob =
		"SELECT 1 FROM repository_blobs WHERE digest = ?1 AND repository_id = ?2";
	static const char *const check_manifest =
		"SELECT 1 FROM manifests WHERE digest = ?1 AND repository_id = ?2";
	const char *args[] = { manifest_digest, child->digest.text, is_manifest ? "manifest" : "blob" };
	sqlite3_stmt *stmt;
	int r;

	r = reference_present(db, is_manifest ? check_manifest : check_blob, repo_id, child->digest.text);
	if (r == -ENOENT)
		snprintf(ret_missing, REG_DIGEST_TEXT_MAX, "%s", child->digest.text);
	if (r < 0)
		return r;

	r = meta_prepare(db, "INSERT OR IGNORE INTO manifest_references"
			 "(repository_id, manifest_digest, child_digest, kind) VALUES (?4, ?1, ?2, ?3)",
			 args, 3, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 4, repo_id);
	r = meta_step_done(stmt);
	return r < 0 ? r : 0;
}

static int references_add(sqlite3 *db, int64_t repo_id, const char *digest,
			  const struct reg_manifest *m, char *ret_missing)
{
	const char *args[] = { digest };
	sqlite3_stmt *stmt;
	int r;

	/* A re-push of the same digest replaces what it referenced before. */
	r = meta_prepare(db, "DELETE FROM manifest_references WHERE manifest_digest = ?1 "
			 "AND repository_id = ?2", args, 1, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 2, repo_id);
	r = meta_step_done(stmt);

	if (r >= 0 && m->kind == REG_MANIFEST_IMAGE)
		r = reference_add(db, repo_id, digest, &m->config, false, ret_missing);
	for (size_t i = 0; r >= 0 && m->kind == REG_MANIFEST_IMAGE && i < m->n_layers; i++)
		r = reference_add(db, repo_id, digest, &m->layers[i], false, ret_missing);
	for (size_t i = 0; r >= 0 && m->kind == REG_MANIFEST_INDEX && i < m->n_manifests; i++)
		r = reference_add(db, repo_id, digest, &m->manifests[i], true, ret_missing);
	return r < 0 ? r : 0;
}

static int manifest_row_put(sqlite3 *db, int64_t repo_id, const struct reg_meta_manifest *record,
			    const struct reg_manifest *m)
{
	const char *args[] = { record->digest, record->media_type, m->artifact_type,
			       m->has_subject ? m->subject.digest.text : NULL };
	sqlite3_stmt *stmt;
	int r;

	r = meta_prepare(db, "INSERT OR REPLACE INTO manifests(repository_id, digest, media_type, "
			 "size, artifact_type, subject, created) VALUES (?5, ?1, ?2, ?6, ?3, ?4, ?7)",
			 args, 4, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 5, repo_id);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)record->size);
	sqlite3_bind_int64(stmt, 7, meta_now());
	r = meta_step_done(stmt);
	return r < 0 ? r : 0;
}

static int tag_put(sqlite3 *db, int64_t repo_id, const char *tag, const char *digest)
{
	const char *args[] = { tag, digest };
	sqlite3_stmt *stmt;
	int r;

	r = meta_prepare(db, "INSERT OR REPLACE INTO tags(repository_id, name, digest, updated) "
			 "VALUES (?3, ?1, ?2, ?4)", args, 2, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 3, repo_id);
	sqlite3_bind_int64(stmt, 4, meta_now());
	r = meta_step_done(stmt);
	return r < 0 ? r : 0;
}

static int referrer_put(sqlite3 *db, int64_t repo_id, const struct reg_meta_manifest *record,
			const struct reg_manifest *m)
{
	const char *args[] = { m->subject.digest.text, record->digest, record->media_type,
			       m->artifact_type, m->annotations_json };
	sqlite3_stmt *stmt;
	int r;

	r = meta_prepare(db, "INSERT OR REPLACE INTO referrers(repository_id, subject, digest, "
			 "media_type, size, artifact_type, annotations) VALUES (?6, ?1, ?2, ?3, ?7, ?4, ?5)",
			 args, 5, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 6, repo_id);
	sqlite3_bind_int64(stmt, 7, (sqlite3_int64)record->size);
	r = meta_step_done(stmt);
	return r < 0 ? r : 0;
}

static int manifest_put_tx(sqlite3 *db, const char *repo, const struct reg_meta_manifest *record,
			   const struct reg_manifest *m, const char *tag, reg_meta_store_fn store,
			   void *userdata, char *ret_missing)
{
	int64_t repo_id;
	int r;

	r = meta_repo_id(db, repo, true, &repo_id);
	if (r < 0)
		return r;
	r = references_add(db, repo_id, record->digest, m, ret_missing);
	if (r < 0)
		return r;
	/* -ENOENT is reserved for a missing reference. */
	r = store(userdata);
	if (r < 0)
		return r == -ENOENT ? -EIO : r;
	r = manifest_row_put(db, repo_id, record, m);
	if (r < 0)
		return r;
	r = meta_blob_link_tx(db, repo_id, record->digest, record->size);
	if (r < 0)
		return r;
	if (tag) {
		r = tag_put(db, repo_id, tag, record->digest);
		if (r < 0)
			return r;
	}
	return m->has_subject ? referrer_put(db, repo_id, record, m) : 0;
}

int reg_meta_manifest_put(struct reg_meta *meta, const char *repo,
			  const struct reg_meta_manifest *record, const struct reg_manifest *m,
			  const char *tag, reg_meta_store_fn store, void *userdata,
			  char *ret_missing)
{
	char missing[REG_DIGEST_TEXT_MAX] = "";
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = manifest_put_tx(db, repo, record, m, tag, store, userdata, missing);
	if (r < 0)
		goto out;
	r = meta_commit(meta, db);
out:
	if (r < 0 && db)
		meta_rollback(meta, db);
	meta_release(meta, db);
	if (r == -ENOENT)
		memcpy(ret_missing, missing, sizeof(missing));
	return r;
}

static int manifest_row_read(sqlite3_stmt *stmt, struct reg_meta_manifest *ret)
{
	const char *digest = (const char *)sqlite3_column_text(stmt, 0);
	const char *media_type = (const char *)sqlite3_column_text(stmt, 1);

	if (!digest || !media_type || strlen(digest) >= sizeof(ret->digest) ||
	    strlen(media_type) >= sizeof(ret->media_type))
		return -EIO;
	strcpy(ret->digest, digest);
	strcpy(ret->media_type, media_type);
	ret->size = (uint64_t)sqlite3_column_int64(stmt, 2);
	return 0;
}

int reg_meta_manifest_get(struct reg_meta *meta, const char *repo, const char *reference,
			  bool is_digest, struct reg_meta_manifest *ret)
{
	static const char *const by_digest =
		"SELECT m.digest, m.media_type, m.size FROM manifests m "
		"JOIN repositories r ON r.id = m.repository_id WHERE r.name = ?1 AND m.digest = ?2";
	static const char *const by_tag =
		"SELECT m.digest, m.media_type, m.size FROM tags t "
		"JOIN repositories r ON r.id = t.repository_id "
		"JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest "
		"WHERE r.name = ?1 AND t.name = ?2";
	const char *args[] = { repo, reference };
	struct reg_meta_manifest found;
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_prepare_cached(db, is_digest ? by_digest : by_tag, args, 2, &stmt);
	if (r < 0)
		goto out;
	r = sqlite3_step(stmt);
	if (r == SQLITE_ROW)
		r = manifest_row_read(stmt, &found);
	else
		r = r == SQLITE_DONE ? -ENOENT : meta_errno(r);
out:
	meta_finish_cached(stmt);
	meta_release(meta, db);
	if (r == 0)
		*ret = found;
	return r;
}

/* Runs SQL with ?1 = REPO_ID and ?2 = DIGEST inside the caller's transaction. */
static int delete_rows(sqlite3 *db, const char *sql, int64_t repo_id, const char *digest)
{
	const char *args[] = { NULL, digest };
	sqlite3_stmt *stmt;
	int r;

	r = meta_prepare(db, sql, args, 2, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 1, repo_id);
	return meta_step_done(stmt);
}

static int manifest_delete_tx(sqlite3 *db, const char *repo, const char *digest)
{
	static const char *const statements[] = {
		"DELETE FROM tags WHERE repository_id = ?1 AND digest = ?2",
		"DELETE FROM manifest_references WHERE repository_id = ?1 AND manifest_digest = ?2",
		"DELETE FROM referrers WHERE repository_id = ?1 AND digest = ?2",
		"DELETE FROM repository_blobs WHERE repository_id = ?1 AND digest = ?2",
	};
	int64_t repo_id;
	int r;

	r = meta_repo_id(db, repo, false, &repo_id);
	if (r < 0)
		return r;
	r = delete_rows(db, "DELETE FROM manifests WHERE repository_id = ?1 AND digest = ?2",
			repo_id, digest);
	if (r == 0)
		return -ENOENT;
	for (size_t i = 0; r >= 0 && i < sizeof(statements) / sizeof(statements[0]); i++)
		r = delete_rows(db, statements[i], repo_id, digest);
	return r < 0 ? r : 0;
}

int reg_meta_manifest_delete(struct reg_meta *meta, const char *repo, const char *digest)
{
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = manifest_delete_tx(db, repo, digest);
	if (r < 0)
		goto out;
	r = meta_commit(meta, db);
out:
	if (r < 0 && db)
		meta_rollback(meta, db);
	meta_release(meta, db);
	return r;
}

int reg_meta_tag_delete(struct reg_meta *meta, const char *repo, const char *tag)
{
	const char *args[] = { repo, tag };
	sqlite3_stmt *stmt;
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = meta_prepare(db, "DELETE FROM tags WHERE name = ?2 AND repository_id = "
			 "(SELECT id FROM repositories WHERE name = ?1)", args, 2, &stmt);
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

int reg_meta_repo_exists(struct reg_meta *meta, const char *repo)
{
	sqlite3 *db = NULL;
	int64_t repo_id;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		return r;
	r = meta_repo_id(db, repo, false, &repo_id);
	meta_release(meta, db);
	if (r == -ENOENT)
		return 0;
	return r == 0 ? 1 : r;
}
