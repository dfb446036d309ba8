/*
 * Reconciliation of the image-pull secrets: the wanted secret, the set of
 * namespaces that must hold it, and the requests that create, update and
 * delete secrets; see kube_secrets.h.  Runs on the secrets thread only.
 */
#include "kube_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "log.h"

#define SECRET_TYPE "kubernetes.io/dockerconfigjson"
#define SECRET_KEY ".dockerconfigjson"
#define SECRETS_BY_NAME "/api/v1/secrets?fieldSelector=metadata.name%3D" AGENT_KUBE_SECRET_NAME
#define MANAGED_SELECTOR "labelSelector=app.kubernetes.io%2Fmanaged-by%3D" AGENT_KUBE_LABEL_VALUE
/* Attempts at one namespace while others change its secret meanwhile (409). */
#define ENSURE_ATTEMPTS 4

static const char *metadata_string(json_t *object, const char *key)
{
	return json_string_value(json_object_get(json_object_get(object, "metadata"), key));
}

int kube_build_secret_data(struct kube_sync *s)
{
	const struct agent_credentials *c = &s->want.credentials;
	char user_password[sizeof(c->username) + sizeof(c->password) + 1];
	char *auth = NULL, *text = NULL;
	json_t *config;
	int r = -ENOMEM;

	json_decref(s->dockerconfig);
	free(s->dockerconfig_b64);
	s->dockerconfig = NULL;
	s->dockerconfig_b64 = NULL;

	snprintf(user_password, sizeof(user_password), "%s:%s", c->username, c->password);
	auth = agent_base64_encode(user_password, strlen(user_password));
	OPENSSL_cleanse(user_password, sizeof(user_password));
	if (!auth)
		return -ENOMEM;
	config = json_pack("{s:{s:{s:s,s:s,s:s}}}", "auths", s->want.endpoint,
			   "username", c->username, "password", c->password, "auth", auth);
	text = config ? json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (text)
		s->dockerconfig_b64 = agent_base64_encode(text, strlen(text));
	if (s->dockerconfig_b64) {
		s->dockerconfig = config;
		config = NULL;
		r = 0;
	}
	/* NOTE: jansson frees its copies of the password without wiping them. */
	json_decref(config);
	if (text)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	OPENSSL_cleanse(auth, strlen(auth));
	free(auth);
	return r;
}

struct ns_entry *kube_ns_find(struct kube_sync *s, const char *name)
{
	for (size_t i = 0; i < s->n_ns; i++) {
		if (strcmp(s->ns[i].name, name) == 0)
			return &s->ns[i];
	}
	return NULL;
}

