/*
 * Registry settings.  Keys are listed in one table with their type and where
 * they are stored, so the file and the command line accept exactly the same
 * keys and report errors the same way.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "conf.h"
#include "log.h"

/* Bounds of the numeric keys, chosen so a typo cannot starve or stall the server. */
#define CONNECTIONS_MIN 16
#define CONNECTIONS_MAX 65536
#define TIMEOUT_MAX (7u * 24 * 3600)
#define UPLOADS_PER_CLIENT_MAX 100000

enum key_type { KEY_STRING, KEY_OPTIONAL_STRING, KEY_UNSIGNED, KEY_LOG_LEVEL, KEY_BOOL,
		KEY_DAILY_TIME, KEY_SIZE, KEY_FREE_SPACE };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	unsigned min, max; /* KEY_UNSIGNED only */
};

static const struct key keys[] = {
	{ "listen", KEY_STRING, offsetof(struct reg_config, listen), 0, 0 },
	{ "root", KEY_STRING, offsetof(struct reg_config, root), 0, 0 },
	{ "tls_cert", KEY_OPTIONAL_STRING, offsetof(struct reg_config, tls_cert), 0, 0 },
	{ "tls_key", KEY_OPTIONAL_STRING, offsetof(struct reg_config, tls_key), 0, 0 },
	{ "auth_file", KEY_OPTIONAL_STRING, offsetof(struct reg_config, auth_file), 0, 0 },
	{ "realm", KEY_STRING, offsetof(struct reg_config, realm), 0, 0 },
	{ "endpoint", KEY_OPTIONAL_STRING, offsetof(struct reg_config, endpoint), 0, 0 },
	{ "log_level", KEY_LOG_LEVEL, offsetof(struct reg_config, log_priority), 0, 0 },
	{ "anonymous_pull", KEY_BOOL, offsetof(struct reg_config, anonymous_pull), 0, 0 },
	{ "max_connections", KEY_UNSIGNED, offsetof(struct reg_config, max_connections),
	  CONNECTIONS_MIN, CONNECTIONS_MAX },
	{ "max_connections_per_address", KEY_UNSIGNED,
	  offsetof(struct reg_config, max_connections_per_address), 1, CONNECTIONS_MAX },
	{ "max_uploads_per_client", KEY_UNSIGNED, offsetof(struct reg_config, max_uploads_per_client),
	  1, UPLOADS_PER_CLIENT_MAX },
	{ "connection_timeout", KEY_UNSIGNED, offsetof(struct reg_config, connection_timeout),
	  1, TIMEOUT_MAX },
	{ "header_timeout", KEY_UNSIGNED, offsetof(struct reg_config, header_timeout),
	  1, TIMEOUT_MAX },
	{ "upload_idle_timeout", KEY_UNSIGNED, offsetof(struct reg_config, upload_idle_timeout),
	  60, TIMEOUT_MAX },
	{ "shutdown_timeout", KEY_UNSIGNED, offsetof(struct reg_config, shutdown_timeout),
	  0, 3600 },
	{ "gc_keep_untagged", KEY_BOOL, offsetof(struct reg_config, gc_keep_untagged), 0, 0 },
	{ "gc_grace_period", KEY_UNSIGNED, offsetof(struct reg_config, gc_grace_period),
	  0, TIMEOUT_MAX },
	{ "gc_schedule", KEY_DAILY_TIME, offsetof(struct reg_config, gc_schedule_minute), 0, 0 },
	{ "storage_limit", KEY_SIZE, offsetof(struct reg_config, storage_limit), 0, 0 },
	{ "min_free_space", KEY_FREE_SPACE, offsetof(struct reg_config, min_free_bytes), 0, 0 },
	{ "metrics_listen", KEY_OPTIONAL_STRING, offsetof(struct reg_config, metrics_listen), 0, 0 },
};

int reg_config_init(struct reg_config *config)
{
	memset(config, 0, sizeof(*config));
	config->log_priority = LOG_INFO;
	/* 256 busy clients (the soak test) plus room for the agent and new ones. */
	config->max_connections = 512;
	/* One address is usually one node or build host.  dockerd pushes 5
	 * layers at once (max-concurrent-uploads) and containerd's CRI plugin
	 * pulls 3 (max_concurrent_downloads), so 128 leaves room for many images
	 * in parallel while one address cannot take all connections. */
	config->max_connections_per_address = 128;
	/* Abandoned uploads count until upload_idle_timeout removes them. */
	config->max_uploads_per_client = 100;
	config->connection_timeout = 300;
	/* A TLS handshake and a request's headers are a few KiB, so 30 s
	 * leaves room for a link of a few hundred bytes per second. */
	config->header_timeout = 30;
	config->upload_idle_timeout = 24 * 3600;
	config->shutdown_timeout = 8;
	config->gc_keep_untagged = true;
	config->gc_grace_period = 3600;
	config->gc_schedule_minute = -1;
	config->min_free_bytes = 1ull << 30;

	config->listen = strdup(REG_CONFIG_DEFAULT_LISTEN);
	config->root = strdup(REG_CONFIG_DEFAULT_ROOT);
	config->realm = strdup(REG_CONFIG_DEFAULT_REALM);
	if (!config->listen || !config->root || !config->realm) {
		reg_config_release(config);
		return -ENOMEM;
	}
	return 0;
}

