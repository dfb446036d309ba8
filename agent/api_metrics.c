/*
 * GET /metrics of the management API: the Prometheus text of metrics.h.
 * It passes the same caller check as every other path: root or the admin
 * group on the socket, the registry login on the web page's listener.
 */
#include "api_private.h"

#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum MHD_Result api_metrics_get(struct agent *agent, struct MHD_Connection *conn)
{
	struct MHD_Response *response;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	out = open_memstream(&text, &len);
	if (!out)
		return MHD_NO;
	agent_metrics_write(agent, out);
	if (fclose(out) != 0) {
		free(text);
		return MHD_NO;
	}
	response = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
	return api_queue(conn, MHD_HTTP_OK, response);
}
