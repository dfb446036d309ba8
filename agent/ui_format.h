/*
 * Parsing and formatting for the web UI's part of the API (api_ui.c): the
 * language choice, download headers, HTTP Basic credentials, the same-origin
 * checks of the TCP listener, and the names the registry accepts.  Pure
 * functions with no I/O, so unit tests cover them (tests/unit/test_agent_ui.c).
 */
#ifndef EDGECR_AGENT_UI_FORMAT_H
#define EDGECR_AGENT_UI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

/* Maximum lengths of a repository name and of a tag that the API passes on to the registry. */
#define AGENT_UI_NAME_MAX 255
#define AGENT_UI_REFERENCE_MAX 128

/* Returns "pt" when ACCEPT_LANGUAGE (may be NULL) ranks Portuguese above
 * English, else "en".  Languages with q=0 are ignored. */
const char *agent_ui_pick_language(const char *accept_language);

/* Writes `attachment; filename="NAME"` into ret_value of SIZE bytes.  NAME
 * must be [A-Za-z0-9._-]+.  Returns 0, -EINVAL or -ENAMETOOLONG. */
int agent_ui_content_disposition(const char *name, char *ret_value, size_t size);

/* Decodes an "Authorization: Basic ..." value into ret_user and ret_password
 * (each SIZE bytes).  Returns 0, or -EINVAL when HEADER is not Basic, not
 * base64, has no ':' or does not fit. */
int agent_ui_parse_basic_auth(const char *header, char *ret_user, char *ret_password,
			      size_t size);

/* Returns true when HOST (a Host header, may be NULL) names a loopback address
 * or "localhost", with an optional port. */
bool agent_ui_host_is_local(const char *host);

/* Returns true when ORIGIN is exactly "http://HOST".  NULL is never same. */
bool agent_ui_origin_matches(const char *origin, const char *host);

/* Returns true when NAME is a repository name as the OCI distribution
 * specification defines it: lowercase components of [a-z0-9] joined by '.',
 * '_', '__' or '-' runs, separated by '/'. */
bool agent_ui_repository_is_valid(const char *name);

/* Returns true when REF is a tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}) or a
 * digest "sha256:" followed by 64 lowercase hex digits. */
bool agent_ui_reference_is_valid(const char *ref);

/* Returns true when IP, a text address, is in 127.0.0.0/8 or is ::1. */
bool agent_ui_ip_is_loopback(const char *ip);

/* Returns the Content-Type of a static file by its extension, or NULL for an
 * extension the UI does not serve. */
const char *agent_ui_static_type(const char *path);

/* Converts the first certificate of PEM (LEN bytes) to DER in a malloc'd
 * buffer that the caller frees.  Returns 0, -EINVAL or -ENOMEM. */
int agent_ui_pem_to_der(const char *pem, size_t len, unsigned char **ret_der,
			size_t *ret_len);

#endif
