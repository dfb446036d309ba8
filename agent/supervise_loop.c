/*
 * Registry supervision, the main loop's side: starting the process, reading
 * its notify messages, reaping it, and enforcing the watchdog and backoff.
 * See supervise.h.  Only the main loop calls these functions, so only it
 * changes pid; each function takes the supervisor lock for its whole run.
 */
#include "supervise_private.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "spawn.h"

static void log_with_pid(int priority, pid_t pid, const char *format, const char *detail)
{
	char pid_text[16];
	struct ecr_log_field fields[] = { { "REGISTRY_PID", pid_text } };

	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	ecr_log_fields(priority, fields, 1, format, (int)pid, detail);
}

/* Caller holds the lock. */
static void start_process(struct agent_supervisor *sup)
{
	const struct agent_supervisor_settings *s = &sup->settings;
	pid_t pid;
	int r;

	r = agent_spawn_registry(s->binary, s->config_path, sup->notify_path,
				 (uint64_t)s->watchdog_sec * 1000000,
				 s->has_user ? &s->user : NULL, &pid);
	if (r < 0) {
		ecr_log(LOG_ERR, "failed to start the registry %s: %s; retrying in %u ms",
			s->binary, strerror(-r), BACKOFF_MAX_MS);
		sup->state = AGENT_REGISTRY_BACKOFF;
		sup->next_start_ms = supervisor_now_ms() + BACKOFF_MAX_MS;
		return;
	}

	sup->pid = pid;
	sup->active_watchdog_sec = s->watchdog_sec;
	sup->state = AGENT_REGISTRY_STARTING;
	sup->started_ms = supervisor_now_ms();
	sup->last_ping_ms = sup->started_ms;
	sup->kill_at_ms = 0;
	sup->kill_reason = NULL;
	log_with_pid(LOG_NOTICE, pid, "started the registry (pid %d, %s)", s->binary);
}

static void handle_message(struct agent_supervisor *sup, char *message)
{
	char *save = NULL;

	for (char *line = strtok_r(message, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "READY=1") == 0 && sup->state == AGENT_REGISTRY_STARTING) {
			sup->state = AGENT_REGISTRY_RUNNING;
			sup->last_ping_ms = supervisor_now_ms();
			log_with_pid(LOG_NOTICE, sup->pid, "the registry is ready (pid %d)%s", "");
		} else if (strcmp(line, "WATCHDOG=1") == 0) {
			sup->last_ping_ms = supervisor_now_ms();
		} else if (strcmp(line, "WATCHDOG=trigger") == 0) {
			supervisor_signal_process(sup, SIGABRT, KILL_GRACE_MS,
						  "the registry asked for a watchdog kill");
		}
	}
}

void agent_supervisor_process_notify(struct agent_supervisor *sup)
{
	char message[AGENT_NOTIFY_MESSAGE_MAX];
	pid_t sender;
	int r;

	pthread_mutex_lock(&sup->lock);
	for (;;) {
		r = agent_notify_receive(sup->notify_fd, message, sizeof(message), &sender);
		if (r == -EAGAIN || r == -EINTR)
			break;
		if (r < 0) {
			ecr_log(LOG_DEBUG, "dropped a notify message: %s", strerror(-r));
			continue;
		}
		if (sender != sup->pid || sup->pid <= 0) {
			ecr_log(LOG_DEBUG, "dropped a notify message from pid %d, which is not the registry",
				(int)sender);
			continue;
		}
		handle_message(sup, message);
	}
	pthread_mutex_unlock(&sup->lock);
}

static void describe_exit(int status, const char *kill_reason, char *buf, size_t size)
{
	const char *prefix = kill_reason ? kill_reason : "";
	const char *sep = kill_reason ? "; " : "";

	if (WIFEXITED(status) && WEXITSTATUS(status) == AGENT_SPAWN_EXIT_SETID)
		snprintf(buf, size, "%s%sexited with status %d: failed to switch to the registry user",
			 prefix, sep, WEXITSTATUS(status));
	else if (WIFEXITED(status))
		snprintf(buf, size, "%s%sexited with status %d", prefix, sep, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "%s%skilled by signal %d (SIG%s)", prefix, sep,
			 WTERMSIG(status), sigabbrev_np(WTERMSIG(status)) ?: "?");
	else
		snprintf(buf, size, "%s%sended with wait status %d", prefix, sep, status);
}

/* Chooses the delay before the next start.  Caller holds the lock. */
static void schedule_restart(struct agent_supervisor *sup, uint64_t ran_ms)
{
	if (ran_ms >= STABLE_RUN_MS || sup->backoff_ms == 0)
		sup->backoff_ms = BACKOFF_MIN_MS;
	else if (sup->backoff_ms < BACKOFF_MAX_MS / 2)
		sup->backoff_ms *= 2;
	else
		sup->backoff_ms = BACKOFF_MAX_MS;

	sup->state = AGENT_REGISTRY_BACKOFF;
	sup->next_start_ms = supervisor_now_ms() + sup->backoff_ms;
}

