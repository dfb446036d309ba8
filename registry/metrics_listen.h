/*
 * The optional metrics_listen listener: GET /metrics (metrics.h) without
 * authentication on a loopback address, for a Prometheus or collector on the
 * device itself.  The configuration refuses other addresses.  Requests here
 * are not counted in the request metrics, which describe the registry's API.
 *
 * Thread safety: start and stop are called from the main thread only.
 */
#ifndef EDGECR_REG_METRICS_LISTEN_H
#define EDGECR_REG_METRICS_LISTEN_H

#include <stddef.h>

#include "context.h"

struct reg_metrics_listener;

/*
 * Binds CTX->config->metrics_listen and serves on a thread of its own.
 * Returns 0 with a new *RET, or a negative errno with the reason in ERR.
 */
int reg_metrics_listener_start(const struct reg_context *ctx, struct reg_metrics_listener **ret,
			       char *err, size_t err_size);

/* Stops serving and frees LISTENER; NULL is a no-op. */
void reg_metrics_listener_stop(struct reg_metrics_listener *listener);

#endif
