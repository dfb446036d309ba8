/*
 * Authentication and dispatch; see router.h.
 *
 * Authentication comes first, so a client without credentials learns nothing
 * about which names or endpoints exist.  A client that sends no Authorization
 * header is challenged without counting as a failed login: docker and ctr
 * always start that way.
 *
 * Rights are checked after routing, because whether a request pulls depends
 * on its endpoint.  A pull is GET or HEAD of the catalog, tags, manifests,
 * blobs and referrers; upload status (GET of an upload) belongs to a push.
 * A read-only user gets 403 DENIED for anything else.  With anonymous_pull,
 * a request without credentials may pull, and everything else, /v2/ included,
 * gets the 401 challenge.  /v2/ keeps challenging because docker requests
 * /v2/ first and sends the credentials it has only after a challenge there.
 */
#include "router.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>

#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "upload_limit.h"

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

/* Rights of a request's client, as authenticate decides them. */
enum access {
	ACCESS_RESPONDED,  /* refused; a response was sent */
	ACCESS_ANONYMOUS,  /* no credentials, and anonymous_pull is on */
	ACCESS_PULL,       /* a read-only user */
	ACCESS_PUSH,       /* a user with every right, or auth is off */
};

/*
 * Returns 1 when the credentials in HEADER are valid (and sets req->user and
 * *RET_RIGHTS), 0 when not, 2 when they are empty (user and password), or a
 * negative errno.  skopeo and podman send "Basic Og==" (":") when they have
 * no credentials for a registry whose /v2/ challenged them.
 */
static int credentials_check(struct reg_request *req, const char *header,
			     enum reg_auth_rights *ret_rights)
{
	char user[REG_AUTH_USER_MAX + 1], password[REG_AUTH_PASSWORD_MAX + 1];
	size_t password_len;
	int r;

	r = reg_basic_auth_parse(header, user, password, &password_len);
	if (r == 0 && user[0] == '\0' && password_len == 0)
		r = 2;
	else if (r == 0)
		r = reg_auth_verify(req->ctx->auth, user, password, password_len, ret_rights);
	else
		r = 0;
	OPENSSL_cleanse(password, sizeof(password));

	if (r == 1)
		snprintf(req->user, sizeof(req->user), "%s", user);
	return r;
}

/* Checks the request's credentials and returns what its client may do. */
static enum access authenticate(struct reg_request *req)
{
	enum reg_auth_rights rights = REG_AUTH_PULL;
	bool anonymous_pull = req->ctx->config->anonymous_pull;
	const char *header;
	int r;

	if (!req->ctx->auth)
		return ACCESS_PUSH;
	header = reg_request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!header && anonymous_pull)
		return ACCESS_ANONYMOUS;
	if (!header) {
		respond_challenge(req, "credentials required");
		return ACCESS_RESPONDED;
	}
	if (!reg_throttle_allows(req->ctx->throttle, req->address)) {
		respond_throttled(req);
		return ACCESS_RESPONDED;
	}

	r = credentials_check(req, header, &rights);
	if (r < 0) {
		reg_respond_internal(req, "password check", r);
		return ACCESS_RESPONDED;
	}
	if (r == 2 && anonymous_pull)
		return ACCESS_ANONYMOUS;
	if (r != 1) {
		reg_throttle_record_failure(req->ctx->throttle, req->address);
		reg_metrics_login_failed();
		respond_challenge(req, "invalid user name or password");
		return ACCESS_RESPONDED;
	}
	reg_throttle_record_success(req->ctx->throttle, req->address);
	return rights == REG_AUTH_PUSH ? ACCESS_PUSH : ACCESS_PULL;
}

static bool method_reads(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* Returns true when a METHOD request to KIND only reads images. */
static bool request_pulls(enum reg_route_kind kind, const char *method)
{
	return method_reads(method) && kind != REG_ROUTE_UPLOAD && kind != REG_ROUTE_UPLOAD_NEW;
}

/* Returns true when ACCESS allows REQ (routed); otherwise responds 401 or 403. */
static bool access_allows(struct reg_request *req, enum access access)
{
	enum reg_route_kind kind = req->route.kind;

	if (access == ACCESS_PUSH)
		return true;
	if (access == ACCESS_ANONYMOUS) {
		if (kind != REG_ROUTE_BASE && request_pulls(kind, req->method))
			return true;
		respond_challenge(req, "credentials required");
		return false;
	}
	if (kind == REG_ROUTE_BASE || request_pulls(kind, req->method))
		return true;
	reg_respond_error(req, REG_E_DENIED, 0, "this user may only pull");
	return false;
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

/* Runs HANDLER, the POST of a new upload, under the cap on uploads in
 * progress per client address. */
static void upload_new_dispatch(struct reg_request *req, reg_request_fn handler)
{
	struct reg_upload_limit *limit = req->ctx->upload_limit;
	char detail[192];
	int r;

	r = reg_upload_limit_reserve(limit, req->ctx->meta, req->address);
	if (r < 0) {
		reg_respond_internal(req, "upload limit", r);
		return;
	}
	if (r == 0) {
		snprintf(detail, sizeof(detail), "%u uploads in progress from this address "
			 "(max_uploads_per_client); finish or cancel one first",
			 req->ctx->config->max_uploads_per_client);
		reg_respond_error(req, REG_E_TOOMANYREQUESTS, 0, detail);
		return;
	}

	handler(req);
	/* Only a 202 leaves an upload open.  A mount (201) or a monolithic
	 * upload, whose body is still to come, does not. */
	if (req->status == MHD_HTTP_ACCEPTED && req->upload_id[0] != '\0')
		reg_upload_limit_commit(limit, req->address, req->upload_id);
	else
		reg_upload_limit_release(limit, req->address);
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
	enum access access;
	int method, r;

	access = authenticate(req);
	if (access == ACCESS_RESPONDED)
		return;
	/* An anonymous client learns no more about the endpoints than it can pull. */
	if (access == ACCESS_ANONYMOUS && !method_reads(req->method)) {
		respond_challenge(req, "credentials required");
		return;
	}
	/* The counts show who pushes what and when, so anonymous pull does not
	 * open them. */
	if (strcmp(url, "/metrics") == 0) {
		if (access == ACCESS_ANONYMOUS)
			respond_challenge(req, "credentials required");
		else
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
	if (!access_allows(req, access))
		return;
	if (req->route.kind == REG_ROUTE_UPLOAD_NEW) {
		upload_new_dispatch(req, handler);
		return;
	}
	handler(req);
}
