/*
 * The API server: libmicrohttpd set-up, the caller check and routing; see
 * api.h.  Handlers are in api_registry.c and api_ui.c.
 *
 * The caller check runs on the first call for each request, before the body
 * is read.  On the Unix socket a caller who is neither root nor in the admin
 * group gets 403 FORBIDDEN on every path.  On the web UI's TCP listener
 * (agent_api_start_tcp) api_ui.c checks the login and CSRF rules instead, and
 * the listener also serves the static page.
 */
#include "api.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "api_locale.h"
#include "api_private.h"
#include "i18n.h"
#include "log.h"
#include "metrics.h"

#define CONNECTION_LIMIT 32
#define CONNECTION_TIMEOUT_SEC 120
#define GROUPS_MAX 256

struct agent_api {
	struct MHD_Daemon *daemon;
	struct agent *agent;
	gid_t admin_gid;          /* (gid_t)-1 when the group does not exist */
	char admin_group[64];
	bool tcp;                 /* the web UI's listener: login, CSRF checks, page */
};

/* The page loads only its own files, and no other site may frame it. */
#define CONTENT_SECURITY_POLICY "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; " \
	"frame-ancestors 'none'"

enum MHD_Result api_queue(struct MHD_Connection *conn, unsigned status,
			  struct MHD_Response *response)
{
	enum MHD_Result ret;

	MHD_add_response_header(response, "Content-Security-Policy", CONTENT_SECURITY_POLICY);
	MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(response, "X-Frame-Options", "DENY");
	MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, status, response);
	MHD_destroy_response(response);
	agent_metrics_api_response(status);
	return ret;
}

enum MHD_Result api_send_json(struct MHD_Connection *conn, unsigned status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct MHD_Response *response;

	json_decref(body);
	if (!text)
		return MHD_NO;
	response = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return api_queue(conn, status, response);
}

struct MHD_Response *api_error_response(const char *code, const char *message)
{
	json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct MHD_Response *response;

	json_decref(body);
	if (!text)
		return NULL;
	response = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(text);
		return NULL;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return response;
}

enum MHD_Result api_send_error(struct MHD_Connection *conn, unsigned status,
			       const char *code, const char *format, ...)
{
	char message[1024], logged[1024];
	json_t *body;
	va_list ap, log_ap;

	va_start(ap, format);
	va_copy(log_ap, ap);
	vsnprintf(message, sizeof(message), gettext(format), ap);
	vsnprintf(logged, sizeof(logged), format, log_ap);
	va_end(log_ap);
	va_end(ap);

	/* Client mistakes are routine; failures of the agent are not.  The log
	 * gets the English sentence, but a reason passed in as an argument is
	 * already in the caller's language. */
	ecr_log(status >= 500 ? LOG_ERR : LOG_DEBUG, "API error %u %s: %s", status, code, logged);
	body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
	if (!body) {
		/* jansson rejects a message that is not UTF-8, such as one that
		 * quotes a request path with other bytes. */
		body = json_pack("{s:{s:s,s:s}}", "error", "code", code,
				 "message", _("The request failed; the reason is not valid UTF-8."));
	}
	return api_send_json(conn, status, body);
}

/* Returns 1 when UID's primary or supplementary groups include GID. */
static int user_in_group(uid_t uid, gid_t gid)
{
	char buf[4096];
	struct passwd pw, *found = NULL;
	gid_t groups[GROUPS_MAX];
	int n = GROUPS_MAX;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) != 0 || !found)
		return 0;
	if (pw.pw_gid == gid)
		return 1;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

/* Returns 0 when the peer may use the API, -EACCES otherwise, and its uid. */
static int check_peer(struct agent_api *api, struct MHD_Connection *conn, uid_t *ret_uid)
{
	const union MHD_ConnectionInfo *info;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!info || getsockopt(info->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		*ret_uid = (uid_t)-1;
		return -EACCES;
	}
	*ret_uid = cred.uid;
	if (cred.uid == 0)
		return 0;
	if (api->admin_gid == (gid_t)-1)
		return -EACCES;
	if (cred.gid == api->admin_gid || user_in_group(cred.uid, api->admin_gid))
		return 0;
	return -EACCES;
}

static enum MHD_Result route(struct agent *agent, struct MHD_Connection *conn, const char *url,
			     const char *method, const struct api_request *req)
{
	int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;

	if (strcmp(url, "/v1/registry") == 0) {
		if (get)
			return api_registry_get(agent, conn);
		if (strcmp(method, MHD_HTTP_METHOD_PUT) == 0)
			return api_registry_put(agent, conn, req);
		if (strcmp(method, MHD_HTTP_METHOD_DELETE) == 0)
			return api_registry_delete(agent, conn);
	} else if (strcmp(url, "/v1/registry/ca.crt") == 0 || strcmp(url, "/v1/registry/ca.cer") == 0) {
		if (get)
			return api_ui_certificate(agent, conn, false, strcmp(url, "/v1/registry/ca.cer") == 0);
	} else if (strcmp(url, "/v1/registry/server.crt") == 0 ||
		   strcmp(url, "/v1/registry/server.cer") == 0) {
		if (get)
			return api_ui_certificate(agent, conn, true,
						  strcmp(url, "/v1/registry/server.cer") == 0);
	} else if (strcmp(url, "/v1/registry/repositories") == 0) {
		if (get)
			return api_ui_repositories_get(agent, conn);
	} else if (strcmp(url, "/v1/registry/gc") == 0) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
			return api_ui_gc_post(agent, conn);
	} else if (api_ui_is_manifest_url(url)) {
		if (strcmp(method, MHD_HTTP_METHOD_DELETE) == 0)
			return api_ui_manifest_delete(agent, conn, url);
	} else if (strcmp(url, "/v1/status") == 0) {
		if (get)
			return api_status_get(agent, conn);
	} else if (strcmp(url, "/metrics") == 0) {
		if (get)
			return api_metrics_get(agent, conn);
	} else {
		return api_send_error(conn, MHD_HTTP_NOT_FOUND, "NOT_FOUND",
				      "No endpoint %s exists; see docs/agent-api.md.", url);
	}
	return api_send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED",
			      "Method %s is not allowed on %s.", method, url);
}

