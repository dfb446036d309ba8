/*
 * Start-up, main loop and shut-down of the agent; see daemon.h.
 *
 * Start-up order: signals are blocked before any thread starts, so only the
 * main loop's signalfd receives them.  The state directory, database and
 * notify socket come next, then the API socket is bound and served, and only
 * then READY=1 is sent.  The maintenance thread restores the registry after
 * that.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <curl/curl.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "api.h"
#include "fileio.h"
#include "log.h"
#include "maintain.h"

#define SHUTDOWN_STOP_TIMEOUT_MS 10000

struct daemon_run {
	struct agent agent;
	struct agent_api *api;
	struct agent_api *ui_api;      /* web UI listener; NULL when ui_listen is off */
	struct agent_maintenance *maintenance;
	const struct agent_cmdline *cmdline;
	int signal_fd;
	int lock_fd;                   /* holds the state directory's lock */
	uint64_t watchdog_usec;        /* of the agent's own unit; 0 when off */
	uint64_t last_watchdog_ms;
	char last_status[256];
};

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int open_signal_fd(int *ret_fd)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
		return -EINVAL;
	signal(SIGPIPE, SIG_IGN);

	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

/* Takes STATE_DIR/agent.lock, so a second agent on the same state directory
 * stops before it replaces the first one's sockets. */
static int lock_state_dir(struct daemon_run *d, const char *dir)
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/agent.lock", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	}
	d->lock_fd = fd;
	return 0;
}

static int open_state(struct daemon_run *d)
{
	struct agent *agent = &d->agent;
	const char *dir = agent->config->state_dir;
	int r;

	r = ecr_mkdir_p(dir, 0700);
	if (r == 0)
		r = lock_state_dir(d, dir);
	if (r == -EBUSY) {
		ecr_log(LOG_ERR, "another edgecr-agent is using state directory %s", dir);
		return r;
	}
	if (r < 0) {
		ecr_log(LOG_ERR, "failed to prepare state directory %s: %s", dir, strerror(-r));
		return r;
	}
	r = agent_paths_init(dir, &agent->paths);
	if (r == 0)
		r = agent_state_open(dir, &agent->state);
	if (r == -EPROTO) {
		ecr_log(LOG_ERR, "the state database in %s was written by a newer edgecr-agent; "
			"install that version again or move the folder away", dir);
		return r;
	}
	if (r < 0) {
		ecr_log(LOG_ERR, "failed to open the state database in %s: %s", dir, strerror(-r));
		return r;
	}
	r = agent_supervisor_new(agent->paths.notify_socket, &agent->supervisor);
	if (r < 0)
		ecr_log(LOG_ERR, "failed to create the registry notify socket %s: %s",
			agent->paths.notify_socket, strerror(-r));
	return r;
}

static int start_api(struct daemon_run *d)
{
	const struct agent_config *c = d->agent.config;
	gid_t admin_gid;
	int fd, r;

	r = agent_api_socket_open(c->socket_path, c->socket_mode, c->admin_group, &fd, &admin_gid);
	if (r < 0) {
		ecr_log(LOG_ERR, "failed to listen on %s: %s", c->socket_path, strerror(-r));
		return r;
	}
	if (admin_gid == (gid_t)-1)
		ecr_log(LOG_WARNING, "group %s does not exist; only root may use the API",
			c->admin_group);
	r = agent_api_start(&d->agent, fd, admin_gid, c->admin_group, &d->api);
	if (r < 0)
		ecr_log(LOG_ERR, "failed to start the API server on %s", c->socket_path);
	return r;
}

/* Serves the web page and the API on ui_listen, when set.  A failure stops
 * the agent, as a socket that cannot be bound does. */
static int start_ui(struct daemon_run *d)
{
	const struct agent_config *c = d->agent.config;
	int fd, r;

	if (!c->ui_listen)
		return 0;
	r = agent_api_tcp_open(c->ui_listen, &fd);
	if (r < 0) {
		ecr_log(LOG_ERR, "failed to listen on %s for the web UI: %s", c->ui_listen, strerror(-r));
		return r;
	}
	r = agent_api_start_tcp(&d->agent, fd, &d->ui_api);
	if (r < 0)
		ecr_log(LOG_ERR, "failed to start the web UI server on %s", c->ui_listen);
	else
		ecr_log(LOG_NOTICE, "serving the web UI on http://%s/ from %s", c->ui_listen, c->ui_dir);
	return r;
}

/* Sends STATUS= when the registry's state changed, for systemctl status. */
static void update_status(struct daemon_run *d)
{
	struct agent_registry_status s;
	char text[sizeof(d->last_status)];

	agent_supervisor_status(d->agent.supervisor, &s);
	if (s.state == AGENT_REGISTRY_RUNNING || s.state == AGENT_REGISTRY_STARTING)
		snprintf(text, sizeof(text), "Registry %s (pid %d, %u restarts)",
			 agent_registry_state_name(s.state), (int)s.pid, s.restart_count);
	else if (s.state == AGENT_REGISTRY_BACKOFF)
		snprintf(text, sizeof(text), "Registry waiting to restart; last exit: %s",
			 s.last_exit);
	else
		snprintf(text, sizeof(text), "Registry %s; API ready",
			 agent_registry_state_name(s.state));
	if (strcmp(text, d->last_status) == 0)
		return;
	memcpy(d->last_status, text, sizeof(text));
	sd_notifyf(0, "STATUS=%s", text);
}

