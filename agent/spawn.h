/*
 * Starting the registry process with its sd_notify environment.
 */
#ifndef EDGECR_AGENT_SPAWN_H
#define EDGECR_AGENT_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

/*
 * Forks and executes "BINARY --config CONFIG_PATH" with NOTIFY_SOCKET set to
 * NOTIFY_PATH and, when WATCHDOG_USEC is not 0, WATCHDOG_USEC set.  The child
 * starts with an empty signal mask, default SIGPIPE, no inherited descriptors
 * above stderr, and gets SIGTERM when the thread that forked it ends.
 * Returns 0 with the child's pid, or a negative errno when fork fails.  A
 * failed exec shows up as exit status 127.
 */
int agent_spawn_registry(const char *binary, const char *config_path,
			 const char *notify_path, uint64_t watchdog_usec, pid_t *ret_pid);

#endif
