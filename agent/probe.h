/*
 * The readiness check of the registry endpoint as a client sees it: HTTPS to
 * the registry's IP address under the endpoint name, trusting only the device
 * CA, with the registry user's credentials.
 */
#ifndef EDGECR_AGENT_PROBE_H
#define EDGECR_AGENT_PROBE_H

#include <stdatomic.h>
#include <stddef.h>

#include "password.h"

struct agent_probe_target {
	const char *endpoint_name;   /* TLS name and Host, e.g. ecr.dev1.local */
	const char *ip;              /* where the name resolves to */
	unsigned port;
	const char *ca_file;         /* PEM of the CA clients trust */
	const char *pinned_key;      /* "sha256//..." of the expected server key, or NULL */
	const struct agent_credentials *credentials;  /* NULL: no Authorization */
};

/* Sends one "GET /v2/" and stores the HTTP status in *ret_status.  Returns 0
 * when a response arrived, or -ECONNREFUSED, -ETIMEDOUT or -EPROTO (TLS or
 * other transfer error). */
int agent_probe_once(const struct agent_probe_target *target, long *ret_status);

/*
 * Repeats agent_probe_once until it returns EXPECTED_STATUS, for at most
 * TIMEOUT_MS or until *CANCEL becomes true.  Returns 0, -ETIMEDOUT or
 * -ECANCELED; ret_last_error (SIZE bytes) describes the last failure.
 */
int agent_probe_wait(const struct agent_probe_target *target, long expected_status,
		     unsigned timeout_ms, const atomic_bool *cancel,
		     char *ret_last_error, size_t size);

#endif