int kube_ns_add(struct kube_sync *s, const char *name)
{
	if (kube_ns_find(s, name))
		return 0;
	if (strlen(name) >= sizeof(s->ns[0].name))
		return -EINVAL;
	if (s->n_ns == s->cap_ns) {
		size_t cap = s->cap_ns ? 2 * s->cap_ns : 64;
		struct ns_entry *grown = realloc(s->ns, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		s->ns = grown;
		s->cap_ns = cap;
	}
	snprintf(s->ns[s->n_ns].name, sizeof(s->ns[0].name), "%s", name);
	s->ns[s->n_ns++].state = NS_PENDING;
	return 0;
}

void kube_ns_remove(struct kube_sync *s, const char *name)
{
	struct ns_entry *entry = kube_ns_find(s, name);

	if (entry)
		*entry = s->ns[--s->n_ns];
}

static void set_ns_state(struct ns_entry *entry, enum ns_state state)
{
	if (state == NS_CONFLICT && entry->state != NS_CONFLICT)
		ecr_log(LOG_WARNING, "kubernetes secrets: namespace %s has a secret %s that edgecr did not create (no label %s=%s); leaving it alone",
			entry->name, AGENT_KUBE_SECRET_NAME, AGENT_KUBE_LABEL_KEY, AGENT_KUBE_LABEL_VALUE);
	entry->state = state;
}

static bool secret_is_managed(json_t *secret)
{
	json_t *labels = json_object_get(json_object_get(secret, "metadata"), "labels");
	const char *value = json_string_value(json_object_get(labels, AGENT_KUBE_LABEL_KEY));

	return value && strcmp(value, AGENT_KUBE_LABEL_VALUE) == 0;
}

static bool secret_type_matches(json_t *secret)
{
	const char *type = json_string_value(json_object_get(secret, "type"));

	return type && strcmp(type, SECRET_TYPE) == 0;
}

/* Returns true when SECRET contains exactly the wanted data.  The decoded JSON
 * is compared, so formatting differences do not count as an alteration. */
static bool secret_is_current(struct kube_sync *s, json_t *secret)
{
	json_t *data = json_object_get(secret, "data"), *decoded;
	const char *b64 = json_string_value(json_object_get(data, SECRET_KEY));
	char *text = NULL;
	size_t len = 0;
	bool same;

	if (!secret_type_matches(secret) || json_object_size(data) != 1 || !b64 ||
	    agent_base64_decode(b64, strlen(b64), &text, &len) < 0)
		return false;
	decoded = json_loadb(text, len, 0, NULL);
	same = decoded && json_equal(decoded, s->dockerconfig);
	json_decref(decoded);
	OPENSSL_cleanse(text, len);
	free(text);
	return same;
}

/* Builds the secret for NS, keeping the labels, annotations and version of
 * EXISTING when it is an object. */
static json_t *secret_object(struct kube_sync *s, const char *ns, json_t *existing)
{
	json_t *old_meta = json_object_get(existing, "metadata");
	json_t *labels = json_deep_copy(json_object_get(old_meta, "labels"));
	json_t *metadata;

	if (!labels)
		labels = json_object();
	json_object_set_new(labels, AGENT_KUBE_LABEL_KEY, json_string(AGENT_KUBE_LABEL_VALUE));
	metadata = json_pack("{s:s,s:s,s:o}", "name", AGENT_KUBE_SECRET_NAME, "namespace", ns,
			     "labels", labels);
	if (metadata && json_object_get(old_meta, "resourceVersion"))
		json_object_set(metadata, "resourceVersion", json_object_get(old_meta, "resourceVersion"));
	if (metadata && json_object_get(old_meta, "annotations"))
		json_object_set(metadata, "annotations", json_object_get(old_meta, "annotations"));
	return json_pack("{s:s,s:s,s:o,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Secret",
			 "metadata", metadata, "type", SECRET_TYPE,
			 "data", SECRET_KEY, s->dockerconfig_b64);
}

/* Sends a request that changes NS's secret.  Returns the HTTP status, or a
 * negative errno (recorded) when no response came. */
static long send_change(struct kube_sync *s, const char *method, const char *path, json_t *body,
			json_t **ret_response)
{
	char err[512];
	long status = 0;
	int r;

	*ret_response = NULL;
	r = agent_kube_request(s->client, method, path, body, &status, ret_response, err, sizeof(err));
	if (r < 0) {
		kube_fail(s, "%s", err);
		return r;
	}
	return status;
}

static bool namespace_is_gone(long status, json_t *response)
{
	const char *message = json_string_value(json_object_get(response, "message"));

	return status == 404 || (status == 403 && message && strstr(message, "being terminated"));
}

static int fetch_secret(struct kube_sync *s, const char *ns, json_t **ret_secret)
{
	char path[256];
	json_t *response = NULL;
	long status;

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", ns, AGENT_KUBE_SECRET_NAME);
	status = send_change(s, "GET", path, NULL, &response);
	if (status == 200 && json_is_object(response)) {
		*ret_secret = response;
		return 0;
	}
	if (status == 404) {
		json_decref(response);
		*ret_secret = json_null();
		return 0;
	}
	if (status > 0) {
		char err[512];

		agent_kube_describe("GET", path, status, response, err, sizeof(err));
		kube_fail(s, "%s", err);
	}
	json_decref(response);
	return -EIO;
}

enum secret_change { CHANGE_CREATE, CHANGE_UPDATE, CHANGE_DELETE };

static const char *const change_methods[] = { "POST", "PUT", "DELETE" };
static const char *const change_done[] = { "created", "updated", "deleted (to re-create)" };

/* Picks the change that moves EXISTING (an object or json null) toward the
 * wanted secret, and writes its path. */
static enum secret_change pick_change(json_t *existing, const char *ns, char *path, size_t size)
{
	if (!json_is_object(existing)) {
		snprintf(path, size, "/api/v1/namespaces/%s/secrets", ns);
		return CHANGE_CREATE;
	}
	snprintf(path, size, "/api/v1/namespaces/%s/secrets/%s", ns, AGENT_KUBE_SECRET_NAME);
	/* The type of a secret cannot change, so a managed one of another type is
	 * deleted; the next step creates it. */
	return secret_type_matches(existing) ? CHANGE_UPDATE : CHANGE_DELETE;
}

/* Interprets the response to CHANGE of the secret in ENTRY's namespace.
 * Returns what ensure_step returns. */
static int change_result(struct kube_sync *s, struct ns_entry *entry, enum secret_change change,
			 const char *path, long status, json_t *response)
{
	char err[512];

	if (status == 200 || status == 201 || status == 202) {
		ecr_log(LOG_INFO, "kubernetes secrets: %s secret %s in namespace %s",
			change_done[change], AGENT_KUBE_SECRET_NAME, entry->name);
		if (change == CHANGE_DELETE)
			return -EAGAIN;
		set_ns_state(entry, NS_SYNCED);
		return 0;
	}
	/* 409: created or changed meanwhile; 404 on a secret: deleted meanwhile. */
	if (status == 409 || (status == 404 && change != CHANGE_CREATE))
		return -EAGAIN;
	if (change == CHANGE_CREATE && namespace_is_gone(status, response)) {
		kube_ns_remove(s, entry->name);
		return 0;
	}
	if (status > 0) {
		agent_kube_describe(change_methods[change], path, status, response, err, sizeof(err));
		kube_fail(s, "%s", err);
	}
	return -EIO;
}

/* One step toward the wanted secret in ENTRY's namespace from EXISTING (an
 * object or json null).  Returns 0 when done, -EAGAIN to fetch and try
 * again, or -EIO (recorded).  ENTRY may be gone when it returns. */
static int ensure_step(struct kube_sync *s, struct ns_entry *entry, json_t *existing)
{
	json_t *body = NULL, *response = NULL;
	enum secret_change change;
	char path[256];
	long status;
	int r;

	if (json_is_object(existing) && !secret_is_managed(existing)) {
		set_ns_state(entry, NS_CONFLICT);
		return 0;
	}
	if (json_is_object(existing) && secret_is_current(s, existing)) {
		set_ns_state(entry, NS_SYNCED);
		return 0;
	}

	change = pick_change(existing, entry->name, path, sizeof(path));
	if (change != CHANGE_DELETE) {
		body = secret_object(s, entry->name, change == CHANGE_UPDATE ? existing : NULL);
		if (!body) {
			kube_fail(s, "out of memory while building the secret for namespace %s",
				  entry->name);
			return -EIO;
		}
	}
	status = send_change(s, change_methods[change], path, body, &response);
	json_decref(body);
	r = change_result(s, entry, change, path, status, response);
	json_decref(response);
	return r;
}

int kube_ensure_secret(struct kube_sync *s, const char *ns, json_t *existing)
{
	json_t *fetched = NULL;
	int r = -EAGAIN;

	for (int attempt = 0; attempt < ENSURE_ATTEMPTS && r == -EAGAIN; attempt++) {
		struct ns_entry *entry = kube_ns_find(s, ns);

		if (!entry)
			return 0;
		if (!existing || attempt > 0) {
			json_decref(fetched);
			fetched = NULL;
			r = fetch_secret(s, ns, &fetched);
			if (r < 0)
				break;
			existing = fetched;
		}
		r = ensure_step(s, entry, existing);
	}
	json_decref(fetched);
	if (r < 0) {
		struct ns_entry *entry = kube_ns_find(s, ns);

		if (entry)
			entry->state = NS_PENDING;
		s->change_failed = true;
		if (r == -EAGAIN)
			kube_fail(s, "the secret in namespace %s kept changing; will retry", ns);
		return -EIO;
	}
	return 0;
}

/* GETs PATH, a list, into *ret_list.  Returns 0 or -EIO (recorded). */
static int get_list(struct kube_sync *s, const char *path, json_t **ret_list)
{
	json_t *response = NULL;
	char err[512];
	long status = 0;
	int r;

	r = agent_kube_request(s->client, "GET", path, NULL, &status, &response, err, sizeof(err));
	if (r == 0 && status == 200 && json_is_array(json_object_get(response, "items"))) {
		*ret_list = response;
		return 0;
	}
	if (r == 0)
		agent_kube_describe("GET", path, status, response, err, sizeof(err));
	kube_fail(s, "%s", err);
	json_decref(response);
	return -EIO;
}

static void copy_version(char *ret, size_t size, json_t *list)
{
	const char *version = metadata_string(list, "resourceVersion");

	snprintf(ret, size, "%s", version ? version : "");
}

/* Returns the state that OLD (N entries) records for NAME, or NS_PENDING. */
static enum ns_state previous_state(const struct ns_entry *old, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(old[i].name, name) == 0)
			return old[i].state;
	}
	return NS_PENDING;
}

