/*
 * The registry's configuration file; see provision_private.h.  Its keys are
 * those edgecr-registry reads: listen, root, tls_cert, tls_key, auth_file,
 * realm, log_level, and the storage keys gc_schedule, storage_limit and
 * min_free_space from the agent's registry_* settings.
 */
#include "provision_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "fileio.h"
#include "i18n.h"

#define REGISTRY_CONF_MAX 8192

static const char *log_level_name(int priority)
{
	switch (priority) {
	case LOG_DEBUG:
		return "debug";
	case LOG_NOTICE:
		return "notice";
	case LOG_WARNING:
		return "warning";
	case LOG_ERR:
		return "err";
	default:
		return "info";
	}
}

static int compose(struct provision_run *run, char *buf, size_t size)
{
	const struct agent_paths *p = run->paths;
	char name[AGENT_ENDPOINT_MAX];
	int n;

	if (agent_endpoint_name(run->config, name) < 0)
		return -ENAMETOOLONG;
	n = snprintf(buf, size,
		     "# Written by edgecr-agent, which overwrites changes.\n"
		     "listen = %s\n"
		     "root = %s\n"
		     "tls_cert = %s\n"
		     "tls_key = %s\n"
		     "auth_file = %s\n"
		     "realm = %s\n"
		     "log_level = %s\n"
		     "gc_schedule = %s\n"
		     "storage_limit = %s\n"
		     "min_free_space = %s\n",
		     run->config->registry_listen, p->storage, p->server_cert, p->server_key,
		     p->credentials, name, log_level_name(run->config->log_level),
		     run->config->registry_gc_schedule ? run->config->registry_gc_schedule : "",
		     run->config->registry_storage_limit, run->config->registry_min_free_space);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int provision_ensure_registry_conf(struct provision_run *run)
{
	char wanted[REGISTRY_CONF_MAX];
	char *current = NULL;
	size_t len = 0;
	int found, r;

	r = compose(run, wanted, sizeof(wanted));
	if (r < 0) {
		snprintf(run->err, run->err_size, _("the registry configuration is too long"));
		return r;
	}
	found = ecr_read_file(run->paths->registry_conf, REGISTRY_CONF_MAX, &current, &len) == 0;
	if (found && strcmp(current, wanted) == 0)
		goto out;

	r = ecr_write_file_atomic(run->paths->registry_conf, wanted, strlen(wanted), 0600);
	if (r < 0) {
		snprintf(run->err, run->err_size, _("failed to write %s: %s"),
			 run->paths->registry_conf, strerror(-r));
		goto out;
	}
	run->need_restart = found;
	if (run->was_enabled)
		provision_action(run, "rewrote the registry configuration, which was %s",
				 found ? "out of date" : "missing");

out:
	free(current);
	return r;
}
