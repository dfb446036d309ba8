/*
 * The web UI's view of the images in the registry, read through the
 * registry's own HTTP API on its endpoint (the agent is a client like any
 * other: HTTPS with the trusted CA and the registry user's credentials).
 *
 * Reading the HTTP API rather than the registry's metadata.db keeps the agent
 * independent of the registry's storage format, and the registry applies its
 * own locking to deletes.  Nothing here logs; errors come back as -errno with
 * a sentence in err.  Callers must have run curl_global_init.
 */
#ifndef EDGECR_AGENT_UI_REGISTRY_H
#define EDGECR_AGENT_UI_REGISTRY_H

#include <stddef.h>
#include <jansson.h>

#include "agent.h"

/* Maximum repositories, and tags per repository, in a listing.  A larger
 * store is cut, and the response then has "truncated": true. */
#define AGENT_UI_REPOSITORIES_MAX 200
#define AGENT_UI_TAGS_MAX 200

/*
 * Lists the repositories with their tags, each tag with its manifest digest,
 * media type, image size and push time as the registry reports them, as the
 * JSON object that GET /v1/registry/repositories returns (caller owns it).
 * Returns 0, -ENODATA when the registry is not enabled, -EIO when a
 * request to the registry failed (reason in err) or -ENOMEM.
 */
int agent_ui_list_repositories(struct agent *agent, json_t **ret_body, char *err, size_t size);

/*
 * Deletes the manifest REF (tag or digest) of repository NAME with DELETE
 * /v2/NAME/manifests/REF.  Stores the registry's HTTP status in ret_status.
 * Returns 0 when the registry answered (any status), -ENODATA when the
 * registry is not enabled, or -EIO with the reason in err.
 */
int agent_ui_delete_manifest(struct agent *agent, const char *name, const char *ref,
			     long *ret_status, char *err, size_t size);

/*
 * Reads the registry's storage usage (GET /v2/_edgecr/usage: used bytes,
 * limit, bytes per repository, last garbage collection) into *RET_USAGE,
 * which the caller owns.  Returns 0, -ENODATA when the registry is not
 * enabled, or -EIO with the reason in err.
 */
int agent_ui_registry_usage(struct agent *agent, json_t **ret_usage, char *err, size_t size);

/*
 * Asks the registry to collect garbage now (POST /v2/_edgecr/gc) and waits
 * for the run to end.  Stores the registry's HTTP status in *RET_STATUS and,
 * on 200, the run's report in *RET_RESULT (the caller owns it; NULL for
 * other statuses).  Returns 0 when the registry sent a response, -ENODATA when
 * the registry is not enabled, or -EIO with the reason in err.
 */
int agent_ui_registry_gc(struct agent *agent, json_t **ret_result, long *ret_status,
			 char *err, size_t size);

#endif
