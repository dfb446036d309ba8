/* Unit tests of the node trust files and the hosts line (agent/trust.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fileio.h"
#include "trust.h"
#include "unit.h"

static char *read_text(const char *path)
{
	char *data = NULL;
	size_t len;

	return ecr_read_file(path, 1 << 20, &data, &len) == 0 ? data : NULL;
}

static void hosts_edit_keeps_other_lines(void)
{
	char *out = agent_trust_hosts_edit("127.0.0.1 localhost\n10.0.0.5 ecr.old.local # edgecr\n"
					   "# a comment # edgecr here\n::1 ip6-localhost", "10.0.0.9 ecr.dev1.local # edgecr");

	CHECK_STR(out, "127.0.0.1 localhost\n# a comment # edgecr here\n::1 ip6-localhost\n"
		  "10.0.0.9 ecr.dev1.local # edgecr\n");
	free(out);
	out = agent_trust_hosts_edit("a\n1.2.3.4 x # edgecr  \n", NULL);
	CHECK_STR(out, "a\n");
	free(out);
}

static struct agent_config *temp_config(const char *dir)
{
	struct agent_config *c = NULL;
	char path[512], err[256];

	if (agent_config_new(&c) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/containerd", dir);
	agent_config_set(c, "trust_containerd_dir", path, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/docker", dir);
	agent_config_set(c, "trust_docker_dir", path, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/hosts", dir);
	agent_config_set(c, "hosts_file", path, err, sizeof(err));
	return c;
}

static void trust_write_and_remove(void)
{
	char dir[] = "/tmp/edgecr-unit-trust-XXXXXX", path[512], expected[1024], err[512] = "";
	struct agent_trust_target t = { .endpoint = "ecr.dev1.local:31001", .name = "ecr.dev1.local",
					.ip = "192.0.2.10", .ca_pem = "PEM\n", .ca_len = 4 };
	struct agent_config *c;
	bool changed = false;
	char *text;

	if (!mkdtemp(dir))
		abort();
	c = temp_config(dir);
	snprintf(path, sizeof(path), "%s/hosts", dir);
	if (ecr_write_file_atomic(path, "127.0.0.1 localhost\n", 20, 0644) < 0)
		abort();

	CHECK_INT(agent_trust_write(c, &t, &changed, err, sizeof(err)), 0);
	CHECK(changed);
	text = read_text(path);
	CHECK_STR(text, "127.0.0.1 localhost\n192.0.2.10 ecr.dev1.local # edgecr\n");
	free(text);
	snprintf(path, sizeof(path), "%s/containerd/ecr.dev1.local:31001/hosts.toml", dir);
	text = read_text(path);
	snprintf(expected, sizeof(expected),
		 "# Written by edgecr-agent; it replaces this file on each Set.\n"
		 "server = \"https://ecr.dev1.local:31001\"\n\n"
		 "[host.\"https://ecr.dev1.local:31001\"]\n"
		 "  capabilities = [\"pull\", \"resolve\"]\n"
		 "  ca = \"%s/containerd/ecr.dev1.local:31001/ca.crt\"\n", dir);
	CHECK_STR(text, expected);
	free(text);
	snprintf(path, sizeof(path), "%s/docker/ecr.dev1.local:31001/ca.crt", dir);
	text = read_text(path);
	CHECK_STR(text, "PEM\n");
	free(text);

	/* The same content again changes nothing. */
	changed = false;
	CHECK_INT(agent_trust_write(c, &t, &changed, err, sizeof(err)), 0);
	CHECK(!changed);

	CHECK_INT(agent_trust_remove(c, t.endpoint, err, sizeof(err)), 0);
	CHECK(access(path, F_OK) < 0);
	snprintf(path, sizeof(path), "%s/containerd/ecr.dev1.local:31001", dir);
	CHECK(access(path, F_OK) < 0);
	snprintf(path, sizeof(path), "%s/hosts", dir);
	text = read_text(path);
	CHECK_STR(text, "127.0.0.1 localhost\n");
	free(text);

	unlink(path);
	snprintf(path, sizeof(path), "%s/containerd", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/docker", dir);
	rmdir(path);
	rmdir(dir);
	agent_config_free(c);
}

