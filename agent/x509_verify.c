/*
 * The checks that a certificate chain and key can serve the registry endpoint;
 * see x509.h.  They run on a certificate brought by the administrator before
 * it is installed, and on the installed files whenever the agent repairs them.
 */
#include "x509.h"

#include <errno.h>
#include <stdio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "i18n.h"

int agent_x509_key_matches(X509 *cert, EVP_PKEY *key)
{
	int ok = X509_check_private_key(cert, key) == 1;

	ERR_clear_error();
	return ok;
}

static X509 *find_self_signed(STACK_OF(X509) *chain)
{
	for (int i = sk_X509_num(chain) - 1; i >= 0; i--) {
		X509 *cert = sk_X509_value(chain, i);

		if (X509_self_signed(cert, 1) == 1)
			return cert;
	}
	ERR_clear_error();
	return NULL;
}

/* Verifies LEAF up to ROOT for TLS server use, with CHAIN as intermediates. */
static int verify_path(X509 *leaf, STACK_OF(X509) *chain, X509 *root,
		       char *err, size_t err_size)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int r = -ENOMEM;

	if (!store || !ctx || !X509_STORE_add_cert(store, root) ||
	    !X509_STORE_CTX_init(ctx, store, leaf, chain))
		goto out;
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);

	if (X509_verify_cert(ctx) != 1) {
		snprintf(err, err_size, _("the certificate chain does not verify: %s"),
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		r = -EINVAL;
		goto out;
	}
	r = 0;

out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

int agent_x509_check_chain(STACK_OF(X509) *chain, EVP_PKEY *key, X509 *root,
			   const char *endpoint_name, X509 **ret_root,
			   char *err, size_t err_size)
{
	X509 *leaf = sk_X509_value(chain, 0);
	int r;

	if (!leaf) {
		snprintf(err, err_size, _("the certificate chain is empty"));
		return -EINVAL;
	}
	if (!agent_x509_key_matches(leaf, key)) {
		snprintf(err, err_size, _("the private key does not match the certificate"));
		return -EINVAL;
	}
	if (X509_check_host(leaf, endpoint_name, 0, 0, NULL) != 1) {
		snprintf(err, err_size, _("the certificate does not cover %s: neither a SAN nor the CN names it or a wildcard over it"),
			 endpoint_name);
		return -EINVAL;
	}

	if (!root)
		root = find_self_signed(chain);
	if (!root) {
		snprintf(err, err_size, _("the certificate chain contains no self-signed root certificate"));
		return -EINVAL;
	}
	r = verify_path(leaf, chain, root, err, err_size);
	if (r < 0)
		return r;

	if (ret_root) {
		X509_up_ref(root);
		*ret_root = root;
	}
	return 0;
}
