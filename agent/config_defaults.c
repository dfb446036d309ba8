/*
 * Embedded defaults of edgecr-agent's configuration, the values derived from
 * other keys, and the registry endpoint name; see config.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"

#define DEFAULT_VALIDITY_DAYS 397
#define DEFAULT_RENEW_BEFORE_DAYS 30
#define DEFAULT_WATCHDOG_SEC 10
#define DEFAULT_START_TIMEOUT_SEC 30
/* A quiet hour on most sites; the registry's grace period keeps pushes that
 * run then safe. */
#define DEFAULT_GC_SCHEDULE "03:00"
/* The registry's own default. */
#define DEFAULT_MIN_FREE_SPACE "1G"
#define DEFAULT_SOCKET_MODE 0660

/* Used when the host name is not a usable DNS label (empty, or with '_'). */
#define FALLBACK_DEVICE_NAME "edgecr"

/* Writes the first label of the host name, lowercased, into ret_name. */
static void device_name_from_hostname(char *ret_name, size_t size)
{
	char host[HOST_NAME_MAX + 1] = "";
	size_t len;

	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[HOST_NAME_MAX] = '\0';
	len = strcspn(host, ".");
	host[len] = '\0';
	for (size_t i = 0; i < len; i++)
		host[i] = (char)tolower((unsigned char)host[i]);

	if (!agent_dns_label_is_valid(host, len))
		snprintf(ret_name, size, "%s", FALLBACK_DEVICE_NAME);
	else
		snprintf(ret_name, size, "%s", host);
}

int agent_config_new(struct agent_config **ret_config)
{
	char device[HOST_NAME_MAX + 1];
	struct agent_config *config;

	config = calloc(1, sizeof(*config));
	if (!config)
		return -ENOMEM;

	device_name_from_hostname(device, sizeof(device));
	config->device_name = strdup(device);
	config->dns_domain = strdup(AGENT_DEFAULT_DNS_DOMAIN);
	config->registry_ip = strdup(AGENT_DEFAULT_REGISTRY_IP);
	config->state_dir = strdup(AGENT_DEFAULT_STATE_DIR);
	config->socket_path = strdup(AGENT_DEFAULT_SOCKET);
	config->admin_group = strdup(AGENT_DEFAULT_ADMIN_GROUP);
	config->registry_port = AGENT_DEFAULT_REGISTRY_PORT;
	config->socket_mode = DEFAULT_SOCKET_MODE;
	config->certificate_validity_days = DEFAULT_VALIDITY_DAYS;
	config->renew_before_days = DEFAULT_RENEW_BEFORE_DAYS;
	config->registry_watchdog_sec = DEFAULT_WATCHDOG_SEC;
	config->registry_start_timeout_sec = DEFAULT_START_TIMEOUT_SEC;
	config->log_level = LOG_INFO;
	config->kube_skip_namespaces = strdup(AGENT_DEFAULT_KUBE_SKIP_NAMESPACES);
	config->kube_serviceaccount_dir = strdup(AGENT_DEFAULT_SERVICEACCOUNT_DIR);
	/* Off here so that tests and `make run` never write /etc; the packaged
	 * agent.conf turns it on. */
	config->node_trust = false;
	config->trust_containerd_dir = strdup(AGENT_DEFAULT_TRUST_CONTAINERD_DIR);
	config->trust_docker_dir = strdup(AGENT_DEFAULT_TRUST_DOCKER_DIR);
	config->hosts_file = strdup(AGENT_DEFAULT_HOSTS_FILE);
	config->ui_dir = strdup(AGENT_DEFAULT_UI_DIR);
	config->registry_gc_schedule = strdup(DEFAULT_GC_SCHEDULE);
	config->registry_storage_limit = strdup("0");
	config->registry_min_free_space = strdup(DEFAULT_MIN_FREE_SPACE);

	if (!config->device_name || !config->dns_domain || !config->registry_ip ||
	    !config->state_dir || !config->socket_path || !config->admin_group ||
	    !config->kube_skip_namespaces || !config->kube_serviceaccount_dir ||
	    !config->trust_containerd_dir || !config->trust_docker_dir || !config->hosts_file ||
	    !config->ui_dir || !config->registry_gc_schedule || !config->registry_storage_limit ||
	    !config->registry_min_free_space) {
		agent_config_free(config);
		return -ENOMEM;
	}
	*ret_config = config;
	return 0;
}

