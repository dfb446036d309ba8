/*
 * Settings in sqlite; see state.h.
 *
 * The schema is one key/value table.  PRAGMA user_version records its version
 * so that a later schema can migrate an existing database.  An older agent
 * rejects a database that a newer one wrote, because it would misread it.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#define BUSY_TIMEOUT_MS 5000
#define SCHEMA_VERSION 1
#define STRINGIFY(x) STRINGIFY_(x)
#define STRINGIFY_(x) #x

struct agent_state {
	sqlite3 *db;
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS settings ("
	" key TEXT PRIMARY KEY NOT NULL,"
	" value TEXT NOT NULL);"
	"PRAGMA user_version = " STRINGIFY(SCHEMA_VERSION) ";";

static int schema_version_read(sqlite3 *db, int *ret_version)
{
	sqlite3_stmt *stmt = NULL;
	int r = -EIO;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW) {
		*ret_version = sqlite3_column_int(stmt, 0);
		r = 0;
	}
	sqlite3_finalize(stmt);
	return r;
}

/* Creates the database file with mode 0600 before sqlite opens it, because
 * sqlite would create it with the umask. */
static int create_private_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int agent_state_open(const char *state_dir, struct agent_state **ret_state)
{
	struct agent_state *state = NULL;
	char path[4096];
	int version, r;

	if ((size_t)snprintf(path, sizeof(path), "%s/agent.db", state_dir) >= sizeof(path))
		return -ENAMETOOLONG;
	r = create_private_file(path);
	if (r < 0)
		return r;

	state = calloc(1, sizeof(*state));
	if (!state)
		return -ENOMEM;
	r = -EIO;
	if (sqlite3_open_v2(path, &state->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(state->db, BUSY_TIMEOUT_MS);

	r = schema_version_read(state->db, &version);
	if (r < 0)
		goto out;
	if (version > SCHEMA_VERSION) {
		r = -EPROTO;
		goto out;
	}
	r = -EIO;
	if (sqlite3_exec(state->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		goto out;

	*ret_state = state;
	state = NULL;
	r = 0;

out:
	agent_state_free(state);
	return r;
}

void agent_state_free(struct agent_state *state)
{
	if (!state)
		return;
	sqlite3_close(state->db);
	free(state);
}

int agent_state_get(struct agent_state *state, const char *key, char **ret_value)
{
	sqlite3_stmt *stmt = NULL;
	char *value;
	int r = -EIO;
	int rc;

	if (sqlite3_prepare_v2(state->db, "SELECT value FROM settings WHERE key = ?1", -1,
			       &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
		goto out;

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		r = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	value = strdup((const char *)sqlite3_column_text(stmt, 0));
	if (!value) {
		r = -ENOMEM;
		goto out;
	}
	*ret_value = value;
	r = 0;

out:
	sqlite3_finalize(stmt);
	return r;
}

static int run_statement(struct agent_state *state, const char *sql, const char *key,
			 const char *value)
{
	sqlite3_stmt *stmt = NULL;
	int r = -EIO;

	if (sqlite3_prepare_v2(state->db, sql, -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
		goto out;
	if (value && sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC) != SQLITE_OK)
		goto out;
	if (sqlite3_step(stmt) != SQLITE_DONE)
		goto out;
	r = 0;

out:
	sqlite3_finalize(stmt);
	return r;
}

int agent_state_set(struct agent_state *state, const char *key, const char *value)
{
	return run_statement(state,
			     "INSERT INTO settings (key, value) VALUES (?1, ?2)"
			     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			     key, value);
}

int agent_state_delete(struct agent_state *state, const char *key)
{
	return run_statement(state, "DELETE FROM settings WHERE key = ?1", key, NULL);
}
