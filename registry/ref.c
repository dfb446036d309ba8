/*
 * Repository names, tags and digests; see ref.h for the grammar.
 *
 * Every check here is a hand-written scanner over bytes, not a regular
 * expression: the grammar is small, and a scanner cannot backtrack for long on
 * a hostile input.
 */
#include "ref.h"

#include <errno.h>
#include <string.h>

#define SHA256_HEX_LEN 64
#define SHA512_HEX_LEN 128

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_lower_hex(char c)
{
	return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9');
}

/*
 * Scans one path component, [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, starting at S.
 * Returns the number of bytes it spans, or 0 when S does not start with one.
 */
static size_t name_component_len(const char *s)
{
	const char *p = s;

	for (;;) {
		if (!is_lower_alnum(*p))
			return 0;
		while (is_lower_alnum(*p))
			p++;

		/* A separator must be followed by another run of [a-z0-9]. */
		if (*p == '.')
			p++;
		else if (*p == '_')
			p += p[1] == '_' ? 2 : 1;
		else if (*p == '-')
			while (*p == '-')
				p++;
		else
			return (size_t)(p - s);
	}
}

bool reg_name_is_valid(const char *name)
{
	const char *p = name;

	if (strnlen(name, REG_NAME_MAX + 1) > REG_NAME_MAX)
		return false;

	for (;;) {
		size_t len = name_component_len(p);

		if (len == 0)
			return false;
		p += len;
		if (*p == '\0')
			return true;
		if (*p != '/')
			return false;
		p++;
	}
}

bool reg_tag_is_valid(const char *tag)
{
	size_t len = strnlen(tag, REG_TAG_MAX + 1);

	if (len == 0 || len > REG_TAG_MAX)
		return false;
	if (!is_alnum(tag[0]) && tag[0] != '_')
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = tag[i];

		if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

/*
 * Checks TEXT against the spec's digest grammar:
 *   algorithm  [a-z0-9]+([+._-][a-z0-9]+)*
 *   encoded    [a-zA-Z0-9=_-]+
 * Returns the length of the algorithm part, or 0 when TEXT does not match.
 */
static size_t digest_grammar_algorithm_len(const char *text)
{
	const char *p = text;

	for (;;) {
		if (!is_lower_alnum(*p))
			return 0;
		while (is_lower_alnum(*p))
			p++;
		if (*p == ':')
			break;
		if (*p != '+' && *p != '.' && *p != '_' && *p != '-')
			return 0;
		p++;
	}

	if (p[1] == '\0')
		return 0;
	for (const char *e = p + 1; *e; e++)
		if (!is_alnum(*e) && *e != '=' && *e != '_' && *e != '-')
			return 0;
	return (size_t)(p - text);
}

static bool is_lower_hex_of_len(const char *hex, size_t want)
{
	size_t len = strnlen(hex, want + 1);

	if (len != want)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_lower_hex(hex[i]))
			return false;
	return true;
}

int reg_digest_parse(const char *text, struct reg_digest *ret)
{
	enum reg_digest_algorithm algorithm;
	size_t algorithm_len, hex_len;
	const char *encoded;

	algorithm_len = digest_grammar_algorithm_len(text);
	if (algorithm_len == 0)
		return -EINVAL;
	encoded = text + algorithm_len + 1;

	if (algorithm_len == 6 && memcmp(text, "sha256", 6) == 0) {
		algorithm = REG_DIGEST_SHA256;
		hex_len = SHA256_HEX_LEN;
	} else if (algorithm_len == 6 && memcmp(text, "sha512", 6) == 0) {
		algorithm = REG_DIGEST_SHA512;
		hex_len = SHA512_HEX_LEN;
	} else {
		return -ENOTSUP;
	}
	if (!is_lower_hex_of_len(encoded, hex_len))
		return -ENOTSUP;

	/* The grammar and the length checks above bound TEXT by REG_DIGEST_TEXT_MAX. */
	memcpy(ret->text, text, algorithm_len + 1 + hex_len + 1);
	ret->hex = ret->text + algorithm_len + 1;
	ret->algorithm = algorithm;
	return 0;
}

void reg_digest_copy(struct reg_digest *dst, const struct reg_digest *src)
{
	memcpy(dst, src, sizeof(*dst));
	if (src->hex)
		dst->hex = dst->text + (src->hex - src->text);
}

bool reg_reference_is_digest(const char *text)
{
	return strchr(text, ':') != NULL;
}

size_t reg_digest_algorithm_size(enum reg_digest_algorithm algorithm)
{
	return algorithm == REG_DIGEST_SHA512 ? 64 : 32;
}

const char *reg_digest_algorithm_name(enum reg_digest_algorithm algorithm)
{
	return algorithm == REG_DIGEST_SHA512 ? "sha512" : "sha256";
}
