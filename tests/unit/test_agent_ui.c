/*
 * Unit tests for ui_format.c: the web UI's language choice, download header,
 * Basic credentials, same-origin checks, repository names, references, static
 * file types, and the PEM to DER conversion.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "unit.h"
#include "config.h"
#include "ui_format.h"
#include "x509.h"

static void language_pick(void)
{
	CHECK_STR(agent_ui_pick_language(NULL), "en");
	CHECK_STR(agent_ui_pick_language(""), "en");
	CHECK_STR(agent_ui_pick_language("pt-PT,pt;q=0.9,en;q=0.8"), "pt");
	CHECK_STR(agent_ui_pick_language("pt"), "pt");
	CHECK_STR(agent_ui_pick_language("PT-br"), "pt");
	CHECK_STR(agent_ui_pick_language("en-US,en;q=0.9,pt;q=0.8"), "en");
	CHECK_STR(agent_ui_pick_language("en;q=0.5, pt;q=0.7"), "pt");
	CHECK_STR(agent_ui_pick_language("de-DE,fr;q=0.9"), "en");
	CHECK_STR(agent_ui_pick_language("pt;q=0,en;q=0.1"), "en");
	CHECK_STR(agent_ui_pick_language("pt;q=0"), "en");
	CHECK_STR(agent_ui_pick_language("ptx,en"), "en");
}

static void language_tie_goes_first(void)
{
	CHECK_STR(agent_ui_pick_language("en,pt"), "en");
	CHECK_STR(agent_ui_pick_language("pt,en"), "pt");
}

static void disposition_format(void)
{
	char value[64];

	CHECK_INT(agent_ui_content_disposition("ecr.dev1.local-ca.cer", value, sizeof(value)), 0);
	CHECK_STR(value, "attachment; filename=\"ecr.dev1.local-ca.cer\"");
	CHECK_INT(agent_ui_content_disposition("a\"b.crt", value, sizeof(value)), -EINVAL);
	CHECK_INT(agent_ui_content_disposition("a b.crt", value, sizeof(value)), -EINVAL);
	CHECK_INT(agent_ui_content_disposition("", value, sizeof(value)), -EINVAL);
	CHECK_INT(agent_ui_content_disposition("abcdefghijklmnopqrstuvwxyz0123456789abcdefghij.crt",
					       value, sizeof(value)), -ENAMETOOLONG);
}

static void basic_auth_parse(void)
{
	char user[32], password[32];

	/* "ase-ecr-user:pa:ss" */
	CHECK_INT(agent_ui_parse_basic_auth("Basic YXNlLWVjci11c2VyOnBhOnNz", user, password,
					    sizeof(user)), 0);
	CHECK_STR(user, "ase-ecr-user");
	CHECK_STR(password, "pa:ss");
	/* "a:b" needs one padding character: "YTpi" has none, "YTpiYw==" two. */
	CHECK_INT(agent_ui_parse_basic_auth("basic YTpi", user, password, sizeof(user)), 0);
	CHECK_STR(password, "b");
	CHECK_INT(agent_ui_parse_basic_auth("Basic YTpiYw==", user, password, sizeof(user)), 0);
	CHECK_STR(password, "bc");
	CHECK_INT(agent_ui_parse_basic_auth("Basic YTo=", user, password, sizeof(user)), 0);
	CHECK_STR(password, "");
}

static void basic_auth_reject(void)
{
	char user[8], password[8];

	CHECK_INT(agent_ui_parse_basic_auth(NULL, user, password, sizeof(user)), -EINVAL);
	CHECK_INT(agent_ui_parse_basic_auth("Bearer abc", user, password, sizeof(user)), -EINVAL);
	CHECK_INT(agent_ui_parse_basic_auth("Basic ", user, password, sizeof(user)), -EINVAL);
	CHECK_INT(agent_ui_parse_basic_auth("Basic !!!!", user, password, sizeof(user)), -EINVAL);
	CHECK_INT(agent_ui_parse_basic_auth("Basic YWJj", user, password, sizeof(user)), -EINVAL);
	/* "abcdefghijk:x": the user does not fit in 8 bytes. */
	CHECK_INT(agent_ui_parse_basic_auth("Basic YWJjZGVmZ2hpams6eA==", user, password,
					    sizeof(user)), -EINVAL);
	/* "a\0b:c": a NUL inside is rejected. */
	CHECK_INT(agent_ui_parse_basic_auth("Basic YQBiOmM=", user, password, sizeof(user)), -EINVAL);
}

