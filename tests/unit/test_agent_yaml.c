/* Unit tests of the agent's YAML to jansson conversion (agent/yaml_json.c),
 * against the real libyaml parser. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yaml_json.h"
#include "unit.h"

/* The shape kubectl 1.20 writes: sequences at the indentation of their key. */
static const char kubeconfig_yaml[] =
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

/* A kubeconfig in the JSON form that `kubectl config view --raw -o json`
 * writes, plus a tab, an escaped '/' and members without spaces, which JSON
 * allows. */
static const char kubeconfig_json[] =
	"{\n"
	"    \"kind\": \"Config\",\n"
	"    \"apiVersion\": \"v1\",\n"
	"    \"preferences\": {},\n"
	"    \"clusters\": [\n"
	"        {\n"
	"            \"name\": \"rig\",\n"
	"            \"cluster\": {\n"
	"\t\t\"server\": \"https:\\/\\/127.0.0.1:21643\",\n"
	"                \"insecure-skip-tls-verify\": false\n"
	"            }\n"
	"        }\n"
	"    ],\n"
	"    \"users\": [{\"name\":\"admin\",\"user\":{\"token\":\"s3cr3t\"}}],\n"
	"    \"contexts\": [],\n"
	"    \"current-context\": \"rig\",\n"
	"    \"extensions\": null\n"
	"}\n";

static int parse(const char *text, json_t **ret_root, char *err, size_t err_size)
{
	return agent_yaml_to_json(text, strlen(text), ret_root, err, err_size);
}

/* Returns the string at KEY of OBJECT, or NULL. */
static const char *string_at(json_t *object, const char *key)
{
	return json_string_value(json_object_get(object, key));
}

static void yaml_kubectl_shape(void)
{
	json_t *root = NULL, *users;
	char err[256] = "";

	CHECK_INT(parse(kubeconfig_yaml, &root, err, sizeof(err)), 0);
	CHECK_STR(string_at(root, "current-context"), "rig");
	users = json_object_get(root, "users");
	CHECK_INT(json_array_size(users), 2);
	CHECK_STR(string_at(json_array_get(users, 1), "name"), "admin");
	CHECK_STR(string_at(json_object_get(json_array_get(users, 1), "user"), "token"), "s3cr3t");
	CHECK_STR(string_at(json_object_get(json_array_get(json_object_get(root, "clusters"), 0),
					    "cluster"), "server"), "https://127.0.0.1:21643/");
	CHECK(json_is_object(json_object_get(root, "preferences")));
	CHECK_INT(json_object_size(json_object_get(root, "preferences")), 0);
	json_decref(root);
}

static void yaml_kubectl_json(void)
{
	json_t *root = NULL, *cluster;
	char err[256] = "";

	CHECK_INT(parse(kubeconfig_json, &root, err, sizeof(err)), 0);
	cluster = json_object_get(json_array_get(json_object_get(root, "clusters"), 0), "cluster");
	CHECK_STR(string_at(cluster, "server"), "https://127.0.0.1:21643");
	/* JSON's false is read as the string "false", like every scalar. */
	CHECK_STR(string_at(cluster, "insecure-skip-tls-verify"), "false");
	CHECK_STR(string_at(json_object_get(json_array_get(json_object_get(root, "users"), 0), "user"),
			    "token"), "s3cr3t");
	CHECK(json_is_array(json_object_get(root, "contexts")));
	CHECK(json_is_null(json_object_get(root, "extensions")));
	json_decref(root);
}

static void yaml_scalars_stay_strings(void)
{
	json_t *root = NULL;
	char err[256] = "";

	CHECK_INT(parse("port: 8443\nratio: 1.5\nflag: true\nyes: no\nquoted: \"null\"\n"
			"tagged: !!str ~\nplain: ! 12\nescaped: \"caf\\u00e9\\tx\"\n"
			"single: 'it''s'\n", &root, err, sizeof(err)), 0);
	CHECK_STR(string_at(root, "port"), "8443");
	CHECK_STR(string_at(root, "ratio"), "1.5");
	CHECK_STR(string_at(root, "flag"), "true");
	CHECK_STR(string_at(root, "yes"), "no");
	CHECK_STR(string_at(root, "quoted"), "null");
	CHECK_STR(string_at(root, "tagged"), "~");
	CHECK_STR(string_at(root, "plain"), "12");
	CHECK_STR(string_at(root, "escaped"), "caf\xc3\xa9\tx");
	CHECK_STR(string_at(root, "single"), "it's");
	json_decref(root);
}

