/*
 * The registry's server certificate: issued from the device CA, or provided by
 * the administrator; see provision_private.h.
 *
 * The installed files are server.crt (the chain the registry serves, leaf
 * first), server.key and ca.crt (the CA clients trust).  Every Set checks them
 * as a client would and replaces what does not pass.
 */
#include "provision_private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "i18n.h"

#define SECONDS_PER_DAY 86400

/* The certificate files as read from disk; free with installed_release. */
struct installed {
	STACK_OF(X509) *chain;
	STACK_OF(X509) *trust;
	EVP_PKEY *key;
};

static void installed_release(struct installed *in)
{
	sk_X509_pop_free(in->chain, X509_free);
	sk_X509_pop_free(in->trust, X509_free);
	EVP_PKEY_free(in->key);
}

static int set_pin(struct provision_run *run, X509 *leaf)
{
	return agent_x509_public_key_pin(leaf, run->pinned_key, sizeof(run->pinned_key));
}

/* Reads the configured device CA, or the agent's own.  Returns 0, or a
 * negative errno (-EINVAL when the key does not match the certificate). */
static int read_ca(struct provision_run *run, X509 **ret_cert, EVP_PKEY **ret_key)
{
	const struct agent_config *c = run->config;
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;
	int r;

	r = agent_pem_read_certs(c->ca_cert ? c->ca_cert : run->paths->ca_cert, &certs);
	if (r == 0)
		r = agent_pem_read_key(c->ca_key ? c->ca_key : run->paths->ca_key, &key);
	if (r == 0 && !agent_x509_key_matches(sk_X509_value(certs, 0), key))
		r = -EINVAL;
	if (r == 0) {
		*ret_cert = sk_X509_shift(certs);
		*ret_key = key;
		key = NULL;
	}

	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	return r;
}

static int create_own_ca(struct provision_run *run, X509 **ret_cert, EVP_PKEY **ret_key)
{
	const struct agent_config *c = run->config;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char name[AGENT_ENDPOINT_MAX + 32];
	int r;

	snprintf(name, sizeof(name), "edgecr device CA %s.%s", c->device_name, c->dns_domain);
	r = agent_x509_ca_new(name, AGENT_CA_VALIDITY_DAYS, &key, &cert);
	if (r == 0)
		r = agent_pem_write_key(run->paths->ca_key, key);
	if (r == 0)
		r = agent_pem_write_cert(run->paths->ca_cert, cert);
	if (r < 0) {
		snprintf(run->err, run->err_size, _("failed to create the device CA: %s"), strerror(-r));
		X509_free(cert);
		EVP_PKEY_free(key);
		return r;
	}

	provision_action(run, "created the device CA \"%s\"", name);
	*ret_cert = cert;
	*ret_key = key;
	return 0;
}

/* Loads the device CA: the configured one, or the agent's own, which is
 * created when it is missing or its key does not match. */
static int load_ca(struct provision_run *run, X509 **ret_cert, EVP_PKEY **ret_key)
{
	const struct agent_config *c = run->config;
	int r;

	r = read_ca(run, ret_cert, ret_key);
	if (r == 0)
		return 0;
	if (c->ca_cert) {
		snprintf(run->err, run->err_size, _("the configured device CA (ca_cert %s, ca_key %s) is unusable: %s"),
			 c->ca_cert, c->ca_key,
			 r == -EINVAL ? "the key does not match the certificate" : strerror(-r));
		return r;
	}
	return create_own_ca(run, ret_cert, ret_key);
}

static int write_server_files(struct provision_run *run, STACK_OF(X509) *chain,
			      EVP_PKEY *key, X509 *trust)
{
	int r;

	r = agent_pem_write_key(run->paths->server_key, key);
	if (r == 0)
		r = agent_pem_write_certs(run->paths->server_cert, chain);
	if (r == 0)
		r = agent_pem_write_cert(run->paths->trust_ca, trust);
	if (r < 0)
		snprintf(run->err, run->err_size, _("failed to write the TLS files in %s: %s"),
			 run->paths->registry_dir, strerror(-r));
	return r;
}

static int issue_certificate(struct provision_run *run, const char *why)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL, *leaf = NULL;
	char name[AGENT_ENDPOINT_MAX];
	int r;

	r = chain ? agent_endpoint_name(run->config, name) : -ENOMEM;
	if (r == 0)
		r = load_ca(run, &ca, &ca_key);
	if (r < 0)
		goto out;
	r = agent_x509_issue_server(ca, ca_key, name, run->config->registry_ip,
				    run->config->certificate_validity_days, &key, &leaf);
	if (r < 0 || !sk_X509_push(chain, leaf)) {
		snprintf(run->err, run->err_size, _("failed to issue a certificate for %s: %s"),
			 name, strerror(r < 0 ? -r : ENOMEM));
		r = r < 0 ? r : -ENOMEM;
		goto out;
	}
	X509_up_ref(leaf);

	r = write_server_files(run, chain, key, ca);
	if (r == 0)
		r = set_pin(run, leaf);
	if (r < 0)
		goto out;
	snprintf(run->certificate_source, sizeof(run->certificate_source), "issued");
	run->need_reload = true;
	provision_action(run, "issued a certificate for %s valid for %u days (%s)", name,
			 run->config->certificate_validity_days, why);

out:
	sk_X509_pop_free(chain, X509_free);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	return r;
}

/* Parses and checks the provided chain and key; see agent_x509_check_chain.
 * On success the caller owns *ret_chain, *ret_key and *ret_root. */
