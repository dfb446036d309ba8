/*
 * Configuration of edgecr-agent; see config.h.
 *
 * Each key has one setter in a table.  Setters check the value completely, so
 * a configuration that loaded is one the agent can run with: nothing listens
 * or starts before the whole file has been read.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "ui_format.h"

/* The name must still fit a certificate's DNS name after "ecr." and ".". */
#define DNS_NAME_MAX 253

typedef int (*config_setter)(struct agent_config *config, const char *value);

struct config_key {
	const char *name;
	config_setter set;
	const char *expected;  /* what a valid value looks like, for messages */
};

int agent_dns_label_is_valid(const char *name, size_t len)
{
	if (len == 0 || len > 63 || name[0] == '-' || name[len - 1] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-'))
			return 0;
	}
	return 1;
}

static int dns_name_is_valid(const char *name)
{
	const char *label = name;
	const char *dot;

	if (strlen(name) > DNS_NAME_MAX - 5)
		return 0;
	for (;;) {
		dot = strchr(label, '.');
		if (!agent_dns_label_is_valid(label, dot ? (size_t)(dot - label) : strlen(label)))
			return 0;
		if (!dot)
			return 1;
		label = dot + 1;
	}
}

static int set_device_name(struct agent_config *config, const char *value)
{
	if (!agent_dns_label_is_valid(value, strlen(value)))
		return -EINVAL;
	return ecr_conf_set_string(&config->device_name, value);
}

static int set_dns_domain(struct agent_config *config, const char *value)
{
	if (!dns_name_is_valid(value))
		return -EINVAL;
	return ecr_conf_set_string(&config->dns_domain, value);
}

static int ip_is_valid(const char *value)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, value, addr) == 1 || inet_pton(AF_INET6, value, addr) == 1;
}

static int set_registry_ip(struct agent_config *config, const char *value)
{
	if (!ip_is_valid(value))
		return -EINVAL;
	return ecr_conf_set_string(&config->registry_ip, value);
}

static int parse_unsigned(const char *value, uint64_t min, uint64_t max, unsigned *ret)
{
	uint64_t v;
	int r;

	r = ecr_conf_parse_u64(value, min, max, &v);
	if (r < 0)
		return r;
	*ret = (unsigned)v;
	return 0;
}

static int set_registry_port(struct agent_config *config, const char *value)
{
	return parse_unsigned(value, 1, 65535, &config->registry_port);
}

/* ADDR:PORT with an IPv4 address, or [IPv6]:PORT; ADDR may be empty for "any". */
static int set_registry_listen(struct agent_config *config, const char *value)
{
	const char *colon = strrchr(value, ':');
	char addr[INET6_ADDRSTRLEN + 2];
	size_t len;
	unsigned port;

	if (!colon || parse_unsigned(colon + 1, 1, 65535, &port) < 0)
		return -EINVAL;
	len = (size_t)(colon - value);
	if (len >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, value, len);
	addr[len] = '\0';
	if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']') {
		addr[len - 1] = '\0';
		if (!strchr(addr + 1, ':') || !ip_is_valid(addr + 1))
			return -EINVAL;
	} else if (len > 0 && (strchr(addr, ':') || !ip_is_valid(addr))) {
		return -EINVAL;
	}
	return ecr_conf_set_string(&config->registry_listen, value);
}

static int set_absolute_path(char **slot, const char *value)
{
	if (value[0] != '/' || strlen(value) >= PATH_MAX)
		return -EINVAL;
	return ecr_conf_set_string(slot, value);
}

static int set_state_dir(struct agent_config *config, const char *value)
{
	/* STATE_DIR/registry.notify, a Unix socket, must fit in sun_path. */
	if (strlen(value) > 107 - strlen("/registry.notify"))
		return -EINVAL;
	return set_absolute_path(&config->state_dir, value);
}

static int set_socket(struct agent_config *config, const char *value)
{
	/* sun_path has room for 108 bytes, NUL included. */
	if (strlen(value) > 107)
		return -EINVAL;
	return set_absolute_path(&config->socket_path, value);
}

static int set_socket_mode(struct agent_config *config, const char *value)
{
	char *end;
	unsigned long mode;

	if (value[0] < '0' || value[0] > '7')
		return -EINVAL;
	errno = 0;
	mode = strtoul(value, &end, 8);
	if (errno || *end != '\0' || mode > 0777)
		return -EINVAL;
	config->socket_mode = (mode_t)mode;
	return 0;
}

static int set_admin_group(struct agent_config *config, const char *value)
{
	if (value[0] == '\0' || strchr(value, ':'))
		return -EINVAL;
	return ecr_conf_set_string(&config->admin_group, value);
}

static int set_registry_binary(struct agent_config *config, const char *value)
{
	return set_absolute_path(&config->registry_binary, value);
}

/* The name is looked up here, so a configuration that names a missing user
 * fails to load. */
