/*
 * The web UI's part of the management API: certificate downloads, the
 * repositories in the registry, deleting a manifest, the storage figures,
 * garbage collection on request, the static page, and the login and CSRF checks of the optional TCP listener
 * (setting ui_listen).  See docs/agent-api.md.
 *
 * On the TCP listener every request needs HTTP Basic credentials of the
 * registry user and a Host header that names a loopback address.  A request
 * other than GET or HEAD also needs the header X-Edgecr-Request, and its
 * Origin or Sec-Fetch-Site, when present, must show that it came from the page
 * itself.  A browser sends a custom header cross-origin only after a CORS
 * preflight, which the agent never approves, so a foreign page cannot change
 * state.
 */
#include "api_private.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "fileio.h"
#include "i18n.h"
#include "log.h"
#include "provision.h"
#include "ui_format.h"
#include "ui_registry.h"

#define CSRF_HEADER "X-Edgecr-Request"
#define REPOSITORIES_PREFIX "/v1/registry/repositories/"
#define MANIFESTS_PART "/manifests/"
/* Largest static file served; the page is a few tens of KiB. */
#define STATIC_FILE_MAX (1024 * 1024)
#define LANG_MARKER "__LANG__"

static int check_login(struct agent *agent, struct MHD_Connection *conn)
{
	struct agent_registry_info info;
	char user[128], password[128];
	const char *header;
	int ok = 0;

	header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (agent_ui_parse_basic_auth(header, user, password, sizeof(user)) < 0)
		return 0;
	if (agent_provision_info(agent, &info) == 0 && info.enabled &&
	    info.credentials.password[0] != '\0' &&
	    strcmp(user, info.credentials.username) == 0 &&
	    strlen(password) == strlen(info.credentials.password) &&
	    CRYPTO_memcmp(password, info.credentials.password, strlen(password)) == 0)
		ok = 1;
	agent_credentials_clear(&info.credentials);
	OPENSSL_cleanse(password, sizeof(password));
	return ok;
}

/* Returns the reason, in English (for the log), why a request that changes
 * state is rejected, or NULL when it may go on. */
static const char *csrf_refusal(struct MHD_Connection *conn, const char *host)
{
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");

	if (!MHD_lookup_connection_value(conn, MHD_HEADER_KIND, CSRF_HEADER))
		return N_("the header X-Edgecr-Request is missing");
	if (origin && !agent_ui_origin_matches(origin, host))
		return N_("the Origin is not this page");
	if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return N_("Sec-Fetch-Site is not same-origin");
	return NULL;
}

int api_ui_admit_tcp(struct agent *agent, struct MHD_Connection *conn, const char *method,
		     const char *url, enum MHD_Result *ret_result)
{
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *refusal;
	struct MHD_Response *response;

	if (!agent_ui_host_is_local(host)) {
		*ret_result = api_send_error(conn, MHD_HTTP_FORBIDDEN, "FORBIDDEN",
					     "The Host header must name 127.0.0.1, [::1] or localhost.");
		return 0;
	}
	if (!check_login(agent, conn)) {
		ecr_log(LOG_INFO, "UI request %s %s rejected: missing or wrong credentials", method, url);
		response = api_error_response("UNAUTHORIZED",
					      _("Log in with the registry user and password (GET /v1/registry on the socket shows them); the registry must be enabled."));
		if (!response) {
			*ret_result = MHD_NO;
			return 0;
		}
		MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Basic realm=\"edgecr\", charset=\"UTF-8\"");
		*ret_result = api_queue(conn, MHD_HTTP_UNAUTHORIZED, response);
		return 0;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
		return 1;
	refusal = csrf_refusal(conn, host);
	if (!refusal)
		return 1;
	ecr_log(LOG_WARNING, "UI request %s %s rejected: %s", method, url, refusal);
	*ret_result = api_send_error(conn, MHD_HTTP_FORBIDDEN, "CSRF_REJECTED",
				     "The request was rejected because %s; send it from the page or add the header %s: 1.",
				     gettext(refusal), CSRF_HEADER);
	return 0;
}

static enum MHD_Result send_download(struct MHD_Connection *conn, void *data, size_t len,
				     const char *type, const char *file_name)
{
	struct MHD_Response *response;
	char disposition[AGENT_ENDPOINT_MAX + 64];

	response = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (agent_ui_content_disposition(file_name, disposition, sizeof(disposition)) == 0)
		MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition);
	return api_queue(conn, MHD_HTTP_OK, response);
}

/* Reads the CA or the server chain as PEM.  Returns 0, -ENODATA when the
 * registry is not enabled, or another negative errno. */
static int read_certificate_pem(struct agent *agent, bool server, char **ret_pem, size_t *ret_len)
{
	int r;

	/* Reading the CA also checks that the registry is enabled. */
	r = agent_provision_trust_ca(agent, ret_pem, ret_len);
	if (r < 0 || !server)
		return r;
	free(*ret_pem);
	*ret_pem = NULL;
	return ecr_read_file(agent->paths.server_cert, AGENT_PEM_MAX, ret_pem, ret_len);
}

