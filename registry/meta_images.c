/*
 * Tags with their image's size and push time, for the registry's own
 * extension endpoint; see meta.h.
 */
#include "meta_internal.h"

#include <errno.h>
#include <time.h>

/* Everything a manifest reaches in its repository, itself included.  UNION
 * drops repeats, so a blob shared by two children counts once and a cycle
 * of references ends. */
#define IMAGE_SIZE_SQL \
	"WITH RECURSIVE reach(digest) AS (SELECT ?1" \
	"  UNION SELECT r.child_digest FROM manifest_references r" \
	"    JOIN reach ON r.manifest_digest = reach.digest WHERE r.repository_id = ?2) " \
	"SELECT coalesce(sum(b.size), 0) FROM blobs b JOIN reach ON b.digest = reach.digest"

#define TAGS_SQL \
	"SELECT t.name, t.digest, m.media_type, m.created FROM tags t " \
	"JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest " \
	"WHERE t.repository_id = ?1 ORDER BY t.name LIMIT ?2"

static int image_size(sqlite3 *db, int64_t repo_id, const char *digest, json_int_t *ret_size)
{
	const char *args[] = { digest };
	sqlite3_stmt *stmt;
	int r;

	r = meta_prepare(db, IMAGE_SIZE_SQL, args, 1, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 2, repo_id);
	r = meta_step_row(stmt);
	if (r == 1) {
		*ret_size = sqlite3_column_int64(stmt, 0);
		r = 0;
	} else if (r == 0) {
		r = -EIO;
	}
	sqlite3_finalize(stmt);
	return r;
}

json_t *reg_meta_time_json(int64_t seconds)
{
	time_t t = (time_t)seconds;
	char text[32];
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_null();
	return json_string(text);
}

/* Appends the tag of the current row of STMT to ARRAY. */
static int tag_append(sqlite3 *db, int64_t repo_id, sqlite3_stmt *stmt, json_t *array)
{
	const char *tag = (const char *)sqlite3_column_text(stmt, 0);
	const char *digest = (const char *)sqlite3_column_text(stmt, 1);
	const char *media_type = (const char *)sqlite3_column_text(stmt, 2);
	json_int_t size = 0;
	json_t *entry;
	int r;

	if (!tag || !digest || !media_type)
		return -EIO;
	r = image_size(db, repo_id, digest, &size);
	if (r < 0)
		return r;
	entry = json_pack("{s:s, s:s, s:s, s:I, s:o}", "tag", tag, "digest", digest,
			  "mediaType", media_type, "sizeBytes", size,
			  "pushedAt", reg_meta_time_json(sqlite3_column_int64(stmt, 3)));
	if (!entry || json_array_append_new(array, entry) < 0)
		return -ENOMEM;
	return 0;
}

static int tags_collect(sqlite3 *db, const char *repo, unsigned limit, json_t *array,
			bool *ret_more)
{
	sqlite3_stmt *stmt = NULL;
	unsigned n = 0;
	int64_t repo_id;
	int r;

	r = meta_repo_id(db, repo, false, &repo_id);
	if (r < 0)
		return r;
	r = meta_prepare(db, TAGS_SQL, NULL, 0, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 1, repo_id);
	/* One row more than the page shows whether more follow. */
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)limit + 1);
	*ret_more = false;
	while ((r = meta_step_row(stmt)) == 1) {
		if (n == limit) {
			*ret_more = true;
			r = 0;
			break;
		}
		r = tag_append(db, repo_id, stmt, array);
		if (r < 0)
			break;
		n++;
	}
	sqlite3_finalize(stmt);
	return r;
}

int reg_meta_repository_tags(struct reg_meta *meta, const char *repo, unsigned limit,
			     json_t *array, bool *ret_more)
{
	sqlite3 *db = NULL;
	bool more = false;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	/* One read transaction, so sizes and tags come from one snapshot. */
	r = meta_exec(db, "BEGIN");
	if (r < 0)
		goto out;
	r = tags_collect(db, repo, limit, array, &more);
	if (r == 0)
		r = meta_commit(meta, db);
out:
	if (r < 0 && db)
		meta_rollback(meta, db);
	meta_release(meta, db);
	if (r == 0)
		*ret_more = more;
	return r;
}