/* Records the exit of the supervised process.  Caller holds the lock. */
static void handle_exit(struct agent_supervisor *sup, int status)
{
	uint64_t ran_ms = supervisor_now_ms() - sup->started_ms;
	pid_t pid = sup->pid;
	char text[200];

	describe_exit(status, sup->kill_reason, sup->last_exit, sizeof(sup->last_exit));
	sup->pid = 0;
	sup->kill_at_ms = 0;
	sup->kill_reason = NULL;
	pthread_cond_broadcast(&sup->exited);

	if (!sup->want_running) {
		sup->state = AGENT_REGISTRY_STOPPED;
		log_with_pid(LOG_NOTICE, pid, "the registry (pid %d) stopped: %s", sup->last_exit);
		return;
	}
	schedule_restart(sup, ran_ms);
	snprintf(text, sizeof(text), "%s; restarting in %u ms", sup->last_exit, sup->backoff_ms);
	log_with_pid(LOG_ERR, pid, "the registry (pid %d) ended unexpectedly: %s", text);
}

void agent_supervisor_reap(struct agent_supervisor *sup)
{
	pid_t pid;
	int status;

	pthread_mutex_lock(&sup->lock);
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == sup->pid)
			handle_exit(sup, status);
	}
	pthread_mutex_unlock(&sup->lock);
}

/* Signals a process that is late with READY=1 or WATCHDOG=1.  Caller holds
 * the lock. */
static void check_liveness(struct agent_supervisor *sup, uint64_t now)
{
	uint64_t silent_ms = now - sup->last_ping_ms;
	const struct agent_supervisor_settings *s = &sup->settings;

	if (sup->kill_at_ms)
		return;
	if (sup->state == AGENT_REGISTRY_STARTING &&
	    silent_ms > (uint64_t)s->start_timeout_sec * 1000) {
		log_with_pid(LOG_ERR, sup->pid, "the registry (pid %d) %s; sending SIGABRT",
			     "sent no READY=1 within the start timeout");
		supervisor_signal_process(sup, SIGABRT, KILL_GRACE_MS, "start timeout");
	} else if (sup->state == AGENT_REGISTRY_RUNNING && sup->active_watchdog_sec &&
		   silent_ms > (uint64_t)sup->active_watchdog_sec * 1000) {
		log_with_pid(LOG_ERR, sup->pid, "the registry (pid %d) %s; sending SIGABRT",
			     "missed its watchdog");
		supervisor_signal_process(sup, SIGABRT, KILL_GRACE_MS, "watchdog timeout");
	}
}

void agent_supervisor_tick(struct agent_supervisor *sup)
{
	uint64_t now = supervisor_now_ms();

	pthread_mutex_lock(&sup->lock);
	if (sup->pid > 0 && sup->kill_at_ms && now >= sup->kill_at_ms) {
		log_with_pid(LOG_WARNING, sup->pid, "the registry (pid %d) %s; sending SIGKILL",
			     "did not exit in time");
		kill(sup->pid, SIGKILL);
		sup->kill_at_ms = 0;
	}
	if (sup->pid > 0)
		check_liveness(sup, now);

	if (sup->want_running && sup->state == AGENT_REGISTRY_STOPPED) {
		start_process(sup);
	} else if (sup->want_running && sup->state == AGENT_REGISTRY_BACKOFF &&
		   now >= sup->next_start_ms) {
		sup->restart_count++;
		start_process(sup);
	}
	pthread_mutex_unlock(&sup->lock);
}

void agent_supervisor_shutdown(struct agent_supervisor *sup, unsigned timeout_ms)
{
	uint64_t deadline = supervisor_now_ms() + timeout_ms;
	bool killed = false;

	pthread_mutex_lock(&sup->lock);
	sup->want_running = false;
	if (sup->pid > 0) {
		sup->state = AGENT_REGISTRY_STOPPING;
		kill(sup->pid, SIGTERM);
	} else {
		sup->state = AGENT_REGISTRY_STOPPED;
	}
	pthread_mutex_unlock(&sup->lock);

	for (;;) {
		agent_supervisor_reap(sup);
		pthread_mutex_lock(&sup->lock);
		if (sup->pid <= 0) {
			pthread_mutex_unlock(&sup->lock);
			return;
		}
		if (!killed && supervisor_now_ms() >= deadline) {
			ecr_log(LOG_WARNING, "the registry (pid %d) did not stop within %u ms; sending SIGKILL",
				(int)sup->pid, timeout_ms);
			kill(sup->pid, SIGKILL);
			killed = true;
		}
		pthread_mutex_unlock(&sup->lock);
		usleep(20 * 1000);
	}
}
