/*
 * Keys, the device CA and server certificates; see x509.h.
 *
 * Certificates start one minute in the past so that a client whose clock is
 * slightly behind the device's still accepts a certificate issued just now.
 */
#include "x509.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define BACKDATE_SECONDS 60
#define SERIAL_BITS 159

int agent_x509_key_new(EVP_PKEY **ret_key)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");

	if (!key)
		return -EIO;
	*ret_key = key;
	return 0;
}

static int set_random_serial(X509 *cert)
{
	BIGNUM *bn = BN_new();
	int ok;

	/* A positive 159-bit number fits the 20 bytes RFC 5280 allows. */
	ok = bn && BN_rand(bn, SERIAL_BITS, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);
	return ok ? 0 : -EIO;
}

static int add_extension(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EIO;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -EIO;
}

/* Creates an unsigned certificate "CN=COMMON_NAME" for KEY with a random
 * serial and a validity of DAYS from now. */
static int cert_new(const char *common_name, EVP_PKEY *key, unsigned days, X509 **ret_cert)
{
	X509 *cert = X509_new();
	X509_NAME *name;
	int r = -EIO;

	if (!cert)
		return -ENOMEM;
	if (!X509_set_version(cert, X509_VERSION_3) || set_random_serial(cert) < 0)
		goto out;
	if (!X509_gmtime_adj(X509_getm_notBefore(cert), -BACKDATE_SECONDS) ||
	    !X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, 0, NULL))
		goto out;

	name = X509_get_subject_name(cert);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)common_name, -1, -1, 0))
		goto out;
	if (!X509_set_pubkey(cert, key))
		goto out;

	*ret_cert = cert;
	cert = NULL;
	r = 0;

out:
	X509_free(cert);
	return r;
}

static int ca_add_extensions(X509 *cert)
{
	if (!X509_set_issuer_name(cert, X509_get_subject_name(cert)))
		return -EIO;
	if (add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
	    add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    add_extension(cert, cert, NID_subject_key_identifier, "hash") < 0 ||
	    add_extension(cert, cert, NID_authority_key_identifier, "keyid:always") < 0)
		return -EIO;
	return 0;
}

int agent_x509_ca_new(const char *common_name, unsigned days,
		      EVP_PKEY **ret_key, X509 **ret_cert)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int r;

	r = agent_x509_key_new(&key);
	if (r < 0)
		goto out;
	r = cert_new(common_name, key, days, &cert);
	if (r < 0)
		goto out;
	r = ca_add_extensions(cert);
	if (r < 0)
		goto out;
	if (X509_sign(cert, key, EVP_sha256()) <= 0) {
		r = -EIO;
		goto out;
	}

	*ret_key = key;
	*ret_cert = cert;
	key = NULL;
	cert = NULL;

out:
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}

static int server_add_extensions(X509 *cert, X509 *ca_cert, const char *dns_name,
				 const char *ip)
{
	char san[512];
	int n;

	n = snprintf(san, sizeof(san), "DNS:%s,IP:%s", dns_name, ip);
	if (n < 0 || (size_t)n >= sizeof(san))
		return -ENAMETOOLONG;
	if (!X509_set_issuer_name(cert, X509_get_subject_name(ca_cert)))
		return -EIO;
	if (add_extension(cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_extension(cert, ca_cert, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_extension(cert, ca_cert, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_extension(cert, ca_cert, NID_subject_alt_name, san) < 0 ||
	    add_extension(cert, ca_cert, NID_subject_key_identifier, "hash") < 0 ||
	    add_extension(cert, ca_cert, NID_authority_key_identifier, "keyid:always") < 0)
		return -EIO;
	return 0;
}

int agent_x509_issue_server(X509 *ca_cert, EVP_PKEY *ca_key, const char *dns_name,
			    const char *ip, unsigned days,
			    EVP_PKEY **ret_key, X509 **ret_cert)
{
	unsigned char addr[sizeof(struct in6_addr)];
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int r;

	if (inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1)
		return -EINVAL;

	r = agent_x509_key_new(&key);
	if (r < 0)
		goto out;
	r = cert_new(dns_name, key, days, &cert);
	if (r < 0)
		goto out;
	r = server_add_extensions(cert, ca_cert, dns_name, ip);
	if (r < 0)
		goto out;
	if (X509_sign(cert, ca_key, EVP_sha256()) <= 0) {
		r = -EIO;
		goto out;
	}

	*ret_key = key;
	*ret_cert = cert;
	key = NULL;
	cert = NULL;

out:
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}
