/*
 * Garbage-collection queries; see gc_meta.h for what is live.
 *
 * Liveness is one recursive common table expression (LIVE_CTE) that both the
 * mark and the sweep use, so a dry run reports exactly what a sweep would
 * remove from the same state.  ?1 is the cutoff in Unix seconds and ?2 is 1
 * when untagged manifests are kept.  Multiple recursive SELECTs in one CTE
 * need sqlite 3.34 or later.
 */
#include "gc_meta.h"
#include "meta_internal.h"

#include <errno.h>

#define LIVE_CTE \
	"WITH RECURSIVE live(repository_id, digest) AS (" \
	"  SELECT repository_id, digest FROM tags" \
	"  UNION SELECT m.repository_id, m.digest FROM manifests m WHERE m.created >= ?1" \
	"    OR (?2 AND (m.subject IS NULL OR EXISTS (SELECT 1 FROM manifests s" \
	"        WHERE s.repository_id = m.repository_id AND s.digest = m.subject)))" \
	"  UNION SELECT r.repository_id, r.child_digest FROM manifest_references r" \
	"    JOIN live l ON r.repository_id = l.repository_id AND r.manifest_digest = l.digest" \
	"    WHERE r.kind = 'manifest'" \
	"  UNION SELECT m.repository_id, m.digest FROM manifests m" \
	"    JOIN live l ON m.repository_id = l.repository_id AND m.subject = l.digest" \
	"), live_links(repository_id, digest) AS (" \
	"  SELECT repository_id, digest FROM repository_blobs WHERE created >= ?1" \
	"  UNION SELECT repository_id, digest FROM live" \
	"  UNION SELECT r.repository_id, r.child_digest FROM manifest_references r" \
	"    JOIN live l ON r.repository_id = l.repository_id AND r.manifest_digest = l.digest" \
	"), dead_manifests AS (" \
	"  SELECT m.repository_id, m.digest FROM manifests m WHERE NOT EXISTS (SELECT 1 FROM live l" \
	"    WHERE l.repository_id = m.repository_id AND l.digest = m.digest)" \
	"), dead_links AS (" \
	"  SELECT b.repository_id, b.digest FROM repository_blobs b WHERE NOT EXISTS (SELECT 1" \
	"    FROM live_links k WHERE k.repository_id = b.repository_id AND k.digest = b.digest)" \
	"), dead_blobs AS (" \
	"  SELECT b.digest, b.size FROM blobs b WHERE b.created < ?1 AND NOT EXISTS (SELECT 1" \
	"    FROM live_links k WHERE k.digest = b.digest)" \
	") "

/* Temporary tables of one sweep; temp tables are private to the connection. */
static const char *const sweep_setup =
	"CREATE TEMP TABLE IF NOT EXISTS gc_manifests (repository_id INTEGER, digest TEXT,"
	"  PRIMARY KEY (repository_id, digest));"
	"CREATE TEMP TABLE IF NOT EXISTS gc_links (repository_id INTEGER, digest TEXT,"
	"  PRIMARY KEY (repository_id, digest));"
	"CREATE TEMP TABLE IF NOT EXISTS gc_blobs (digest TEXT PRIMARY KEY, size INTEGER);"
	"DELETE FROM temp.gc_manifests; DELETE FROM temp.gc_links; DELETE FROM temp.gc_blobs;";

static const char *const sweep_collect[] = {
	LIVE_CTE "INSERT INTO temp.gc_manifests SELECT repository_id, digest FROM dead_manifests",
	LIVE_CTE "INSERT INTO temp.gc_links SELECT repository_id, digest FROM dead_links",
	LIVE_CTE "INSERT INTO temp.gc_blobs SELECT digest, size FROM dead_blobs",
};

/* Deletions in order, each with the count its changed rows add to. */
enum { COUNT_NONE, COUNT_MANIFESTS, COUNT_LINKS, COUNT_BLOBS };
static const struct {
	const char *sql;
	int count;
} sweep_delete[] = {
	{ "DELETE FROM tags WHERE (repository_id, digest) IN "
	  "(SELECT repository_id, digest FROM temp.gc_manifests)", COUNT_NONE },
	{ "DELETE FROM manifest_references WHERE (repository_id, manifest_digest) IN "
	  "(SELECT repository_id, digest FROM temp.gc_manifests)", COUNT_NONE },
	{ "DELETE FROM referrers WHERE (repository_id, digest) IN "
	  "(SELECT repository_id, digest FROM temp.gc_manifests)", COUNT_NONE },
	{ "DELETE FROM manifests WHERE (repository_id, digest) IN "
	  "(SELECT repository_id, digest FROM temp.gc_manifests)", COUNT_MANIFESTS },
	{ "DELETE FROM repository_blobs WHERE (repository_id, digest) IN "
	  "(SELECT repository_id, digest FROM temp.gc_links)", COUNT_LINKS },
	{ "DELETE FROM blobs WHERE digest IN (SELECT digest FROM temp.gc_blobs)", COUNT_BLOBS },
	{ "DELETE FROM repositories WHERE"
	  " NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = repositories.id)"
	  " AND NOT EXISTS (SELECT 1 FROM repository_blobs b WHERE b.repository_id = repositories.id)"
	  " AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = repositories.id)"
	  " AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.repository_id = repositories.id)",
	  COUNT_NONE },
};

