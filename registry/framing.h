/*
 * Checks on how a request is framed, made before any handler runs, and the
 * percent-decoder the server gives libmicrohttpd.
 *
 * Framing: a request whose body length or target is ambiguous is rejected
 * with 400 and its connection closed, because a proxy in front of the
 * registry could split the byte stream into requests differently (request
 * smuggling).  The rules are those of RFC 9112 sections 3.2 and 6.3.
 *
 * Decoding: libmicrohttpd hands the path and the query parameters to
 * handlers as C strings, so a decoded %00 would silently cut them short.
 * reg_unescape keeps %00 as the three characters and reports it, and the
 * server rejects such a request.
 */
#ifndef EDGECR_REG_FRAMING_H
#define EDGECR_REG_FRAMING_H

#include <stdbool.h>
#include <stddef.h>

/* The framing-related header fields of one request, as counted by the server. */
struct reg_framing {
	unsigned hosts;              /* Host fields */
	unsigned content_lengths;    /* Content-Length fields */
	bool transfer_encoding;      /* any Transfer-Encoding field */
};

/*
 * Checks the header counts in FRAMING for a request of HTTP VERSION (as
 * "HTTP/1.1").  Returns NULL when the request is framed unambiguously, or
 * a message for the 400 response: HTTP/1.1 without Host, more than one Host,
 * more than one Content-Length (even with equal values), or Content-Length
 * together with Transfer-Encoding.
 */
const char *reg_framing_error(const char *version, const struct reg_framing *framing);

/*
 * Decodes the %XX escapes of the NUL-terminated S in place, like
 * MHD_http_unescape, so an invalid escape stays as it is.  %00 is not
 * decoded, and *RET_NUL is set to true when S contains one.  Otherwise
 * *RET_NUL is left alone.  Returns the length of the decoded string.
 */
size_t reg_unescape(char *s, bool *ret_nul);

#endif
