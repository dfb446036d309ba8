/* Unit tests of registry/config.c: defaults, keys, errors and validation. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static void config_defaults(void)
{
	struct reg_config config;
	char err[256] = "";

	CHECK_INT(reg_config_init(&config), 0);
	CHECK_STR(config.listen, "0.0.0.0:31001");
	CHECK_STR(config.realm, "edgecr");
	CHECK(config.tls_cert == NULL);
	CHECK(config.auth_file == NULL);
	CHECK(config.endpoint == NULL);
	CHECK_INT(config.log_priority, LOG_INFO);
	CHECK(config.max_connections >= 256);
	CHECK_INT(config.header_timeout, 30);
	CHECK_INT(reg_config_validate(&config, err, sizeof(err)), 0);
	CHECK_INT(((struct sockaddr_in *)&config.listen_addr)->sin_port, htons(31001));
	reg_config_release(&config);
	reg_config_release(&config);
}

static void config_set_keys(void)
{
	struct reg_config config;
	char err[256] = "";

	reg_config_init(&config);
	CHECK_INT(reg_config_set(&config, "listen", "127.0.0.1:16001", err, sizeof(err)), 0);
	CHECK_INT(reg_config_set(&config, "log_level", "debug", err, sizeof(err)), 0);
	CHECK_INT(reg_config_set(&config, "max_connections", "300", err, sizeof(err)), 0);
	CHECK_INT(reg_config_set(&config, "auth_file", "/x/auth", err, sizeof(err)), 0);
	CHECK_STR(config.listen, "127.0.0.1:16001");
	CHECK_INT(config.log_priority, LOG_DEBUG);
	CHECK_INT(config.max_connections, 300);
	CHECK_STR(config.auth_file, "/x/auth");

	/* An empty value turns an optional feature off again. */
	CHECK_INT(reg_config_set(&config, "auth_file", "", err, sizeof(err)), 0);
	CHECK(config.auth_file == NULL);
	reg_config_release(&config);
}

static void config_bad_values_name_key_and_value(void)
{
	struct reg_config config;
	char err[256] = "";

	reg_config_init(&config);
	CHECK_INT(reg_config_set(&config, "max_connections", "lots", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "max_connections"));
	CHECK(strstr(err, "\"lots\""));
	CHECK_INT(reg_config_set(&config, "max_connections", "1", err, sizeof(err)), -EINVAL);
	/* A header deadline of 0 would close every connection at once. */
	CHECK_INT(reg_config_set(&config, "header_timeout", "0", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "header_timeout"));
	CHECK_INT(reg_config_set(&config, "header_timeout", "7", err, sizeof(err)), 0);
	CHECK_INT(config.header_timeout, 7);
	CHECK_INT(reg_config_set(&config, "log_level", "loud", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "log_level"));
	CHECK(strstr(err, "\"loud\""));
	CHECK_INT(reg_config_set(&config, "colour", "blue", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "colour"));
	CHECK_INT(reg_config_set(&config, "root", "", err, sizeof(err)), -EINVAL);
	reg_config_release(&config);
}

static void config_validate_rejects(void)
{
	struct reg_config config;
	char err[256] = "";

	reg_config_init(&config);
	reg_config_set(&config, "listen", "localhost:80", err, sizeof(err));
	CHECK_INT(reg_config_validate(&config, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "listen"));
	CHECK(strstr(err, "localhost:80"));

	reg_config_set(&config, "listen", "127.0.0.1:16002", err, sizeof(err));
	reg_config_set(&config, "tls_cert", "/x/cert.pem", err, sizeof(err));
	CHECK_INT(reg_config_validate(&config, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "tls_key"));

	reg_config_set(&config, "tls_key", "/x/key.pem", err, sizeof(err));
	reg_config_set(&config, "endpoint", "https://ecr.example:31001/", err, sizeof(err));
	CHECK_INT(reg_config_validate(&config, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "endpoint"));

	reg_config_set(&config, "endpoint", "https://ecr.example:31001", err, sizeof(err));
	reg_config_set(&config, "realm", "a\"b", err, sizeof(err));
	CHECK_INT(reg_config_validate(&config, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "realm"));
	reg_config_release(&config);
}

static void config_listen_forms(void)
{
	struct sockaddr_storage addr;
	socklen_t len;

	CHECK_INT(reg_config_parse_listen("0.0.0.0:31001", &addr, &len), 0);
	CHECK_INT(addr.ss_family, AF_INET);
	CHECK_INT(reg_config_parse_listen("[::1]:16003", &addr, &len), 0);
	CHECK_INT(addr.ss_family, AF_INET6);
	CHECK_INT(((struct sockaddr_in6 *)&addr)->sin6_port, htons(16003));
	CHECK_INT(reg_config_parse_listen("[::1]16003", &addr, &len), -EINVAL);
	CHECK_INT(reg_config_parse_listen("127.0.0.1", &addr, &len), -EINVAL);
	CHECK_INT(reg_config_parse_listen("127.0.0.1:0", &addr, &len), -EINVAL);
	CHECK_INT(reg_config_parse_listen("127.0.0.1:65536", &addr, &len), -EINVAL);
	CHECK_INT(reg_config_parse_listen("127.0.0.1:80x", &addr, &len), -EINVAL);
}

/* metrics_listen has no authentication, so only loopback addresses pass. */
static void config_metrics_listen_loopback_only(void)
{
	const char *accepted[] = { "127.0.0.1:9101", "127.1.2.3:9101", "[::1]:9101" };
	const char *rejected[] = { "0.0.0.0:9101", "192.0.2.1:9101", "[::]:9101",
				   "[::ffff:127.0.0.1]:9101", "localhost:9101", "128.0.0.1:9101" };
	struct reg_config config;
	char err[256] = "";

	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		reg_config_init(&config);
		CHECK_INT(reg_config_set(&config, "metrics_listen", accepted[i], err, sizeof(err)), 0);
		CHECK_INT(reg_config_validate(&config, err, sizeof(err)), 0);
		reg_config_release(&config);
	}
	for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
		reg_config_init(&config);
		CHECK_INT(reg_config_set(&config, "metrics_listen", rejected[i], err, sizeof(err)), 0);
		CHECK_INT(reg_config_validate(&config, err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "metrics_listen"));
		CHECK(strstr(err, rejected[i]));
		reg_config_release(&config);
	}
}

static void config_file(void)
{
	char path[] = "/tmp/test_reg_config.XXXXXX", err[512] = "";
	struct reg_config config;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# registry\nlisten = 127.0.0.1:16004\nroot = \"/srv/reg\"\nshutdown_timeout = 3\n", f);
	fclose(f);

	reg_config_init(&config);
	CHECK_INT(reg_config_load(&config, path, err, sizeof(err)), 0);
	CHECK_STR(config.listen, "127.0.0.1:16004");
	CHECK_STR(config.root, "/srv/reg");
	CHECK_INT(config.shutdown_timeout, 3);

	f = fopen(path, "w");
	fputs("listen = 127.0.0.1:16004\nupload_idle_timeout = soon\n", f);
	fclose(f);
	CHECK_INT(reg_config_load(&config, path, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, ":2:"));
	CHECK(strstr(err, "upload_idle_timeout"));
	CHECK(strstr(err, "soon"));
	reg_config_release(&config);
	unlink(path);
}

int main(void)
{
	RUN(config_defaults);
	RUN(config_set_keys);
	RUN(config_bad_values_name_key_and_value);
	RUN(config_validate_rejects);
	RUN(config_listen_forms);
	RUN(config_metrics_listen_loopback_only);
	RUN(config_file);
	return UNIT_EXIT();
}
