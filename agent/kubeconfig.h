/*
 * The server and credentials of the Kubernetes API server, from a kubeconfig
 * file (its current context, or its only one) or, with kubeconfig =
 * "in-cluster", from a pod's service-account files and the
 * KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT variables.
 *
 * A usable cluster names an https server and a CA (embedded, or a file), so
 * TLS is always verified; insecure-skip-tls-verify is rejected.  The user
 * gives a client certificate and key or a bearer token (inline or tokenFile).
 * Relative file names are relative to the kubeconfig's folder, as kubectl
 * reads them.
 */
#ifndef EDGECR_AGENT_KUBECONFIG_H
#define EDGECR_AGENT_KUBECONFIG_H

#include <stddef.h>

/* Largest kubeconfig, CA, certificate, key or token file read. */
#define AGENT_KUBE_FILE_MAX (1024 * 1024)

/* The credentials of one API server.  Free with agent_kube_auth_free, which
 * wipes the key and the token. */
struct agent_kube_auth {
	char *server;          /* "https://host:port", no trailing '/' */
	char *ca_pem;          /* PEM, NUL-terminated */
	size_t ca_len;
	char *cert_pem;        /* client certificate, or NULL */
	size_t cert_len;
	char *key_pem;         /* its key, or NULL */
	size_t key_len;
	char *token;           /* bearer token, or NULL */
};

/* Reads the kubeconfig at PATH, or the in-cluster files under SA_DIR when PATH
 * is AGENT_KUBECONFIG_IN_CLUSTER, into a new *ret_auth.  Returns 0 or a
 * negative errno with a sentence that names the file and field in err. */
int agent_kubeconfig_load(const char *path, const char *sa_dir,
			  struct agent_kube_auth **ret_auth, char *err, size_t err_size);

/* Wipes the secrets of AUTH and frees it; NULL is a no-op. */
void agent_kube_auth_free(struct agent_kube_auth *auth);

/* Decodes base64 TEXT into a new NUL-terminated buffer (caller frees).
 * Returns 0, -EINVAL for invalid base64, or -ENOMEM. */
int agent_base64_decode(const char *text, size_t len, char **ret_data, size_t *ret_len);

/* Encodes DATA as base64 into a new NUL-terminated string (caller frees), or
 * returns NULL when out of memory. */
char *agent_base64_encode(const void *data, size_t len);

#endif