static void yaml_null_forms(void)
{
	json_t *root = NULL;
	char err[256] = "";

	CHECK_INT(parse("a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: # comment\ng: ''\nh: nil\n",
			&root, err, sizeof(err)), 0);
	CHECK(json_is_null(json_object_get(root, "a")));
	CHECK(json_is_null(json_object_get(root, "b")));
	CHECK(json_is_null(json_object_get(root, "c")));
	CHECK(json_is_null(json_object_get(root, "d")));
	CHECK(json_is_null(json_object_get(root, "e")));
	CHECK(json_is_null(json_object_get(root, "f")));
	CHECK_STR(string_at(root, "g"), "");
	CHECK_STR(string_at(root, "h"), "nil");
	json_decref(root);

	root = NULL;
	CHECK_INT(parse("---\n", &root, err, sizeof(err)), 0);
	CHECK(json_is_null(root));
	json_decref(root);
}

static void yaml_block_and_flow(void)
{
	json_t *root = NULL, *list;
	char err[256] = "";

	CHECK_INT(parse("%YAML 1.1\n---\n"
			"literal: |\n  line one\n  line two\n"
			"folded: >-\n  one\n  two\n"
			"list: [a, 'b', {c: d}, [], http://h:1/]\n"
			"nested:\n  - - x\n    - y\n"
			"...\n", &root, err, sizeof(err)), 0);
	CHECK_STR(string_at(root, "literal"), "line one\nline two\n");
	CHECK_STR(string_at(root, "folded"), "one two");
	list = json_object_get(root, "list");
	CHECK_INT(json_array_size(list), 5);
	CHECK_STR(json_string_value(json_array_get(list, 1)), "b");
	CHECK_STR(string_at(json_array_get(list, 2), "c"), "d");
	CHECK(json_is_array(json_array_get(list, 3)));
	CHECK_STR(json_string_value(json_array_get(list, 4)), "http://h:1/");
	CHECK_STR(json_string_value(json_array_get(json_array_get(json_object_get(root, "nested"), 0),
						   1)), "y");
	json_decref(root);
}

static void yaml_rejects_with_line(void)
{
	static const struct {
		const char *text;
		const char *reason;
	} cases[] = {
		{ "a: 1\nb:\n  c: &ca x\n", "line 3: anchor &ca is not supported" },
		{ "a: &m\n  k: v\n", "line 1: anchor &m is not supported" },
		{ "a: 1\nb: *ca\n", "line 2: alias *ca is not supported" },
		{ "a: !!binary aGk=\n", "line 1: tag tag:yaml.org,2002:binary is not supported" },
		{ "a: !!map []\n", "line 1: tag tag:yaml.org,2002:map is not supported" },
		{ "a: 1\n---\nb: 2\n", "line 2: a second document starts here" },
		{ "a: 1\nb: 2\na: 3\n", "line 3: duplicate key \"a\"" },
		{ "? [a]\n: 1\n", "line 1: a mapping or sequence as a key is not supported" },
		{ "a: \"x\\0y\"\n", "line 1: a scalar contains a NUL character" },
		{ "a:\n\tb: 1\n", "line 2, column 1: found character that cannot start any token" },
		{ "a: 1\n  b: 2\n", "line 2, column 4: mapping values are not allowed" },
		{ "a: [1, 2\n", "line 2, column 1: did not find expected ',' or ']'" },
		{ "a: \"\\ud800\"\n", "found invalid Unicode character escape code" },
		{ "a: \xff\n", "byte 3: invalid leading UTF-8 octet" },
		{ "", "the file contains no YAML document" },
		{ "# only a comment\n", "the file contains no YAML document" },
	};

	json_t unwritten;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *root = &unwritten;
		char err[256] = "";

		CHECK_INT(parse(cases[i].text, &root, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].reason))
			fprintf(stderr, "  case %zu: error \"%s\" lacks \"%s\"\n", i, err,
				cases[i].reason);
		CHECK(strstr(err, cases[i].reason) != NULL);
		CHECK(root == &unwritten);
	}
}

