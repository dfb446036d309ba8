/*
 * Registry supervision, the calls of API threads; see supervise.h for the
 * threading rules and supervise_loop.c for the main loop's side.
 */
#include "supervise_private.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "spawn.h"

int agent_supervisor_new(const char *notify_path, struct agent_supervisor **ret_sup)
{
	struct agent_supervisor *sup;
	int r;

	if (strlen(notify_path) >= sizeof(sup->notify_path))
		return -ENAMETOOLONG;
	sup = calloc(1, sizeof(*sup));
	if (!sup)
		return -ENOMEM;
	snprintf(sup->notify_path, sizeof(sup->notify_path), "%s", notify_path);

	r = agent_notify_socket_open(notify_path, &sup->notify_fd);
	if (r < 0) {
		free(sup);
		return r;
	}
	pthread_mutex_init(&sup->lock, NULL);
	pthread_cond_init(&sup->exited, NULL);
	*ret_sup = sup;
	return 0;
}

void agent_supervisor_free(struct agent_supervisor *sup)
{
	if (!sup)
		return;
	close(sup->notify_fd);
	unlink(sup->notify_path);
	pthread_cond_destroy(&sup->exited);
	pthread_mutex_destroy(&sup->lock);
	free(sup);
}

void agent_supervisor_configure(struct agent_supervisor *sup,
				const struct agent_supervisor_settings *settings)
{
	pthread_mutex_lock(&sup->lock);
	sup->settings = *settings;
	pthread_mutex_unlock(&sup->lock);
}

const char *agent_registry_state_name(enum agent_registry_state state)
{
	static const char *const names[] = {
		[AGENT_REGISTRY_STOPPED] = "stopped", [AGENT_REGISTRY_STARTING] = "starting",
		[AGENT_REGISTRY_RUNNING] = "running", [AGENT_REGISTRY_BACKOFF] = "backoff",
		[AGENT_REGISTRY_STOPPING] = "stopping",
	};

	return names[state];
}

void agent_supervisor_status(struct agent_supervisor *sup,
			     struct agent_registry_status *ret_status)
{
	struct agent_registry_status status = { 0 };

	pthread_mutex_lock(&sup->lock);
	status.state = sup->state;
	status.pid = sup->pid;
	if (sup->pid > 0)
		status.uptime_seconds = (long)((supervisor_now_ms() - sup->started_ms) / 1000);
	status.restart_count = sup->restart_count;
	memcpy(status.last_exit, sup->last_exit, sizeof(status.last_exit));
	pthread_mutex_unlock(&sup->lock);

	*ret_status = status;
}

void agent_supervisor_enable(struct agent_supervisor *sup)
{
	pthread_mutex_lock(&sup->lock);
	sup->want_running = true;
	if (sup->state == AGENT_REGISTRY_BACKOFF)
		sup->next_start_ms = supervisor_now_ms();
	pthread_mutex_unlock(&sup->lock);
}

void supervisor_signal_process(struct agent_supervisor *sup, int sig, unsigned grace_ms,
			   const char *reason)
{
	if (sup->pid <= 0)
		return;
	sup->kill_reason = reason;
	kill(sup->pid, sig);
	if (!sup->kill_at_ms)
		sup->kill_at_ms = supervisor_now_ms() + grace_ms;
}

int agent_supervisor_disable(struct agent_supervisor *sup, unsigned timeout_ms)
{
	struct timespec deadline;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}

	pthread_mutex_lock(&sup->lock);
	sup->want_running = false;
	if (sup->pid > 0) {
		sup->state = AGENT_REGISTRY_STOPPING;
		supervisor_signal_process(sup, SIGTERM, STOP_TIMEOUT_MS, NULL);
	} else {
		sup->state = AGENT_REGISTRY_STOPPED;
	}
	while (sup->pid > 0 && r == 0)
		r = -pthread_cond_timedwait(&sup->exited, &sup->lock, &deadline);
	pthread_mutex_unlock(&sup->lock);
	return r;
}

int agent_supervisor_reload(struct agent_supervisor *sup)
{
	int r = -ESRCH;

	pthread_mutex_lock(&sup->lock);
	if (sup->pid > 0 && sup->state != AGENT_REGISTRY_STOPPING) {
		kill(sup->pid, SIGHUP);
		r = 0;
	}
	pthread_mutex_unlock(&sup->lock);
	return r;
}

int agent_supervisor_notify_fd(struct agent_supervisor *sup)
{
	return sup->notify_fd;
}
