/*
 * Parsers for client-supplied headers and query values; see httpparse.h.
 *
 * Every parser reads the whole value and rejects anything it does not fully
 * understand, because a half-parsed header is how request smuggling and
 * off-by-one ranges start.
 */
#include "httpparse.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Base64 of "user:password" at the longest user and password accepted. */
#define BASIC_TOKEN_MAX (4 * ((REG_AUTH_USER_MAX + 1 + REG_AUTH_PASSWORD_MAX + 2) / 3))

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * Reads the decimal number at *P and advances *P past it.  A value above
 * UINT64_MAX saturates to UINT64_MAX when SATURATE is set and fails otherwise.
 * Returns 0, or -EINVAL when *P does not start with a digit.
 */
static int read_u64(const char **p, bool saturate, uint64_t *ret)
{
	const char *s = *p;
	uint64_t value = 0;
	bool overflow = false;

	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		unsigned digit = (unsigned)(*s - '0');

		if (value > (UINT64_MAX - digit) / 10)
			overflow = true;
		else
			value = value * 10 + digit;
	}
	if (overflow && !saturate)
		return -EINVAL;

	*ret = overflow ? UINT64_MAX : value;
	*p = s;
	return 0;
}

/*
 * Reads one byte-range-spec "A-B", "A-" or "-N" at P, followed only by
 * optional whitespace.  A missing bound is UINT64_MAX; *ret_suffix is set for
 * "-N", with N in *ret_last.
 */
static int read_range_spec(const char *p, uint64_t *ret_first, uint64_t *ret_last,
			   bool *ret_suffix)
{
	uint64_t first = UINT64_MAX, last = UINT64_MAX;
	bool suffix = *p == '-';
	int r;

	if (!suffix) {
		r = read_u64(&p, true, &first);
		if (r < 0)
			return r;
	}
	if (*p++ != '-')
		return -EINVAL;
	if (is_digit(*p)) {
		r = read_u64(&p, true, &last);
		if (r < 0)
			return r;
	} else if (suffix) {
		return -EINVAL;
	}
	if (*skip_ows(p) != '\0' || (!suffix && last < first))
		return -EINVAL;

	*ret_first = first;
	*ret_last = last;
	*ret_suffix = suffix;
	return 0;
}

int reg_range_parse(const char *header, uint64_t size, uint64_t *ret_first,
		    uint64_t *ret_last)
{
	uint64_t first, last;
	bool suffix;
	int r;

	/* The range unit is case-insensitive (RFC 9110 section 14.1). */
	if (strncasecmp(header, "bytes=", 6) != 0)
		return -EINVAL;
	r = read_range_spec(skip_ows(header + 6), &first, &last, &suffix);
	if (r < 0)
		return r;

	if (suffix) {
		/* "-N" is the last N bytes; "-0" selects nothing. */
		if (last == 0 || size == 0)
			return -ERANGE;
		first = last >= size ? 0 : size - last;
		last = size - 1;
	} else {
		if (first >= size)
			return -ERANGE;
		if (last >= size)
			last = size - 1;
	}

	*ret_first = first;
	*ret_last = last;
	return 0;
}

int reg_content_range_parse(const char *header, uint64_t *ret_first, uint64_t *ret_last)
{
	const char *p = header;
	uint64_t first, last, length;
	bool rfc_form = strncasecmp(p, "bytes ", 6) == 0;

	if (rfc_form)
		p += 6;
	if (read_u64(&p, false, &first) < 0 || *p++ != '-' ||
	    read_u64(&p, false, &last) < 0 || last < first)
		return -EINVAL;

	if (rfc_form) {
		if (*p++ != '/')
			return -EINVAL;
		if (*p == '*') {
			p++;
		} else if (read_u64(&p, false, &length) < 0 || last >= length) {
			return -EINVAL;
		}
	}
	if (*p != '\0')
		return -EINVAL;

	*ret_first = first;
	*ret_last = last;
	return 0;
}

int reg_query_parse_count(const char *value, unsigned max, unsigned *ret)
{
	const char *p = value;
	uint64_t count;

	if (read_u64(&p, false, &count) < 0 || *p != '\0' || count > max)
		return -EINVAL;

	*ret = (unsigned)count;
	return 0;
}