/* A folder the agent cannot create is reported with its path. */
static void trust_write_reports_path(void)
{
	struct agent_trust_target t = { .endpoint = "e:1", .name = "e", .ip = "127.0.0.1",
					.ca_pem = "x", .ca_len = 1 };
	struct agent_config *c = temp_config("/proc");
	bool changed = false;
	char err[512] = "";

	CHECK(agent_trust_write(c, &t, &changed, err, sizeof(err)) < 0);
	CHECK(strstr(err, "/proc/containerd/e:1") != NULL);
	agent_config_free(c);
}

/* A runtime whose folder (the parent of certs.d) is missing is skipped. */
static void trust_skips_missing_runtime(void)
{
	struct agent_trust_target t = { .endpoint = "e:1", .name = "e", .ip = "127.0.0.1",
					.ca_pem = "x", .ca_len = 1 };
	char dir[] = "/tmp/edgecr-unit-trust-XXXXXX", path[512], err[512] = "";
	struct agent_config *c;
	bool changed = false;

	if (!mkdtemp(dir))
		abort();
	c = temp_config(dir);
	snprintf(path, sizeof(path), "%s/no-containerd/certs.d", dir);
	agent_config_set(c, "trust_containerd_dir", path, err, sizeof(err));
	CHECK_INT(agent_trust_write(c, &t, &changed, err, sizeof(err)), 0);
	CHECK(changed);
	snprintf(path, sizeof(path), "%s/no-containerd", dir);
	CHECK(access(path, F_OK) < 0);
	snprintf(path, sizeof(path), "%s/docker/e:1/ca.crt", dir);
	CHECK(access(path, F_OK) == 0);

	CHECK_INT(agent_trust_remove(c, t.endpoint, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/hosts", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/docker", dir);
	rmdir(path);
	rmdir(dir);
	agent_config_free(c);
}

/* A hosts file bind-mounted over (EBUSY on rename) is rewritten in place.
 * Needs root for a private mount namespace; skipped otherwise. */
static void trust_hosts_bind_mount(void)
{
	struct agent_trust_target t = { .endpoint = "e:1", .name = "e", .ip = "127.0.0.1",
					.ca_pem = "x", .ca_len = 1 };
	char dir[] = "/tmp/edgecr-unit-trust-XXXXXX", hosts[512], source[512], err[512] = "";
	struct agent_config *c;
	bool changed = false;
	char *text;

	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("# trust_hosts_bind_mount skipped: no private mount namespace (not root?)\n");
		return;
	}
	if (!mkdtemp(dir))
		abort();
	c = temp_config(dir);
	snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
	snprintf(source, sizeof(source), "%s/hosts.real", dir);
	if (ecr_write_file_atomic(hosts, "", 0, 0644) < 0 ||
	    ecr_write_file_atomic(source, "127.0.0.1 localhost\n", 20, 0644) < 0 ||
	    mount(source, hosts, "none", MS_BIND, NULL) < 0)
		abort();

	CHECK_INT(agent_trust_write(c, &t, &changed, err, sizeof(err)), 0);
	text = read_text(source);
	CHECK_STR(text, "127.0.0.1 localhost\n127.0.0.1 e # edgecr\n");
	free(text);
	CHECK_INT(agent_trust_remove(c, t.endpoint, err, sizeof(err)), 0);
	text = read_text(source);
	CHECK_STR(text, "127.0.0.1 localhost\n");
	free(text);

	umount(hosts);
	unlink(hosts);
	unlink(source);
	snprintf(hosts, sizeof(hosts), "%s/containerd", dir);
	rmdir(hosts);
	snprintf(hosts, sizeof(hosts), "%s/docker", dir);
	rmdir(hosts);
	rmdir(dir);
	agent_config_free(c);
}

int main(void)
{
	RUN(hosts_edit_keeps_other_lines);
	RUN(trust_write_and_remove);
	RUN(trust_write_reports_path);
	RUN(trust_skips_missing_runtime);
	RUN(trust_hosts_bind_mount);
	return UNIT_EXIT();
}
