/*
 * Fields of the registry supervisor, shared by supervise.c (the calls of API
 * threads) and supervise_loop.c (the main loop).  Every field except
 * notify_fd and notify_path is guarded by lock.
 */
#ifndef EDGECR_AGENT_SUPERVISE_PRIVATE_H
#define EDGECR_AGENT_SUPERVISE_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "supervise.h"

/* Restart delays start at BACKOFF_MIN_MS and double up to BACKOFF_MAX_MS; a
 * process that ran for STABLE_RUN_MS before it exited starts the series again.
 * A process that misses its watchdog, or sends no READY=1 within the start
 * timeout, gets SIGABRT (so it can dump core) and SIGKILL KILL_GRACE_MS later.
 * A stop sends SIGTERM and SIGKILL STOP_TIMEOUT_MS later. */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000
#define STABLE_RUN_MS 60000
#define KILL_GRACE_MS 5000
#define STOP_TIMEOUT_MS 10000

struct agent_supervisor {
	pthread_mutex_t lock;
	pthread_cond_t exited;        /* broadcast when the process is reaped */
	int notify_fd;
	char notify_path[108];
	struct agent_supervisor_settings settings;   /* for the next start */
	unsigned active_watchdog_sec;  /* WATCHDOG_USEC the current process got, in s */

	bool want_running;
	enum agent_registry_state state;
	pid_t pid;
	uint64_t started_ms;
	uint64_t last_ping_ms;        /* last READY=1 or WATCHDOG=1 */
	uint64_t next_start_ms;       /* in BACKOFF */
	uint64_t kill_at_ms;          /* SIGKILL then, when not 0 */
	unsigned backoff_ms;          /* delay used for the last restart */
	unsigned restart_count;
	const char *kill_reason;      /* why the agent signalled the process */
	char last_exit[160];
};

static inline uint64_t supervisor_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sends SIG to the process and arranges SIGKILL after GRACE_MS.  Caller holds
 * the lock. */
void supervisor_signal_process(struct agent_supervisor *sup, int sig, unsigned grace_ms,
			       const char *reason);

#endif