/*
 * Decodes the base64 TOKEN (LEN bytes, no whitespace) into OUT, which holds
 * at least LEN / 4 * 3 bytes.  Returns the decoded length or -EINVAL.
 */
static int decode_base64(const char *token, size_t len, unsigned char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t padding = 0;
	int n;

	if (len == 0 || len % 4 != 0)
		return -EINVAL;
	while (padding < 2 && token[len - 1 - padding] == '=')
		padding++;
	/* EVP_DecodeBlock skips blanks and would take '=' inside the token, so
	 * the alphabet is checked here. */
	for (size_t i = 0; i < len - padding; i++)
		if (!memchr(alphabet, token[i], sizeof(alphabet) - 1))
			return -EINVAL;

	n = EVP_DecodeBlock(out, (const unsigned char *)token, (int)len);
	if (n < 0)
		return -EINVAL;
	/* EVP_DecodeBlock counts the bytes the padding stands for as output. */
	return n - (int)padding;
}

/* Splits the decoded "user:password" (LEN bytes) into the caller's buffers. */
static int split_credentials(const unsigned char *decoded, size_t len, char *user,
			     char *password, size_t *ret_password_len)
{
	const unsigned char *colon = memchr(decoded, ':', len);
	size_t user_len, password_len;

	if (!colon || memchr(decoded, '\0', len))
		return -EINVAL;
	user_len = (size_t)(colon - decoded);
	password_len = len - user_len - 1;
	if (user_len > REG_AUTH_USER_MAX || password_len > REG_AUTH_PASSWORD_MAX)
		return -EINVAL;

	memcpy(user, decoded, user_len);
	user[user_len] = '\0';
	memcpy(password, colon + 1, password_len);
	password[password_len] = '\0';
	*ret_password_len = password_len;
	return 0;
}

int reg_basic_auth_parse(const char *header, char *user, char *password,
			 size_t *ret_password_len)
{
	unsigned char decoded[BASIC_TOKEN_MAX / 4 * 3];
	const char *token;
	size_t token_len;
	int n, r;

	/* The scheme is case-insensitive and followed by one or more spaces. */
	if (strncasecmp(header, "Basic ", 6) != 0)
		return -EINVAL;
	token = header + 6;
	while (*token == ' ')
		token++;
	token_len = strlen(token);
	while (token_len > 0 && (token[token_len - 1] == ' ' || token[token_len - 1] == '\t'))
		token_len--;
	if (token_len > BASIC_TOKEN_MAX)
		return -EINVAL;

	n = decode_base64(token, token_len, decoded);
	if (n < 0)
		return n;
	r = split_credentials(decoded, (size_t)n, user, password, ret_password_len);
	OPENSSL_cleanse(decoded, sizeof(decoded));
	return r;
}

/*
 * Returns true when the media range RANGE (LEN bytes, parameters removed)
 * covers MEDIA_TYPE: the same type, the any-type wildcard, or the wildcard of
 * MEDIA_TYPE's top-level type, all compared ignoring case.
 */
static bool media_range_covers(const char *range, size_t len, const char *media_type)
{
	const char *slash = strchr(media_type, '/');

	if (len == 3 && memcmp(range, "*/*", 3) == 0)
		return true;
	if (len == strlen(media_type) && strncasecmp(range, media_type, len) == 0)
		return true;
	if (slash && len >= 2 && range[len - 2] == '/' && range[len - 1] == '*' &&
	    len - 2 == (size_t)(slash - media_type) &&
	    strncasecmp(range, media_type, len - 2) == 0)
		return true;
	return false;
}

/*
 * NOTE: "q=0" marks a type as not acceptable (an RFC 9110 quality value), but
 * like every parameter it is ignored here, so such a type still counts as listed.
 */
int reg_accept_lists(const char *accept, const char *media_type)
{
	const char *p = accept;

	if (!accept || *skip_ows(accept) == '\0')
		return 1;

	while (*p) {
		size_t element_len = strcspn(p, ",");
		size_t range_len = strcspn(p, ",;");
		const char *range = skip_ows(p);

		/* Drop the blanks around the media range itself. */
		range_len -= (size_t)(range - p);
		while (range_len > 0 && (range[range_len - 1] == ' ' || range[range_len - 1] == '\t'))
			range_len--;
		if (media_range_covers(range, range_len, media_type))
			return 1;

		p += element_len;
		if (*p == ',')
			p++;
	}
	return 0;
}
