/*
 * The metadata queries of fsck; see fsck.h.
 *
 * Listings run in a deferred transaction, which in WAL mode reads one
 * snapshot and takes no write lock, so a serving registry goes on writing.
 * Blob rows are read in batches, each in a statement of its own, so hashing a
 * large store keeps no snapshot open for long.  A snapshot kept open stops
 * sqlite's checkpoints from emptying the write-ahead log.
 * The repair runs in one BEGIN IMMEDIATE transaction like every other change.
 */
#include "fsck.h"
#include "meta_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each row is one broken reference, described in words. */
static const char references_sql[] =
	"SELECT 'manifest ' || r.name || '@' || m.digest || ': no blob row for its bytes'"
	"  FROM manifests m JOIN repositories r ON r.id = m.repository_id"
	"  WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = m.digest) "
	"UNION ALL "
	"SELECT 'manifest ' || r.name || '@' || x.manifest_digest || ': references blob ' ||"
	"  x.child_digest || ', which has no blob row'"
	"  FROM manifest_references x JOIN repositories r ON r.id = x.repository_id"
	"  WHERE x.kind = 'blob'"
	"  AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = x.child_digest) "
	"UNION ALL "
	"SELECT 'manifest ' || r.name || '@' || x.manifest_digest || ': references manifest ' ||"
	"  x.child_digest || ', which is not a manifest of the repository'"
	"  FROM manifest_references x JOIN repositories r ON r.id = x.repository_id"
	"  WHERE x.kind = 'manifest' AND NOT EXISTS (SELECT 1 FROM manifests m"
	"    WHERE m.repository_id = x.repository_id AND m.digest = x.child_digest) "
	"UNION ALL "
	"SELECT 'reference row ' || r.name || '@' || x.manifest_digest || ' -> ' ||"
	"  x.child_digest || ': no such manifest'"
	"  FROM manifest_references x JOIN repositories r ON r.id = x.repository_id"
	"  WHERE NOT EXISTS (SELECT 1 FROM manifests m"
	"    WHERE m.repository_id = x.repository_id AND m.digest = x.manifest_digest) "
	"UNION ALL "
	"SELECT 'tag ' || r.name || ':' || t.name || ': points to missing manifest ' || t.digest"
	"  FROM tags t JOIN repositories r ON r.id = t.repository_id"
	"  WHERE NOT EXISTS (SELECT 1 FROM manifests m"
	"    WHERE m.repository_id = t.repository_id AND m.digest = t.digest) "
	"UNION ALL "
	"SELECT 'blob link ' || r.name || ' -> ' || l.digest || ': no blob row'"
	"  FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id"
	"  WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = l.digest)";

/* Manifests that lack their own blob row, a referenced blob row or a child. */
static const char dangling_sql[] =
	"SELECT m.repository_id, r.name, m.digest"
	"  FROM manifests m JOIN repositories r ON r.id = m.repository_id"
	"  WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = m.digest)"
	"  OR EXISTS (SELECT 1 FROM manifest_references x"
	"    WHERE x.repository_id = m.repository_id AND x.manifest_digest = m.digest"
	"    AND ((x.kind = 'blob' AND NOT EXISTS (SELECT 1 FROM blobs b"
	"          WHERE b.digest = x.child_digest))"
	"      OR (x.kind = 'manifest' AND NOT EXISTS (SELECT 1 FROM manifests c"
	"          WHERE c.repository_id = x.repository_id AND c.digest = x.child_digest))))"
	"  LIMIT 1";

/* Rows left without their target, and the line that reports each removal. */
static const char *const leftover_select[] = {
	"SELECT 'removed tag ' || r.name || ':' || t.name || ' (manifest ' || t.digest ||"
	"  ' missing)' FROM tags t JOIN repositories r ON r.id = t.repository_id"
	"  WHERE NOT EXISTS (SELECT 1 FROM manifests m"
	"    WHERE m.repository_id = t.repository_id AND m.digest = t.digest)",
	"SELECT 'removed reference row ' || r.name || '@' || x.manifest_digest || ' -> ' ||"
	"  x.child_digest FROM manifest_references x"
	"  JOIN repositories r ON r.id = x.repository_id"
	"  WHERE NOT EXISTS (SELECT 1 FROM manifests m"
	"    WHERE m.repository_id = x.repository_id AND m.digest = x.manifest_digest)",
	"SELECT 'removed blob link ' || r.name || ' -> ' || l.digest || ' (no blob row)'"
	"  FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id"
	"  WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = l.digest)",
};

static const char *const leftover_delete[] = {
	"DELETE FROM tags WHERE NOT EXISTS (SELECT 1 FROM manifests m"
	"  WHERE m.repository_id = tags.repository_id AND m.digest = tags.digest)",
	"DELETE FROM manifest_references WHERE NOT EXISTS (SELECT 1 FROM manifests m"
	"  WHERE m.repository_id = manifest_references.repository_id"
	"  AND m.digest = manifest_references.manifest_digest)",
	"DELETE FROM repository_blobs WHERE NOT EXISTS (SELECT 1 FROM blobs b"
	"  WHERE b.digest = repository_blobs.digest)",
};

