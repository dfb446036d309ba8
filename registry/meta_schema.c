/*
 * The metadata schema and its versions.
 *
 * schema_version contains one row with the version the database is at.  Each
 * entry of migrations[] takes the database from version i to i + 1 and runs in
 * one transaction with the version bump, so a crash leaves either version.
 * A database newer than this program is refused rather than guessed at.
 */
#include "meta_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const migrations[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE repositories ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL);"
	/* Every blob the store holds, manifests included. */
	"CREATE TABLE blobs ("
	"  digest TEXT PRIMARY KEY,"
	"  size INTEGER NOT NULL,"
	"  created INTEGER NOT NULL);"
	/* Blobs a repository may read: pushed, mounted, or its own manifests. */
	"CREATE TABLE repository_blobs ("
	"  repository_id INTEGER NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (repository_id, digest)) WITHOUT ROWID;"
	"CREATE INDEX repository_blobs_digest ON repository_blobs(digest);"
	"CREATE TABLE manifests ("
	"  repository_id INTEGER NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  media_type TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  artifact_type TEXT,"
	"  subject TEXT,"
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (repository_id, digest)) WITHOUT ROWID;"
	/* What each manifest references: kind 'blob' (config, layer) or 'manifest'. */
	"CREATE TABLE manifest_references ("
	"  repository_id INTEGER NOT NULL,"
	"  manifest_digest TEXT NOT NULL,"
	"  child_digest TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  PRIMARY KEY (repository_id, manifest_digest, child_digest)) WITHOUT ROWID;"
	"CREATE TABLE tags ("
	"  repository_id INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  PRIMARY KEY (repository_id, name)) WITHOUT ROWID;"
	"CREATE INDEX tags_digest ON tags(repository_id, digest);"
	"CREATE TABLE uploads ("
	"  id TEXT PRIMARY KEY,"
	"  repository_id INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	/* Manifests with a subject, kept even while the subject is not pushed yet. */
	"CREATE TABLE referrers ("
	"  repository_id INTEGER NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  media_type TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  artifact_type TEXT,"
	"  annotations TEXT,"
	"  PRIMARY KEY (repository_id, subject, digest)) WITHOUT ROWID;",
	/* 1 -> 2: the result of the last garbage collection that was not a dry
	 * run.  One row, replaced by each run, so that the server and the agent
	 * see a run of "edgecr-registry gc" too, also after a restart. */
	"CREATE TABLE gc_last_run ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  started INTEGER NOT NULL,"
	"  seconds REAL NOT NULL,"
	"  manifests INTEGER NOT NULL,"
	"  links INTEGER NOT NULL,"
	"  blobs INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  uploads INTEGER NOT NULL,"
	"  files_pending INTEGER NOT NULL);",
	/* 2 -> 3: a counter that every committed change to a tag or to the set
	 * of repositories raises, in the same transaction and whichever process
	 * made it.  A server keeps tags/list pages while it has not moved. */
	"CREATE TABLE tag_generation ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  value INTEGER NOT NULL);"
	"INSERT INTO tag_generation(id, value) VALUES (1, 0);"
	"CREATE TRIGGER tags_inserted AFTER INSERT ON tags BEGIN"
	"  UPDATE tag_generation SET value = value + 1; END;"
	"CREATE TRIGGER tags_updated AFTER UPDATE ON tags BEGIN"
	"  UPDATE tag_generation SET value = value + 1; END;"
	"CREATE TRIGGER tags_deleted AFTER DELETE ON tags BEGIN"
	"  UPDATE tag_generation SET value = value + 1; END;"
	"CREATE TRIGGER repositories_inserted AFTER INSERT ON repositories BEGIN"
	"  UPDATE tag_generation SET value = value + 1; END;"
	"CREATE TRIGGER repositories_deleted AFTER DELETE ON repositories BEGIN"
	"  UPDATE tag_generation SET value = value + 1; END;",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int schema_version_read(sqlite3 *db, int *ret_version)
{
	sqlite3_stmt *stmt;
	int r;

	r = meta_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
	if (r < 0)
		return r;
	r = meta_prepare(db, "SELECT version FROM schema_version", NULL, 0, &stmt);
	if (r < 0)
		return r;
	r = sqlite3_step(stmt);
	*ret_version = r == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
	r = r == SQLITE_ROW || r == SQLITE_DONE ? 0 : meta_errno(r);
	sqlite3_finalize(stmt);
	return r;
}

static int schema_migrate(sqlite3 *db, int from)
{
	char sql[96];
	int r;

	r = meta_exec(db, migrations[from]);
	if (r < 0)
		return r;
	snprintf(sql, sizeof(sql), "DELETE FROM schema_version; "
		 "INSERT INTO schema_version(version) VALUES (%d)", from + 1);
	return meta_exec(db, sql);
}

/* Returns true when DB is at SCHEMA_VERSION, read without the write lock.
 * Returns false on any failure, so that the locked check decides. */
static bool schema_current(sqlite3 *db)
{
	sqlite3_stmt *stmt;
	bool current = false;

	if (sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt, NULL) != SQLITE_OK)
		return false;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		current = sqlite3_column_int(stmt, 0) == SCHEMA_VERSION;
	sqlite3_finalize(stmt);
	return current;
}

int meta_schema_apply(struct reg_meta *meta, sqlite3 *db, char *err, size_t err_size)
{
	int version, r;

	/* gc and fsck open the database while a busy server writes, and a
	 * current schema needs no write lock, so they need not wait for it. */
	if (schema_current(db))
		return 0;

	/* The whole check-and-upgrade is one writer transaction, so two
	 * registries started on one root cannot both migrate. */
	r = meta_begin(meta, db);
	if (r < 0)
		goto out;
	r = schema_version_read(db, &version);
	if (r < 0)
		goto out;
	if (version > SCHEMA_VERSION) {
		snprintf(err, err_size, "database schema version %d is newer than the %d this registry supports",
			 version, SCHEMA_VERSION);
		r = -EPROTO;
		goto out;
	}
	for (; version < SCHEMA_VERSION && r == 0; version++)
		r = schema_migrate(db, version);
	if (r == 0)
		r = meta_commit(meta, db);
out:
	/* sqlite3_errmsg describes the last call, so it is read before ROLLBACK. */
	if (r == -ETIMEDOUT)
		snprintf(err, err_size, "database schema update failed: another process held the "
			 "write lock of metadata.db for more than %d s", META_BUSY_TIMEOUT_MS / 1000);
	else if (r < 0 && r != -EPROTO)
		snprintf(err, err_size, "database schema update failed: %s (%s)", strerror(-r),
			 sqlite3_errmsg(db));
	if (r < 0)
		meta_rollback(meta, db);
	return r;
}
