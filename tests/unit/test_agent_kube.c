/* Unit tests of the agent's kubeconfig reading (agent/kubeconfig.c, which
 * parses with agent/yaml_json.c) and the Kubernetes settings of its
 * configuration. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "kubeconfig.h"
#include "unit.h"

/* The shape kubectl 1.20 writes: sequences at the indentation of their key. */
static const char kubeconfig_token[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
	"    server: https://127.0.0.1:21643/\n"
	"  name: rig\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: rig\n"
	"    user: admin\n"
	"  name: rig\n"
	"current-context: rig\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: other\n"
	"  user:\n"
	"    token: wrong\n"
	"- name: admin  # the one in use\n"
	"  user:\n"
	"    token: \"s3cr3t\"\n";

static char *write_temp(const char *dir, const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	return path;
}

static void kubeconfig_token_user(void)
{
	char dir[] = "/tmp/edgecr-unit-kube-XXXXXX", err[512] = "";
	struct agent_kube_auth *auth = NULL;

	if (!mkdtemp(dir))
		abort();
	CHECK_INT(agent_kubeconfig_load(write_temp(dir, "kubeconfig", kubeconfig_token), "/none",
					&auth, err, sizeof(err)), 0);
	if (auth) {
		CHECK_STR(auth->server, "https://127.0.0.1:21643");
		CHECK_STR(auth->ca_pem, "-----BEGIN CERTIFICATE-----\n");
		CHECK_STR(auth->token, "s3cr3t");
		CHECK(auth->cert_pem == NULL);
	}
	agent_kube_auth_free(auth);
	unlink(write_temp(dir, "kubeconfig", ""));
	rmdir(dir);
}

/* Files named relative to the kubeconfig, and a tokenFile with a newline. */
static void kubeconfig_relative_files(void)
{
	char dir[] = "/tmp/edgecr-unit-kube-XXXXXX", err[512] = "";
	struct agent_kube_auth *auth = NULL;
	const char *text =
		"clusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443\n"
		"    certificate-authority: ca.pem\n"
		"users:\n- name: u\n  user:\n    client-certificate: cert.pem\n    client-key: key.pem\n"
		"contexts:\n- name: only\n  context: {\"cluster\": \"c\", \"user\": \"u\"}\n";

	if (!mkdtemp(dir))
		abort();
	write_temp(dir, "ca.pem", "CA");
	write_temp(dir, "cert.pem", "CERT");
	write_temp(dir, "key.pem", "KEY");
	CHECK_INT(agent_kubeconfig_load(write_temp(dir, "kubeconfig", text), "/none", &auth, err,
					sizeof(err)), 0);
	if (auth) {
		CHECK_STR(auth->ca_pem, "CA");
		CHECK_STR(auth->cert_pem, "CERT");
		CHECK_STR(auth->key_pem, "KEY");
		CHECK(auth->token == NULL);
	}
	agent_kube_auth_free(auth);
	unlink(write_temp(dir, "ca.pem", ""));
	unlink(write_temp(dir, "cert.pem", ""));
	unlink(write_temp(dir, "key.pem", ""));
	unlink(write_temp(dir, "kubeconfig", ""));
	rmdir(dir);
}

static void kubeconfig_rejects_bad_clusters(void)
{
	static const char *const cases[] = {
		/* no CA: TLS is always verified */
		"clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
		"users:\n- name: u\n  user:\n    token: t\n"
		"contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n",
		/* plain http */
		"clusters:\n- name: c\n  cluster:\n    server: http://h:1\n    certificate-authority-data: QQ==\n"
		"users:\n- name: u\n  user:\n    token: t\n"
		"contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n",
		/* no credentials */
		"clusters:\n- name: c\n  cluster:\n    server: https://h:1\n    certificate-authority-data: QQ==\n"
		"users:\n- name: u\n  user: {}\n"
		"contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n",
		/* current-context names a missing context */
		"current-context: gone\nclusters: []\nusers: []\ncontexts: []\n",
	};
	char dir[] = "/tmp/edgecr-unit-kube-XXXXXX";

	if (!mkdtemp(dir))
		abort();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_kube_auth *auth = NULL;
		char err[512] = "";

		CHECK_INT(agent_kubeconfig_load(write_temp(dir, "kubeconfig", cases[i]), "/none", &auth,
						err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "kubeconfig") != NULL);
		CHECK(auth == NULL);
	}
	unlink(write_temp(dir, "kubeconfig", ""));
	rmdir(dir);
}

