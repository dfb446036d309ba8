/*
 * The storage usage that GET /v2/_edgecr/usage returns, as JSON: bytes of
 * blobs and of upload files, the quota settings, the file system, bytes per
 * repository and the last garbage collection.  Reads only, so it may run
 * while pushes and a collection go on; the figures then come from slightly
 * different moments.
 */
#ifndef EDGECR_REG_USAGE_H
#define EDGECR_REG_USAGE_H

#include <jansson.h>

#include "context.h"
#include "gc_meta.h"

/* Returns RESULT as the "lastGc" object of the usage, or NULL on OOM. */
json_t *reg_usage_gc_json(const struct reg_meta_gc_result *result);

/* Builds the usage object into *RET (the caller owns it).  Returns 0 or a
 * negative errno. */
int reg_usage_json(const struct reg_context *ctx, json_t **ret);

#endif
