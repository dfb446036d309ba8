/*
 * kubeconfig and in-cluster credentials; see kubeconfig.h.
 */
#include "kubeconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "config.h"
#include "fileio.h"
#include "yaml_json.h"

struct kubeconfig_read {
	const char *path;
	char dir[PATH_MAX];      /* folder of path, for relative file names */
	char *err;
	size_t err_size;
};

int agent_base64_decode(const char *text, size_t len, char **ret_data, size_t *ret_len)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	unsigned char *out = malloc(len / 4 * 3 + 4);
	int n = 0, tail = 0, r = -EINVAL;

	if (!ctx || !out) {
		r = -ENOMEM;
		goto out;
	}
	/* EVP_Decode* skips newlines and checks the padding, unlike EVP_DecodeBlock. */
	EVP_DecodeInit(ctx);
	if (len > INT_MAX || EVP_DecodeUpdate(ctx, out, &n, (const unsigned char *)text, (int)len) < 0 ||
	    EVP_DecodeFinal(ctx, out + n, &tail) != 1)
		goto out;
	out[n + tail] = '\0';
	*ret_data = (char *)out;
	*ret_len = (size_t)(n + tail);
	out = NULL;
	r = 0;
out:
	free(out);
	EVP_ENCODE_CTX_free(ctx);
	return r;
}

char *agent_base64_encode(const void *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out && len <= INT_MAX)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	else if (out)
		out[0] = '\0';
	return out;
}

void agent_kube_auth_free(struct agent_kube_auth *auth)
{
	if (!auth)
		return;
	if (auth->key_pem)
		OPENSSL_cleanse(auth->key_pem, auth->key_len);
	if (auth->token)
		OPENSSL_cleanse(auth->token, strlen(auth->token));
	free(auth->server);
	free(auth->ca_pem);
	free(auth->cert_pem);
	free(auth->key_pem);
	free(auth->token);
	free(auth);
}

static int fail(struct kubeconfig_read *k, int r, const char *format, const char *arg)
{
	char reason[512];

	snprintf(reason, sizeof(reason), format, arg);
	snprintf(k->err, k->err_size, "kubeconfig %s: %s", k->path, reason);
	return r;
}

static const char *field(json_t *object, const char *key)
{
	return json_string_value(json_object_get(object, key));
}

/* Finds the entry of LIST (clusters, users, contexts) named NAME and returns
 * its member MEMBER. */
static json_t *named_entry(json_t *root, const char *list, const char *name, const char *member)
{
	json_t *entries = json_object_get(root, list), *entry;
	size_t i;

	json_array_foreach(entries, i, entry) {
		const char *entry_name = field(entry, "name");

		if (entry_name && strcmp(entry_name, name) == 0)
			return json_object_get(entry, member);
	}
	return NULL;
}

static int read_relative(struct kubeconfig_read *k, const char *name, char **ret, size_t *ret_len)
{
	char path[PATH_MAX];
	int n, r;

	n = name[0] == '/' ? snprintf(path, sizeof(path), "%s", name)
			   : snprintf(path, sizeof(path), "%s/%s", k->dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return fail(k, -ENAMETOOLONG, "file name too long: %s", name);
	r = ecr_read_file(path, AGENT_KUBE_FILE_MAX, ret, ret_len);
	if (r < 0)
		snprintf(k->err, k->err_size, "kubeconfig %s: cannot read %s: %s", k->path, path,
			 strerror(-r));
	return r;
}

/* Reads a PEM that OBJECT contains as KEY-data (base64) or KEY (a file name).
 * Sets *ret to NULL when neither is present. */
static int read_pem(struct kubeconfig_read *k, json_t *object, const char *key,
		    char **ret, size_t *ret_len)
{
	char data_key[64];
	const char *data, *file;
	int r;

	snprintf(data_key, sizeof(data_key), "%s-data", key);
	data = field(object, data_key);
	file = field(object, key);
	*ret = NULL;
	if (data) {
		r = agent_base64_decode(data, strlen(data), ret, ret_len);
		return r < 0 ? fail(k, r, "field %s is not valid base64", data_key) : 0;
	}
	if (file)
		return read_relative(k, file, ret, ret_len);
	return 0;
}

/* Tells whether VALUE is a YAML 1.1 spelling of false.  The caller rejects
 * every other value of insecure-skip-tls-verify, so no spelling of true (True,
 * yes, on and others) passes as false. */
static bool is_false(const char *value)
{
	static const char *const spellings[] = {
		"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N",
	};

	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		if (strcmp(value, spellings[i]) == 0)
			return true;
	}
	return false;
}

static int read_cluster(struct kubeconfig_read *k, json_t *cluster, struct agent_kube_auth *auth)
{
	const char *server = field(cluster, "server"), *insecure;
	size_t len;
	int r;

	if (!server || strncmp(server, "https://", 8) != 0)
		return fail(k, -EINVAL, "the cluster's server must be an https:// URL, not %s",
			    server ? server : "missing");
	insecure = field(cluster, "insecure-skip-tls-verify");
	if (insecure && !is_false(insecure))
		return fail(k, -EINVAL, "%s", "insecure-skip-tls-verify is not supported; name the cluster's CA");
	auth->server = strdup(server);
	if (!auth->server)
		return -ENOMEM;
	len = strlen(auth->server);
	while (len > 0 && auth->server[len - 1] == '/')
		auth->server[--len] = '\0';

	r = read_pem(k, cluster, "certificate-authority", &auth->ca_pem, &auth->ca_len);
	if (r == 0 && !auth->ca_pem)
		r = fail(k, -EINVAL, "%s", "the cluster names no certificate-authority(-data)");
	return r;
}

