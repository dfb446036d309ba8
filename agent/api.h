/*
 * The management API: HTTP + JSON over a Unix socket, served by libmicrohttpd
 * with one thread per connection.  Only root and members of the admin group
 * may use it.  The kernel reports the connected user through SO_PEERCRED.  The endpoints
 * are listed in docs/agent-api.md.
 */
#ifndef EDGECR_AGENT_API_H
#define EDGECR_AGENT_API_H

#include <sys/types.h>

#include "agent.h"

/* Largest request body accepted: a certificate chain and key in JSON. */
#define AGENT_API_BODY_MAX (512 * 1024)

struct agent_api;

/*
 * Creates the listening socket at PATH with MODE, owned by root and by
 * ADMIN_GROUP when that group exists (else by group root), replacing a stale
 * socket and creating missing parent directories.  Sets *ret_admin_gid to the
 * group's id, or (gid_t)-1 when it does not exist.  Returns 0 or a negative
 * errno.
 */
int agent_api_socket_open(const char *path, mode_t mode, const char *admin_group,
			  int *ret_fd, gid_t *ret_admin_gid);

/* Serves the API on LISTEN_FD (taking ownership of it) until agent_api_stop.
 * Returns 0 or -EIO. */
int agent_api_start(struct agent *agent, int listen_fd, gid_t admin_gid,
		    const char *admin_group, struct agent_api **ret_api);

/* Opens a TCP socket listening on LISTEN_ADDR, a loopback "ADDR:PORT" or
 * "[::1]:PORT" as setting ui_listen takes it.  Returns 0 or a negative errno. */
int agent_api_tcp_open(const char *listen_addr, int *ret_fd);

/* Serves the web page and the API on LISTEN_FD (taking ownership of it) for
 * callers who log in as the registry user; see api_ui.c.  Returns 0 or -EIO. */
int agent_api_start_tcp(struct agent *agent, int listen_fd, struct agent_api **ret_api);

/* Stops serving, waiting for requests in progress; NULL is a no-op. */
void agent_api_stop(struct agent_api *api);

#endif
