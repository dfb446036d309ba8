/*
 * PEM parsing and writing of certificates and keys; see x509.h.
 *
 * Key files are assembled in OpenSSL's secure-heap BIO so the PEM text of a
 * private key is wiped when the buffer is freed.
 */
#include "x509.h"

#include <errno.h>
#include <stdlib.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "fileio.h"

int agent_pem_parse_certs(const char *pem, size_t len, STACK_OF(X509) **ret_certs)
{
	STACK_OF(X509) *certs = NULL;
	BIO *bio = NULL;
	X509 *cert;
	int r = -EINVAL;

	/* Checked before the (int) cast: a length that wraps to -1 would make
	 * BIO_new_mem_buf read up to a NUL byte instead. */
	if (len > AGENT_PEM_MAX)
		return -EINVAL;
	certs = sk_X509_new_null();
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!certs || !bio) {
		r = -ENOMEM;
		goto out;
	}
	while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (!sk_X509_push(certs, cert)) {
			X509_free(cert);
			r = -ENOMEM;
			goto out;
		}
	}

	/* The loop ends at the end of the input or at a block that does not
	 * parse; only the first is success. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE ||
	    sk_X509_num(certs) == 0)
		goto out;

	*ret_certs = certs;
	certs = NULL;
	r = 0;

out:
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	BIO_free(bio);
	return r;
}

int agent_pem_parse_key(const char *pem, size_t len, EVP_PKEY **ret_key)
{
	BIO *bio;
	EVP_PKEY *key;

	if (len > AGENT_PEM_MAX)
		return -EINVAL;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -ENOMEM;
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!key)
		return -EINVAL;
	*ret_key = key;
	return 0;
}

int agent_pem_read_certs(const char *path, STACK_OF(X509) **ret_certs)
{
	char *pem = NULL;
	size_t len;
	int r;

	r = ecr_read_file(path, AGENT_PEM_MAX, &pem, &len);
	if (r < 0)
		return r;
	r = agent_pem_parse_certs(pem, len, ret_certs);
	free(pem);
	return r;
}

int agent_pem_read_key(const char *path, EVP_PKEY **ret_key)
{
	char *pem = NULL;
	size_t len = 0;
	int r;

	r = ecr_read_file(path, AGENT_PEM_MAX, &pem, &len);
	if (r < 0)
		return r;
	r = agent_pem_parse_key(pem, len, ret_key);
	OPENSSL_cleanse(pem, len);
	free(pem);
	return r;
}

static int write_bio(const char *path, BIO *bio, mode_t mode)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);

	if (len <= 0)
		return -EIO;
	return ecr_write_file_atomic(path, data, (size_t)len, mode);
}

int agent_pem_write_certs(const char *path, STACK_OF(X509) *certs)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int r = 0;

	if (!bio)
		return -ENOMEM;
	for (int i = 0; i < sk_X509_num(certs); i++) {
		if (!PEM_write_bio_X509(bio, sk_X509_value(certs, i))) {
			r = -EIO;
			goto out;
		}
	}
	r = write_bio(path, bio, 0644);

out:
	BIO_free(bio);
	return r;
}

int agent_pem_write_cert(const char *path, X509 *cert)
{
	STACK_OF(X509) *one = sk_X509_new_null();
	int r;

	if (!one || !sk_X509_push(one, cert)) {
		sk_X509_free(one);
		return -ENOMEM;
	}
	r = agent_pem_write_certs(path, one);
	sk_X509_free(one);
	return r;
}

int agent_pem_write_key(const char *path, EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	int r;

	if (!bio)
		return -ENOMEM;
	if (!PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
		r = -EIO;
		goto out;
	}
	r = write_bio(path, bio, 0600);

out:
	BIO_free(bio);
	return r;
}