static int parse_provided(struct provision_run *run, const struct agent_set_options *o,
			  STACK_OF(X509) **ret_chain, EVP_PKEY **ret_key, X509 **ret_root)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	char name[AGENT_ENDPOINT_MAX];
	int r;

	r = agent_endpoint_name(run->config, name);
	if (r < 0)
		goto out;
	r = agent_pem_parse_certs(o->chain_pem, o->chain_len, &chain);
	if (r < 0) {
		snprintf(run->err, run->err_size, _("certificateChainPem contains no valid PEM certificate"));
		goto out;
	}
	r = agent_pem_parse_key(o->key_pem, o->key_len, &key);
	if (r < 0) {
		snprintf(run->err, run->err_size, _("privateKeyPem contains no valid PEM private key"));
		goto out;
	}
	r = agent_x509_check_chain(chain, key, NULL, name, ret_root, run->err, run->err_size);
	if (r < 0)
		goto out;

	*ret_chain = chain;
	*ret_key = key;
	chain = NULL;
	key = NULL;

out:
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	return r;
}

int provision_check_provided(struct provision_run *run, const struct agent_set_options *o)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	X509 *root = NULL;
	int r;

	r = parse_provided(run, o, &chain, &key, &root);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	X509_free(root);
	return r;
}

static int install_provided(struct provision_run *run, const struct agent_set_options *o)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	X509 *root = NULL;
	int r;

	r = parse_provided(run, o, &chain, &key, &root);
	if (r < 0)
		return r;

	r = write_server_files(run, chain, key, root);
	if (r == 0)
		r = set_pin(run, sk_X509_value(chain, 0));
	if (r < 0) {
		/* -EINVAL is reserved for a rejected certificate. */
		r = r == -EINVAL ? -EIO : r;
		goto out;
	}
	snprintf(run->certificate_source, sizeof(run->certificate_source), "provided");
	run->need_reload = true;
	provision_action(run, "installed the provided certificate");

out:
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	X509_free(root);
	return r;
}

static int read_installed(struct provision_run *run, struct installed *in,
			  char *reason, size_t size)
{
	const struct agent_paths *p = run->paths;
	const char *failed = p->server_cert;
	int r;

	r = agent_pem_read_certs(p->server_cert, &in->chain);
	if (r == 0) {
		failed = p->server_key;
		r = agent_pem_read_key(p->server_key, &in->key);
	}
	if (r == 0) {
		failed = p->trust_ca;
		r = agent_pem_read_certs(p->trust_ca, &in->trust);
	}
	if (r < 0)
		snprintf(reason, size, "%.200s is %s", strrchr(failed, '/') + 1, r == -ENOENT ? "missing" : "unreadable");
	return r;
}

/* Returns 0 when an issued certificate needs no renewal and still names the
 * configured IP address. */
static int check_issued(struct provision_run *run, X509 *leaf, char *reason, size_t size)
{
	time_t renew_at = time(NULL) + (time_t)run->config->renew_before_days * SECONDS_PER_DAY;
	struct agent_cert_info info;

	if (agent_x509_inspect(leaf, &info) < 0)
		return -EINVAL;
	if (info.not_after <= renew_at) {
		snprintf(reason, size, "renewal: the certificate expires within %u days",
			 run->config->renew_before_days);
		return -EINVAL;
	}
	if (X509_check_ip_asc(leaf, run->config->registry_ip, 0) != 1) {
		snprintf(reason, size, "the certificate does not name IP address %s",
			 run->config->registry_ip);
		return -EINVAL;
	}
	return 0;
}

/* Checks the installed files as a client of the endpoint would.  Returns 0, or
 * -EINVAL with the reason they must be replaced. */
static int check_installed(struct provision_run *run, bool issued, char *reason, size_t size)
{
	struct installed in = { 0 };
	char name[AGENT_ENDPOINT_MAX];
	X509 *leaf;
	int r;

	r = read_installed(run, &in, reason, size);
	if (r < 0)
		goto out;
	leaf = sk_X509_value(in.chain, 0);
	r = agent_endpoint_name(run->config, name);
	if (r == 0)
		r = agent_x509_check_chain(in.chain, in.key, sk_X509_value(in.trust, 0), name,
					   NULL, reason, size);
	if (r == 0 && issued)
		r = check_issued(run, leaf, reason, size);
	if (r == 0)
		r = set_pin(run, leaf);

out:
	installed_release(&in);
	return r < 0 ? -EINVAL : 0;
}

/* The agent's own CA must stay usable for renewals; a configured CA is the
 * administrator's to keep. */
static int own_ca_is_usable(struct provision_run *run)
{
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;
	int ok;

	if (run->config->ca_cert)
		return 1;
	ok = agent_pem_read_certs(run->paths->ca_cert, &certs) == 0 &&
	     agent_pem_read_key(run->paths->ca_key, &key) == 0 &&
	     agent_x509_key_matches(sk_X509_value(certs, 0), key);
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	return ok;
}

int provision_ensure_certificate(struct provision_run *run,
				 const struct agent_set_options *options)
{
	char reason[512];
	bool issued = strcmp(run->certificate_source, "provided") != 0;

	if (options->chain_pem)
		return install_provided(run, options);
	if (options->reissue_certificate)
		return issue_certificate(run, "reissue requested");
	if (!run->was_enabled)
		return issue_certificate(run, "first Set");

	if (issued && !own_ca_is_usable(run))
		return issue_certificate(run, "the device CA files were missing or did not match");
	if (check_installed(run, issued, reason, sizeof(reason)) == 0)
		return 0;

	if (!issued)
		ecr_log(LOG_WARNING, "the provided registry certificate is unusable (%s); issuing one from the device CA",
			reason);
	return issue_certificate(run, reason);
}