/* Rebuilds the set of namespaces that must hold the secret from LIST.  The
 * states carry over, so a conflict is logged once, not at each relist. */
static int collect_namespaces(struct kube_sync *s, json_t *list)
{
	struct ns_entry *old = s->ns;
	size_t n_old = s->n_ns;
	json_t *item;
	size_t i;
	int r = 0;

	s->ns = NULL;
	s->n_ns = s->cap_ns = 0;
	json_array_foreach(json_object_get(list, "items"), i, item) {
		const char *name = metadata_string(item, "name");
		const char *phase = json_string_value(json_object_get(json_object_get(item, "status"), "phase"));

		if (!name || agent_namespace_in_list(s->want.skip_namespaces, name) ||
		    (phase && strcmp(phase, "Terminating") == 0))
			continue;
		r = kube_ns_add(s, name);
		if (r < 0)
			break;
		kube_ns_find(s, name)->state = previous_state(old, n_old, name);
	}
	free(old);
	return r;
}

/* Deletes SECRET, a managed secret from a list.  Returns 0 or -EIO
 * (recorded). */
static int delete_managed(struct kube_sync *s, json_t *secret)
{
	const char *ns = metadata_string(secret, "namespace");
	const char *uid = metadata_string(secret, "uid");
	json_t *body, *response = NULL;
	char path[256], err[512];
	long status;
	int r = 0;

	if (!ns || !uid || !secret_is_managed(secret))
		return 0;
	/* The uid precondition spares a secret that replaced this one meanwhile. */
	body = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "DeleteOptions",
			 "preconditions", "uid", uid);
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", ns, AGENT_KUBE_SECRET_NAME);
	status = send_change(s, "DELETE", path, body, &response);
	json_decref(body);
	if (status == 200 || status == 202) {
		ecr_log(LOG_INFO, "kubernetes secrets: deleted secret %s in namespace %s",
			AGENT_KUBE_SECRET_NAME, ns);
	} else if (status > 0 && status != 404 && status != 409) {
		agent_kube_describe("DELETE", path, status, response, err, sizeof(err));
		kube_fail(s, "%s", err);
		r = -EIO;
	} else if (status < 0) {
		r = -EIO;
	}
	json_decref(response);
	return r;
}

