/*
 * Kubernetes API client over libcurl; see kube_client.h.
 */
#include "kube_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct agent_kube_client {
	struct agent_kube_auth *auth;
	const atomic_bool *cancel;
	CURL *easy;                 /* reused by agent_kube_request for keep-alive */
};

/* A growing buffer capped at AGENT_KUBE_BODY_MAX. */
struct body_buffer {
	char *data;
	size_t len;
	size_t cap;
	int too_large;
};

struct watch_context {
	struct body_buffer line;
	agent_kube_line_fn fn;
	void *userdata;
};

static int buffer_append(struct body_buffer *b, const char *data, size_t len)
{
	if (b->len + len + 1 > AGENT_KUBE_BODY_MAX) {
		b->too_large = 1;
		return -EFBIG;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *grown;

		while (cap < b->len + len + 1)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (!grown)
			return -ENOMEM;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int agent_kube_client_new(struct agent_kube_auth *auth, const atomic_bool *cancel,
			  struct agent_kube_client **ret_client)
{
	struct agent_kube_client *client = calloc(1, sizeof(*client));

	if (!client)
		return -ENOMEM;
	client->easy = curl_easy_init();
	if (!client->easy) {
		free(client);
		return -ENOMEM;
	}
	client->auth = auth;
	client->cancel = cancel;
	*ret_client = client;
	return 0;
}

void agent_kube_client_free(struct agent_kube_client *client)
{
	if (!client)
		return;
	curl_easy_cleanup(client->easy);
	agent_kube_auth_free(client->auth);
	free(client);
}

const char *agent_kube_client_server(const struct agent_kube_client *client)
{
	return client->auth->server;
}

/* Sets the URL, TLS and credentials of a request to PATH on EASY. */
static void setup_easy(struct agent_kube_client *client, CURL *easy, const char *path)
{
	const struct agent_kube_auth *auth = client->auth;
	struct curl_blob ca = { auth->ca_pem, auth->ca_len, CURL_BLOB_COPY };
	char url[4096];

	snprintf(url, sizeof(url), "%s%s", auth->server, path);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	/* The API server is reached directly, never through a proxy from the environment. */
	curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)AGENT_KUBE_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &ca);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (auth->cert_pem) {
		struct curl_blob cert = { auth->cert_pem, auth->cert_len, CURL_BLOB_COPY };
		struct curl_blob key = { auth->key_pem, auth->key_len, CURL_BLOB_COPY };

		curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
		curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (auth->token) {
		curl_easy_setopt(easy, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(easy, CURLOPT_XOAUTH2_BEARER, auth->token);
	}
}

/* Aborts the transfer once the client's cancel flag is set. */
static int check_cancel(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
			curl_off_t ultotal, curl_off_t ulnow)
{
	const atomic_bool *cancel = userdata;

	return cancel && atomic_load(cancel) ? 1 : 0;
}

static size_t write_body(char *data, size_t size, size_t n, void *userdata)
{
	return buffer_append(userdata, data, size * n) < 0 ? 0 : size * n;
}

int agent_kube_request(struct agent_kube_client *client, const char *method, const char *path,
		       json_t *body, long *ret_status, json_t **ret_body, char *err, size_t err_size)
{
	struct body_buffer response = { 0 };
	struct curl_slist *headers = NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	CURL *easy = client->easy;
	CURLcode code;
	long status = 0;
	int r = 0;

	curl_easy_reset(easy);
	setup_easy(client, easy, path);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)AGENT_KUBE_REQUEST_TIMEOUT_MS);
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (text) {
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, text);
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &response);
	curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, check_cancel);
	curl_easy_setopt(easy, CURLOPT_XFERINFODATA, (void *)client->cancel);

	code = curl_easy_perform(easy);
	if (code != CURLE_OK) {
		r = code == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT :
		    code == CURLE_ABORTED_BY_CALLBACK ? -ECANCELED : -EIO;
		snprintf(err, err_size, "%s %s%s: %s", method, client->auth->server, path,
			 response.too_large ? "response too large" : curl_easy_strerror(code));
		goto out;
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	*ret_status = status;
	*ret_body = response.len ? json_loadb(response.data, response.len, 0, NULL) : NULL;

out:
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	free(text);
	free(response.data);
	return r;
}

/* Splits the stream into lines; a partial line waits for the next call. */
static size_t write_watch(char *data, size_t size, size_t n, void *userdata)
{
	struct watch_context *w = userdata;
	size_t len = size * n;

	if (buffer_append(&w->line, data, len) < 0)
		return 0;
	for (;;) {
		char *nl = memchr(w->line.data, '\n', w->line.len);
		size_t line_len;

		if (!nl)
			break;
		*nl = '\0';
		line_len = (size_t)(nl - w->line.data);
		if (line_len > 0)
			w->fn(w->userdata, w->line.data, line_len);
		memmove(w->line.data, nl + 1, w->line.len - line_len - 1);
		w->line.len -= line_len + 1;
		w->line.data[w->line.len] = '\0';
	}
	return len;
}

CURL *agent_kube_watch_new(struct agent_kube_client *client, const char *path,
			   agent_kube_line_fn fn, void *userdata)
{
	struct watch_context *w = calloc(1, sizeof(*w));
	CURL *easy = curl_easy_init();

	if (!w || !easy) {
		free(w);
		curl_easy_cleanup(easy);
		return NULL;
	}
	w->fn = fn;
	w->userdata = userdata;
	setup_easy(client, easy, path);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(AGENT_KUBE_WATCH_SEC + 30) * 1000);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_watch);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, w);
	return easy;
}

void agent_kube_watch_free(CURL *watch)
{
	struct watch_context *w = NULL;

	if (!watch)
		return;
	curl_easy_getinfo(watch, CURLINFO_PRIVATE, (char **)&w);
	curl_easy_cleanup(watch);
	if (w)
		free(w->line.data);
	free(w);
}

void agent_kube_describe(const char *method, const char *path, long status, json_t *body,
			 char *err, size_t err_size)
{
	const char *reason = json_string_value(json_object_get(body, "reason"));
	const char *message = json_string_value(json_object_get(body, "message"));

	snprintf(err, err_size, "%s %s: HTTP %ld%s%s%s%s", method, path, status,
		 reason ? " " : "", reason ? reason : "", message ? ": " : "", message ? message : "");
}
