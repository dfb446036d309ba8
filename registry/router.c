/*
 * Authentication and dispatch; see router.h.
 *
 * Authentication comes first, so a client without credentials learns nothing
 * about which names or endpoints exist.  A client that sends no Authorization
 * header is challenged without counting as a failed login: docker and ctr
 * always start that way.
 */
#include "router.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>

#include "handlers.h"
#include "log.h"
#include "metrics.h"

enum method { M_GET, M_HEAD, M_PUT, M_PATCH, M_POST, M_DELETE, M_COUNT };

static const char *const method_names[M_COUNT] = {
	[M_GET] = "GET", [M_HEAD] = "HEAD", [M_PUT] = "PUT",
	[M_PATCH] = "PATCH", [M_POST] = "POST", [M_DELETE] = "DELETE",
};

static const reg_request_fn routes[][M_COUNT] = {
	[REG_ROUTE_BASE] = { [M_GET] = reg_h_base, [M_HEAD] = reg_h_base },
	[REG_ROUTE_CATALOG] = { [M_GET] = reg_h_catalog, [M_HEAD] = reg_h_catalog },
	[REG_ROUTE_TAGS] = { [M_GET] = reg_h_tags, [M_HEAD] = reg_h_tags },
	[REG_ROUTE_MANIFEST] = { [M_GET] = reg_h_manifest_get, [M_HEAD] = reg_h_manifest_get,
				 [M_PUT] = reg_h_manifest_put, [M_DELETE] = reg_h_manifest_delete },
	[REG_ROUTE_BLOB] = { [M_GET] = reg_h_blob_get, [M_HEAD] = reg_h_blob_get,
			     [M_DELETE] = reg_h_blob_delete },
	[REG_ROUTE_UPLOAD_NEW] = { [M_POST] = reg_h_upload_post },
	[REG_ROUTE_UPLOAD] = { [M_GET] = reg_h_upload_status, [M_PATCH] = reg_h_upload_patch,
			       [M_PUT] = reg_h_upload_put, [M_DELETE] = reg_h_upload_delete },
	[REG_ROUTE_REFERRERS] = { [M_GET] = reg_h_referrers, [M_HEAD] = reg_h_referrers },
	[REG_ROUTE_USAGE] = { [M_GET] = reg_h_usage },
	[REG_ROUTE_GC] = { [M_POST] = reg_h_gc },
	[REG_ROUTE_REPOSITORY] = { [M_GET] = reg_h_repository },
};

static void respond_challenge(struct reg_request *req, const char *detail)
{
	char challenge[256];
	struct MHD_Response *response;
	json_t *body;
	char *text;

	snprintf(challenge, sizeof(challenge), "Basic realm=\"%s\"", req->ctx->config->realm);
	body = json_pack("{s:[{s:s, s:s, s:s}]}", "errors", "code", "UNAUTHORIZED",
			 "message", reg_error_message(REG_E_UNAUTHORIZED), "detail", detail);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);

	response = text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE)
			: NULL;
	reg_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenge);
	reg_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
	reg_respond(req, response, MHD_HTTP_UNAUTHORIZED, text ? strlen(text) : 0);
}

