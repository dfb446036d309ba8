/*
 * Set, Remove and upkeep of the registry on this device: the registry user and
 * its password, the credentials file, the device CA and server certificate,
 * the registry's configuration, and its process (through the supervisor).
 *
 * The functions that change anything take agent->provision_lock for their
 * whole run, so calls from API threads and the maintenance thread never
 * interleave.  The read-only ones (info, trust CA) do not wait for them.  Library code: it
 * returns errors with a sentence in err and logs only what it changed.
 */
#ifndef EDGECR_AGENT_PROVISION_H
#define EDGECR_AGENT_PROVISION_H

#include <stdbool.h>
#include <stddef.h>

#include "agent.h"
#include "password.h"
#include "x509.h"

#define AGENT_ACTIONS_MAX 16
#define AGENT_ACTION_LEN 200

/* List of what a Set created or repaired, in order, for the API response. */
struct agent_actions {
	char items[AGENT_ACTIONS_MAX][AGENT_ACTION_LEN];
	size_t n;
};

struct agent_set_options {
	bool rotate_password;
	bool reissue_certificate;
	const char *chain_pem;       /* a certificate to install, with key_pem, or NULL */
	size_t chain_len;
	const char *key_pem;
	size_t key_len;
};

struct agent_registry_info {
	bool enabled;
	char endpoint[AGENT_ENDPOINT_MAX];
	char ip[64];
	struct agent_credentials credentials;   /* wipe with agent_credentials_clear */
	char certificate_source[16];            /* "issued" or "provided" */
	bool has_certificate;
	struct agent_cert_info certificate;
};

/*
 * Creates or repairs everything the registry needs, starts it and waits until
 * it responds on its endpoint with the current credentials and certificate.
 * Returns 0, -EINVAL when the provided certificate is unusable (reason in
 * err), -ETIMEDOUT when the registry did not respond in time, -ECANCELED when
 * the agent is stopping, or another negative errno.
 */
int agent_provision_set(struct agent *agent, const struct agent_set_options *options,
			struct agent_actions *ret_actions, char *err, size_t err_size);

/* Stops the registry and removes the credentials, TLS files and password;
 * with PURGE also the stored images.  Returns 0 or a negative errno. */
int agent_provision_remove(struct agent *agent, bool purge, char *err, size_t err_size);

/* Runs a Set without options when the registry is enabled: the start-up
 * restore, the periodic certificate renewal and the config reload.  Logs the
 * outcome. */
void agent_provision_maintain(struct agent *agent, const char *why);

/* Fills ret_info with what GET /v1/registry shows.  Returns 0 or a negative
 * errno. */
int agent_provision_info(struct agent *agent, struct agent_registry_info *ret_info);

/* Reads the PEM of the CA clients trust into a new buffer.  Returns 0,
 * -ENODATA when the registry is not enabled, or a negative errno. */
int agent_provision_trust_ca(struct agent *agent, char **ret_pem, size_t *ret_len);

#endif
