/*
 * GET /metrics: the Prometheus text of metrics.h.  It is served on the
 * registry's listener behind the same Basic authentication as the API,
 * because the counts reveal activity.
 */
#include "handlers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

void reg_h_metrics(struct reg_request *req)
{
	struct MHD_Response *response;
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	int r;

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		reg_respond_json(req, MHD_HTTP_METHOD_NOT_ALLOWED,
				 json_pack("{s:[{s:s, s:s, s:s}]}", "errors", "code", "UNSUPPORTED",
					   "message", reg_error_message(REG_E_UNSUPPORTED),
					   "detail", "method not allowed on this endpoint"),
				 "application/json; charset=utf-8", MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		return;
	}
	out = open_memstream(&text, &len);
	if (!out) {
		reg_respond_internal(req, "metrics", -ENOMEM);
		return;
	}
	r = reg_metrics_write(req->ctx, out);
	if (fclose(out) != 0) {
		free(text);
		reg_respond_internal(req, "metrics", -ENOMEM);
		return;
	}
	/* The counters are worth sending without the storage gauges. */
	if (r < 0)
		ecr_log(LOG_WARNING, "metrics: storage gauges left out, ignoring: %s", strerror(-r));
	response = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!response)
		free(text);
	reg_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
	reg_respond(req, response, MHD_HTTP_OK, len);
}
