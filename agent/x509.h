/*
 * Certificates of the registry endpoint, built on OpenSSL 3: the device CA,
 * server certificates issued from it, PEM files, inspection for the status
 * API, and the checks that a certificate chain is usable for the endpoint.
 *
 * Keys are ECDSA P-256.  Functions that return OpenSSL objects hand ownership
 * to the caller, who frees them with X509_free, EVP_PKEY_free or
 * sk_X509_pop_free(stack, X509_free).  Nothing here logs; errors come back as -errno and,
 * where a person needs the reason, as a sentence in err.
 */
#ifndef EDGECR_AGENT_X509_H
#define EDGECR_AGENT_X509_H

#include <stddef.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* Validity of a device CA that the agent creates itself. */
#define AGENT_CA_VALIDITY_DAYS 3650

/* Largest PEM file the agent reads: a chain of a few certificates. */
#define AGENT_PEM_MAX (256 * 1024)

/* Size of a buffer for "AB:CD:..." over a SHA-256 digest, NUL included. */
#define AGENT_FINGERPRINT_MAX (32 * 3)

struct agent_cert_info {
	char subject[256];          /* one line, RFC 2253 order, e.g. "CN=ecr.dev1.local" */
	char dns_names[8][256];     /* first DNS SANs */
	size_t n_dns_names;
	char ip_addresses[8][64];   /* first IP SANs, as text */
	size_t n_ip_addresses;
	time_t not_before;
	time_t not_after;
	char sha256_fingerprint[AGENT_FINGERPRINT_MAX];
};

/* Creates a new ECDSA P-256 key.  Returns 0 or -EIO. */
int agent_x509_key_new(EVP_PKEY **ret_key);

/* Creates a self-signed CA certificate "CN=COMMON_NAME" valid for DAYS, with a
 * new key.  Returns 0, -EIO or -ENOMEM. */
int agent_x509_ca_new(const char *common_name, unsigned days,
		      EVP_PKEY **ret_key, X509 **ret_cert);

/*
 * Issues a server certificate for DNS_NAME and IP (SANs DNS:DNS_NAME and
 * IP:IP, CN=DNS_NAME, EKU serverAuth) signed by CA_CERT/CA_KEY, valid from now
 * for DAYS, with a new key.  Returns 0, -EINVAL (IP not an address) or -EIO.
 */
int agent_x509_issue_server(X509 *ca_cert, EVP_PKEY *ca_key, const char *dns_name,
			    const char *ip, unsigned days,
			    EVP_PKEY **ret_key, X509 **ret_cert);

/* Parses every certificate of PEM (LEN bytes) in order.  Returns 0, or
 * -EINVAL when there is none or one does not parse. */
int agent_pem_parse_certs(const char *pem, size_t len, STACK_OF(X509) **ret_certs);

/* Parses the first private key of PEM.  Returns 0 or -EINVAL. */
int agent_pem_parse_key(const char *pem, size_t len, EVP_PKEY **ret_key);

/* Reads the certificates or the key of the file at PATH.  Returns 0, -ENOENT,
 * -EINVAL (not PEM) or another negative errno. */
int agent_pem_read_certs(const char *path, STACK_OF(X509) **ret_certs);
int agent_pem_read_key(const char *path, EVP_PKEY **ret_key);

/* Writes CERTS (in order) or KEY to PATH atomically; certificates with mode
 * 0644, the key with 0600.  Returns 0 or a negative errno. */
int agent_pem_write_certs(const char *path, STACK_OF(X509) *certs);
int agent_pem_write_cert(const char *path, X509 *cert);
int agent_pem_write_key(const char *path, EVP_PKEY *key);

/* Fills ret_info from CERT.  Returns 0 or -EIO. */
int agent_x509_inspect(X509 *cert, struct agent_cert_info *ret_info);

/* Writes "sha256//BASE64" of CERT's public key (the form of libcurl's
 * CURLOPT_PINNEDPUBLICKEY) into ret_pin of SIZE bytes.  Returns 0 or -EIO. */
int agent_x509_public_key_pin(X509 *cert, char *ret_pin, size_t size);

/*
 * Checks that CHAIN (leaf first) can serve ENDPOINT_NAME with KEY.  The key
 * must match the leaf.  The leaf's DNS SAN, or its CN when it has no DNS SAN,
 * must cover the name exactly or by a wildcard of the left-most label.  The
 * chain must verify for TLS server use up to ROOT.  When ROOT is NULL, the
 * trust anchor is a self-signed certificate contained in CHAIN.  On success sets *ret_root to a
 * new reference to the trust anchor, when ret_root is not NULL.  Returns 0, or
 * -EINVAL with the reason in err.
 */
int agent_x509_check_chain(STACK_OF(X509) *chain, EVP_PKEY *key, X509 *root,
			   const char *endpoint_name, X509 **ret_root,
			   char *err, size_t err_size);

/* Returns 1 when KEY is the private key of CERT. */
int agent_x509_key_matches(X509 *cert, EVP_PKEY *key);

#endif
