/*
 * Shared by the API server (api.c) and its handlers (api_registry.c).
 */
#ifndef EDGECR_AGENT_API_PRIVATE_H
#define EDGECR_AGENT_API_PRIVATE_H

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

enum MHD_Result api_registry_get(struct agent *agent, struct MHD_Connection *conn);
enum MHD_Result api_registry_put(struct agent *agent, struct MHD_Connection *conn,
				 const struct api_request *req);
enum MHD_Result api_registry_delete(struct agent *agent, struct MHD_Connection *conn);
enum MHD_Result api_registry_ca(struct agent *agent, struct MHD_Connection *conn);
enum MHD_Result api_status_get(struct agent *agent, struct MHD_Connection *conn);

#endif
