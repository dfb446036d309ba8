/* Unit tests of the agent's settings database (agent/state.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "state.h"
#include "unit.h"

static char dir[] = "/tmp/edgecr-unit-state-XXXXXX";

static void db_path(char *path, size_t size)
{
	snprintf(path, size, "%s/agent.db", dir);
}

static void state_round_trip(void)
{
	struct agent_state *state = NULL;
	char path[256];
	char *value = NULL;
	struct stat st;

	CHECK_INT(agent_state_open(dir, &state), 0);
	CHECK_INT(agent_state_set(state, "enabled", "true"), 0);
	CHECK_INT(agent_state_get(state, "enabled", &value), 0);
	CHECK_STR(value, "true");
	free(value);
	CHECK_INT(agent_state_delete(state, "enabled"), 0);
	CHECK_INT(agent_state_get(state, "enabled", &value), -ENOENT);
	agent_state_free(state);

	db_path(path, sizeof(path));
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
}

/* A database that a newer agent wrote is rejected. */
static void state_newer_schema_rejected(void)
{
	struct agent_state *state = NULL;
	sqlite3 *db = NULL;
	char path[256];

	db_path(path, sizeof(path));
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	CHECK_INT(agent_state_open(dir, &state), -EPROTO);
	CHECK(state == NULL);
}

int main(void)
{
	char path[256];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(state_round_trip);
	RUN(state_newer_schema_rejected);

	db_path(path, sizeof(path));
	unlink(path);
	rmdir(dir);
	return UNIT_EXIT();
}
