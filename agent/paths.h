/*
 * Layout of the agent's state directory, one path per file.
 *
 *   STATE/agent.db              settings (sqlite)
 *   STATE/ca/ca.crt, ca.key     the device CA the agent created (key 0600)
 *   STATE/registry/             what the registry reads, all 0600 but the certificates:
 *     registry.conf             its configuration
 *     credentials               "user:hash" lines
 *     server.crt, server.key    its TLS chain and key
 *     ca.crt                    the CA that clients trust (GET /v1/registry/ca.crt)
 *     password                  the registry user's password, for GET /v1/registry
 *   STATE/storage/              the registry's storage root (images)
 *   STATE/registry.notify       the registry's sd_notify socket
 *
 * With registry_user set, provision.c gives registry.conf, credentials,
 * server.crt, server.key, storage/ and registry.notify to that user, and
 * makes STATE and STATE/registry 0711.
 */
#ifndef EDGECR_AGENT_PATHS_H
#define EDGECR_AGENT_PATHS_H

#include <limits.h>

struct agent_paths {
	char state_dir[PATH_MAX];
	char ca_dir[PATH_MAX];
	char ca_cert[PATH_MAX];
	char ca_key[PATH_MAX];
	char registry_dir[PATH_MAX];
	char registry_conf[PATH_MAX];
	char credentials[PATH_MAX];
	char server_cert[PATH_MAX];
	char server_key[PATH_MAX];
	char trust_ca[PATH_MAX];
	char password[PATH_MAX];
	char storage[PATH_MAX];
	char notify_socket[PATH_MAX];
};

/* Fills ret_paths for STATE_DIR.  Returns 0 or -ENAMETOOLONG. */
int agent_paths_init(const char *state_dir, struct agent_paths *ret_paths);

#endif
