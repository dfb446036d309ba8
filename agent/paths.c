/* File layout of the state directory; see paths.h. */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int join(char *ret, const char *dir, const char *name)
{
	int n = snprintf(ret, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int agent_paths_init(const char *state_dir, struct agent_paths *ret_paths)
{
	struct agent_paths p;
	int r = 0;

	if ((size_t)snprintf(p.state_dir, sizeof(p.state_dir), "%s", state_dir) >= sizeof(p.state_dir))
		return -ENAMETOOLONG;
	r |= join(p.ca_dir, state_dir, "ca");
	r |= join(p.ca_cert, state_dir, "ca/ca.crt");
	r |= join(p.ca_key, state_dir, "ca/ca.key");
	r |= join(p.registry_dir, state_dir, "registry");
	r |= join(p.registry_conf, state_dir, "registry/registry.conf");
	r |= join(p.credentials, state_dir, "registry/credentials");
	r |= join(p.server_cert, state_dir, "registry/server.crt");
	r |= join(p.server_key, state_dir, "registry/server.key");
	r |= join(p.trust_ca, state_dir, "registry/ca.crt");
	r |= join(p.password, state_dir, "registry/password");
	r |= join(p.storage, state_dir, "storage");
	r |= join(p.notify_socket, state_dir, "registry.notify");
	if (r < 0)
		return -ENAMETOOLONG;

	*ret_paths = p;
	return 0;
}