static void respond_throttled(struct reg_request *req)
{
	char retry_after[16], detail[96];
	unsigned seconds;

	seconds = reg_throttle_retry_after(req->ctx->throttle, req->address);
	snprintf(retry_after, sizeof(retry_after), "%u", seconds ? seconds : 1);
	snprintf(detail, sizeof(detail), "too many failed logins from this address; retry in %s s",
		 retry_after);
	reg_respond_json(req, MHD_HTTP_TOO_MANY_REQUESTS,
			 json_pack("{s:[{s:s, s:s, s:s}]}", "errors", "code", "TOOMANYREQUESTS",
				   "message", reg_error_message(REG_E_TOOMANYREQUESTS), "detail", detail),
			 "application/json; charset=utf-8", MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
}

/* Returns 1 when the credentials in HEADER are valid (and sets req->user),
 * 0 when not, or a negative errno. */
static int credentials_check(struct reg_request *req, const char *header)
{
	char user[REG_AUTH_USER_MAX + 1], password[REG_AUTH_PASSWORD_MAX + 1];
	size_t password_len;
	int r;

	r = reg_basic_auth_parse(header, user, password, &password_len);
	if (r == 0)
		r = reg_auth_check(req->ctx->auth, user, password, password_len);
	else
		r = 0;
	OPENSSL_cleanse(password, sizeof(password));

	if (r == 1)
		snprintf(req->user, sizeof(req->user), "%s", user);
	return r;
}

/* Returns true when the request may go on.  Otherwise a response was sent. */
static bool authenticate(struct reg_request *req)
{
	const char *header;
	int r;

	if (!req->ctx->auth)
		return true;
	header = reg_request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!header) {
		respond_challenge(req, "credentials required");
		return false;
	}
	if (!reg_throttle_allows(req->ctx->throttle, req->address)) {
		respond_throttled(req);
		return false;
	}

	r = credentials_check(req, header);
	if (r < 0) {
		reg_respond_internal(req, "password check", r);
		return false;
	}
	if (r == 0) {
		reg_throttle_record_failure(req->ctx->throttle, req->address);
		reg_metrics_login_failed();
		respond_challenge(req, "invalid user name or password");
		return false;
	}
	reg_throttle_record_success(req->ctx->throttle, req->address);
	return true;
}

/* Sends 405 with an Allow header listing the methods KIND supports. */
static void respond_not_allowed(struct reg_request *req, enum reg_route_kind kind)
{
	char allow[64] = "";
	size_t len = 0;
	json_t *body;

	for (int i = 0; i < M_COUNT; i++) {
		if (!routes[kind][i])
			continue;
		len += (size_t)snprintf(allow + len, sizeof(allow) - len, "%s%s", len ? ", " : "",
					method_names[i]);
	}
	body = json_pack("{s:[{s:s, s:s, s:s}]}", "errors", "code", "UNSUPPORTED",
			 "message", reg_error_message(REG_E_UNSUPPORTED),
			 "detail", "method not allowed on this endpoint");
	reg_respond_json(req, MHD_HTTP_METHOD_NOT_ALLOWED, body, "application/json; charset=utf-8",
			 MHD_HTTP_HEADER_ALLOW, allow);
}

/* Sends ERROR for a path that did not parse, with the rule it broke as detail. */
static void respond_route_invalid(struct reg_request *req, enum reg_error error)
{
	/* The spec's message for DIGEST_INVALID is about a content mismatch,
	 * which would mislead for a digest that does not even parse. */
	if (error == REG_E_DIGEST_INVALID) {
		reg_respond_error_code(req, MHD_HTTP_BAD_REQUEST, "DIGEST_INVALID", "invalid digest",
				       "digests must be sha256:<64 lowercase hex digits> or "
				       "sha512:<128 lowercase hex digits>");
		return;
	}
	/* The detail names the rule, because NAME_INVALID also covers tags. */
	reg_respond_error(req, error, 0, error == REG_E_NAME_INVALID ?
			  "names must match [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/...)* and tags "
			  "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}" : NULL);
}

static int method_find(const char *name)
{
	for (int i = 0; i < M_COUNT; i++)
		if (strcmp(method_names[i], name) == 0)
			return i;
	return -1;
}

void reg_router_dispatch(struct reg_request *req, const char *url)
{
	enum reg_error error = REG_E_INTERNAL;
	reg_request_fn handler = NULL;
	int method, r;

	if (!authenticate(req))
		return;
	if (strcmp(url, "/metrics") == 0) {
		reg_h_metrics(req);
		return;
	}

	r = reg_route_parse(url, &req->route, &error);
	if (r == -ENOENT) {
		reg_respond_error_code(req, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no such endpoint", url);
		return;
	}
	if (r < 0) {
		respond_route_invalid(req, error);
		return;
	}
	req->routed = true;

	if ((size_t)req->route.kind >= sizeof(routes) / sizeof(routes[0])) {
		reg_respond_internal(req, "routing", -EINVAL);
		return;
	}
	method = method_find(req->method);
	if (method >= 0)
		handler = routes[req->route.kind][method];
	if (!handler) {
		respond_not_allowed(req, req->route.kind);
		return;
	}
	handler(req);
}