static int set_registry_user(struct agent_config *config, const char *value)
{
	const struct passwd *pw;

	if (value[0] == '\0') {
		free(config->registry_user);
		config->registry_user = NULL;
		return 0;
	}
	errno = 0;
	pw = getpwnam(value);
	if (!pw)
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	config->registry_uid = pw->pw_uid;
	config->registry_gid = pw->pw_gid;
	return ecr_conf_set_string(&config->registry_user, value);
}

static int set_ca_cert(struct agent_config *config, const char *value)
{
	return set_absolute_path(&config->ca_cert, value);
}

static int set_ca_key(struct agent_config *config, const char *value)
{
	return set_absolute_path(&config->ca_key, value);
}

static int set_validity_days(struct agent_config *config, const char *value)
{
	return parse_unsigned(value, 1, 3650, &config->certificate_validity_days);
}

static int set_renew_before_days(struct agent_config *config, const char *value)
{
	return parse_unsigned(value, 0, 3649, &config->renew_before_days);
}

static int set_watchdog_sec(struct agent_config *config, const char *value)
{
	return parse_unsigned(value, 0, 3600, &config->registry_watchdog_sec);
}

static int set_start_timeout_sec(struct agent_config *config, const char *value)
{
	return parse_unsigned(value, 1, 3600, &config->registry_start_timeout_sec);
}

/* Empty turns the daily collection off. */
static int set_gc_schedule(struct agent_config *config, const char *value)
{
	int minute;

	if (*value == '\0') {
		free(config->registry_gc_schedule);
		config->registry_gc_schedule = NULL;
		return 0;
	}
	if (ecr_conf_parse_daily_time(value, &minute) < 0)
		return -EINVAL;
	return ecr_conf_set_string(&config->registry_gc_schedule, value);
}

static int set_storage_limit(struct agent_config *config, const char *value)
{
	uint64_t bytes;

	if (ecr_conf_parse_size(value, &bytes) < 0)
		return -EINVAL;
	return ecr_conf_set_string(&config->registry_storage_limit, value);
}

/* A size, or a percent of the file system from 1% to 90%, as the registry
 * takes it. */
static int set_min_free_space(struct agent_config *config, const char *value)
{
	size_t len = strlen(value);
	char number[8];
	uint64_t parsed;

	if (len > 1 && len < sizeof(number) && value[len - 1] == '%') {
		snprintf(number, sizeof(number), "%.*s", (int)(len - 1), value);
		if (ecr_conf_parse_u64(number, 1, 90, &parsed) < 0)
			return -EINVAL;
	} else if (ecr_conf_parse_size(value, &parsed) < 0) {
		return -EINVAL;
	}
	return ecr_conf_set_string(&config->registry_min_free_space, value);
}

static int set_log_level(struct agent_config *config, const char *value)
{
	int priority = ecr_log_priority_from_name(value);

	if (priority < 0)
		return -EINVAL;
	config->log_level = priority;
	return 0;
}

static int set_kubeconfig(struct agent_config *config, const char *value)
{
	if (strcmp(value, AGENT_KUBECONFIG_IN_CLUSTER) == 0)
		return ecr_conf_set_string(&config->kubeconfig, value);
	return set_absolute_path(&config->kubeconfig, value);
}

/* Namespace names are DNS labels, as Kubernetes requires. */
static int set_kube_skip_namespaces(struct agent_config *config, const char *value)
{
	const char *item = value;

	while (*item) {
		size_t len = strcspn(item, ",");

		if (!agent_dns_label_is_valid(item, len))
			return -EINVAL;
		item += len;
		if (*item == ',' && *++item == '\0')
			return -EINVAL;
	}
	return ecr_conf_set_string(&config->kube_skip_namespaces, value);
}

static int set_kube_serviceaccount_dir(struct agent_config *config, const char *value)
{
	return set_absolute_path(&config->kube_serviceaccount_dir, value);
}

static int set_node_trust(struct agent_config *config, const char *value)
{
	int on, r;

	r = ecr_conf_parse_bool(value, &on);
	if (r < 0)
		return r;
	config->node_trust = on;
	return 0;
}

static int set_trust_containerd_dir(struct agent_config *config, const char *value)
{
	return set_absolute_path(&config->trust_containerd_dir, value);
}

static int set_trust_docker_dir(struct agent_config *config, const char *value)
{
	return set_absolute_path(&config->trust_docker_dir, value);
}

static int set_hosts_file(struct agent_config *config, const char *value)
{
	return set_absolute_path(&config->hosts_file, value);
}

/* ADDR:PORT or [::1]:PORT with a loopback ADDR: the page speaks plain HTTP
 * with the registry password in each request, so it must not leave the host. */
