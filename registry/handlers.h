/*
 * The registry's endpoints.  The router calls one handler per request once the
 * client is authenticated: as soon as the headers arrived for a request with a
 * body, else when the request is complete (see request.h).  A handler either
 * responds at once (reg_respond*) or installs req->on_body and req->on_finish
 * to respond once the body has arrived.
 */
#ifndef EDGECR_REG_HANDLERS_H
#define EDGECR_REG_HANDLERS_H

#include "request.h"

/* Most tags or repositories one page lists; "n" above it is clamped. */
#define REG_PAGE_MAX 10000
/* Page size of _catalog when the client gives no "n". */
#define REG_CATALOG_PAGE_DEFAULT 1000

/* GET /v2/ */
void reg_h_base(struct reg_request *req);
/* GET /v2/_catalog */
void reg_h_catalog(struct reg_request *req);
/* GET /v2/<name>/tags/list */
void reg_h_tags(struct reg_request *req);
/* GET /v2/<name>/referrers/<digest> */
void reg_h_referrers(struct reg_request *req);

/* GET and HEAD /v2/<name>/blobs/<digest> */
void reg_h_blob_get(struct reg_request *req);
/* DELETE /v2/<name>/blobs/<digest> */
void reg_h_blob_delete(struct reg_request *req);

/* GET and HEAD /v2/<name>/manifests/<reference> */
void reg_h_manifest_get(struct reg_request *req);
/* PUT /v2/<name>/manifests/<reference> */
void reg_h_manifest_put(struct reg_request *req);
/* DELETE /v2/<name>/manifests/<reference> */
void reg_h_manifest_delete(struct reg_request *req);

/* POST /v2/<name>/blobs/uploads/ (new upload, monolithic ?digest=, ?mount=&from=) */
void reg_h_upload_post(struct reg_request *req);
/* PATCH /v2/<name>/blobs/uploads/<id> */
void reg_h_upload_patch(struct reg_request *req);
/* PUT /v2/<name>/blobs/uploads/<id>?digest= */
void reg_h_upload_put(struct reg_request *req);
/* GET /v2/<name>/blobs/uploads/<id> */
void reg_h_upload_status(struct reg_request *req);
/* DELETE /v2/<name>/blobs/uploads/<id> */
void reg_h_upload_delete(struct reg_request *req);

/* GET and HEAD /metrics (Prometheus text; see metrics.h) */
void reg_h_metrics(struct reg_request *req);
/* GET /v2/_edgecr/usage: storage usage, quota settings and the last gc */
void reg_h_usage(struct reg_request *req);
/* POST /v2/_edgecr/gc: runs one garbage collection and returns its report */
void reg_h_gc(struct reg_request *req);
/* GET /v2/_edgecr/repositories/<name>: tags with digest, size and push time */
void reg_h_repository(struct reg_request *req);

#endif
