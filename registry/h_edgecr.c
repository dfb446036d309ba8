/*
 * edgecr's own endpoints under /v2/_edgecr/: storage usage, garbage
 * collection on request, and a repository's tags with size and push time.
 * They sit behind the same authentication as the distribution API, and their
 * errors use its body and codes.  edgecr-agent reads them for its status and
 * web page.
 */
#include "handlers.h"

#include <errno.h>
#include <string.h>

#include "gc.h"
#include "log.h"
#include "usage.h"

void reg_h_usage(struct reg_request *req)
{
	json_t *usage = NULL;
	int r;

	r = reg_usage_json(req->ctx, &usage);
	if (r < 0) {
		reg_respond_internal(req, "usage", r);
		return;
	}
	reg_respond_json(req, MHD_HTTP_OK, usage, "application/json; charset=utf-8", NULL, NULL);
}

void reg_h_gc(struct reg_request *req)
{
	struct reg_gc_report report;
	struct reg_meta_gc_result result;
	char line[512];
	int r;

	/* Runs on this request's own thread; other requests go on meanwhile. */
	r = reg_gc_run(req->ctx, false, &report);
	if (r < 0) {
		reg_respond_internal(req, "gc", r);
		return;
	}
	reg_gc_report_format(&report, false, line, sizeof(line));
	ecr_log(LOG_NOTICE, "%s (requested by user %s)", line, req->user[0] ? req->user : "-");

	reg_gc_report_result(&report, &result);
	reg_respond_json(req, MHD_HTTP_OK, reg_usage_gc_json(&result),
			 "application/json; charset=utf-8", NULL, NULL);
}

void reg_h_repository(struct reg_request *req)
{
	json_t *tags = json_array();
	bool more = false;
	int r;

	if (!tags) {
		reg_respond_internal(req, "repository listing", -ENOMEM);
		return;
	}
	r = reg_meta_repository_tags(req->ctx->meta, req->route.name, REG_PAGE_MAX, tags, &more);
	if (r == -ENOENT) {
		json_decref(tags);
		reg_respond_error(req, REG_E_NAME_UNKNOWN, 0, req->route.name);
		return;
	}
	if (r < 0) {
		json_decref(tags);
		reg_respond_internal(req, "repository listing", r);
		return;
	}
	reg_respond_json(req, MHD_HTTP_OK,
			 json_pack("{s:s, s:o, s:b}", "name", req->route.name, "tags", tags,
				   "truncated", more),
			 "application/json; charset=utf-8", NULL, NULL);
}
