/*
 * Node trust: the files that let this node's container runtimes pull from the
 * registry endpoint over TLS, and the hosts line that resolves its name.
 *
 *   TRUST_CONTAINERD_DIR/<name:port>/hosts.toml   server and host entry naming the CA
 *   TRUST_CONTAINERD_DIR/<name:port>/ca.crt       the CA, also read on its own
 *   TRUST_DOCKER_DIR/<name:port>/ca.crt           Docker's trust for the endpoint
 *   HOSTS_FILE                                    "<ip> <name> # edgecr"
 *
 * containerd 1.6.20 tries the default host without the CA when a host entry
 * returns 404, and also trusts a bare ca.crt in the directory, so both are
 * written.  A runtime gets no files when the folder that contains its
 * certs.d folder is missing (/etc/containerd, /etc/docker), because then it
 * is not installed.  The hosts line is the only line this module owns: a
 * line that ends with AGENT_TRUST_HOSTS_MARK.  Every file is replaced
 * atomically (write, fsync, rename) and only when its content differs; a
 * hosts file that is a bind mount of one file is rewritten in place.
 * Library code: callers hold agent->provision_lock and log.
 */
#ifndef EDGECR_AGENT_TRUST_H
#define EDGECR_AGENT_TRUST_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define AGENT_TRUST_HOSTS_MARK "# edgecr"

struct agent_trust_target {
	const char *endpoint;     /* "name:port", the directory name */
	const char *name;         /* host name of the endpoint */
	const char *ip;           /* registry_ip */
	const char *ca_pem;       /* the CA clients trust */
	size_t ca_len;
};

/* Writes the trust files and the hosts line for TARGET under the paths of
 * CONFIG.  Sets *ret_changed when a file changed.  Returns 0 or a negative
 * errno with the path in err. */
int agent_trust_write(const struct agent_config *config, const struct agent_trust_target *target,
		      bool *ret_changed, char *err, size_t err_size);

/* Removes the trust files of ENDPOINT ("name:port") and every hosts line that
 * ends with AGENT_TRUST_HOSTS_MARK.  Missing files are not an error.  Returns
 * 0 or a negative errno with the path in err. */
int agent_trust_remove(const struct agent_config *config, const char *endpoint,
		       char *err, size_t err_size);

/* Returns in a new string (caller frees) TEXT without the lines that end with
 * AGENT_TRUST_HOSTS_MARK, plus LINE and a newline when LINE is not NULL.
 * Returns NULL when out of memory. */
char *agent_trust_hosts_edit(const char *text, const char *line);

#endif
