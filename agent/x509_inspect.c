/*
 * Facts about a certificate for the status API and the TLS probe; see x509.h.
 */
#include "x509.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

static int subject_text(X509 *cert, char *ret_text, size_t size)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int r = -EIO;

	if (!bio)
		return -ENOMEM;
	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0)
		goto out;
	len = BIO_get_mem_data(bio, &data);
	snprintf(ret_text, size, "%.*s", (int)len, len > 0 ? data : "");
	r = 0;

out:
	BIO_free(bio);
	return r;
}

static void add_ip(struct agent_cert_info *info, const ASN1_OCTET_STRING *ip)
{
	char *slot = info->ip_addresses[info->n_ip_addresses];
	int len = ASN1_STRING_length(ip);
	int family;

	if (len == 4)
		family = AF_INET;
	else if (len == 16)
		family = AF_INET6;
	else
		return;
	if (info->n_ip_addresses >= 8)
		return;
	if (inet_ntop(family, ASN1_STRING_get0_data(ip), slot, sizeof(info->ip_addresses[0])))
		info->n_ip_addresses++;
}

static void add_dns(struct agent_cert_info *info, const ASN1_IA5STRING *dns)
{
	if (info->n_dns_names >= 8)
		return;
	snprintf(info->dns_names[info->n_dns_names++], sizeof(info->dns_names[0]), "%.*s",
		 ASN1_STRING_length(dns), (const char *)ASN1_STRING_get0_data(dns));
}

static void read_sans(X509 *cert, struct agent_cert_info *info)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);

	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);

		if (name->type == GEN_DNS)
			add_dns(info, name->d.dNSName);
		else if (name->type == GEN_IPADD)
			add_ip(info, name->d.iPAddress);
	}
	GENERAL_NAMES_free(names);
}

static int asn1_time_to_epoch(const ASN1_TIME *t, time_t *ret)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm))
		return -EIO;
	*ret = timegm(&tm);
	return 0;
}

static int fingerprint_text(X509 *cert, char *ret_text)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (!X509_digest(cert, EVP_sha256(), md, &len))
		return -EIO;
	for (unsigned i = 0; i < len; i++)
		sprintf(ret_text + 3 * i, i + 1 < len ? "%02X:" : "%02X", md[i]);
	return 0;
}

int agent_x509_inspect(X509 *cert, struct agent_cert_info *ret_info)
{
	struct agent_cert_info info = { 0 };
	int r;

	r = subject_text(cert, info.subject, sizeof(info.subject));
	if (r < 0)
		return r;
	read_sans(cert, &info);
	if (asn1_time_to_epoch(X509_get0_notBefore(cert), &info.not_before) < 0 ||
	    asn1_time_to_epoch(X509_get0_notAfter(cert), &info.not_after) < 0)
		return -EIO;
	r = fingerprint_text(cert, info.sha256_fingerprint);
	if (r < 0)
		return r;

	*ret_info = info;
	return 0;
}

int agent_x509_public_key_pin(X509 *cert, char *ret_pin, size_t size)
{
	unsigned char *der = NULL;
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned char b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
	int len;

	len = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
	if (len <= 0)
		return -EIO;
	SHA256(der, (size_t)len, md);
	OPENSSL_free(der);

	EVP_EncodeBlock(b64, md, sizeof(md));
	if ((size_t)snprintf(ret_pin, size, "sha256//%s", b64) >= size)
		return -ENAMETOOLONG;
	return 0;
}
