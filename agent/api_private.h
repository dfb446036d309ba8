/*
 * Shared by the API server (api.c) and its handlers (api_registry.c).
 */
#ifndef EDGECR_AGENT_API_PRIVATE_H
#define EDGECR_AGENT_API_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <microhttpd.h>

#include "agent.h"

/* One request; lives in MHD's *req_cls from the first call to completion. */
struct api_request {
	char *body;       /* NUL-terminated; wiped when freed, it may hold a key */
	size_t body_len;
	int too_large;
	int peer_checked;
};

/* Queues BODY (consumed) as a JSON response with STATUS. */
enum MHD_Result api_send_json(struct MHD_Connection *conn, unsigned status, json_t *body);

/* Queues {"error":{"code":CODE,"message":...}} with STATUS. */
enum MHD_Result api_send_error(struct MHD_Connection *conn, unsigned status,
			       const char *code, const char *format, ...)
	__attribute__((format(printf, 4, 5)));

/* Adds the security headers every response carries, queues RESPONSE with
 * STATUS and destroys it. */
enum MHD_Result api_queue(struct MHD_Connection *conn, unsigned status,
			  struct MHD_Response *response);

/* Creates a JSON error response without queueing it, or returns NULL. */
struct MHD_Response *api_error_response(const char *code, const char *message);

enum MHD_Result api_registry_get(struct agent *agent, struct MHD_Connection *conn);
enum MHD_Result api_registry_put(struct agent *agent, struct MHD_Connection *conn,
				 const struct api_request *req);
enum MHD_Result api_registry_delete(struct agent *agent, struct MHD_Connection *conn);
enum MHD_Result api_status_get(struct agent *agent, struct MHD_Connection *conn);
/* GET /metrics (api_metrics.c) */
enum MHD_Result api_metrics_get(struct agent *agent, struct MHD_Connection *conn);

/* api_ui.c: the web UI's endpoints and the TCP listener's checks. */

/* Checks a request on the TCP listener: loopback Host, registry credentials,
 * and CSRF rules for methods other than GET and HEAD.  Returns 1 to go on, or
 * 0 with the result of queueing the rejection in *ret_result. */
int api_ui_admit_tcp(struct agent *agent, struct MHD_Connection *conn, const char *method,
		     const char *url, enum MHD_Result *ret_result);
enum MHD_Result api_ui_certificate(struct agent *agent, struct MHD_Connection *conn,
				   bool server, bool der);
enum MHD_Result api_ui_repositories_get(struct agent *agent, struct MHD_Connection *conn);
bool api_ui_is_manifest_url(const char *url);
enum MHD_Result api_ui_manifest_delete(struct agent *agent, struct MHD_Connection *conn,
				       const char *url);
bool api_ui_is_static_url(const char *url);
enum MHD_Result api_ui_static(struct agent *agent, struct MHD_Connection *conn, const char *url);

/* Returns the registry's storage usage (GET /v2/_edgecr/usage), or JSON null
 * when the registry is not enabled or the request fails. */
json_t *api_ui_storage_json(struct agent *agent);
/* POST /v1/registry/gc: runs the registry's garbage collection now. */
enum MHD_Result api_ui_gc_post(struct agent *agent, struct MHD_Connection *conn);

#endif