/* Prepares SQL with ?1 = CUTOFF and ?2 = KEEP_UNTAGGED when it uses them. */
static int gc_prepare(sqlite3 *db, const char *sql, int64_t cutoff, bool keep_untagged,
		      sqlite3_stmt **ret_stmt)
{
	sqlite3_stmt *stmt;
	int r;

	r = meta_prepare(db, sql, NULL, 0, &stmt);
	if (r < 0)
		return r;
	if (sqlite3_bind_parameter_count(stmt) >= 1)
		sqlite3_bind_int64(stmt, 1, cutoff);
	if (sqlite3_bind_parameter_count(stmt) >= 2)
		sqlite3_bind_int(stmt, 2, keep_untagged);
	*ret_stmt = stmt;
	return 0;
}

/* Runs a SELECT that returns one row of one or two integers. */
static int gc_select_pair(sqlite3 *db, const char *sql, int64_t cutoff, bool keep_untagged,
			  uint64_t *ret_first, uint64_t *ret_second)
{
	sqlite3_stmt *stmt;
	int r;

	r = gc_prepare(db, sql, cutoff, keep_untagged, &stmt);
	if (r < 0)
		return r;
	r = meta_step_row(stmt);
	if (r == 1) {
		*ret_first = (uint64_t)sqlite3_column_int64(stmt, 0);
		if (ret_second)
			*ret_second = (uint64_t)sqlite3_column_int64(stmt, 1);
		r = 0;
	} else if (r == 0) {
		r = -EIO;
	}
	sqlite3_finalize(stmt);
	return r;
}

/* Counts the dead rows in one statement: sqlite then computes the live sets
 * once for the three counts, where three statements took 2.5 times as long
 * with 10,000 repositories, tags and unreferenced blobs. */
static int mark_tx(sqlite3 *db, int64_t cutoff, bool keep_untagged, struct reg_meta_gc_counts *c)
{
	sqlite3_stmt *stmt;
	int r;

	r = gc_prepare(db, LIVE_CTE "SELECT (SELECT count(*) FROM dead_manifests),"
		       " (SELECT count(*) FROM dead_links), (SELECT count(*) FROM dead_blobs),"
		       " (SELECT coalesce(sum(size), 0) FROM dead_blobs)",
		       cutoff, keep_untagged, &stmt);
	if (r < 0)
		return r;
	r = meta_step_row(stmt);
	if (r == 1) {
		c->manifests = (uint64_t)sqlite3_column_int64(stmt, 0);
		c->links = (uint64_t)sqlite3_column_int64(stmt, 1);
		c->blobs = (uint64_t)sqlite3_column_int64(stmt, 2);
		c->bytes = (uint64_t)sqlite3_column_int64(stmt, 3);
		r = 0;
	} else if (r == 0) {
		r = -EIO;
	}
	sqlite3_finalize(stmt);
	return r;
}

int reg_meta_gc_mark(struct reg_meta *meta, int64_t cutoff, bool keep_untagged,
		     struct reg_meta_gc_counts *ret)
{
	struct reg_meta_gc_counts counts = { 0 };
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	/* A deferred transaction that only reads: one snapshot, no write lock. */
	r = meta_exec(db, "BEGIN");
	if (r < 0)
		goto out;
	r = mark_tx(db, cutoff, keep_untagged, &counts);
	if (r == 0)
		r = meta_commit(meta, db);
out:
	if (r < 0 && db)
		meta_rollback(meta, db);
	meta_release(meta, db);
	if (r == 0)
		*ret = counts;
	return r;
}

static int sweep_tx(sqlite3 *db, int64_t cutoff, bool keep_untagged, struct reg_meta_gc_counts *c)
{
	sqlite3_stmt *stmt;
	int r;

	r = meta_exec(db, sweep_setup);
	for (size_t i = 0; r >= 0 && i < sizeof(sweep_collect) / sizeof(sweep_collect[0]); i++) {
		r = gc_prepare(db, sweep_collect[i], cutoff, keep_untagged, &stmt);
		if (r == 0)
			r = meta_step_done(stmt);
	}
	if (r >= 0)
		r = gc_select_pair(db, "SELECT coalesce(sum(size), 0) FROM temp.gc_blobs", 0, false,
				   &c->bytes, NULL);
	for (size_t i = 0; r >= 0 && i < sizeof(sweep_delete) / sizeof(sweep_delete[0]); i++) {
		r = meta_prepare(db, sweep_delete[i].sql, NULL, 0, &stmt);
		if (r == 0)
			r = meta_step_done(stmt);
		if (r > 0 && sweep_delete[i].count == COUNT_MANIFESTS)
			c->manifests = (uint64_t)r;
		else if (r > 0 && sweep_delete[i].count == COUNT_LINKS)
			c->links = (uint64_t)r;
		else if (r > 0 && sweep_delete[i].count == COUNT_BLOBS)
			c->blobs = (uint64_t)r;
	}
	return r < 0 ? r : 0;
}

