/*
 * The HTTP server: one listening socket and the libmicrohttpd daemon(s)
 * serving it, with a thread per connection so one large transfer never
 * blocks another.
 *
 * Certificates cannot be swapped inside a running MHD daemon, so a reload
 * starts a new daemon on the same listening socket and quiesces the old one:
 * the old daemon stops accepting, finishes its in-flight requests and is
 * stopped by reg_server_tick once they are done.
 *
 * One header timer (header_timer.h), with a thread of its own, serves every
 * daemon of the server and closes connections that miss header_timeout.
 *
 * Thread safety: all functions are called from the main thread only.
 */
#ifndef EDGECR_REG_SERVER_H
#define EDGECR_REG_SERVER_H

#include <stddef.h>

#include "context.h"

struct reg_server;

/*
 * Binds the configured listen address and starts serving.  Returns 0 with a
 * new *RET, or a negative errno with the reason in ERR (naming the config key
 * at fault).
 */
int reg_server_new(const struct reg_context *ctx, struct reg_server **ret, char *err,
		   size_t err_size);

/*
 * Re-reads the TLS certificate and key and serves new connections with them.
 * Returns 0 (also when TLS is off), or a negative errno with the reason in ERR,
 * in which case the old certificate stays in use.
 */
int reg_server_reload_tls(struct reg_server *server, char *err, size_t err_size);

/* Stops the daemons replaced by a reload whose requests have finished. */
void reg_server_tick(struct reg_server *server);

/* Returns the number of requests in progress on every daemon. */
unsigned reg_server_inflight(struct reg_server *server);

/*
 * Stops accepting connections, waits up to TIMEOUT seconds for in-flight
 * requests, then closes every connection and frees SERVER.  NULL is a no-op.
 */
void reg_server_stop(struct reg_server *server, unsigned timeout);

#endif