/* Statements removing one manifest (?1 repository id, ?2 digest), as
 * reg_meta_manifest_delete does. */
static const char *const manifest_delete[] = {
	"DELETE FROM tags WHERE repository_id = ?1 AND digest = ?2",
	"DELETE FROM manifest_references WHERE repository_id = ?1 AND manifest_digest = ?2",
	"DELETE FROM referrers WHERE repository_id = ?1 AND digest = ?2",
	"DELETE FROM repository_blobs WHERE repository_id = ?1 AND digest = ?2",
	"DELETE FROM manifests WHERE repository_id = ?1 AND digest = ?2",
};

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define STRINGIFY_TEXT(x) #x
#define STRINGIFY(x) STRINGIFY_TEXT(x)

/*
 * Upper bound on the manifests one repair removes.  Each pass removes one, so
 * the bound only stops a loop that a bug would make endless.
 */
#define FSCK_REPAIR_MANIFESTS_MAX 1000000

/* Runs SQL with the text ARGS, calling FN with the first column of each row.
 * Returns the number of rows or a negative errno. */
static int lines_list_args(sqlite3 *db, const char *sql, const char *const *args, int n_args,
			   reg_meta_fsck_line_fn fn, void *userdata)
{
	sqlite3_stmt *stmt;
	int n = 0, r;

	r = meta_prepare(db, sql, args, n_args, &stmt);
	if (r < 0)
		return r;
	while ((r = meta_step_row(stmt)) == 1) {
		const char *line = (const char *)sqlite3_column_text(stmt, 0);

		r = fn(userdata, line ? line : "(null)");
		if (r < 0)
			break;
		n++;
	}
	sqlite3_finalize(stmt);
	return r < 0 ? r : n;
}

static int lines_list(sqlite3 *db, const char *sql, reg_meta_fsck_line_fn fn, void *userdata)
{
	return lines_list_args(db, sql, NULL, 0, fn, userdata);
}

/* Runs LIST on a pooled connection inside a read transaction. */
static int read_listing(struct reg_meta *meta, const char *sql, reg_meta_fsck_line_fn fn,
			void *userdata)
{
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		return r;
	r = meta_exec(db, "BEGIN");
	if (r < 0)
		goto out;
	r = lines_list(db, sql, fn, userdata);
	meta_rollback(meta, db);
out:
	meta_release(meta, db);
	return r;
}

/* Skips the single "ok" line of a clean integrity_check. */
struct integrity_filter {
	reg_meta_fsck_line_fn fn;
	void *userdata;
	int problems;
};

static int integrity_line(void *userdata, const char *line)
{
	struct integrity_filter *filter = userdata;
	char text[1024];

	if (strcmp(line, "ok") == 0)
		return 0;
	filter->problems++;
	snprintf(text, sizeof(text), "database: %s", line);
	return filter->fn(filter->userdata, text);
}

int reg_meta_fsck_integrity(struct reg_meta *meta, reg_meta_fsck_line_fn fn, void *userdata)
{
	struct integrity_filter filter = { .fn = fn, .userdata = userdata };
	int r;

	r = read_listing(meta, "PRAGMA integrity_check", integrity_line, &filter);
	return r < 0 ? r : filter.problems;
}

int reg_meta_fsck_references(struct reg_meta *meta, reg_meta_fsck_line_fn fn, void *userdata)
{
	return read_listing(meta, references_sql, fn, userdata);
}

/* Rows read per transaction by reg_meta_fsck_blobs. */
#define FSCK_BLOB_BATCH 256

struct blob_row {
	char digest[REG_DIGEST_TEXT_MAX];
	uint64_t size;
};

/* Reads up to FSCK_BLOB_BATCH blob rows whose digest sorts after AFTER into
 * ROWS.  Returns the number read or a negative errno. */
static int blob_batch_read(struct reg_meta *meta, const char *after, struct blob_row *rows)
{
	const char *const args[] = { after };
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;
	int n = 0, r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		return r;
	r = meta_prepare(db, "SELECT digest, size FROM blobs WHERE digest > ?1 "
			 "ORDER BY digest LIMIT " STRINGIFY(FSCK_BLOB_BATCH), args, 1, &stmt);
	if (r < 0)
		goto out;
	while (n < FSCK_BLOB_BATCH && (r = meta_step_row(stmt)) == 1) {
		const char *digest = (const char *)sqlite3_column_text(stmt, 0);
		sqlite3_int64 size = sqlite3_column_int64(stmt, 1);

		snprintf(rows[n].digest, sizeof(rows[n].digest), "%s", digest ? digest : "");
		rows[n].size = size < 0 ? 0 : (uint64_t)size;
		n++;
	}
	sqlite3_finalize(stmt);
out:
	meta_release(meta, db);
	return r < 0 ? r : n;
}

