/*
 * Client of the edgecr-agent management API: HTTP/1.1 with JSON bodies over
 * the agent's Unix socket, through libcurl.
 *
 * Every failure is turned into one translated sentence that names the next
 * step for the administrator, so the cmdlets only print it.  Requests are
 * sent one at a time; nothing here is thread-safe.
 */
#ifndef EDGECR_CMDLET_AGENT_H
#define EDGECR_CMDLET_AGENT_H

#include <jansson.h>
#include <stddef.h>

/* Socket of an installed agent; $EDGECR_AGENT_SOCKET overrides it. */
#define CMDLET_AGENT_SOCKET_DEFAULT "/run/edgecr/agent.sock"

/* Largest reply body accepted from the agent, in bytes. */
#define CMDLET_AGENT_REPLY_MAX (1024 * 1024)

/* Returns $EDGECR_AGENT_SOCKET when set and not empty, else the default. */
const char *cmdlet_agent_socket_path(void);

/* Maximum length of the language tag sent in Accept-Language, such as "pt-PT". */
#define CMDLET_LANGUAGE_TAG_MAX 35

/*
 * Writes into TAG (CMDLET_LANGUAGE_TAG_MAX + 1 bytes) the language of the
 * caller's locale as an HTTP language tag, so that the agent replies in it:
 * the first of $LC_ALL, $LC_MESSAGES and $LANG that is set, and before it the
 * first entry of $LANGUAGE unless that locale is C or POSIX, as gettext reads
 * them.  "pt_PT.UTF-8" gives "pt-PT".  Returns 0, or -ENOENT when no usable
 * language is set (C, POSIX, unset or malformed), and then TAG is "".
 */
int cmdlet_agent_language_tag(char *tag);

/*
 * Sends METHOD (e.g. "PUT") for PATH (e.g. "/v1/registry") with the JSON text
 * BODY, or no body when BODY is NULL, and Accept-Language from
 * cmdlet_agent_language_tag, and waits at most TIMEOUT_SECONDS for
 * the whole exchange.  On a 2xx reply returns 0 and sets *ret_reply to the
 * parsed JSON body, which the caller releases with json_decref.  Otherwise
 * returns a negative errno and writes one translated sentence into ERR:
 *   -ENOENT, -ECONNREFUSED  the agent is not running (socket missing or dead)
 *   -EACCES                 the socket refused the caller, or the agent sent
 *                           403 FORBIDDEN
 *   -ETIMEDOUT              no complete reply within TIMEOUT_SECONDS
 *   -EPROTO                 the agent sent an error, whose message is in ERR
 *   -EBADMSG                the reply is not JSON or is too large
 *   -EIO, -ENOMEM           libcurl or memory failure
 */
int cmdlet_agent_call(const char *method, const char *path, const char *body,
		      long timeout_seconds, json_t **ret_reply, char *err, size_t err_size);

#endif
