/*
 * The certificate chain and private key a client provides with PUT
 * /v1/registry, checked as the agent checks them.  agent_pem_parse_certs and
 * agent_pem_parse_key read the same PEM text, and agent_x509_inspect fills
 * its fixed-size subject and SAN buffers from every certificate.  Then
 * agent_x509_check_chain checks the chain for the name ecr.dev1.local, with
 * the chain's own self-signed certificate as the trust anchor.
 */
#include "fuzz.h"

#include "x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;
	X509 *root = NULL;
	struct agent_cert_info info;
	char err[512];

	if (size > AGENT_PEM_MAX)
		return 0;
	if (agent_pem_parse_certs((const char *)data, size, &certs) < 0)
		return 0;
	for (int i = 0; i < sk_X509_num(certs); i++) {
		if (agent_x509_inspect(sk_X509_value(certs, i), &info) == 0 &&
		    (info.n_dns_names > 8 || info.n_ip_addresses > 8))
			abort();
	}
	if (agent_pem_parse_key((const char *)data, size, &key) == 0) {
		(void)agent_x509_key_matches(sk_X509_value(certs, 0), key);
		if (agent_x509_check_chain(certs, key, NULL, "ecr.dev1.local", &root,
					   err, sizeof(err)) == 0)
			X509_free(root);
		EVP_PKEY_free(key);
	}
	sk_X509_pop_free(certs, X509_free);
	return 0;
}