static int set_ui_listen(struct agent_config *config, const char *value)
{
	const char *colon = strrchr(value, ':');
	char addr[INET6_ADDRSTRLEN + 2];
	size_t len;
	unsigned port;

	if (!colon || parse_unsigned(colon + 1, 1, 65535, &port) < 0)
		return -EINVAL;
	len = (size_t)(colon - value);
	if (len < 2 || len >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, value, len);
	addr[len] = '\0';
	if (addr[0] == '[' && addr[len - 1] == ']') {
		addr[len - 1] = '\0';
		if (!agent_ui_ip_is_loopback(addr + 1))
			return -EINVAL;
	} else if (strchr(addr, ':') || !agent_ui_ip_is_loopback(addr)) {
		return -EINVAL;
	}
	return ecr_conf_set_string(&config->ui_listen, value);
}

static int set_ui_dir(struct agent_config *config, const char *value)
{
	return set_absolute_path(&config->ui_dir, value);
}

bool agent_namespace_in_list(const char *list, const char *ns)
{
	const char *item = list;
	size_t ns_len = strlen(ns);

	while (*item) {
		size_t len = strcspn(item, ",");

		if (len == ns_len && memcmp(item, ns, len) == 0)
			return true;
		item += len;
		if (*item == ',')
			item++;
	}
	return false;
}

static const struct config_key config_keys[] = {
	{ "device_name", set_device_name, "a DNS label: 1-63 of a-z, 0-9 and '-'" },
	{ "dns_domain", set_dns_domain, "a lowercase DNS name such as example.com" },
	{ "registry_ip", set_registry_ip, "an IPv4 or IPv6 address" },
	{ "registry_port", set_registry_port, "a port number from 1 to 65535" },
	{ "registry_listen", set_registry_listen, "ADDR:PORT or [IPV6]:PORT" },
	{ "state_dir", set_state_dir, "an absolute path of at most 91 bytes" },
	{ "socket", set_socket, "an absolute path of at most 107 bytes" },
	{ "socket_mode", set_socket_mode, "an octal mode such as 0660" },
	{ "admin_group", set_admin_group, "a group name" },
	{ "registry_binary", set_registry_binary, "an absolute path" },
	{ "registry_user", set_registry_user, "the name of an existing user, or empty" },
	{ "ca_cert", set_ca_cert, "an absolute path" },
	{ "ca_key", set_ca_key, "an absolute path" },
	{ "certificate_validity_days", set_validity_days, "a number of days from 1 to 3650" },
	{ "renew_before_days", set_renew_before_days, "a number of days from 0 to 3649" },
	{ "registry_watchdog_sec", set_watchdog_sec, "seconds from 0 (off) to 3600" },
	{ "registry_start_timeout_sec", set_start_timeout_sec, "seconds from 1 to 3600" },
	{ "log_level", set_log_level, "one of debug, info, notice, warning, err" },
	{ "kubeconfig", set_kubeconfig, "an absolute path or \"in-cluster\"" },
	{ "kube_skip_namespaces", set_kube_skip_namespaces, "namespace names separated by commas" },
	{ "kube_serviceaccount_dir", set_kube_serviceaccount_dir, "an absolute path" },
	{ "node_trust", set_node_trust, "true or false" },
	{ "trust_containerd_dir", set_trust_containerd_dir, "an absolute path" },
	{ "trust_docker_dir", set_trust_docker_dir, "an absolute path" },
	{ "hosts_file", set_hosts_file, "an absolute path" },
	{ "ui_listen", set_ui_listen, "a loopback ADDR:PORT such as 127.0.0.1:31080" },
	{ "ui_dir", set_ui_dir, "an absolute path" },
	{ "registry_gc_schedule", set_gc_schedule, "HH:MM (UTC), or empty for none" },
	{ "registry_storage_limit", set_storage_limit, "a size such as 0, 500M or 20G" },
	{ "registry_min_free_space", set_min_free_space,
	  "a size such as 1G, or a percent from 1% to 90%" },
};

int agent_config_set(struct agent_config *config, const char *key, const char *value,
		     char *err, size_t err_size)
{
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
		const struct config_key *k = &config_keys[i];
		int r;

		if (strcmp(k->name, key) != 0)
			continue;
		r = k->set(config, value);
		if (r == -EINVAL)
			snprintf(err, err_size, "invalid value \"%s\" for key %s: expected %s",
				 value, key, k->expected);
		else if (r < 0)
			snprintf(err, err_size, "failed to set key %s: %s", key, strerror(-r));
		return r;
	}

	snprintf(err, err_size, "unknown key \"%s\"", key);
	return -EINVAL;
}

static int config_file_key(void *userdata, const char *key, const char *value,
			   char *err, size_t err_size)
{
	return agent_config_set(userdata, key, value, err, err_size);
}

int agent_config_load(struct agent_config *config, const char *path,
		      char *err, size_t err_size)
{
	return ecr_conf_read(path, config_file_key, config, err, err_size);
}