int reg_meta_fsck_blobs(struct reg_meta *meta, reg_meta_fsck_blob_fn fn, void *userdata)
{
	struct blob_row *rows;
	char after[REG_DIGEST_TEXT_MAX] = "";
	int n, total = 0, r = 0;

	rows = calloc(FSCK_BLOB_BATCH, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	do {
		n = blob_batch_read(meta, after, rows);
		if (n < 0) {
			r = n;
			break;
		}
		for (int i = 0; i < n && r >= 0; i++)
			r = fn(userdata, rows[i].digest, rows[i].size);
		if (n > 0)
			snprintf(after, sizeof(after), "%s", rows[n - 1].digest);
		total += n;
	} while (r >= 0 && n == FSCK_BLOB_BATCH);
	free(rows);
	return r < 0 ? r : total;
}

int reg_meta_fsck_blob_remove(struct reg_meta *meta, const char *digest)
{
	const char *const args[] = { digest };
	sqlite3_stmt *stmt;
	sqlite3 *db = NULL;
	int n = 0, r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		return r;
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = meta_prepare(db, "DELETE FROM repository_blobs WHERE digest = ?1", args, 1, &stmt);
	if (r == 0)
		r = meta_step_done(stmt);
	if (r >= 0) {
		n = r;
		r = meta_prepare(db, "DELETE FROM blobs WHERE digest = ?1", args, 1, &stmt);
	}
	if (r >= 0)
		r = meta_step_done(stmt);
	if (r >= 0) {
		n += r;
		r = meta_commit(meta, db);
	}
	if (r < 0)
		meta_rollback(meta, db);
out:
	meta_release(meta, db);
	return r < 0 ? r : n;
}

/* Removes one dangling manifest, if any.  Returns 1 when one was removed, 0
 * when none dangles, or a negative errno. */
static int dangling_remove_one(sqlite3 *db, reg_meta_fsck_line_fn fn, void *userdata)
{
	char line[1024], repo_id[24], digest[REG_DIGEST_TEXT_MAX];
	const char *args[2] = { repo_id, digest };
	sqlite3_stmt *stmt;
	int r;

	r = meta_prepare(db, dangling_sql, NULL, 0, &stmt);
	if (r < 0)
		return r;
	r = meta_step_row(stmt);
	if (r == 1) {
		snprintf(repo_id, sizeof(repo_id), "%lld",
			 (long long)sqlite3_column_int64(stmt, 0));
		snprintf(line, sizeof(line), "removed dangling manifest %s@%s",
			 (const char *)sqlite3_column_text(stmt, 1),
			 (const char *)sqlite3_column_text(stmt, 2));
		snprintf(digest, sizeof(digest), "%s", (const char *)sqlite3_column_text(stmt, 2));
	}
	sqlite3_finalize(stmt);
	if (r <= 0)
		return r;

	r = fn(userdata, line);
	if (r < 0)
		return r;
	r = lines_list_args(db, "SELECT 'removed tag ' || r.name || ':' || t.name ||"
			    "  ' of that manifest' FROM tags t"
			    "  JOIN repositories r ON r.id = t.repository_id"
			    "  WHERE t.repository_id = ?1 AND t.digest = ?2 ORDER BY t.name",
			    args, 2, fn, userdata);
	if (r < 0)
		return r;
	for (size_t i = 0; i < N_ITEMS(manifest_delete); i++) {
		r = meta_prepare(db, manifest_delete[i], args, 2, &stmt);
		if (r == 0)
			r = meta_step_done(stmt);
		if (r < 0)
			return r;
	}
	return 1;
}

/* Runs the repair inside the caller's write transaction. */
static int references_repair_tx(sqlite3 *db, reg_meta_fsck_line_fn fn, void *userdata)
{
	int n = 0, r = 1;

	for (int i = 0; i < FSCK_REPAIR_MANIFESTS_MAX && r == 1; i++) {
		r = dangling_remove_one(db, fn, userdata);
		n += r == 1;
	}
	if (r < 0)
		return r;

	for (size_t i = 0; i < N_ITEMS(leftover_select); i++) {
		r = lines_list(db, leftover_select[i], fn, userdata);
		if (r < 0)
			return r;
		n += r;
		r = meta_exec(db, leftover_delete[i]);
		if (r < 0)
			return r;
	}
	return n;
}

int reg_meta_fsck_references_repair(struct reg_meta *meta, reg_meta_fsck_line_fn fn,
				    void *userdata)
{
	sqlite3 *db = NULL;
	int n, r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		return r;
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	n = references_repair_tx(db, fn, userdata);
	r = n < 0 ? n : meta_commit(meta, db);
	if (r < 0)
		meta_rollback(meta, db);
	else
		r = n;
out:
	meta_release(meta, db);
	return r;
}
