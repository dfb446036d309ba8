/*
 * Starting the registry process with its sd_notify environment.
 */
#ifndef EDGECR_AGENT_SPAWN_H
#define EDGECR_AGENT_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

/* Exit status of a child that failed to take the registry user's identity;
 * edgecr-registry itself exits with 0, 1 or 2. */
#define AGENT_SPAWN_EXIT_SETID 125

/* The user and group the registry runs as. */
struct agent_spawn_user {
	uid_t uid;
	gid_t gid;
};

/*
 * Forks and executes "BINARY --config CONFIG_PATH" with NOTIFY_SOCKET set to
 * NOTIFY_PATH and, when WATCHDOG_USEC is not 0, WATCHDOG_USEC set.  The child
 * starts with an empty signal mask, default SIGPIPE, no inherited descriptors
 * above stderr, and gets SIGTERM when the thread that forked it ends.  When
 * USER is not NULL the child drops its supplementary groups and takes
 * USER's gid and uid before the exec; NULL keeps the agent's.
 * Returns 0 with the child's pid, or a negative errno when fork fails.  A
 * failed switch of user shows up as exit status AGENT_SPAWN_EXIT_SETID, a
 * failed exec as 127.
 */
int agent_spawn_registry(const char *binary, const char *config_path,
			 const char *notify_path, uint64_t watchdog_usec,
			 const struct agent_spawn_user *user, pid_t *ret_pid);

#endif
