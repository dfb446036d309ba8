/*
 * Prometheus metrics of the agent, served as text (exposition format 0.0.4)
 * by GET /metrics on the API socket and on the web page's listener.
 * docs/agent-api.md lists every metric.
 *
 * The counters are C11 atomics, so the API threads, the Kubernetes thread
 * and the main loop update them without a lock.  The registry's state and
 * restarts and the certificate's expiry are read when the text is written.
 */
#ifndef EDGECR_AGENT_METRICS_H
#define EDGECR_AGENT_METRICS_H

#include <stdio.h>

#include "agent.h"

/* Counts an API response with HTTP STATUS. */
void agent_metrics_api_response(unsigned status);

/* Counts one pass of the Kubernetes thread over every namespace (a full
 * list and reconcile, or the removal of every managed secret). */
void agent_metrics_secret_run(void);

/* Counts a failed step of that work (each kube_fail while the agent is not
 * stopping): a kubeconfig that could not be loaded, a request or watch that
 * failed, or a secret that could not be built or kept changing. */
void agent_metrics_secret_error(void);

/* Writes every metric of AGENT to OUT.  Write errors are left to the caller
 * (ferror or fclose). */
void agent_metrics_write(struct agent *agent, FILE *out);

#endif