/* Builds LEVELS nested flow sequences, "[[...]]", into a new string. */
static char *nested_sequences(int levels)
{
	char *text = malloc(2 * (size_t)levels + 1);

	if (!text)
		abort();
	memset(text, '[', (size_t)levels);
	memset(text + levels, ']', (size_t)levels);
	text[2 * levels] = '\0';
	return text;
}

static void yaml_depth_limit(void)
{
	char *deepest = nested_sequences(AGENT_YAML_DEPTH_MAX);
	char *too_deep = nested_sequences(AGENT_YAML_DEPTH_MAX + 1);
	json_t *root = NULL;
	char err[256] = "";

	CHECK_INT(parse(deepest, &root, err, sizeof(err)), 0);
	json_decref(root);
	root = NULL;
	CHECK_INT(parse(too_deep, &root, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "nest deeper than 32 levels") != NULL);
	CHECK(root == NULL);
	free(deepest);
	free(too_deep);
}

static void yaml_size_limit(void)
{
	char *text = malloc(AGENT_YAML_MAX + 1);
	json_t *root = NULL;
	char err[256] = "";

	if (!text)
		abort();
	/* "a: b" padded with a comment to exactly AGENT_YAML_MAX bytes. */
	memset(text, 'x', AGENT_YAML_MAX + 1);
	memcpy(text, "a: b #", 6);
	CHECK_INT(agent_yaml_to_json(text, AGENT_YAML_MAX, &root, err, sizeof(err)), 0);
	CHECK_STR(string_at(root, "a"), "b");
	json_decref(root);
	root = NULL;
	CHECK_INT(agent_yaml_to_json(text, AGENT_YAML_MAX + 1, &root, err, sizeof(err)), -EFBIG);
	CHECK(strstr(err, "larger than") != NULL);
	CHECK(root == NULL);
	free(text);
}

/* A jansson allocator that fails once alloc_budget allocations are spent,
 * and counts the blocks it has handed out and not yet seen freed. */
static long alloc_budget = -1;
static long alloc_live;

static void *counting_malloc(size_t size)
{
	void *block;

	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	block = malloc(size);
	if (block)
		alloc_live++;
	return block;
}

static void counting_free(void *block)
{
	if (block)
		alloc_live--;
	free(block);
}

/* Fails each jansson allocation in turn while parsing the kubeconfig, and
 * checks that every failure reports -ENOMEM and frees the partial tree.
 * libyaml's own allocations use malloc and are not injected here. */
static void yaml_out_of_memory(void)
{
	int r = -ENOMEM;

	json_set_alloc_funcs(counting_malloc, counting_free);
	for (long budget = 0; r == -ENOMEM && budget < 10000; budget++) {
		json_t *root = NULL;
		char err[256] = "";

		alloc_live = 0;
		alloc_budget = budget;
		r = parse(kubeconfig_yaml, &root, err, sizeof(err));
		alloc_budget = -1;
		if (r == -ENOMEM) {
			CHECK(root == NULL);
			CHECK_STR(err, "out of memory");
		}
		json_decref(root);
		CHECK_INT(alloc_live, 0);
	}
	CHECK_INT(r, 0);
	json_set_alloc_funcs(malloc, free);
}

int main(void)
{
	RUN(yaml_kubectl_shape);
	RUN(yaml_kubectl_json);
	RUN(yaml_scalars_stay_strings);
	RUN(yaml_null_forms);
	RUN(yaml_block_and_flow);
	RUN(yaml_rejects_with_line);
	RUN(yaml_depth_limit);
	RUN(yaml_size_limit);
	RUN(yaml_out_of_memory);
	return UNIT_EXIT();
}