enum MHD_Result api_ui_certificate(struct agent *agent, struct MHD_Connection *conn,
				   bool server, bool der)
{
	char name[AGENT_ENDPOINT_MAX], file_name[AGENT_ENDPOINT_MAX + 16];
	unsigned char *der_data = NULL;
	char *pem = NULL;
	size_t len = 0, der_len = 0;
	int r;

	r = read_certificate_pem(agent, server, &pem, &len);
	if (r == -ENODATA)
		return api_send_error(conn, MHD_HTTP_CONFLICT, "NOT_ENABLED",
				      "The registry is not enabled; enable it with PUT /v1/registry.");
	if (r < 0)
		return api_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "INTERNAL",
				      "Failed to read the %s certificate: %s.",
				      server ? "server" : "CA", strerror(-r));

	pthread_mutex_lock(&agent->config_lock);
	if (agent_endpoint_name(agent->config, name) < 0)
		snprintf(name, sizeof(name), "edgecr");
	pthread_mutex_unlock(&agent->config_lock);
	snprintf(file_name, sizeof(file_name), "%s%s.%s", name, server ? "" : "-ca",
		 der ? "cer" : "crt");
	if (!der)
		return send_download(conn, pem, len, "application/x-pem-file", file_name);

	r = agent_ui_pem_to_der(pem, len, &der_data, &der_len);
	free(pem);
	if (r < 0)
		return api_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "INTERNAL",
				      "Failed to convert the certificate to DER: %s.", strerror(-r));
	return send_download(conn, der_data, der_len, "application/pkix-cert", file_name);
}

enum MHD_Result api_ui_repositories_get(struct agent *agent, struct MHD_Connection *conn)
{
	char err[512] = "";
	json_t *body = NULL;
	int r;

	r = agent_ui_list_repositories(agent, &body, err, sizeof(err));
	if (r == -ENODATA)
		return api_send_error(conn, MHD_HTTP_CONFLICT, "NOT_ENABLED",
				      "The registry is not enabled; enable it with PUT /v1/registry.");
	if (r < 0)
		return api_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "REGISTRY_UNAVAILABLE",
				      "Failed to list the repositories: %s", err);
	return api_send_json(conn, MHD_HTTP_OK, body);
}

/* Splits URL "/v1/registry/repositories/NAME/manifests/REF".  Returns 0 or -EINVAL. */
static int split_manifest_url(const char *url, char *ret_name, char *ret_ref)
{
	const char *rest = url + strlen(REPOSITORIES_PREFIX);
	const char *part;
	size_t name_len;

	if (strncmp(url, REPOSITORIES_PREFIX, strlen(REPOSITORIES_PREFIX)) != 0)
		return -EINVAL;
	/* The last "/manifests/", because a repository name may contain "manifests". */
	part = NULL;
	for (const char *p = strstr(rest, MANIFESTS_PART); p; p = strstr(p + 1, MANIFESTS_PART))
		part = p;
	if (!part)
		return -EINVAL;
	name_len = (size_t)(part - rest);
	/* A sha256 digest (71 characters) is shorter than the longest tag. */
	if (name_len > AGENT_UI_NAME_MAX ||
	    strlen(part + strlen(MANIFESTS_PART)) > AGENT_UI_REFERENCE_MAX)
		return -EINVAL;
	memcpy(ret_name, rest, name_len);
	ret_name[name_len] = '\0';
	strcpy(ret_ref, part + strlen(MANIFESTS_PART));
	if (!agent_ui_repository_is_valid(ret_name) || !agent_ui_reference_is_valid(ret_ref))
		return -EINVAL;
	return 0;
}

bool api_ui_is_manifest_url(const char *url)
{
	return strncmp(url, REPOSITORIES_PREFIX, strlen(REPOSITORIES_PREFIX)) == 0;
}

enum MHD_Result api_ui_manifest_delete(struct agent *agent, struct MHD_Connection *conn,
				       const char *url)
{
	char name[AGENT_UI_NAME_MAX + 1], ref[AGENT_UI_REFERENCE_MAX + 1], err[512] = "";
	long status = 0;
	int r;

	if (split_manifest_url(url, name, ref) < 0)
		return api_send_error(conn, MHD_HTTP_BAD_REQUEST, "BAD_REQUEST",
				      "The path must be /v1/registry/repositories/NAME/manifests/TAG-OR-DIGEST with a valid repository name and reference.");
	r = agent_ui_delete_manifest(agent, name, ref, &status, err, sizeof(err));
	if (r == -ENODATA)
		return api_send_error(conn, MHD_HTTP_CONFLICT, "NOT_ENABLED",
				      "The registry is not enabled; enable it with PUT /v1/registry.");
	if (r < 0)
		return api_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "REGISTRY_UNAVAILABLE",
				      "Failed to delete %s:%s: %s", name, ref, err);
	if (status == 404)
		return api_send_error(conn, MHD_HTTP_NOT_FOUND, "NOT_FOUND",
				      "The registry has no manifest %s in repository %s.", ref, name);
	if (status < 200 || status > 299)
		return api_send_error(conn, MHD_HTTP_BAD_GATEWAY, "REGISTRY_ERROR",
				      "The registry refused to delete %s:%s with status %ld.", name, ref, status);
	ecr_log(LOG_INFO, "deleted manifest %s of repository %s through the API", ref, name);
	return api_send_json(conn, MHD_HTTP_OK,
			     json_pack("{s:s,s:s,s:b}", "repository", name, "reference", ref,
				       "deleted", 1));
}