void reg_config_release(struct reg_config *config)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char **slot = (char **)((char *)config + keys[i].offset);

		if (keys[i].type != KEY_STRING && keys[i].type != KEY_OPTIONAL_STRING)
			continue;
		free(*slot);
		*slot = NULL;
	}
}

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int key_set_unsigned(struct reg_config *config, const struct key *key,
			    const char *value, char *err, size_t err_size)
{
	uint64_t number;

	if (ecr_conf_parse_u64(value, key->min, key->max, &number) < 0) {
		snprintf(err, err_size, "%s: invalid value \"%s\": expected an integer from %u to %u",
			 key->name, value, key->min, key->max);
		return -EINVAL;
	}
	*(unsigned *)((char *)config + key->offset) = (unsigned)number;
	return 0;
}

static int key_set_log_level(struct reg_config *config, const struct key *key,
			     const char *value, char *err, size_t err_size)
{
	int priority = ecr_log_priority_from_name(value);

	if (priority < 0) {
		snprintf(err, err_size,
			 "%s: invalid value \"%s\": expected debug, info, notice, warning or err",
			 key->name, value);
		return -EINVAL;
	}
	*(int *)((char *)config + key->offset) = priority;
	return 0;
}

static int key_set_bool(struct reg_config *config, const struct key *key, const char *value,
			char *err, size_t err_size)
{
	bool *slot = (bool *)((char *)config + key->offset);

	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
		*slot = true;
	else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
		*slot = false;
	else {
		snprintf(err, err_size, "%s: invalid value \"%s\": expected true or false",
			 key->name, value);
		return -EINVAL;
	}
	return 0;
}

/* Parses "HH:MM" (UTC) into a minute of the day; an empty value means never. */
static int key_set_daily_time(struct reg_config *config, const struct key *key,
			      const char *value, char *err, size_t err_size)
{
	int *slot = (int *)((char *)config + key->offset);

	if (*value == '\0') {
		*slot = -1;
		return 0;
	}
	if (ecr_conf_parse_daily_time(value, slot) < 0) {
		snprintf(err, err_size, "%s: invalid value \"%s\": expected HH:MM (UTC) or empty",
			 key->name, value);
		return -EINVAL;
	}
	return 0;
}

static int key_set_size(struct reg_config *config, const struct key *key, const char *value,
			char *err, size_t err_size)
{
	uint64_t bytes;

	if (ecr_conf_parse_size(value, &bytes) < 0) {
		snprintf(err, err_size, "%s: invalid value \"%s\": expected a size such as 0, "
			 "500M or 20G (binary units K, M, G, T)", key->name, value);
		return -EINVAL;
	}
	*(uint64_t *)((char *)config + key->offset) = bytes;
	return 0;
}

/* min_free_space: a size, or a percent of the file system ("5%"). */
static int key_set_free_space(struct reg_config *config, const struct key *key,
			      const char *value, char *err, size_t err_size)
{
	size_t len = strlen(value);
	uint64_t percent;
	char number[16];

	if (len == 0 || value[len - 1] != '%') {
		config->min_free_percent = 0;
		return key_set_size(config, key, value, err, err_size);
	}
	if (len - 1 >= sizeof(number))
		len = sizeof(number);
	snprintf(number, sizeof(number), "%.*s", (int)(len - 1), value);
	if (ecr_conf_parse_u64(number, 1, 90, &percent) < 0) {
		snprintf(err, err_size, "%s: invalid value \"%s\": expected a percent from 1%% to "
			 "90%% or a size", key->name, value);
		return -EINVAL;
	}
	config->min_free_percent = (unsigned)percent;
	config->min_free_bytes = 0;
	return 0;
}

static int key_set_string(struct reg_config *config, const struct key *key,
			  const char *value, char *err, size_t err_size)
{
	char **slot = (char **)((char *)config + key->offset);

	/* An empty value switches an optional feature (TLS, auth) off again. */
	if (*value == '\0' && key->type == KEY_OPTIONAL_STRING) {
		free(*slot);
		*slot = NULL;
		return 0;
	}
	if (*value == '\0') {
		snprintf(err, err_size, "%s: invalid value \"\": a value is required", key->name);
		return -EINVAL;
	}
	return ecr_conf_set_string(slot, value);
}

