/*
 * Prometheus metrics of the registry, served as text (exposition format
 * 0.0.4) by GET /metrics.  docs/registry.md lists every metric.
 *
 * Counters are C11 atomics in fixed arrays indexed by method, route and
 * status code, so connection threads update them without a lock and a scrape
 * reads them while requests go on.  A scrape is not a snapshot: a request that
 * completes while the text is written may be counted in one series and not yet
 * in another.  Each histogram's count is the sum of its buckets, so +Inf and
 * _count always agree.  Values count from the start of the process.
 */
#ifndef EDGECR_REG_METRICS_H
#define EDGECR_REG_METRICS_H

#include <stdio.h>

#include "context.h"
#include "gc.h"
#include "request.h"

/* Counts REQ (method, route, status, bytes, duration) once it completed or
 * its connection closed; called from the completion callback. */
void reg_metrics_request_done(const struct reg_request *req);

/* Counts a login whose user name or password was wrong. */
void reg_metrics_login_failed(void);

/* Counts a garbage collection of the server that ended with RESULT (0 or a
 * negative errno); REPORT gives the bytes freed when RESULT is 0. */
void reg_metrics_gc_done(int result, const struct reg_gc_report *report);

/*
 * Writes every metric to OUT.  The gauges of storage and uploads are read
 * from the metadata of CTX.  Returns 0, or a negative errno when a metadata
 * query failed and its gauge was left out; the rest is written in any case.
 * Write errors of OUT are left to the caller (ferror or fclose).
 */
int reg_metrics_write(const struct reg_context *ctx, FILE *out);

#endif