int reg_meta_gc_sweep(struct reg_meta *meta, int64_t cutoff, bool keep_untagged,
		      struct reg_meta_gc_counts *ret)
{
	struct reg_meta_gc_counts counts = { 0 };
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = sweep_tx(db, cutoff, keep_untagged, &counts);
	if (r == 0)
		r = meta_commit(meta, db);
out:
	if (r < 0 && db)
		meta_rollback(meta, db);
	meta_release(meta, db);
	if (r == 0)
		*ret = counts;
	return r;
}

int reg_meta_gc_blob_known(struct reg_meta *meta, const char *digest)
{
	const char *args[] = { digest };

	return meta_query_has_row(meta, "SELECT 1 FROM blobs WHERE digest = ?1", args, 1);
}

static int link_refresh(sqlite3 *db, const char *repo, const char *digest)
{
	const char *args[] = { repo, digest };
	sqlite3_stmt *stmt;
	int r;

	r = meta_prepare(db, "UPDATE repository_blobs SET created = ?3 WHERE digest = ?2 AND "
			 "repository_id = (SELECT id FROM repositories WHERE name = ?1)",
			 args, 2, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 3, meta_now());
	r = meta_step_done(stmt);
	return r < 0 ? r : 0;
}

int reg_meta_gc_link_refresh(struct reg_meta *meta, const char *repo, const char *digest)
{
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		return r;
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = link_refresh(db, repo, digest);
	if (r == 0)
		r = meta_commit(meta, db);
	else
		meta_rollback(meta, db);
out:
	meta_release(meta, db);
	return r;
}

static int mount_tx(sqlite3 *db, const char *from, const char *repo, const char *digest)
{
	const char *args[] = { from, digest };
	sqlite3_stmt *stmt;
	int64_t repo_id, size = 0;
	int r;

	r = meta_prepare(db, "SELECT s.size FROM repository_blobs b "
			 "JOIN repositories r ON r.id = b.repository_id "
			 "JOIN blobs s ON s.digest = b.digest WHERE r.name = ?1 AND b.digest = ?2",
			 args, 2, &stmt);
	if (r < 0)
		return r;
	r = meta_step_row(stmt);
	if (r == 1)
		size = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (r == 0)
		return -ENOENT;
	if (r < 0)
		return r;

	r = meta_repo_id(db, repo, true, &repo_id);
	if (r < 0)
		return r;
	r = meta_blob_link_tx(db, repo_id, digest, (uint64_t)size);
	if (r < 0)
		return r;
	return link_refresh(db, repo, digest);
}

int reg_meta_gc_blob_mount(struct reg_meta *meta, const char *from, const char *repo,
			   const char *digest)
{
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = mount_tx(db, from, repo, digest);
	if (r == 0)
		r = meta_commit(meta, db);
out:
	if (r < 0 && db)
		meta_rollback(meta, db);
	meta_release(meta, db);
	return r;
}

int reg_meta_gc_usage(struct reg_meta *meta, uint64_t *ret)
{
	sqlite3 *db = NULL;
	uint64_t bytes = 0;
	int r;

	r = meta_acquire(meta, &db);
	if (r == 0)
		r = gc_select_pair(db, "SELECT coalesce(sum(size), 0) FROM blobs", 0, false, &bytes,
				   NULL);
	meta_release(meta, db);
	if (r == 0)
		*ret = bytes;
	return r;
}

int reg_meta_gc_usage_by_repository(struct reg_meta *meta, reg_meta_usage_fn fn, void *userdata)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		goto out;
	r = meta_prepare(db, "SELECT r.name, coalesce(sum(s.size), 0) FROM repositories r "
			 "JOIN repository_blobs b ON b.repository_id = r.id "
			 "JOIN blobs s ON s.digest = b.digest GROUP BY r.id ORDER BY r.name",
			 NULL, 0, &stmt);
	if (r < 0)
		goto out;
	while ((r = meta_step_row(stmt)) == 1) {
		const char *name = (const char *)sqlite3_column_text(stmt, 0);

		r = fn(userdata, name ? name : "", (uint64_t)sqlite3_column_int64(stmt, 1));
		if (r < 0)
			goto out;
	}
out:
	sqlite3_finalize(stmt);
	meta_release(meta, db);
	return r;
}
