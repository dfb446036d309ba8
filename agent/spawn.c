/*
 * fork/exec of the registry; see spawn.h.
 *
 * Between fork and exec the child of a multi-threaded process may only call
 * async-signal-safe functions, so argv and the environment are built before
 * the fork.
 */
#include "spawn.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;

#define EXTRA_ENV 2

/* The variables the agent sets for the child; inherited values are dropped. */
static int is_notify_variable(const char *entry)
{
	return strncmp(entry, "NOTIFY_SOCKET=", 14) == 0 ||
	       strncmp(entry, "WATCHDOG_USEC=", 14) == 0 ||
	       strncmp(entry, "WATCHDOG_PID=", 13) == 0 ||
	       strncmp(entry, "LISTEN_", 7) == 0;
}

/* Returns a new environment array that borrows the inherited entries.  The
 * entries it adds are stored in owned[] too, for free_env. */
static char **build_env(const char *notify_path, uint64_t watchdog_usec,
			char *owned[EXTRA_ENV])
{
	size_t n = 0, count = 0;
	char **env;

	while (environ[count])
		count++;
	env = calloc(count + EXTRA_ENV + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < count; i++)
		if (!is_notify_variable(environ[i]))
			env[n++] = environ[i];

	if (asprintf(&owned[0], "NOTIFY_SOCKET=%s", notify_path) < 0)
		goto fail;
	env[n++] = owned[0];
	if (watchdog_usec) {
		if (asprintf(&owned[1], "WATCHDOG_USEC=%" PRIu64, watchdog_usec) < 0)
			goto fail;
		env[n++] = owned[1];
	}
	return env;

fail:
	free(env);
	return NULL;
}

static void free_env(char **env, char *owned[EXTRA_ENV])
{
	for (size_t i = 0; i < EXTRA_ENV; i++)
		free(owned[i]);
	free(env);
}

/* Takes USER's identity with no supplementary groups, and checks that no way
 * back to the old uid or gid is left.  Async-signal-safe. */
static int switch_user(const struct agent_spawn_user *user)
{
	if (setgroups(0, NULL) < 0 || setgid(user->gid) < 0 || setuid(user->uid) < 0)
		return -1;
	if (getuid() != user->uid || geteuid() != user->uid ||
	    getgid() != user->gid || getegid() != user->gid)
		return -1;
	if (user->uid != 0 && setuid(0) == 0)
		return -1;
	return 0;
}

static _Noreturn void exec_child(const char *binary, char *const argv[], char *const env[],
				 const struct agent_spawn_user *user, pid_t parent)
{
	sigset_t all;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);

	if (user && switch_user(user) < 0)
		_exit(AGENT_SPAWN_EXIT_SETID);

	/* The registry must not outlive an agent killed with SIGKILL: the next
	 * agent would find the port taken.  The kernel clears this setting when
	 * the uid or gid changes, so it comes after switch_user.  The parent may
	 * have died before prctl ran, hence the check. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);

	close_range(STDERR_FILENO + 1, ~0U, 0);
	execve(binary, argv, env);
	_exit(127);
}

int agent_spawn_registry(const char *binary, const char *config_path,
			 const char *notify_path, uint64_t watchdog_usec,
			 const struct agent_spawn_user *user, pid_t *ret_pid)
{
	char *argv[] = { (char *)binary, "--config", (char *)config_path, NULL };
	char *owned[EXTRA_ENV] = { NULL, NULL };
	char **env = build_env(notify_path, watchdog_usec, owned);
	pid_t parent = getpid();
	pid_t pid;
	int r = 0;

	if (!env) {
		r = -ENOMEM;
		goto out;
	}

	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		exec_child(binary, argv, env, user, parent);
	*ret_pid = pid;

out:
	free_env(env, owned);
	return r;
}