int reg_config_set(struct reg_config *config, const char *key, const char *value,
		   char *err, size_t err_size)
{
	const struct key *found = key_find(key);

	if (!found) {
		snprintf(err, err_size, "%s: unknown key", key);
		return -EINVAL;
	}

	switch (found->type) {
	case KEY_UNSIGNED:
		return key_set_unsigned(config, found, value, err, err_size);
	case KEY_LOG_LEVEL:
		return key_set_log_level(config, found, value, err, err_size);
	case KEY_BOOL:
		return key_set_bool(config, found, value, err, err_size);
	case KEY_DAILY_TIME:
		return key_set_daily_time(config, found, value, err, err_size);
	case KEY_SIZE:
		return key_set_size(config, found, value, err, err_size);
	case KEY_FREE_SPACE:
		return key_set_free_space(config, found, value, err, err_size);
	default:
		return key_set_string(config, found, value, err, err_size);
	}
}

static int config_file_key(void *userdata, const char *key, const char *value,
			   char *err, size_t err_size)
{
	return reg_config_set(userdata, key, value, err, err_size);
}

int reg_config_load(struct reg_config *config, const char *path, char *err, size_t err_size)
{
	return ecr_conf_read(path, config_file_key, config, err, err_size);
}

static int parse_port(const char *text, in_port_t *ret)
{
	uint64_t port;

	if (ecr_conf_parse_u64(text, 1, 65535, &port) < 0)
		return -EINVAL;
	*ret = htons((in_port_t)port);
	return 0;
}

static int parse_listen_v6(const char *text, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	const char *close = strchr(text, ']');
	char host[INET6_ADDRSTRLEN];
	size_t len;

	if (!close || close[1] != ':')
		return -EINVAL;
	len = (size_t)(close - text - 1);
	if (len >= sizeof(host))
		return -EINVAL;
	memcpy(host, text + 1, len);
	host[len] = '\0';
	if (inet_pton(AF_INET6, host, &sin6.sin6_addr) != 1 || parse_port(close + 2, &sin6.sin6_port) < 0)
		return -EINVAL;

	memset(ret, 0, sizeof(*ret));
	memcpy(ret, &sin6, sizeof(sin6));
	*ret_len = sizeof(sin6);
	return 0;
}

int reg_config_parse_listen(const char *text, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *colon = strrchr(text, ':');
	char host[INET_ADDRSTRLEN];
	size_t len;

	if (text[0] == '[')
		return parse_listen_v6(text, ret, ret_len);
	if (!colon)
		return -EINVAL;
	len = (size_t)(colon - text);
	if (len >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 || parse_port(colon + 1, &sin.sin_port) < 0)
		return -EINVAL;

	memset(ret, 0, sizeof(*ret));
	memcpy(ret, &sin, sizeof(sin));
	*ret_len = sizeof(sin);
	return 0;
}

static int validate_endpoint(const char *endpoint, char *err, size_t err_size)
{
	size_t len = strlen(endpoint);

	if ((strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0) ||
	    endpoint[len - 1] == '/' || strpbrk(endpoint, " \t\r\n\"<>")) {
		snprintf(err, err_size,
			 "endpoint: invalid value \"%s\": expected http://HOST[:PORT] or https://HOST[:PORT] without a trailing '/'",
			 endpoint);
		return -EINVAL;
	}
	return 0;
}

/* The metrics listener has no authentication, so only local processes may
 * reach it: 127.0.0.0/8 or ::1. */
static int validate_metrics_listen(struct reg_config *config, char *err, size_t err_size)
{
	const struct sockaddr_storage *addr = &config->metrics_listen_addr;
	bool loopback = false;

	if (reg_config_parse_listen(config->metrics_listen, &config->metrics_listen_addr,
				    &config->metrics_listen_addr_len) == 0) {
		if (addr->ss_family == AF_INET)
			loopback = (ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr) >> 24) == 127;
		else
			loopback = IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)addr)->sin6_addr);
	}
	if (loopback)
		return 0;
	snprintf(err, err_size,
		 "metrics_listen: invalid value \"%s\": expected 127.X.X.X:PORT or [::1]:PORT, because this listener has no authentication",
		 config->metrics_listen);
	return -EINVAL;
}

int reg_config_validate(struct reg_config *config, char *err, size_t err_size)
{
	if (reg_config_parse_listen(config->listen, &config->listen_addr, &config->listen_addr_len) < 0) {
		snprintf(err, err_size,
			 "listen: invalid value \"%s\": expected ADDR:PORT or [ADDR]:PORT with a numeric address",
			 config->listen);
		return -EINVAL;
	}
	if (!config->tls_cert != !config->tls_key) {
		snprintf(err, err_size, "%s: missing: tls_cert and tls_key must be set together",
			 config->tls_cert ? "tls_key" : "tls_cert");
		return -EINVAL;
	}
	/* The realm is sent inside a quoted WWW-Authenticate parameter. */
	if (strpbrk(config->realm, "\"\\\r\n")) {
		snprintf(err, err_size, "realm: invalid value \"%s\": must not contain '\"', '\\' or a line break",
			 config->realm);
		return -EINVAL;
	}
	if (config->metrics_listen && validate_metrics_listen(config, err, err_size) < 0)
		return -EINVAL;
	if (config->endpoint)
		return validate_endpoint(config->endpoint, err, err_size);
	return 0;
}
