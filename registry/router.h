/*
 * Authentication and dispatch of a request whose headers have arrived.
 */
#ifndef EDGECR_REG_ROUTER_H
#define EDGECR_REG_ROUTER_H

#include "request.h"

/*
 * Checks the client's credentials (when auth is on), parses URL and calls
 * the endpoint's handler.  On return a response to REQ is queued or
 * on_body/on_finish are installed.
 */
void reg_router_dispatch(struct reg_request *req, const char *url);

#endif