int kube_full_sync(struct kube_sync *s)
{
	json_t *namespaces = NULL, *secrets = NULL, *by_ns = json_object(), *item;
	size_t i;
	int r;

	r = get_list(s, "/api/v1/namespaces", &namespaces);
	if (r == 0)
		r = get_list(s, SECRETS_BY_NAME, &secrets);
	if (r == 0)
		r = collect_namespaces(s, namespaces);
	if (r < 0)
		goto out;
	copy_version(s->ns_version, sizeof(s->ns_version), namespaces);
	copy_version(s->secret_version, sizeof(s->secret_version), secrets);

	json_array_foreach(json_object_get(secrets, "items"), i, item) {
		const char *ns = metadata_string(item, "namespace");

		/* A namespace added to kube_skip_namespaces loses its managed secret. */
		if (ns && agent_namespace_in_list(s->want.skip_namespaces, ns))
			delete_managed(s, item);
		else if (ns)
			json_object_set(by_ns, ns, item);
	}
	/* Backwards, because an entry whose namespace is gone is replaced by the last. */
	for (size_t n = s->n_ns; n-- > 0; ) {
		json_t *existing = json_object_get(by_ns, s->ns[n].name);

		if (kube_interrupted(s))
			break;
		kube_ensure_secret(s, s->ns[n].name, existing ? existing : json_null());
	}
out:
	json_decref(namespaces);
	json_decref(secrets);
	json_decref(by_ns);
	return r;
}

int kube_remove_all(struct kube_sync *s)
{
	json_t *secrets = NULL, *item;
	size_t i;
	int r;

	r = get_list(s, SECRETS_BY_NAME "&" MANAGED_SELECTOR, &secrets);
	if (r < 0)
		return r;
	json_array_foreach(json_object_get(secrets, "items"), i, item) {
		if (delete_managed(s, item) < 0)
			r = -EIO;
	}
	json_decref(secrets);
	return r;
}