json_t *api_ui_storage_json(struct agent *agent)
{
	json_t *usage = NULL;
	char err[512] = "";
	int r;

	r = agent_ui_registry_usage(agent, &usage, err, sizeof(err));
	if (r == -ENODATA)
		return json_null();
	if (r < 0) {
		/* The status is still sent, with storage null while the
		 * registry is down or restarting. */
		ecr_log(LOG_DEBUG, "storage usage unavailable: %s", err);
		return json_null();
	}
	return usage;
}

enum MHD_Result api_ui_gc_post(struct agent *agent, struct MHD_Connection *conn)
{
	json_t *result = NULL;
	char err[512] = "";
	long status = 0;
	int r;

	r = agent_ui_registry_gc(agent, &result, &status, err, sizeof(err));
	if (r == -ENODATA)
		return api_send_error(conn, MHD_HTTP_CONFLICT, "NOT_ENABLED",
				      "The registry is not enabled; enable it with PUT /v1/registry.");
	if (r < 0)
		return api_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "REGISTRY_UNAVAILABLE",
				      "Failed to run garbage collection: %s", err);
	if (status != 200)
		return api_send_error(conn, MHD_HTTP_BAD_GATEWAY, "REGISTRY_ERROR",
				      "The registry's garbage collection failed with status %ld.", status);
	ecr_log(LOG_INFO, "garbage collection through the API removed %lld blobs (%lld bytes)",
		(long long)json_integer_value(json_object_get(result, "blobs")),
		(long long)json_integer_value(json_object_get(result, "bytesFreed")));
	return api_send_json(conn, MHD_HTTP_OK, result);
}

/* Returns a copy of DATA with the first LANG_MARKER replaced by LANGUAGE, or
 * NULL on OOM.  Frees DATA. */
static char *replace_marker(char *data, size_t *len, const char *language)
{
	char *marker = strstr(data, LANG_MARKER);
	size_t head, tail, out_len;
	char *out;

	if (!marker)
		return data;
	head = (size_t)(marker - data);
	tail = *len - head - strlen(LANG_MARKER);
	out_len = head + strlen(language) + tail;
	out = malloc(out_len + 1);
	if (out) {
		memcpy(out, data, head);
		memcpy(out + head, language, strlen(language));
		memcpy(out + head + strlen(language), marker + strlen(LANG_MARKER), tail);
		out[out_len] = '\0';
		*len = out_len;
	}
	free(data);
	return out;
}

/* Reads ui_dir/FILE; in index.html LANGUAGE replaces LANG_MARKER. */
static int read_static(struct agent *agent, const char *file, const char *language,
		       char **ret_data, size_t *ret_len)
{
	char path[PATH_MAX];
	char *data = NULL;
	size_t len = 0;
	int r;

	pthread_mutex_lock(&agent->config_lock);
	r = snprintf(path, sizeof(path), "%s/%s", agent->config->ui_dir, file);
	pthread_mutex_unlock(&agent->config_lock);
	if (r < 0 || (size_t)r >= sizeof(path))
		return -ENAMETOOLONG;
	r = ecr_read_file(path, STATIC_FILE_MAX, &data, &len);
	if (r < 0)
		return r;
	if (strcmp(file, "index.html") == 0) {
		data = replace_marker(data, &len, language);
		if (!data)
			return -ENOMEM;
	}
	*ret_data = data;
	*ret_len = len;
	return 0;
}

bool api_ui_is_static_url(const char *url)
{
	return strcmp(url, "/") == 0 || strncmp(url, "/ui/", 4) == 0;
}

enum MHD_Result api_ui_static(struct agent *agent, struct MHD_Connection *conn, const char *url)
{
	const char *file = strcmp(url, "/") == 0 ? "index.html" : url + 4;
	const char *type = agent_ui_static_type(file);
	const char *language;
	struct MHD_Response *response;
	char *data = NULL;
	size_t len = 0;
	int r;

	/* One file name, no folders, so nothing outside ui_dir is reachable. */
	if (!type || file[0] == '.' ||
	    strspn(file, "abcdefghijklmnopqrstuvwxyz0123456789.-_") != strlen(file))
		return api_send_error(conn, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "No file %s exists.", url);
	language = agent_ui_pick_language(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								      MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
	r = read_static(agent, file, language, &data, &len);
	if (r == -ENOENT)
		return api_send_error(conn, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "No file %s exists.", url);
	if (r < 0)
		return api_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "INTERNAL",
				      "Failed to read the page file %s: %s.", file, strerror(-r));
	response = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(response, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
	return api_queue(conn, MHD_HTTP_OK, response);
}