static void ping_watchdog(struct daemon_run *d)
{
	uint64_t now = monotonic_ms();

	if (!d->watchdog_usec || now - d->last_watchdog_ms < d->watchdog_usec / 2000)
		return;
	sd_notify(0, "WATCHDOG=1");
	d->last_watchdog_ms = now;
}

static void reload_config(struct daemon_run *d)
{
	struct agent_config *config = NULL;
	char err[1024];

	if (agent_cmdline_load_config(d->cmdline, &config, err, sizeof(err)) < 0) {
		ecr_log(LOG_ERR, "failed to re-read the configuration; keeping the current one: %s", err);
		return;
	}
	agent_maintenance_reload(d->maintenance, config);
}

/* Handles queued signals.  Returns 1 when the agent must stop. */
static int handle_signals(struct daemon_run *d)
{
	struct signalfd_siginfo info;
	int stop = 0;

	while (read(d->signal_fd, &info, sizeof(info)) == sizeof(info)) {
		if (info.ssi_signo == SIGCHLD) {
			agent_supervisor_reap(d->agent.supervisor);
		} else if (info.ssi_signo == SIGHUP) {
			ecr_log(LOG_NOTICE, "SIGHUP received; re-reading the configuration");
			reload_config(d);
		} else {
			ecr_log(LOG_NOTICE, "signal %d received; stopping", (int)info.ssi_signo);
			stop = 1;
		}
	}
	return stop;
}

static void main_loop(struct daemon_run *d)
{
	struct pollfd fds[2] = {
		{ .fd = d->signal_fd, .events = POLLIN },
		{ .fd = agent_supervisor_notify_fd(d->agent.supervisor), .events = POLLIN },
	};

	for (;;) {
		if (poll(fds, 2, AGENT_SUPERVISOR_TICK_MS) < 0 && errno != EINTR)
			ecr_log(LOG_WARNING, "poll failed: %s; ignoring", strerror(errno));
		if (fds[1].revents & POLLIN)
			agent_supervisor_process_notify(d->agent.supervisor);
		if (handle_signals(d))
			return;
		agent_supervisor_tick(d->agent.supervisor);
		update_status(d);
		ping_watchdog(d);
	}
}

static void shut_down(struct daemon_run *d)
{
	struct agent *agent = &d->agent;
	bool served = d->api != NULL;

	sd_notify(0, "STOPPING=1\nSTATUS=Stopping the registry");
	atomic_store(&agent->stopping, true);
	agent_api_stop(d->ui_api);
	d->ui_api = NULL;
	agent_api_stop(d->api);
	d->api = NULL;
	agent_maintenance_stop(d->maintenance);
	agent_kube_stop(agent->kube);
	agent->kube = NULL;
	if (agent->supervisor)
		agent_supervisor_shutdown(agent->supervisor, SHUTDOWN_STOP_TIMEOUT_MS);
	/* Only a socket this agent bound is its own to remove. */
	if (served)
		unlink(agent->config->socket_path);

	agent_supervisor_free(agent->supervisor);
	agent_state_free(agent->state);
	agent_config_free(agent->config);
	pthread_mutex_destroy(&agent->config_lock);
	pthread_mutex_destroy(&agent->provision_lock);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	curl_global_cleanup();
}

int agent_daemon_run(struct agent_config *config, const struct agent_cmdline *cmdline)
{
	struct daemon_run d = { .cmdline = cmdline, .signal_fd = -1, .lock_fd = -1 };
	int r;

	d.agent.config = config;
	d.agent.started_ms = monotonic_ms();
	pthread_mutex_init(&d.agent.provision_lock, NULL);
	pthread_mutex_init(&d.agent.config_lock, NULL);

	r = open_signal_fd(&d.signal_fd);
	if (r == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		r = -EIO;
	if (r == 0)
		r = open_state(&d);
	if (r == 0)
		r = start_api(&d);
	if (r == 0)
		r = start_ui(&d);
	if (r == 0) {
		r = agent_kube_start(&d.agent.kube);
		if (r < 0)
			ecr_log(LOG_ERR, "failed to start the Kubernetes secrets thread: %s", strerror(-r));
	}
	if (r == 0)
		r = agent_maintenance_start(&d.agent, &d.maintenance);
	if (r < 0)
		goto out;

	if (sd_watchdog_enabled(0, &d.watchdog_usec) <= 0)
		d.watchdog_usec = 0;
	ecr_log(LOG_NOTICE, "edgecr-agent %s serving the API on %s", EDGECR_VERSION,
		config->socket_path);
	sd_notify(0, "READY=1");
	main_loop(&d);

out:
	shut_down(&d);
	return r < 0 ? 1 : 0;
}