/* A token kubeconfig whose cluster has the insecure-skip-tls-verify line
 * INSECURE. */
static void write_insecure_kubeconfig(const char *dir, const char *insecure)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
		 "    certificate-authority-data: QQ==\n    %s\n"
		 "users:\n- name: u\n  user:\n    token: t\n"
		 "contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n", insecure);
	write_temp(dir, "kubeconfig", text);
}

/* Spellings of true and other values that are not false are rejected, and
 * spellings of false and an empty value pass. */
static void kubeconfig_insecure_skip_tls_verify(void)
{
	static const char *const rejected[] = {
		"insecure-skip-tls-verify: true", "insecure-skip-tls-verify: True",
		"insecure-skip-tls-verify: yes", "insecure-skip-tls-verify: \"on\"",
		"insecure-skip-tls-verify: 1",
	};
	static const char *const accepted[] = {
		"insecure-skip-tls-verify: false", "insecure-skip-tls-verify: No",
		"insecure-skip-tls-verify:",
	};
	char dir[] = "/tmp/edgecr-unit-kube-XXXXXX";
	char path[512];

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/kubeconfig", dir);
	for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
		struct agent_kube_auth *auth = NULL;
		char err[512] = "";

		write_insecure_kubeconfig(dir, rejected[i]);
		CHECK_INT(agent_kubeconfig_load(path, "/none", &auth, err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "insecure-skip-tls-verify is not supported") != NULL);
		CHECK(auth == NULL);
	}
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		struct agent_kube_auth *auth = NULL;
		char err[512] = "";

		write_insecure_kubeconfig(dir, accepted[i]);
		CHECK_INT(agent_kubeconfig_load(path, "/none", &auth, err, sizeof(err)), 0);
		agent_kube_auth_free(auth);
	}
	unlink(path);
	rmdir(dir);
}

/* A kubeconfig in the JSON form that `kubectl config view --raw -o json` writes. */
static void kubeconfig_json_file(void)
{
	char dir[] = "/tmp/edgecr-unit-kube-XXXXXX", err[512] = "";
	struct agent_kube_auth *auth = NULL;
	const char *text =
		"{\n  \"kind\": \"Config\",\n  \"clusters\": [{\"name\": \"c\", \"cluster\": {\n"
		"    \"server\": \"https://10.0.0.1:6443/\", \"certificate-authority-data\": \"QQ==\"}}],\n"
		"  \"users\": [{\"name\": \"u\", \"user\": {\"token\": \"t0k\"}}],\n"
		"  \"contexts\": [{\"name\": \"x\", \"context\": {\"cluster\": \"c\", \"user\": \"u\"}}],\n"
		"  \"current-context\": \"x\"\n}\n";

	if (!mkdtemp(dir))
		abort();
	CHECK_INT(agent_kubeconfig_load(write_temp(dir, "kubeconfig", text), "/none", &auth, err,
					sizeof(err)), 0);
	if (auth) {
		CHECK_STR(auth->server, "https://10.0.0.1:6443");
		CHECK_STR(auth->ca_pem, "A");
		CHECK_STR(auth->token, "t0k");
	}
	agent_kube_auth_free(auth);
	unlink(write_temp(dir, "kubeconfig", ""));
	rmdir(dir);
}

/* YAML that parses but is no kubeconfig, or that the parser rejects, fails
 * with a reason that names the file and, from the parser, the line. */
static void kubeconfig_rejects_bad_yaml(void)
{
	static const struct {
		const char *text;
		const char *reason;
	} cases[] = {
		{ "", "the file contains no YAML document" },
		{ "just text\n", "not a YAML mapping" },
		{ "- a\n- b\n", "not a YAML mapping" },
		{ "---\n", "not a YAML mapping" },
		{ "users:\n- name: u\n  user: &u\n    token: t\n", "line 3: anchor &u is not supported" },
		{ "current-context: a\n---\ncurrent-context: b\n", "line 2: a second document" },
		{ "current-context: a\ncurrent-context: b\n", "line 2: duplicate key" },
		{ "clusters:\n- name: c\n cluster: {}\n", "line 3, column" },
	};
	char dir[] = "/tmp/edgecr-unit-kube-XXXXXX";
	char path[512];

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/kubeconfig", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_kube_auth *auth = NULL;
		char err[512] = "";

		write_temp(dir, "kubeconfig", cases[i].text);
		CHECK_INT(agent_kubeconfig_load(path, "/none", &auth, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].reason))
			fprintf(stderr, "  case %zu: error \"%s\" lacks \"%s\"\n", i, err,
				cases[i].reason);
		CHECK(strstr(err, cases[i].reason) != NULL);
		CHECK(strstr(err, path) != NULL);
		CHECK(auth == NULL);
	}
	unlink(path);
	rmdir(dir);
}