static void host_and_origin(void)
{
	CHECK(agent_ui_host_is_local("127.0.0.1:26001"));
	CHECK(agent_ui_host_is_local("127.0.0.1"));
	CHECK(agent_ui_host_is_local("127.1.2.3:80"));
	CHECK(agent_ui_host_is_local("localhost:8080"));
	CHECK(agent_ui_host_is_local("[::1]:8080"));
	CHECK(!agent_ui_host_is_local("evil.example"));
	CHECK(!agent_ui_host_is_local("10.0.0.1:80"));
	CHECK(!agent_ui_host_is_local("[::2]:80"));
	CHECK(!agent_ui_host_is_local("[::1"));
	CHECK(!agent_ui_host_is_local(""));
	CHECK(!agent_ui_host_is_local(NULL));

	CHECK(agent_ui_origin_matches("http://127.0.0.1:26001", "127.0.0.1:26001"));
	CHECK(!agent_ui_origin_matches("http://127.0.0.1:26002", "127.0.0.1:26001"));
	CHECK(!agent_ui_origin_matches("https://127.0.0.1:26001", "127.0.0.1:26001"));
	CHECK(!agent_ui_origin_matches("null", "127.0.0.1:26001"));
	CHECK(!agent_ui_origin_matches(NULL, "127.0.0.1:26001"));
	CHECK(!agent_ui_origin_matches("http://127.0.0.1:26001", NULL));
}

static void loopback_ip(void)
{
	CHECK(agent_ui_ip_is_loopback("127.0.0.1"));
	CHECK(agent_ui_ip_is_loopback("127.255.0.1"));
	CHECK(agent_ui_ip_is_loopback("::1"));
	CHECK(!agent_ui_ip_is_loopback("0.0.0.0"));
	CHECK(!agent_ui_ip_is_loopback("128.0.0.1"));
	CHECK(!agent_ui_ip_is_loopback("::"));
	CHECK(!agent_ui_ip_is_loopback("localhost"));
}

static void repository_names(void)
{
	CHECK(agent_ui_repository_is_valid("tools"));
	CHECK(agent_ui_repository_is_valid("app/web"));
	CHECK(agent_ui_repository_is_valid("a.b_c__d---e/f0"));
	CHECK(!agent_ui_repository_is_valid(""));
	CHECK(!agent_ui_repository_is_valid("App"));
	CHECK(!agent_ui_repository_is_valid("app//web"));
	CHECK(!agent_ui_repository_is_valid("/app"));
	CHECK(!agent_ui_repository_is_valid("app/"));
	CHECK(!agent_ui_repository_is_valid("a..b"));
	CHECK(!agent_ui_repository_is_valid("a___b"));
	CHECK(!agent_ui_repository_is_valid("-a"));
	CHECK(!agent_ui_repository_is_valid("../etc"));
	CHECK(!agent_ui_repository_is_valid("a?b"));
}

