/*
 * The registry's HTTP API as the web UI needs it; see ui_registry.h.
 *
 * One CURL handle serves all requests of a listing, so the TLS session and
 * connection are reused: a listing costs one request for the catalog and one
 * per repository (edgecr's GET /v2/_edgecr/repositories/<name>, which gives
 * each tag's size and push time) on one connection.
 */
#include "ui_registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "provision.h"
#include "ui_format.h"
#include "i18n.h"

#define REQUEST_TIMEOUT_MS 10000
/* A collection reads the folder of every blob file, which takes a while on a
 * large store.  The agent's API connection times out after 120 s. */
#define GC_TIMEOUT_MS 110000
/* GET /v1/status requests the usage, and a hung registry must not delay it long. */
#define USAGE_TIMEOUT_MS 5000
/* Largest response body read: the distribution spec caps manifests at 4 MiB. */
#define RESPONSE_MAX (4 * 1024 * 1024)

struct registry_client {
	CURL *curl;
	struct curl_slist *resolve;
	char base_url[AGENT_ENDPOINT_MAX + 16];
	struct agent_credentials credentials;
};

struct response {
	char *body;
	size_t len;
	int too_large;
	char digest[80];      /* Docker-Content-Digest */
};

static size_t collect_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct response *resp = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (resp->len + n > RESPONSE_MAX) {
		resp->too_large = 1;
		return 0;
	}
	grown = realloc(resp->body, resp->len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + resp->len, data, n);
	resp->len += n;
	grown[resp->len] = '\0';
	resp->body = grown;
	return n;
}

static size_t collect_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct response *resp = userdata;
	size_t n = size * nmemb;
	static const char name[] = "docker-content-digest:";

	if (n > sizeof(name) && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		const char *value = data + sizeof(name) - 1;
		size_t len = n - (sizeof(name) - 1);

		while (len > 0 && *value == ' ') {
			value++;
			len--;
		}
		while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n'))
			len--;
		if (len < sizeof(resp->digest)) {
			memcpy(resp->digest, value, len);
			resp->digest[len] = '\0';
		}
	}
	return n;
}

static void client_close(struct registry_client *c)
{
	curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->resolve);
	agent_credentials_clear(&c->credentials);
}

static int client_open(struct agent *agent, struct registry_client *c, char *err, size_t size)
{
	struct agent_registry_info info;
	char resolve[AGENT_ENDPOINT_MAX + 80];
	int r;

	memset(c, 0, sizeof(*c));
	r = agent_provision_info(agent, &info);
	if (r < 0 || !info.enabled) {
		agent_credentials_clear(&info.credentials);
		return r < 0 ? r : -ENODATA;
	}
	c->credentials = info.credentials;
	agent_credentials_clear(&info.credentials);

	/* info.endpoint is "NAME:PORT"; curl connects to the registry IP under NAME. */
	snprintf(c->base_url, sizeof(c->base_url), "https://%s", info.endpoint);
	snprintf(resolve, sizeof(resolve), strchr(info.ip, ':') ? "%s:[%s]" : "%s:%s",
		 info.endpoint, info.ip);
	c->resolve = curl_slist_append(NULL, resolve);
	c->curl = curl_easy_init();
	if (!c->resolve || !c->curl) {
		client_close(c);
		snprintf(err, size, _("Failed to set up an HTTP client for the registry."));
		return -ENOMEM;
	}
	curl_easy_setopt(c->curl, CURLOPT_RESOLVE, c->resolve);
	curl_easy_setopt(c->curl, CURLOPT_CAINFO, agent->paths.trust_ca);
	curl_easy_setopt(c->curl, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
	curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c->curl, CURLOPT_USERNAME, c->credentials.username);
	curl_easy_setopt(c->curl, CURLOPT_PASSWORD, c->credentials.password);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, collect_header);
	return 0;
}

/* Sends METHOD to the registry's PATH.  The caller frees resp->body. */
static int client_request(struct registry_client *c, const char *method, const char *path,
			  struct curl_slist *headers, struct response *resp, long *ret_status,
			  char *err, size_t size)
{
	char url[sizeof(c->base_url) + 2 * AGENT_UI_NAME_MAX + 64];
	CURLcode code;

	memset(resp, 0, sizeof(*resp));
	snprintf(url, sizeof(url), "%s%s", c->base_url, path);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, resp);
	code = curl_easy_perform(c->curl);
	if (code != CURLE_OK) {
		snprintf(err, size, _("%s %s on the registry failed: %s"), method, path,
			 resp->too_large ? "the response is larger than 4 MiB" :
			 curl_easy_strerror(code));
		free(resp->body);
		resp->body = NULL;
		return -EIO;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, ret_status);
	return 0;
}

/* GETs PATH and parses the body as a JSON object; 200 is the only success. */
static int client_get_json(struct registry_client *c, const char *path,
			   struct curl_slist *headers, json_t **ret_json, char *ret_digest,
			   char *err, size_t size)
{
	struct response resp;
	long status = 0;
	json_t *json;
	int r;

	r = client_request(c, "GET", path, headers, &resp, &status, err, size);
	if (r < 0)
		return r;
	json = status == 200 && resp.body ? json_loads(resp.body, 0, NULL) : NULL;
	free(resp.body);
	if (!json_is_object(json)) {
		json_decref(json);
		snprintf(err, size, _("GET %s on the registry returned status %ld without a JSON object."),
			 path, status);
		return -EIO;
	}
	if (ret_digest)
		snprintf(ret_digest, sizeof(resp.digest), "%s", resp.digest);
	*ret_json = json;
	return 0;
}

