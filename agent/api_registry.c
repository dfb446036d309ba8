/*
 * Handlers of the management API; see docs/agent-api.md for the contract and
 * api_private.h for the helpers.
 */
#include "api_private.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "provision.h"
#include "i18n.h"

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static json_t *time_json(time_t t)
{
	char text[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(text);
}

/* Returns a JSON array of the N strings stored ITEM_SIZE bytes apart at BASE. */
static json_t *string_array(const char *base, size_t n, size_t item_size)
{
	json_t *array = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(array, json_string(base + i * item_size));
	return array;
}

static json_t *certificate_json(const struct agent_registry_info *info)
{
	const struct agent_cert_info *c = &info->certificate;

	if (!info->has_certificate)
		return json_null();
	return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:s}",
			 "source", info->certificate_source,
			 "subject", c->subject,
			 "dnsNames", string_array(c->dns_names[0], c->n_dns_names,
						  sizeof(c->dns_names[0])),
			 "ipAddresses", string_array(c->ip_addresses[0], c->n_ip_addresses,
						     sizeof(c->ip_addresses[0])),
			 "notBefore", time_json(c->not_before),
			 "notAfter", time_json(c->not_after),
			 "sha256Fingerprint", c->sha256_fingerprint);
}

static json_t *registry_status_json(struct agent *agent)
{
	struct agent_registry_status s;

	agent_supervisor_status(agent->supervisor, &s);
	return json_pack("{s:s,s:o,s:I,s:I,s:o}",
			 "state", agent_registry_state_name(s.state),
			 "pid", s.pid > 0 ? json_integer(s.pid) : json_null(),
			 "uptimeSeconds", (json_int_t)s.uptime_seconds,
			 "restartCount", (json_int_t)s.restart_count,
			 "lastExit", s.last_exit[0] ? json_string(s.last_exit) : json_null());
}

enum MHD_Result api_registry_get(struct agent *agent, struct MHD_Connection *conn)
{
	struct agent_registry_info info;
	json_t *body;
	int r;

	r = agent_provision_info(agent, &info);
	if (r < 0)
		return api_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "INTERNAL",
				      "Failed to read the registry settings: %s.", strerror(-r));
	if (!info.enabled)
		return api_send_json(conn, MHD_HTTP_OK,
				     json_pack("{s:b,s:o}", "enabled", 0,
					       "kubernetesSecrets", agent_kube_status_json(agent->kube)));

	body = json_pack("{s:b,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o}",
			 "enabled", 1, "endpoint", info.endpoint, "ipAddress", info.ip,
			 "username", info.credentials.username,
			 "password", info.credentials.password,
			 "certificate", certificate_json(&info),
			 "registry", registry_status_json(agent),
			 "kubernetesSecrets", agent_kube_status_json(agent->kube),
			 "storage", api_ui_storage_json(agent));
	agent_credentials_clear(&info.credentials);
	return api_send_json(conn, MHD_HTTP_OK, body);
}

enum MHD_Result api_status_get(struct agent *agent, struct MHD_Connection *conn)
{
	json_t *body;

	/* Reads no field guarded by provision_lock, so a running Set does not
	 * delay it.  The storage figures are read from the registry over HTTP,
	 * which waits at most USAGE_TIMEOUT_MS (ui_registry.c). */
	body = json_pack("{s:{s:s,s:I,s:I,s:s},s:o,s:o,s:o}",
			 "agent", "version", EDGECR_VERSION, "pid", (json_int_t)getpid(),
			 "uptimeSeconds", (json_int_t)((monotonic_ms() - agent->started_ms) / 1000),
			 "stateDir", agent->paths.state_dir,
			 "registry", registry_status_json(agent),
			 "kubernetesSecrets", agent_kube_status_json(agent->kube),
			 "storage", api_ui_storage_json(agent));
	return api_send_json(conn, MHD_HTTP_OK, body);
}

static int parse_flag(json_t *value, const char *key, bool *ret, char *err, size_t size)
{
	if (json_is_null(value))
		return 0;
	if (!json_is_boolean(value)) {
		snprintf(err, size, _("Field %s must be true or false."), key);
		return -EINVAL;
	}
	*ret = json_is_true(value);
	return 0;
}

static int parse_pem(json_t *value, const char *key, const char **ret, size_t *ret_len,
		     char *err, size_t size)
{
	if (json_is_null(value))
		return 0;
	if (!json_is_string(value)) {
		snprintf(err, size, _("Field %s must be a string of PEM text."), key);
		return -EINVAL;
	}
	*ret = json_string_value(value);
	*ret_len = json_string_length(value);
	return 0;
}

