/*
 * Supervision of the registry process: start, readiness and liveness through a
 * notify socket of the agent's own, restarts with exponential backoff, and a
 * bounded stop.
 *
 * Threads: the main loop owns the process.  It alone forks, reaps and reads
 * the notify socket, through the functions marked "main loop".  API threads
 * state what they want (enable, disable, reload) and read the status.  A mutex
 * inside the supervisor guards all of its fields.  A condition variable wakes
 * the API threads that wait for the process to exit.
 */
#ifndef EDGECR_AGENT_SUPERVISE_H
#define EDGECR_AGENT_SUPERVISE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "spawn.h"

enum agent_registry_state {
	AGENT_REGISTRY_STOPPED,
	AGENT_REGISTRY_STARTING,   /* forked, READY=1 not received yet */
	AGENT_REGISTRY_RUNNING,
	AGENT_REGISTRY_BACKOFF,    /* exited unexpectedly, waiting to restart */
	AGENT_REGISTRY_STOPPING,
};

struct agent_registry_status {
	enum agent_registry_state state;
	pid_t pid;                 /* 0 when no process runs */
	long uptime_seconds;       /* since the current process started */
	unsigned restart_count;    /* restarts after unexpected exits */
	char last_exit[160];       /* "" until a process has exited */
};

struct agent_supervisor_settings {
	char binary[PATH_MAX];
	char config_path[PATH_MAX];
	unsigned watchdog_sec;     /* 0 disables the liveness check */
	unsigned start_timeout_sec;
	bool has_user;             /* false: the registry keeps the agent's user */
	struct agent_spawn_user user;
};

struct agent_supervisor;

/* Creates a supervisor with its notify socket bound at NOTIFY_PATH.  Returns 0
 * or a negative errno. */
int agent_supervisor_new(const char *notify_path, struct agent_supervisor **ret_sup);

/* Frees SUP; the process must have been stopped.  NULL is a no-op. */
void agent_supervisor_free(struct agent_supervisor *sup);

/* Sets what the next start runs; a running process keeps its settings. */
void agent_supervisor_configure(struct agent_supervisor *sup,
				const struct agent_supervisor_settings *settings);

/* Asks for the registry to run.  The main loop starts it within one tick, also
 * when it waits for a restart after a failure. */
void agent_supervisor_enable(struct agent_supervisor *sup);

/* Asks for the registry to stop and waits until it exited, for at most
 * TIMEOUT_MS.  Returns 0 or -ETIMEDOUT. */
int agent_supervisor_disable(struct agent_supervisor *sup, unsigned timeout_ms);

/* Sends SIGHUP to a running registry so it re-reads credentials and
 * certificates.  Returns 0, or -ESRCH when no process runs. */
int agent_supervisor_reload(struct agent_supervisor *sup);

/* Copies the current status into ret_status. */
void agent_supervisor_status(struct agent_supervisor *sup,
			     struct agent_registry_status *ret_status);

/* Returns the name of STATE as the API shows it ("running", ...). */
const char *agent_registry_state_name(enum agent_registry_state state);

/* Main loop: the notify socket to poll for input. */
int agent_supervisor_notify_fd(struct agent_supervisor *sup);

/* Main loop: reads every queued notify message. */
void agent_supervisor_process_notify(struct agent_supervisor *sup);

/* Main loop: reaps exited children (after SIGCHLD). */
void agent_supervisor_reap(struct agent_supervisor *sup);

/* Main loop: starts, restarts, checks the watchdog and escalates stops.  Call
 * at least every AGENT_SUPERVISOR_TICK_MS. */
void agent_supervisor_tick(struct agent_supervisor *sup);
#define AGENT_SUPERVISOR_TICK_MS 100

/* Main loop, at exit: stops the registry (SIGTERM, then SIGKILL after
 * TIMEOUT_MS) and reaps it. */
void agent_supervisor_shutdown(struct agent_supervisor *sup, unsigned timeout_ms);

#endif
