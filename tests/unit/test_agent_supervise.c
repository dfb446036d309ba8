/*
 * Unit tests of the registry supervisor (agent/supervise*.c).  The test runs
 * the agent's main-loop steps itself, and a shell script replaces the
 * registry.  The script sends its sd_notify messages with systemd-notify,
 * which sends them with the credentials of its parent, the script.  Sending
 * with another process's PID needs root, and systemd-notify must be installed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "supervise.h"
#include "unit.h"

static char dir[] = "/tmp/test_agent_supervise_XXXXXX";

static const char ready_script[] =
	"#!/bin/sh\n"
	"systemd-notify --ready\n"
	"while true; do systemd-notify WATCHDOG=1; sleep 0.2; done\n";

static const char silent_after_ready_script[] =
	"#!/bin/sh\n"
	"systemd-notify --ready\n"
	"exec sleep 60\n";

static const char never_ready_script[] = "#!/bin/sh\nexec sleep 60\n";

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct agent_supervisor *start(const char *name, const char *script,
				      unsigned watchdog_sec)
{
	struct agent_supervisor_settings settings = { .watchdog_sec = watchdog_sec,
						      .start_timeout_sec = 10 };
	struct agent_supervisor *sup = NULL;
	char socket_path[128];
	FILE *f;

	snprintf(settings.binary, sizeof(settings.binary), "%s/%s.sh", dir, name);
	snprintf(settings.config_path, sizeof(settings.config_path), "%s/unused.conf", dir);
	snprintf(socket_path, sizeof(socket_path), "%s/%s.notify", dir, name);
	f = fopen(settings.binary, "w");
	fputs(script, f);
	fclose(f);
	chmod(settings.binary, 0755);

	if (agent_supervisor_new(socket_path, &sup) < 0)
		abort();
	agent_supervisor_configure(sup, &settings);
	agent_supervisor_enable(sup);
	return sup;
}

/* Runs the main loop's steps for TIMEOUT_MS or until DONE returns 1. */
static void run_loop(struct agent_supervisor *sup, unsigned timeout_ms,
		     int (*done)(const struct agent_registry_status *, long), long arg)
{
	long long deadline = now_ms() + timeout_ms;
	struct agent_registry_status status;
	struct pollfd pfd = { .fd = agent_supervisor_notify_fd(sup), .events = POLLIN };

	while (now_ms() < deadline) {
		if (poll(&pfd, 1, 20) > 0)
			agent_supervisor_process_notify(sup);
		agent_supervisor_reap(sup);
		agent_supervisor_tick(sup);
		agent_supervisor_status(sup, &status);
		if (done && done(&status, arg))
			return;
	}
}

static int is_running(const struct agent_registry_status *s, long unused)
{
	return s->state == AGENT_REGISTRY_RUNNING;
}

static int has_new_pid(const struct agent_registry_status *s, long old_pid)
{
	return s->pid > 0 && s->pid != old_pid;
}

static int exited_once(const struct agent_registry_status *s, long unused)
{
	return s->last_exit[0] != '\0';
}

static void supervise_ready_then_restart(void)
{
	struct agent_supervisor *sup = start("ready", ready_script, 5);
	struct agent_registry_status status;
	long long killed_at;
	pid_t first;

	run_loop(sup, 5000, is_running, 0);
	agent_supervisor_status(sup, &status);
	CHECK_STR(agent_registry_state_name(status.state), "running");
	CHECK(status.pid > 0);
	first = status.pid;

	kill(first, SIGKILL);
	killed_at = now_ms();
	run_loop(sup, 3000, has_new_pid, first);
	agent_supervisor_status(sup, &status);
	CHECK(status.pid > 0);
	CHECK(status.pid != first);
	CHECK(now_ms() - killed_at < 2000);
	CHECK_INT(status.restart_count, 1);
	CHECK_STR(status.last_exit, "killed by signal 9 (SIGKILL)");

	agent_supervisor_shutdown(sup, 5000);
	agent_supervisor_status(sup, &status);
	CHECK_STR(agent_registry_state_name(status.state), "stopped");
	CHECK_INT(status.pid, 0);
	agent_supervisor_free(sup);
}

static void supervise_watchdog_timeout(void)
{
	struct agent_supervisor *sup = start("silent", silent_after_ready_script, 1);
	struct agent_registry_status status;

	run_loop(sup, 5000, exited_once, 0);
	agent_supervisor_status(sup, &status);
	CHECK_STR(status.last_exit, "watchdog timeout; killed by signal 6 (SIGABRT)");
	CHECK(status.state == AGENT_REGISTRY_BACKOFF || status.state == AGENT_REGISTRY_STARTING);

	agent_supervisor_shutdown(sup, 5000);
	agent_supervisor_free(sup);
}

/* A READY=1 from another process, here the test itself, must not count. */
static void supervise_ignores_other_senders(void)
{
	struct agent_supervisor *sup = start("never", never_ready_script, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct agent_registry_status status;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	run_loop(sup, 300, NULL, 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/never.notify", dir);
	CHECK(sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&addr, sizeof(addr)) == 7);
	close(fd);
	run_loop(sup, 300, NULL, 0);

	agent_supervisor_status(sup, &status);
	CHECK_STR(agent_registry_state_name(status.state), "starting");
	agent_supervisor_shutdown(sup, 5000);
	agent_supervisor_free(sup);
}

int main(void)
{
	char command[128];

	if (geteuid() != 0 || access("/usr/bin/systemd-notify", X_OK) != 0) {
		printf("# SKIP supervise tests: they need root and /usr/bin/systemd-notify\n");
		return 0;
	}
	if (!mkdtemp(dir))
		return 1;
	RUN(supervise_ready_then_restart);
	RUN(supervise_watchdog_timeout);
	RUN(supervise_ignores_other_senders);
	snprintf(command, sizeof(command), "rm -rf -- '%s'", dir);
	if (system(command) != 0)
		fprintf(stderr, "failed to remove %s\n", dir);
	return UNIT_EXIT();
}
