/*
 * The steps of a Set, shared by provision.c, provision_creds.c and
 * provision_cert.c.  All run with agent->provision_lock held.
 */
#ifndef EDGECR_AGENT_PROVISION_PRIVATE_H
#define EDGECR_AGENT_PROVISION_PRIVATE_H

#include "provision.h"

struct provision_run {
	struct agent *agent;
	const struct agent_config *config;
	const struct agent_paths *paths;
	struct agent_actions *actions;
	struct agent_credentials credentials;  /* wiped at the end of the run */
	bool was_enabled;
	bool need_reload;         /* credentials or TLS files changed */
	bool need_restart;        /* registry.conf changed */
	char certificate_source[16];
	char pinned_key[128];     /* of the installed server certificate */
	char *err;
	size_t err_size;
};

void provision_action(struct provision_run *run, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

int provision_ensure_password(struct provision_run *run, bool rotate);
int provision_ensure_credentials_file(struct provision_run *run, bool rotate);
int provision_ensure_certificate(struct provision_run *run,
				 const struct agent_set_options *options);
int provision_ensure_registry_conf(struct provision_run *run);

/* Writes the node trust files for the endpoint when node_trust is on, and
 * removes those of an earlier endpoint or of a node_trust now off.  Returns 0
 * or a negative errno with err. */
int provision_ensure_node_trust(struct provision_run *run);

/* Hands the endpoint and credentials of RUN to the Kubernetes secrets thread. */
void provision_request_secrets(struct provision_run *run);

/* The part of a Remove beyond the registry: requests the deletion of the
 * secrets from the secrets thread and removes the node trust files.  Returns 0 or a negative
 * errno with err. */
int provision_take_back(struct agent *agent, char *err, size_t err_size);

/* Checks a provided certificate without installing it, so a Set that would
 * reject it changes nothing.  Returns 0 or -EINVAL with the reason in err. */
int provision_check_provided(struct provision_run *run, const struct agent_set_options *options);

/* Reads the stored password into ret_password (AGENT_PASSWORD_LEN + 1 bytes).
 * Returns 0, -ENOENT, or -EINVAL when the file does not hold a valid one. */
int provision_read_password(const struct agent_paths *paths, char *ret_password);

#endif