static int read_token_file(struct kubeconfig_read *k, const char *name, char **ret)
{
	size_t len = 0;
	int r = read_relative(k, name, ret, &len);

	while (r == 0 && len > 0 && ((*ret)[len - 1] == '\n' || (*ret)[len - 1] == '\r'))
		(*ret)[--len] = '\0';
	return r;
}

static int read_user(struct kubeconfig_read *k, json_t *user, struct agent_kube_auth *auth)
{
	const char *token = field(user, "token"), *token_file = field(user, "tokenFile");
	int r;

	r = read_pem(k, user, "client-certificate", &auth->cert_pem, &auth->cert_len);
	if (r == 0)
		r = read_pem(k, user, "client-key", &auth->key_pem, &auth->key_len);
	if (r < 0)
		return r;
	if (!auth->cert_pem != !auth->key_pem)
		return fail(k, -EINVAL, "%s", "the user must name both client-certificate and client-key");
	if (token && token[0]) {
		auth->token = strdup(token);
		if (!auth->token)
			return -ENOMEM;
	} else if (token_file) {
		r = read_token_file(k, token_file, &auth->token);
		if (r < 0)
			return r;
	}
	if (!auth->cert_pem && !auth->token)
		return fail(k, -EINVAL, "%s", "the user has neither a client certificate nor a token");
	return 0;
}

/* Picks the current context, or the only one when current-context is unset. */
static json_t *pick_context(struct kubeconfig_read *k, json_t *root)
{
	const char *current = field(root, "current-context");
	json_t *contexts = json_object_get(root, "contexts");

	if (current && current[0]) {
		json_t *context = named_entry(root, "contexts", current, "context");

		if (!context)
			fail(k, -EINVAL, "current-context %s is not in contexts", current);
		return context;
	}
	if (json_array_size(contexts) == 1)
		return json_object_get(json_array_get(contexts, 0), "context");
	fail(k, -EINVAL, "%s", "no current-context is set and there is not exactly one context");
	return NULL;
}

static int read_kubeconfig(struct kubeconfig_read *k, json_t *root, struct agent_kube_auth *auth)
{
	json_t *context = pick_context(k, root), *cluster, *user;
	const char *cluster_name, *user_name;
	int r;

	if (!context)
		return -EINVAL;
	cluster_name = field(context, "cluster");
	user_name = field(context, "user");
	cluster = cluster_name ? named_entry(root, "clusters", cluster_name, "cluster") : NULL;
	if (!cluster)
		return fail(k, -EINVAL, "cluster %s of the context is not in clusters",
			    cluster_name ? cluster_name : "(unset)");
	user = user_name ? named_entry(root, "users", user_name, "user") : NULL;
	if (!user)
		return fail(k, -EINVAL, "user %s of the context is not in users",
			    user_name ? user_name : "(unset)");
	r = read_cluster(k, cluster, auth);
	if (r == 0)
		r = read_user(k, user, auth);
	return r;
}

static int load_file(struct kubeconfig_read *k, struct agent_kube_auth *auth)
{
	char *text = NULL, *slash, yaml_err[256];
	json_t *root = NULL;
	size_t len;
	int r;

	snprintf(k->dir, sizeof(k->dir), "%s", k->path);
	slash = strrchr(k->dir, '/');
	if (slash)
		*slash = '\0';
	r = ecr_read_file(k->path, AGENT_KUBE_FILE_MAX, &text, &len);
	if (r < 0) {
		snprintf(k->err, k->err_size, "cannot read kubeconfig %s: %s", k->path, strerror(-r));
		return r;
	}
	r = agent_yaml_to_json(text, len, &root, yaml_err, sizeof(yaml_err));
	/* The file may hold a token or a key. */
	OPENSSL_cleanse(text, len);
	free(text);
	if (r < 0)
		return fail(k, r, "%s", yaml_err);
	if (json_is_object(root))
		r = read_kubeconfig(k, root, auth);
	else
		r = fail(k, -EINVAL, "%s", "the document is not a YAML mapping of kubeconfig fields");
	json_decref(root);
	return r;
}

static int load_in_cluster(struct kubeconfig_read *k, const char *sa_dir,
			   struct agent_kube_auth *auth)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char server[512];
	int r;

	if (!host || !host[0] || !port || !port[0])
		return fail(k, -EINVAL, "%s", "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
	snprintf(server, sizeof(server), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
		 host, port);
	auth->server = strdup(server);
	if (!auth->server)
		return -ENOMEM;
	snprintf(k->dir, sizeof(k->dir), "%s", sa_dir);
	r = read_relative(k, "ca.crt", &auth->ca_pem, &auth->ca_len);
	if (r == 0)
		r = read_token_file(k, "token", &auth->token);
	return r;
}

int agent_kubeconfig_load(const char *path, const char *sa_dir,
			  struct agent_kube_auth **ret_auth, char *err, size_t err_size)
{
	struct kubeconfig_read k = { .path = path, .err = err, .err_size = err_size };
	struct agent_kube_auth *auth = calloc(1, sizeof(*auth));
	int r;

	if (!auth)
		return -ENOMEM;
	if (strcmp(path, AGENT_KUBECONFIG_IN_CLUSTER) == 0)
		r = load_in_cluster(&k, sa_dir, auth);
	else
		r = load_file(&k, auth);
	if (r == -ENOMEM)
		snprintf(err, err_size, "out of memory while reading kubeconfig %s", path);
	if (r < 0) {
		agent_kube_auth_free(auth);
		return r;
	}
	*ret_auth = auth;
	return 0;
}
