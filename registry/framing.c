/*
 * Request framing checks and percent-decoding; see framing.h.
 */
#include "framing.h"

#include <string.h>

const char *reg_framing_error(const char *version, const struct reg_framing *framing)
{
	if (framing->hosts == 0 && version && strcmp(version, "HTTP/1.1") == 0)
		return "HTTP/1.1 requests must have a Host header";
	if (framing->hosts > 1)
		return "more than one Host header";
	if (framing->content_lengths > 1)
		return "more than one Content-Length header";
	if (framing->content_lengths > 0 && framing->transfer_encoding)
		return "Content-Length and Transfer-Encoding must not both be sent";
	return NULL;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t reg_unescape(char *s, bool *ret_nul)
{
	char *out = s;

	for (const char *in = s; *in; ) {
		int high = in[0] == '%' ? hex_value(in[1]) : -1;
		int low = high >= 0 ? hex_value(in[2]) : -1;

		if (low < 0) {
			*out++ = *in++;
			continue;
		}
		if (high == 0 && low == 0) {
			*ret_nul = true;
			memmove(out, in, 3);
			out += 3;
		} else {
			*out++ = (char)(high * 16 + low);
		}
		in += 3;
	}
	*out = '\0';
	return (size_t)(out - s);
}