void agent_config_free(struct agent_config *config)
{
	if (!config)
		return;
	free(config->device_name);
	free(config->dns_domain);
	free(config->registry_ip);
	free(config->registry_listen);
	free(config->state_dir);
	free(config->socket_path);
	free(config->admin_group);
	free(config->registry_binary);
	free(config->registry_user);
	free(config->ca_cert);
	free(config->ca_key);
	free(config->kubeconfig);
	free(config->kube_skip_namespaces);
	free(config->kube_serviceaccount_dir);
	free(config->trust_containerd_dir);
	free(config->trust_docker_dir);
	free(config->hosts_file);
	free(config->ui_listen);
	free(config->ui_dir);
	free(config->registry_gc_schedule);
	free(config->registry_storage_limit);
	free(config->registry_min_free_space);
	free(config);
}

/* Sets registry_binary to "edgecr-registry" beside the running executable. */
static int default_registry_binary(struct agent_config *config)
{
	char exe[PATH_MAX];
	char path[PATH_MAX + 32];
	char *slash;
	ssize_t len;

	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len < 0)
		return -errno;
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';

	snprintf(path, sizeof(path), "%s/edgecr-registry", exe);
	return ecr_conf_set_string(&config->registry_binary, path);
}

static int default_registry_listen(struct agent_config *config)
{
	char listen[AGENT_ENDPOINT_MAX];
	int is_ipv6 = strchr(config->registry_ip, ':') != NULL;

	snprintf(listen, sizeof(listen), is_ipv6 ? "[%s]:%u" : "%s:%u",
		 config->registry_ip, config->registry_port);
	return ecr_conf_set_string(&config->registry_listen, listen);
}

int agent_config_finish(struct agent_config *config, char *err, size_t err_size)
{
	int r;

	if (!config->ca_cert != !config->ca_key) {
		snprintf(err, err_size, "keys ca_cert and ca_key must be set together (ca_cert is %s, ca_key is %s)",
			 config->ca_cert ? config->ca_cert : "unset",
			 config->ca_key ? config->ca_key : "unset");
		return -EINVAL;
	}
	if (config->renew_before_days >= config->certificate_validity_days) {
		snprintf(err, err_size, "invalid value \"%u\" for key renew_before_days: it must be less than certificate_validity_days (%u)",
			 config->renew_before_days, config->certificate_validity_days);
		return -EINVAL;
	}

	if (!config->registry_listen) {
		r = default_registry_listen(config);
		if (r < 0)
			goto fail;
	}
	if (!config->registry_binary) {
		r = default_registry_binary(config);
		if (r < 0)
			goto fail;
	}
	return 0;

fail:
	snprintf(err, err_size, "failed to derive default settings: %s", strerror(-r));
	return r;
}

int agent_endpoint_name(const struct agent_config *config, char *ret_name)
{
	char name[AGENT_ENDPOINT_MAX];
	int n = snprintf(name, sizeof(name), "ecr.%s.%s", config->device_name, config->dns_domain);

	if (n < 0 || n >= AGENT_ENDPOINT_MAX)
		return -ENAMETOOLONG;
	memcpy(ret_name, name, (size_t)n + 1);
	return 0;
}

int agent_endpoint_format(const struct agent_config *config, char *ret_endpoint)
{
	char name[AGENT_ENDPOINT_MAX], endpoint[AGENT_ENDPOINT_MAX + 8];
	int n, r;

	r = agent_endpoint_name(config, name);
	if (r < 0)
		return r;
	n = snprintf(endpoint, sizeof(endpoint), "%s:%u", name, config->registry_port);
	if (n < 0 || n >= AGENT_ENDPOINT_MAX)
		return -ENAMETOOLONG;
	memcpy(ret_endpoint, endpoint, (size_t)n + 1);
	return 0;
}
