/*
 * Read-only views of the provisioned registry for the API; see provision.h.
 */
#include "provision_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "fileio.h"

static int read_leaf_info(const struct agent_paths *paths, struct agent_cert_info *ret_info)
{
	STACK_OF(X509) *chain = NULL;
	int r;

	r = agent_pem_read_certs(paths->server_cert, &chain);
	if (r < 0)
		return r;
	r = agent_x509_inspect(sk_X509_value(chain, 0), ret_info);
	sk_X509_pop_free(chain, X509_free);
	return r;
}

static bool is_enabled(struct agent *agent)
{
	char *enabled = NULL;
	bool yes;

	yes = agent_state_get(agent->state, "enabled", &enabled) == 0 &&
	      strcmp(enabled, "true") == 0;
	free(enabled);
	return yes;
}

static void fill_info(struct agent *agent, struct agent_registry_info *info)
{
	char password[AGENT_PASSWORD_LEN + 1] = "";
	char *source = NULL;

	info->enabled = true;
	pthread_mutex_lock(&agent->config_lock);
	agent_endpoint_format(agent->config, info->endpoint);
	snprintf(info->ip, sizeof(info->ip), "%s", agent->config->registry_ip);
	pthread_mutex_unlock(&agent->config_lock);

	/* A missing password shows as "" until the next Set repairs it. */
	provision_read_password(&agent->paths, password);
	agent_credentials_set(&info->credentials, password);
	OPENSSL_cleanse(password, sizeof(password));

	agent_state_get(agent->state, "certificate_source", &source);
	snprintf(info->certificate_source, sizeof(info->certificate_source), "%s",
		 source ? source : "issued");
	free(source);
	info->has_certificate = read_leaf_info(&agent->paths, &info->certificate) == 0;
}

/* Reads without provision_lock, so a Set in progress does not delay it.  The
 * files are replaced atomically, so each one read is whole, but a Set that
 * runs meanwhile may show its new password next to the old certificate. */
int agent_provision_info(struct agent *agent, struct agent_registry_info *ret_info)
{
	struct agent_registry_info info = { .enabled = false };

	if (is_enabled(agent))
		fill_info(agent, &info);
	*ret_info = info;
	agent_credentials_clear(&info.credentials);
	return 0;
}

int agent_provision_trust_ca(struct agent *agent, char **ret_pem, size_t *ret_len)
{
	if (!is_enabled(agent))
		return -ENODATA;
	return ecr_read_file(agent->paths.trust_ca, AGENT_PEM_MAX, ret_pem, ret_len);
}