/* Returns a new reference to VALUE, or JSON null when VALUE is NULL. */
static json_t *or_null(json_t *value)
{
	return value ? json_incref(value) : json_null();
}

/* Copies the fields the listing shows from TAG, an entry of the registry's
 * GET /v2/_edgecr/repositories/<name>. */
static json_t *tag_json(json_t *tag)
{
	json_t *size = json_object_get(tag, "sizeBytes");

	return json_pack("{s:O,s:o,s:o,s:o,s:o}", "tag", json_object_get(tag, "tag"),
			 "digest", or_null(json_object_get(tag, "digest")),
			 "mediaType", or_null(json_object_get(tag, "mediaType")),
			 "sizeBytes", json_is_integer(size) ? json_incref(size) : json_null(),
			 "pushedAt", or_null(json_object_get(tag, "pushedAt")));
}

static json_t *repository_json(struct registry_client *c, const char *repo, bool *truncated,
			       char *err, size_t size)
{
	char path[AGENT_UI_NAME_MAX + 64];
	json_t *listing = NULL, *tags = json_array(), *tag;
	size_t i;

	snprintf(path, sizeof(path), "/v2/_edgecr/repositories/%s", repo);
	if (client_get_json(c, path, NULL, &listing, NULL, err, size) == 0) {
		if (json_is_true(json_object_get(listing, "truncated")))
			*truncated = true;
		json_array_foreach(json_object_get(listing, "tags"), i, tag) {
			if (i >= AGENT_UI_TAGS_MAX) {
				*truncated = true;
				break;
			}
			if (json_is_string(json_object_get(tag, "tag")))
				json_array_append_new(tags, tag_json(tag));
		}
	}
	json_decref(listing);
	return json_pack("{s:s,s:o}", "name", repo, "tags", tags);
}

int agent_ui_list_repositories(struct agent *agent, json_t **ret_body, char *err, size_t size)
{
	struct registry_client c;
	json_t *catalog = NULL, *repos, *repo;
	bool truncated = false;
	char path[64];
	size_t i;
	int r;

	r = client_open(agent, &c, err, size);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/v2/_catalog?n=%d", AGENT_UI_REPOSITORIES_MAX);
	r = client_get_json(&c, path, NULL, &catalog, NULL, err, size);
	if (r < 0)
		goto out;

	repos = json_array();
	json_array_foreach(json_object_get(catalog, "repositories"), i, repo) {
		if (i >= AGENT_UI_REPOSITORIES_MAX) {
			truncated = true;
			break;
		}
		if (json_is_string(repo) && agent_ui_repository_is_valid(json_string_value(repo)))
			json_array_append_new(repos, repository_json(&c, json_string_value(repo),
								     &truncated, err, size));
	}
	*ret_body = json_pack("{s:o,s:b}", "repositories", repos, "truncated", truncated);
	r = *ret_body ? 0 : -ENOMEM;
out:
	json_decref(catalog);
	client_close(&c);
	return r;
}

int agent_ui_delete_manifest(struct agent *agent, const char *name, const char *ref,
			     long *ret_status, char *err, size_t size)
{
	struct registry_client c;
	struct response resp;
	char path[AGENT_UI_NAME_MAX + AGENT_UI_REFERENCE_MAX + 32];
	int r;

	r = client_open(agent, &c, err, size);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", name, ref);
	r = client_request(&c, "DELETE", path, NULL, &resp, ret_status, err, size);
	free(resp.body);
	client_close(&c);
	return r;
}

int agent_ui_registry_usage(struct agent *agent, json_t **ret_usage, char *err, size_t size)
{
	struct registry_client c;
	int r;

	r = client_open(agent, &c, err, size);
	if (r < 0)
		return r;
	curl_easy_setopt(c.curl, CURLOPT_TIMEOUT_MS, (long)USAGE_TIMEOUT_MS);
	r = client_get_json(&c, "/v2/_edgecr/usage", NULL, ret_usage, NULL, err, size);
	client_close(&c);
	return r;
}

int agent_ui_registry_gc(struct agent *agent, json_t **ret_result, long *ret_status,
			 char *err, size_t size)
{
	struct registry_client c;
	struct response resp;
	json_t *result = NULL;
	int r;

	r = client_open(agent, &c, err, size);
	if (r < 0)
		return r;
	curl_easy_setopt(c.curl, CURLOPT_TIMEOUT_MS, (long)GC_TIMEOUT_MS);
	/* An empty body, so curl sends Content-Length: 0. */
	curl_easy_setopt(c.curl, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(c.curl, CURLOPT_POSTFIELDSIZE, 0L);
	r = client_request(&c, "POST", "/v2/_edgecr/gc", NULL, &resp, ret_status, err, size);
	client_close(&c);
	if (r < 0)
		return r;
	if (*ret_status == 200 && resp.body)
		result = json_loads(resp.body, 0, NULL);
	free(resp.body);
	if (*ret_status == 200 && !json_is_object(result)) {
		json_decref(result);
		snprintf(err, size, "POST /v2/_edgecr/gc on the registry returned no JSON object.");
		return -EIO;
	}
	*ret_result = result;
	return 0;
}