static int append_body(struct api_request *req, const char *data, size_t size)
{
	char *grown;

	if (req->too_large || req->body_len + size > AGENT_API_BODY_MAX) {
		req->too_large = 1;
		return 0;
	}
	/* Grown into a fresh buffer so the old one can be wiped: it may hold
	 * part of a private key. */
	grown = malloc(req->body_len + size + 1);
	if (!grown)
		return -ENOMEM;
	if (req->body) {
		memcpy(grown, req->body, req->body_len);
		OPENSSL_cleanse(req->body, req->body_len);
		free(req->body);
	}
	memcpy(grown + req->body_len, data, size);
	req->body_len += size;
	grown[req->body_len] = '\0';
	req->body = grown;
	return 0;
}

/* First call of a request: checks the caller.  Returns MHD_YES to go on, or
 * the result of queueing the 403 response in *ret_result. */
static int admit(struct agent_api *api, struct MHD_Connection *conn, const char *method,
		 const char *url, enum MHD_Result *ret_result)
{
	uid_t uid;

	if (api->tcp)
		return api_ui_admit_tcp(api->agent, conn, method, url, ret_result);
	if (check_peer(api, conn, &uid) == 0)
		return 1;
	ecr_log(LOG_WARNING, "API request %s %s from uid %d rejected: not root or in group %s",
		method, url, (int)uid, api->admin_group);
	*ret_result = api_send_error(conn, MHD_HTTP_FORBIDDEN, "FORBIDDEN",
				     "Only root and members of group %s may use this API; user ID %d is neither.",
				     api->admin_group, (int)uid);
	return 0;
}

static enum MHD_Result handle_request_in_locale(void *cls, struct MHD_Connection *conn,
						const char *url, const char *method,
						const char *version, const char *upload_data,
						size_t *upload_data_size, void **req_cls)
{
	struct agent_api *api = cls;
	struct api_request *req = *req_cls;
	enum MHD_Result result = MHD_NO;

	if (!req) {
		if (!admit(api, conn, method, url, &result))
			return result;
		req = calloc(1, sizeof(*req));
		*req_cls = req;
		return req ? MHD_YES : MHD_NO;
	}
	if (*upload_data_size > 0) {
		if (append_body(req, upload_data, *upload_data_size) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (req->too_large)
		return api_send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "BAD_REQUEST",
				      "The request body is larger than %d bytes.", AGENT_API_BODY_MAX);
	ecr_log(LOG_DEBUG, "API request %s %s", method, url);
	if (api->tcp && api_ui_is_static_url(url) &&
	    (strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0))
		return api_ui_static(api->agent, conn, url);
	return route(api->agent, conn, url, method, req);
}

/* Serves each request in the language of its Accept-Language header, so
 * gettext translates the messages made on this thread for it. */
static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **req_cls)
{
	const char *accept_language = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								  MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
	locale_t previous = agent_api_locale_enter(accept_language);
	enum MHD_Result result;

	result = handle_request_in_locale(cls, conn, url, method, version, upload_data,
					  upload_data_size, req_cls);
	agent_api_locale_leave(previous);
	return result;
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			      enum MHD_RequestTerminationCode code)
{
	struct api_request *req = *req_cls;

	if (!req)
		return;
	if (req->body) {
		OPENSSL_cleanse(req->body, req->body_len);
		free(req->body);
	}
	free(req);
	*req_cls = NULL;
}

static void log_mhd(void *cls, const char *format, va_list ap)
{
	char message[512];

	vsnprintf(message, sizeof(message), format, ap);
	message[strcspn(message, "\n")] = '\0';
	ecr_log(LOG_WARNING, "libmicrohttpd: %s", message);
}

static int start_daemon(struct agent *agent, int listen_fd, gid_t admin_gid,
			const char *admin_group, bool tcp, struct agent_api **ret_api)
{
	struct agent_api *api = calloc(1, sizeof(*api));

	if (!api) {
		close(listen_fd);
		return -ENOMEM;
	}
	api->agent = agent;
	api->tcp = tcp;
	api->admin_gid = admin_gid;
	snprintf(api->admin_group, sizeof(api->admin_group), "%s", admin_group);

	api->daemon = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
		0, NULL, NULL, handle_request, api,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
		MHD_OPTION_LISTEN_SOCKET, listen_fd,
		MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_SEC,
		MHD_OPTION_END);
	if (!api->daemon) {
		close(listen_fd);
		free(api);
		return -EIO;
	}
	*ret_api = api;
	return 0;
}

int agent_api_start(struct agent *agent, int listen_fd, gid_t admin_gid,
		    const char *admin_group, struct agent_api **ret_api)
{
	return start_daemon(agent, listen_fd, admin_gid, admin_group, false, ret_api);
}

int agent_api_start_tcp(struct agent *agent, int listen_fd, struct agent_api **ret_api)
{
	return start_daemon(agent, listen_fd, (gid_t)-1, "", true, ret_api);
}

void agent_api_stop(struct agent_api *api)
{
	if (!api)
		return;
	MHD_stop_daemon(api->daemon);
	free(api);
}
