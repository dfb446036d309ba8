/* Unit tests of the agent's configuration (agent/config.c, config_defaults.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* By path: registry/config.h comes first on the unit tests' include path. */
#include "config.h"
#include "unit.h"

static struct agent_config *new_config(void)
{
	struct agent_config *config = NULL;

	if (agent_config_new(&config) < 0)
		abort();
	return config;
}

static void config_defaults(void)
{
	struct agent_config *c = new_config();
	char err[512];

	CHECK_INT(agent_config_finish(c, err, sizeof(err)), 0);
	CHECK_STR(c->dns_domain, "local");
	CHECK_STR(c->registry_ip, "127.0.0.1");
	CHECK_INT(c->registry_port, 31001);
	CHECK_STR(c->registry_listen, "127.0.0.1:31001");
	CHECK_STR(c->state_dir, "/var/lib/edgecr");
	CHECK_STR(c->socket_path, "/run/edgecr/agent.sock");
	CHECK_STR(c->admin_group, "edgecr-admin");
	CHECK_INT(c->socket_mode, 0660);
	CHECK_INT(c->certificate_validity_days, 397);
	CHECK_INT(c->renew_before_days, 30);
	CHECK_INT(c->registry_watchdog_sec, 10);
	CHECK(agent_dns_label_is_valid(c->device_name, strlen(c->device_name)));
	CHECK(c->registry_binary != NULL);
	CHECK(strstr(c->registry_binary, "/edgecr-registry") != NULL);
	CHECK(c->registry_user == NULL);
	CHECK_STR(c->registry_gc_schedule, "03:00");
	CHECK_STR(c->registry_storage_limit, "0");
	CHECK_STR(c->registry_min_free_space, "1G");
	agent_config_free(c);
}

static void config_rejects_bad_values(void)
{
	static const char *const cases[][2] = {
		{ "registry_port", "0" }, { "registry_port", "65536" }, { "registry_port", "x" },
		{ "device_name", "Dev1" }, { "device_name", "-dev" }, { "device_name", "a.b" },
		{ "dns_domain", "example..com" }, { "dns_domain", "" },
		{ "registry_ip", "1.2.3" }, { "registry_ip", "localhost" },
		{ "registry_listen", "127.0.0.1" }, { "registry_listen", "::1:80" },
		{ "state_dir", "relative/dir" }, { "socket_mode", "999" },
		{ "log_level", "loud" }, { "certificate_validity_days", "0" },
		{ "registry_gc_schedule", "24:00" }, { "registry_gc_schedule", "3:00" },
		{ "registry_storage_limit", "10X" }, { "registry_storage_limit", "-1" },
		{ "registry_min_free_space", "91%" }, { "registry_min_free_space", "0%" },
		{ "registry_min_free_space", "%" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_config *c = new_config();
		char err[512] = "";

		CHECK_INT(agent_config_set(c, cases[i][0], cases[i][1], err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, cases[i][0]) != NULL);
		CHECK(strstr(err, cases[i][1]) != NULL);
		agent_config_free(c);
	}
}

static void config_storage_keys(void)
{
	static const char *const cases[][2] = {
		{ "registry_gc_schedule", "23:59" }, { "registry_storage_limit", "20G" },
		{ "registry_storage_limit", "512MiB" }, { "registry_min_free_space", "5%" },
		{ "registry_min_free_space", "0" },
	};
	struct agent_config *c = new_config();
	char err[512] = "";

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(agent_config_set(c, cases[i][0], cases[i][1], err, sizeof(err)), 0);
	CHECK_STR(c->registry_storage_limit, "512MiB");
	CHECK_STR(c->registry_min_free_space, "0");
	CHECK_INT(agent_config_set(c, "registry_gc_schedule", "", err, sizeof(err)), 0);
	CHECK(c->registry_gc_schedule == NULL);
	agent_config_free(c);
}

static void config_unknown_key(void)
{
	struct agent_config *c = new_config();
	char err[512] = "";

	CHECK_INT(agent_config_set(c, "registry_prot", "1", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "registry_prot") != NULL);
	agent_config_free(c);
}

static void config_file_error_names_line(void)
{
	char path[] = "/tmp/test_agent_config_XXXXXX";
	struct agent_config *c = new_config();
	char err[512] = "";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs("device_name = dev1\n# comment\nregistry_port = 70000\n", f);
	fclose(f);
	CHECK_INT(agent_config_load(c, path, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, ":3:") != NULL);
	CHECK(strstr(err, "registry_port") != NULL);
	CHECK(strstr(err, "70000") != NULL);
	unlink(path);
	agent_config_free(c);
}

static void config_ca_keys_together(void)
{
	struct agent_config *c = new_config();
	char err[512] = "";

	CHECK_INT(agent_config_set(c, "ca_cert", "/etc/ca.crt", err, sizeof(err)), 0);
	CHECK_INT(agent_config_finish(c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "ca_key") != NULL);
	agent_config_free(c);
}

static void config_registry_user(void)
{
	struct agent_config *c = new_config();
	char err[512] = "";

	CHECK_INT(agent_config_set(c, "registry_user", "root", err, sizeof(err)), 0);
	CHECK_STR(c->registry_user, "root");
	CHECK_INT(c->registry_uid, 0);
	CHECK_INT(c->registry_gid, 0);

	CHECK_INT(agent_config_set(c, "registry_user", "edgecr-no-such-user", err, sizeof(err)),
		  -EINVAL);
	CHECK(strstr(err, "registry_user") != NULL);
	CHECK(strstr(err, "edgecr-no-such-user") != NULL);
	CHECK_STR(c->registry_user, "root");

	CHECK_INT(agent_config_set(c, "registry_user", "", err, sizeof(err)), 0);
	CHECK(c->registry_user == NULL);
	agent_config_free(c);
}

static void endpoint_composition(void)
{
	struct agent_config *c = new_config();
	char name[AGENT_ENDPOINT_MAX], endpoint[AGENT_ENDPOINT_MAX], err[512];

	CHECK_INT(agent_config_set(c, "device_name", "dev1", err, sizeof(err)), 0);
	CHECK_INT(agent_config_set(c, "dns_domain", "example.com", err, sizeof(err)), 0);
	CHECK_INT(agent_endpoint_name(c, name), 0);
	CHECK_STR(name, "ecr.dev1.example.com");
	CHECK_INT(agent_endpoint_format(c, endpoint), 0);
	CHECK_STR(endpoint, "ecr.dev1.example.com:31001");

	CHECK_INT(agent_config_set(c, "registry_ip", "::1", err, sizeof(err)), 0);
	CHECK_INT(agent_config_set(c, "registry_port", "17001", err, sizeof(err)), 0);
	CHECK_INT(agent_config_finish(c, err, sizeof(err)), 0);
	CHECK_STR(c->registry_listen, "[::1]:17001");
	CHECK_INT(agent_endpoint_format(c, endpoint), 0);
	CHECK_STR(endpoint, "ecr.dev1.example.com:17001");
	agent_config_free(c);
}

int main(void)
{
	RUN(config_defaults);
	RUN(config_rejects_bad_values);
	RUN(config_storage_keys);
	RUN(config_unknown_key);
	RUN(config_file_error_names_line);
	RUN(config_ca_keys_together);
	RUN(config_registry_user);
	RUN(endpoint_composition);
	return UNIT_EXIT();
}
