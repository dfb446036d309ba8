/*
 * Parsers for the HTTP headers and query parameters the registry reads from
 * clients.  All are pure functions on strings, so each is unit-tested alone.
 */
#ifndef EDGECR_REG_HTTPPARSE_H
#define EDGECR_REG_HTTPPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Maximum lengths of the user name and password in an Authorization header. */
#define REG_AUTH_USER_MAX 255
#define REG_AUTH_PASSWORD_MAX 1023

/*
 * Parses a Range request header (RFC 9110 section 14.2) against a blob of SIZE
 * bytes.  Only one byte range is served: "bytes=A-B", "bytes=A-", "bytes=-N".
 * Returns 0 with the inclusive range in *ret_first, *ret_last (B is clamped to
 * SIZE-1).  Returns -ERANGE when the range is valid but unsatisfiable (416 with
 * "Content-Range: bytes * /SIZE").  Returns -EINVAL when the header is malformed
 * or names several ranges; RFC 9110 then says to ignore it and send the whole
 * blob with 200.
 */
int reg_range_parse(const char *header, uint64_t size, uint64_t *ret_first,
		    uint64_t *ret_last);

/*
 * Parses the Content-Range header of a chunked upload PATCH: "A-B" as the
 * distribution spec writes it, also accepting RFC 9110's "bytes A-B/LENGTH",
 * where LENGTH is a number or "*" for an unknown length.  Returns 0 with the
 * inclusive range, or -EINVAL when it is malformed, B < A, or B >= LENGTH.
 */
int reg_content_range_parse(const char *header, uint64_t *ret_first, uint64_t *ret_last);

/*
 * Parses the "n" pagination parameter of tags/list and _catalog: a decimal
 * integer in [0, MAX].  Returns 0, or -EINVAL (a client error, 400).
 */
int reg_query_parse_count(const char *value, unsigned max, unsigned *ret);

/*
 * Parses an "Authorization: Basic <base64>" header.  The decoded credentials
 * are split at the first ':', so the password may contain ':' and any other
 * byte but NUL.  USER and PASSWORD are NUL-terminated buffers of
 * REG_AUTH_USER_MAX + 1 and REG_AUTH_PASSWORD_MAX + 1 bytes; *ret_password_len
 * is the password's length.  Returns 0, or -EINVAL for another scheme, bad
 * base64, no ':', a NUL byte or an over-long part.  The caller wipes PASSWORD
 * after use (OPENSSL_cleanse).
 */
int reg_basic_auth_parse(const char *header, char *user, char *password,
			 size_t *ret_password_len);

/*
 * Returns 1 when the Accept header ACCEPT lists MEDIA_TYPE (or a wildcard that
 * covers it, or ACCEPT is NULL or empty), else 0.  Parameters such as ";q=0.5"
 * are ignored.
 */
int reg_accept_lists(const char *accept, const char *media_type);

#endif
