/*
 * A small client of the Kubernetes API server over libcurl: JSON requests and
 * watch streams, with TLS verified against the cluster's CA, the client
 * certificate or bearer token of a kubeconfig, and timeouts on every request.
 *
 * One client belongs to one thread; it is not locked.  Watches are easy
 * handles that the caller adds to its own curl multi handle, so one thread
 * can follow several streams and still wake up for other work.
 */
#ifndef EDGECR_AGENT_KUBE_CLIENT_H
#define EDGECR_AGENT_KUBE_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <curl/curl.h>
#include <jansson.h>

#include "kubeconfig.h"

/* Time to connect, and the whole time of a request other than a watch. */
#define AGENT_KUBE_CONNECT_TIMEOUT_MS 5000
#define AGENT_KUBE_REQUEST_TIMEOUT_MS 15000
/* Largest response body, and largest line of a watch stream. */
#define AGENT_KUBE_BODY_MAX (8 * 1024 * 1024)
/* Duration of one watch: the request sets timeoutSeconds to it, and libcurl
 * gives up 30 s later, so a silent dead connection is noticed. */
#define AGENT_KUBE_WATCH_SEC 240

struct agent_kube_client;

/* Called with each complete line of a watch stream (NUL-terminated). */
typedef void (*agent_kube_line_fn)(void *userdata, const char *line, size_t len);

/* Creates a client that takes ownership of AUTH.  A request in progress ends
 * with -ECANCELED once *CANCEL is true (NULL: never), so a stopping agent does
 * not wait for a slow server.  Returns 0 or -ENOMEM. */
int agent_kube_client_new(struct agent_kube_auth *auth, const atomic_bool *cancel,
			  struct agent_kube_client **ret_client);

/* Frees CLIENT; NULL is a no-op. */
void agent_kube_client_free(struct agent_kube_client *client);

/* Returns the server URL, for messages. */
const char *agent_kube_client_server(const struct agent_kube_client *client);

/*
 * Sends METHOD to PATH (starting with '/', query included) with BODY as JSON
 * (not consumed; NULL for none).  On a response of any status returns 0, sets
 * *ret_status and *ret_body (the decoded JSON, or NULL when the body is not
 * JSON; caller json_decref's it).  Returns -EIO or -ETIMEDOUT when no
 * response came, or -ECANCELED, with the reason in err.
 */
int agent_kube_request(struct agent_kube_client *client, const char *method, const char *path,
		       json_t *body, long *ret_status, json_t **ret_body, char *err, size_t err_size);

/* Creates an easy handle that GETs PATH as a watch stream and passes each line
 * to FN.  The caller adds it to a multi handle and frees it with
 * agent_kube_watch_free.  Returns NULL when out of memory. */
CURL *agent_kube_watch_new(struct agent_kube_client *client, const char *path,
			   agent_kube_line_fn fn, void *userdata);

/* Frees a handle of agent_kube_watch_new, which must not be in a multi
 * handle; NULL is a no-op. */
void agent_kube_watch_free(CURL *watch);

/* Writes "METHOD PATH: HTTP STATUS REASON: message" for a failed response,
 * taking the message of a Kubernetes Status body when there is one. */
void agent_kube_describe(const char *method, const char *path, long status, json_t *body,
			 char *err, size_t err_size);

#endif
