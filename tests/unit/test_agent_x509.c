/* Unit tests of the agent's certificate code (agent/x509_*.c), checked with
 * OpenSSL's own accessors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/x509v3.h>

#include "x509.h"
#include "unit.h"

struct pair {
	EVP_PKEY *key;
	X509 *cert;
};

static struct pair new_ca(const char *name)
{
	struct pair ca = { 0 };

	if (agent_x509_ca_new(name, 30, &ca.key, &ca.cert) < 0)
		abort();
	return ca;
}

static struct pair issue(struct pair *ca, const char *dns, unsigned days)
{
	struct pair leaf = { 0 };

	if (agent_x509_issue_server(ca->cert, ca->key, dns, "127.0.0.1", days,
				    &leaf.key, &leaf.cert) < 0)
		abort();
	return leaf;
}

static void pair_free(struct pair *p)
{
	EVP_PKEY_free(p->key);
	X509_free(p->cert);
}

static STACK_OF(X509) *chain_of(X509 *a, X509 *b)
{
	STACK_OF(X509) *chain = sk_X509_new_null();

	sk_X509_push(chain, a);
	if (b)
		sk_X509_push(chain, b);
	return chain;
}

static void issued_cert_has_sans_eku_validity(void)
{
	struct pair ca = new_ca("test CA");
	struct pair leaf = issue(&ca, "ecr.dev1.local", 397);
	const ASN1_TIME *not_before = X509_get0_notBefore(leaf.cert);
	const ASN1_TIME *not_after = X509_get0_notAfter(leaf.cert);
	int days = 0, seconds = 0;

	CHECK_INT(X509_check_host(leaf.cert, "ecr.dev1.local", 0, 0, NULL), 1);
	CHECK_INT(X509_check_host(leaf.cert, "ecr.dev2.local", 0, 0, NULL), 0);
	CHECK_INT(X509_check_ip_asc(leaf.cert, "127.0.0.1", 0), 1);
	CHECK(X509_get_extension_flags(leaf.cert) & EXFLAG_XKUSAGE);
	CHECK(X509_get_extended_key_usage(leaf.cert) & XKU_SSL_SERVER);
	CHECK_INT(X509_check_ca(leaf.cert), 0);
	CHECK(X509_check_ca(ca.cert) > 0);

	CHECK_INT(ASN1_TIME_diff(&days, &seconds, not_before, not_after), 1);
	CHECK_INT(days, 397);
	CHECK_INT(seconds, 60);
	CHECK(X509_cmp_current_time(not_before) < 0);
	CHECK_INT(X509_verify(leaf.cert, ca.key), 1);
	CHECK(agent_x509_key_matches(leaf.cert, leaf.key));
	CHECK(!agent_x509_key_matches(leaf.cert, ca.key));
	pair_free(&leaf);
	pair_free(&ca);
}

static void inspect_reports_fields(void)
{
	struct pair ca = new_ca("test CA");
	struct pair leaf = issue(&ca, "ecr.dev1.local", 10);
	struct agent_cert_info info;
	char pin[128];

	CHECK_INT(agent_x509_inspect(leaf.cert, &info), 0);
	CHECK_STR(info.subject, "CN=ecr.dev1.local");
	CHECK_INT(info.n_dns_names, 1);
	CHECK_STR(info.dns_names[0], "ecr.dev1.local");
	CHECK_INT(info.n_ip_addresses, 1);
	CHECK_STR(info.ip_addresses[0], "127.0.0.1");
	CHECK_INT(info.not_after - info.not_before, 10 * 86400 + 60);
	CHECK_INT(strlen(info.sha256_fingerprint), 32 * 3 - 1);
	CHECK_INT(agent_x509_public_key_pin(leaf.cert, pin, sizeof(pin)), 0);
	CHECK(strncmp(pin, "sha256//", 8) == 0);
	CHECK_INT(strlen(pin), 8 + 44);
	pair_free(&leaf);
	pair_free(&ca);
}

static void check_chain_accepts_wildcard(void)
{
	struct pair ca = new_ca("byo root");
	struct pair leaf = issue(&ca, "*.dev1.local", 30);
	STACK_OF(X509) *chain = chain_of(leaf.cert, ca.cert);
	X509 *root = NULL;
	char err[256] = "";

	CHECK_INT(agent_x509_check_chain(chain, leaf.key, NULL, "ecr.dev1.local", &root,
					 err, sizeof(err)), 0);
	CHECK(root != NULL);
	CHECK(root == NULL || X509_cmp(root, ca.cert) == 0);
	X509_free(root);
	sk_X509_free(chain);
	pair_free(&leaf);
	pair_free(&ca);
}

static void check_chain_rejects_wrong_name(void)
{
	struct pair ca = new_ca("byo root");
	struct pair leaf = issue(&ca, "ecr.other.local", 30);
	STACK_OF(X509) *chain = chain_of(leaf.cert, ca.cert);
	char err[256] = "";

	CHECK_INT(agent_x509_check_chain(chain, leaf.key, NULL, "ecr.dev1.local", NULL,
					 err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "does not cover ecr.dev1.local") != NULL);
	sk_X509_free(chain);
	pair_free(&leaf);
	pair_free(&ca);
}

static void check_chain_rejects_key_mismatch(void)
{
	struct pair ca = new_ca("byo root");
	struct pair leaf = issue(&ca, "ecr.dev1.local", 30);
	STACK_OF(X509) *chain = chain_of(leaf.cert, ca.cert);
	char err[256] = "";

	CHECK_INT(agent_x509_check_chain(chain, ca.key, NULL, "ecr.dev1.local", NULL,
					 err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "private key does not match") != NULL);
	sk_X509_free(chain);
	pair_free(&leaf);
	pair_free(&ca);
}

static void check_chain_rejects_unverifiable(void)
{
	struct pair ca = new_ca("byo root");
	struct pair other = new_ca("another root");
	struct pair leaf = issue(&ca, "ecr.dev1.local", 30);
	STACK_OF(X509) *wrong_root = chain_of(leaf.cert, other.cert);
	STACK_OF(X509) *leaf_only = chain_of(leaf.cert, NULL);
	char err[256] = "";

	CHECK_INT(agent_x509_check_chain(wrong_root, leaf.key, NULL, "ecr.dev1.local", NULL,
					 err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "does not verify") != NULL);
	CHECK_INT(agent_x509_check_chain(leaf_only, leaf.key, NULL, "ecr.dev1.local", NULL,
					 err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "no self-signed root") != NULL);
	sk_X509_free(wrong_root);
	sk_X509_free(leaf_only);
	pair_free(&leaf);
	pair_free(&other);
	pair_free(&ca);
}

static void pem_round_trip(void)
{
	char dir[] = "/tmp/test_agent_x509_XXXXXX";
	char cert_path[64], key_path[64];
	struct pair ca = new_ca("test CA");
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(cert_path, sizeof(cert_path), "%s/ca.crt", dir);
	snprintf(key_path, sizeof(key_path), "%s/ca.key", dir);
	CHECK_INT(agent_pem_write_cert(cert_path, ca.cert), 0);
	CHECK_INT(agent_pem_write_key(key_path, ca.key), 0);
	CHECK_INT(agent_pem_read_certs(cert_path, &certs), 0);
	CHECK_INT(agent_pem_read_key(key_path, &key), 0);
	CHECK_INT(sk_X509_num(certs), 1);
	CHECK_INT(X509_cmp(sk_X509_value(certs, 0), ca.cert), 0);
	CHECK(agent_x509_key_matches(ca.cert, key));
	CHECK_INT(agent_pem_read_certs("/nonexistent/x.crt", &certs), -ENOENT);
	CHECK_INT(agent_pem_parse_certs("not pem", 7, &certs), -EINVAL);

	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	unlink(cert_path);
	unlink(key_path);
	rmdir(dir);
	pair_free(&ca);
}

int main(void)
{
	RUN(issued_cert_has_sans_eku_validity);
	RUN(inspect_reports_fields);
	RUN(check_chain_accepts_wildcard);
	RUN(check_chain_rejects_wrong_name);
	RUN(check_chain_rejects_key_mismatch);
	RUN(check_chain_rejects_unverifiable);
	RUN(pem_round_trip);
	return UNIT_EXIT();
}
