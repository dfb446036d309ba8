/*
 * The steps of Set and Remove that reach beyond the registry: the node's trust
 * files (trust.h) and the Kubernetes image-pull secrets (kube_secrets.h).
 *
 * The endpoint whose trust files were written is kept in the agent state
 * (key trust_endpoint), so that a Set after an endpoint change, a Set with
 * node_trust off, and a Remove take back exactly the files written before.
 */
#include "provision_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "kube_secrets.h"
#include "log.h"
#include "trust.h"
#include "i18n.h"

#define STATE_TRUST_ENDPOINT "trust_endpoint"

/* Removes the trust files of the endpoint in the state, if any.  Sets
 * *ret_removed to that endpoint ("" when none). */
static int remove_recorded(struct agent *agent, const struct agent_config *config,
			   char *ret_removed, char *err, size_t err_size)
{
	char *old = NULL;
	int r;

	ret_removed[0] = '\0';
	if (agent_state_get(agent->state, STATE_TRUST_ENDPOINT, &old) < 0)
		return 0;
	/* NOTE: this uses the current trust_* paths, so files written under
	 * paths that were changed since then stay. */
	r = agent_trust_remove(config, old, err, err_size);
	if (r == 0)
		r = agent_state_delete(agent->state, STATE_TRUST_ENDPOINT);
	if (r == 0)
		snprintf(ret_removed, AGENT_ENDPOINT_MAX, "%s", old);
	free(old);
	return r;
}

static int write_trust(struct provision_run *run, const char *endpoint)
{
	char name[AGENT_ENDPOINT_MAX];
	struct agent_trust_target target = { .endpoint = endpoint, .name = name,
					     .ip = run->config->registry_ip };
	char *ca = NULL;
	bool changed = false;
	int r;

	r = agent_endpoint_name(run->config, name);
	if (r == 0)
		r = ecr_read_file(run->paths->trust_ca, AGENT_PEM_MAX, &ca, &target.ca_len);
	if (r < 0) {
		snprintf(run->err, run->err_size, _("failed to read %s: %s"), run->paths->trust_ca,
			 strerror(-r));
		return r;
	}
	target.ca_pem = ca;
	r = agent_trust_write(run->config, &target, &changed, run->err, run->err_size);
	free(ca);
	if (r == 0)
		r = agent_state_set(run->agent->state, STATE_TRUST_ENDPOINT, endpoint);
	if (r == 0 && changed)
		provision_action(run, "wrote the node trust for %s (containerd, Docker, %s)",
				 endpoint, run->config->hosts_file);
	return r;
}

int provision_ensure_node_trust(struct provision_run *run)
{
	char endpoint[AGENT_ENDPOINT_MAX], removed[AGENT_ENDPOINT_MAX];
	char *old = NULL;
	bool stale;
	int r;

	r = agent_endpoint_format(run->config, endpoint);
	if (r < 0)
		return r;
	stale = agent_state_get(run->agent->state, STATE_TRUST_ENDPOINT, &old) == 0 &&
		(!run->config->node_trust || strcmp(old, endpoint) != 0);
	free(old);
	if (stale) {
		r = remove_recorded(run->agent, run->config, removed, run->err, run->err_size);
		if (r < 0)
			return r;
		provision_action(run, "removed the node trust for %s%s", removed,
				 run->config->node_trust ? " (the endpoint changed)" : " (node_trust is off)");
	}
	return run->config->node_trust ? write_trust(run, endpoint) : 0;
}

void provision_request_secrets(struct provision_run *run)
{
	char endpoint[AGENT_ENDPOINT_MAX];

	if (agent_endpoint_format(run->config, endpoint) == 0)
		agent_kube_set_registry(run->agent->kube, run->config, endpoint, &run->credentials);
}

int provision_take_back(struct agent *agent, char *err, size_t err_size)
{
	char removed[AGENT_ENDPOINT_MAX];
	int r;

	agent_kube_set_removed(agent->kube, agent->config);
	r = remove_recorded(agent, agent->config, removed, err, err_size);
	if (r == 0 && removed[0])
		ecr_log(LOG_NOTICE, "registry provisioning: removed the node trust for %s", removed);
	return r;
}