static void kubeconfig_in_cluster(void)
{
	char dir[] = "/tmp/edgecr-unit-kube-XXXXXX", err[512] = "";
	struct agent_kube_auth *auth = NULL;

	if (!mkdtemp(dir))
		abort();
	write_temp(dir, "ca.crt", "CA");
	write_temp(dir, "token", "tok\n");
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	CHECK_INT(agent_kubeconfig_load(AGENT_KUBECONFIG_IN_CLUSTER, dir, &auth, err, sizeof(err)), 0);
	if (auth) {
		CHECK_STR(auth->server, "https://[fd00::1]:443");
		CHECK_STR(auth->token, "tok");
		CHECK_STR(auth->ca_pem, "CA");
	}
	agent_kube_auth_free(auth);
	unsetenv("KUBERNETES_SERVICE_HOST");
	auth = NULL;
	CHECK_INT(agent_kubeconfig_load(AGENT_KUBECONFIG_IN_CLUSTER, dir, &auth, err, sizeof(err)),
		  -EINVAL);
	unlink(write_temp(dir, "ca.crt", ""));
	unlink(write_temp(dir, "token", ""));
	rmdir(dir);
}

static void base64_round_trip(void)
{
	const char *text = "ase-ecr-user:qpfud9rSvEEkTyi";
	char *encoded = agent_base64_encode(text, strlen(text)), *decoded = NULL;
	size_t len = 0;

	CHECK_STR(encoded, "YXNlLWVjci11c2VyOnFwZnVkOXJTdkVFa1R5aQ==");
	CHECK_INT(agent_base64_decode(encoded, strlen(encoded), &decoded, &len), 0);
	CHECK_STR(decoded, text);
	CHECK_INT(len, strlen(text));
	free(decoded);
	decoded = NULL;
	CHECK_INT(agent_base64_decode("!!!!", 4, &decoded, &len), -EINVAL);
	free(encoded);
}

static void config_kube_keys(void)
{
	struct agent_config *c = NULL;
	char err[512] = "";

	if (agent_config_new(&c) < 0)
		abort();
	CHECK(c->kubeconfig == NULL);
	CHECK(!c->node_trust);
	CHECK_STR(c->kube_skip_namespaces, "kube-system,kube-public,kube-node-lease");
	CHECK_STR(c->hosts_file, "/etc/hosts");
	CHECK(agent_namespace_in_list(c->kube_skip_namespaces, "kube-public"));
	CHECK(!agent_namespace_in_list(c->kube_skip_namespaces, "kube"));
	CHECK(!agent_namespace_in_list(c->kube_skip_namespaces, "default"));

	CHECK_INT(agent_config_set(c, "kubeconfig", "in-cluster", err, sizeof(err)), 0);
	CHECK_INT(agent_config_set(c, "kubeconfig", "relative", err, sizeof(err)), -EINVAL);
	CHECK_INT(agent_config_set(c, "node_trust", "true", err, sizeof(err)), 0);
	CHECK(c->node_trust);
	CHECK_INT(agent_config_set(c, "kube_skip_namespaces", "", err, sizeof(err)), 0);
	CHECK(!agent_namespace_in_list(c->kube_skip_namespaces, "kube-system"));
	CHECK_INT(agent_config_set(c, "kube_skip_namespaces", "a,,b", err, sizeof(err)), -EINVAL);
	CHECK_INT(agent_config_set(c, "kube_skip_namespaces", "a,", err, sizeof(err)), -EINVAL);
	CHECK_INT(agent_config_set(c, "kube_skip_namespaces", "Upper", err, sizeof(err)), -EINVAL);
	CHECK_INT(agent_config_set(c, "hosts_file", "hosts", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "hosts_file") != NULL);
	agent_config_free(c);
}

int main(void)
{
	RUN(kubeconfig_token_user);
	RUN(kubeconfig_relative_files);
	RUN(kubeconfig_rejects_bad_clusters);
	RUN(kubeconfig_insecure_skip_tls_verify);
	RUN(kubeconfig_json_file);
	RUN(kubeconfig_rejects_bad_yaml);
	RUN(kubeconfig_in_cluster);
	RUN(base64_round_trip);
	RUN(config_kube_keys);
	return UNIT_EXIT();
}