static int parse_field(const char *key, json_t *value, struct agent_set_options *o,
		       char *err, size_t size)
{
	if (strcmp(key, "rotatePassword") == 0)
		return parse_flag(value, key, &o->rotate_password, err, size);
	if (strcmp(key, "reissueCertificate") == 0)
		return parse_flag(value, key, &o->reissue_certificate, err, size);
	if (strcmp(key, "certificateChainPem") == 0)
		return parse_pem(value, key, &o->chain_pem, &o->chain_len, err, size);
	if (strcmp(key, "privateKeyPem") == 0)
		return parse_pem(value, key, &o->key_pem, &o->key_len, err, size);
	snprintf(err, size, _("Unknown field \"%.64s\"; the fields are rotatePassword, reissueCertificate, certificateChainPem and privateKeyPem."),
		 key);
	return -EINVAL;
}

/* Fills ret_options from ROOT; its strings point into ROOT. */
static int parse_set_options(json_t *root, struct agent_set_options *ret_options,
			     char *err, size_t size)
{
	struct agent_set_options o = { 0 };
	const char *key;
	json_t *value;

	if (!json_is_object(root)) {
		snprintf(err, size, _("The request body must be a JSON object."));
		return -EINVAL;
	}
	json_object_foreach(root, key, value) {
		if (parse_field(key, value, &o, err, size) < 0)
			return -EINVAL;
	}
	if (!o.chain_pem != !o.key_pem) {
		snprintf(err, size, _("certificateChainPem and privateKeyPem must be given together."));
		return -EINVAL;
	}
	if (o.chain_pem && o.reissue_certificate) {
		snprintf(err, size, _("reissueCertificate cannot be combined with a provided certificate."));
		return -EINVAL;
	}
	*ret_options = o;
	return 0;
}

static enum MHD_Result send_set_error(struct MHD_Connection *conn, int r, bool provided,
				      const char *err)
{
	if (r == -EINVAL && provided)
		return api_send_error(conn, MHD_HTTP_BAD_REQUEST, "CERTIFICATE_INVALID",
				      "The provided certificate was rejected: %s.", err);
	if (r == -ETIMEDOUT || r == -ECANCELED)
		return api_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "REGISTRY_UNAVAILABLE",
				      "%s.", err);
	return api_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "INTERNAL", "%s.", err);
}

enum MHD_Result api_registry_put(struct agent *agent, struct MHD_Connection *conn,
				 const struct api_request *req)
{
	struct agent_set_options options;
	struct agent_actions actions;
	char err[1024] = "";
	json_error_t json_err;
	json_t *root = NULL, *list;
	enum MHD_Result ret;
	int r;

	root = req->body_len ? json_loadb(req->body, req->body_len, 0, &json_err) : json_object();
	if (!root)
		return api_send_error(conn, MHD_HTTP_BAD_REQUEST, "BAD_REQUEST",
				      "The request body is not valid JSON: %s.", json_err.text);
	if (parse_set_options(root, &options, err, sizeof(err)) < 0) {
		ret = api_send_error(conn, MHD_HTTP_BAD_REQUEST, "BAD_REQUEST", "%s", err);
		goto out;
	}

	r = agent_provision_set(agent, &options, &actions, err, sizeof(err));
	if (r < 0) {
		ret = send_set_error(conn, r, options.chain_pem != NULL, err);
		goto out;
	}
	list = json_array();
	for (size_t i = 0; i < actions.n; i++)
		json_array_append_new(list, json_string(actions.items[i]));
	ret = api_send_json(conn, MHD_HTTP_OK, json_pack("{s:b,s:o}", "enabled", 1, "actions", list));

out:
	/* NOTE: jansson frees the decoded privateKeyPem without wiping it. */
	json_decref(root);
	return ret;
}

enum MHD_Result api_registry_delete(struct agent *agent, struct MHD_Connection *conn)
{
	const char *purge_arg = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "purge");
	char err[1024] = "";
	bool purge;
	int r;

	if (!purge_arg || strcmp(purge_arg, "false") == 0)
		purge = false;
	else if (strcmp(purge_arg, "true") == 0)
		purge = true;
	else
		return api_send_error(conn, MHD_HTTP_BAD_REQUEST, "BAD_REQUEST",
				      "Invalid value \"%.32s\" for purge: expected true or false.",
				      purge_arg);

	r = agent_provision_remove(agent, purge, err, sizeof(err));
	if (r < 0)
		return api_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "INTERNAL", "%s.", err);
	return api_send_json(conn, MHD_HTTP_OK,
			     json_pack("{s:b,s:b}", "enabled", 0, "purged", purge));
}
