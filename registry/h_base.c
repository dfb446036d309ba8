/*
 * GET /v2/: lets clients detect a v2 registry and check their credentials,
 * which the router has already verified.
 */
#include "handlers.h"

void reg_h_base(struct reg_request *req)
{
	reg_respond_json(req, MHD_HTTP_OK, json_object(), "application/json; charset=utf-8",
			 NULL, NULL);
}