static void references(void)
{
	char long_tag[AGENT_UI_REFERENCE_MAX + 2];

	CHECK(agent_ui_reference_is_valid("latest"));
	CHECK(agent_ui_reference_is_valid("v1.2.3-rc_1"));
	CHECK(agent_ui_reference_is_valid("_x"));
	CHECK(agent_ui_reference_is_valid(
		"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	CHECK(!agent_ui_reference_is_valid(
		"sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	CHECK(!agent_ui_reference_is_valid("sha256:abc"));
	CHECK(!agent_ui_reference_is_valid(""));
	CHECK(!agent_ui_reference_is_valid(".x"));
	CHECK(!agent_ui_reference_is_valid("-x"));
	CHECK(!agent_ui_reference_is_valid("a/b"));
	memset(long_tag, 'a', sizeof(long_tag) - 1);
	long_tag[sizeof(long_tag) - 1] = '\0';
	CHECK(!agent_ui_reference_is_valid(long_tag));
	long_tag[sizeof(long_tag) - 2] = '\0';
	CHECK(agent_ui_reference_is_valid(long_tag));
}

static void static_types(void)
{
	CHECK_STR(agent_ui_static_type("index.html"), "text/html; charset=utf-8");
	CHECK_STR(agent_ui_static_type("app.js"), "text/javascript; charset=utf-8");
	CHECK_STR(agent_ui_static_type("app.css"), "text/css; charset=utf-8");
	CHECK(agent_ui_static_type("passwd") == NULL);
	CHECK(agent_ui_static_type("key.pem") == NULL);
	CHECK(agent_ui_static_type("a.js/b") == NULL);
}

static void pem_to_der(void)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL, *back = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	unsigned char *der = NULL;
	const unsigned char *p;
	char *pem;
	size_t der_len = 0;
	long pem_len;

	CHECK_INT(agent_x509_ca_new("unit test CA", 1, &key, &cert), 0);
	PEM_write_bio_X509(bio, cert);
	pem_len = BIO_get_mem_data(bio, &pem);
	CHECK_INT(agent_ui_pem_to_der(pem, (size_t)pem_len, &der, &der_len), 0);
	CHECK_INT(der_len, i2d_X509(cert, NULL));
	p = der;
	back = d2i_X509(NULL, &p, (long)der_len);
	CHECK(back != NULL);
	if (back)
		CHECK_INT(X509_cmp(cert, back), 0);
	CHECK_INT(agent_ui_pem_to_der("not PEM", 7, &der, &der_len), -EINVAL);

	free(der);
	X509_free(back);
	X509_free(cert);
	EVP_PKEY_free(key);
	BIO_free(bio);
}

static void config_ui_listen(void)
{
	struct agent_config *config = NULL;
	char err[256];

	CHECK_INT(agent_config_new(&config), 0);
	CHECK(config->ui_listen == NULL);
	CHECK_STR(config->ui_dir, AGENT_DEFAULT_UI_DIR);
	CHECK_INT(agent_config_set(config, "ui_listen", "127.0.0.1:26001", err, sizeof(err)), 0);
	CHECK_STR(config->ui_listen, "127.0.0.1:26001");
	CHECK_INT(agent_config_set(config, "ui_listen", "[::1]:26001", err, sizeof(err)), 0);
	CHECK_INT(agent_config_set(config, "ui_listen", "0.0.0.0:26001", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "ui_listen") != NULL);
	CHECK_INT(agent_config_set(config, "ui_listen", "192.168.1.5:80", err, sizeof(err)), -EINVAL);
	CHECK_INT(agent_config_set(config, "ui_listen", ":26001", err, sizeof(err)), -EINVAL);
	CHECK_INT(agent_config_set(config, "ui_listen", "127.0.0.1:0", err, sizeof(err)), -EINVAL);
	CHECK_INT(agent_config_set(config, "ui_listen", "127.0.0.1", err, sizeof(err)), -EINVAL);
	CHECK_INT(agent_config_set(config, "ui_dir", "relative/ui", err, sizeof(err)), -EINVAL);
	agent_config_free(config);
}

int main(void)
{
	RUN(language_pick);
	RUN(language_tie_goes_first);
	RUN(disposition_format);
	RUN(basic_auth_parse);
	RUN(basic_auth_reject);
	RUN(host_and_origin);
	RUN(loopback_ip);
	RUN(repository_names);
	RUN(references);
	RUN(static_types);
	RUN(pem_to_der);
	RUN(config_ui_listen);
	return UNIT_EXIT();
}
