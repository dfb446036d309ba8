/* Unit tests for registry/ref.c: names, tags and digests. */
#include <errno.h>
#include <string.h>

#include "ref.h"
#include "unit.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX128 HEX64 HEX64

static void name_valid_cases(void)
{
	static const char *const valid[] = {
		"a", "a/b/c", "team/app/api", "a__b", "a---b", "a.b", "a_b", "a-b",
		"0", "library/ubuntu", "x/blobs/y", "a1.b2_c3__d4-e5",
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		if (!reg_name_is_valid(valid[i]))
			fprintf(stderr, "  expected valid: \"%s\"\n", valid[i]);
		CHECK(reg_name_is_valid(valid[i]));
	}
}

static void name_invalid_cases(void)
{
	static const char *const invalid[] = {
		"", "a._b", "../x", "..", ".", "x/..", "x/../y", "A", "aB", "/a", "a/", "-a", "a-",
		".a", "a.", "_a", "a_", "a//b", "a___b", "a..b", "a.-b", "a b", "a\\b", "a:b",
		"a/./b", "a/-b", "café",
	};

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (reg_name_is_valid(invalid[i]))
			fprintf(stderr, "  expected invalid: \"%s\"\n", invalid[i]);
		CHECK(!reg_name_is_valid(invalid[i]));
	}
}

static void name_length_limit(void)
{
	char name[REG_NAME_MAX + 2];

	memset(name, 'a', REG_NAME_MAX);
	name[REG_NAME_MAX] = '\0';
	CHECK(reg_name_is_valid(name));

	name[REG_NAME_MAX] = 'a';
	name[REG_NAME_MAX + 1] = '\0';
	CHECK(!reg_name_is_valid(name));

	/* Components separated by '/' count toward the same limit. */
	for (size_t i = 1; i < REG_NAME_MAX; i += 2)
		name[i] = '/';
	name[REG_NAME_MAX] = '\0';
	CHECK(reg_name_is_valid(name));
	name[REG_NAME_MAX] = 'a';
	CHECK(!reg_name_is_valid(name));
}

static void tag_cases(void)
{
	static const char *const valid[] = {
		"latest", "v1.0.0", "_tag", "Tag", "TAG", "1", "a-b_c.d", "sha256-abc",
	};
	static const char *const invalid[] = {
		"", "-tag", ".tag", "a/b", "a:b", "a b", "tag!", "é",
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		CHECK(reg_tag_is_valid(valid[i]));
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (reg_tag_is_valid(invalid[i]))
			fprintf(stderr, "  expected invalid tag: \"%s\"\n", invalid[i]);
		CHECK(!reg_tag_is_valid(invalid[i]));
	}
}

static void tag_length_limit(void)
{
	char tag[REG_TAG_MAX + 2];

	memset(tag, 'a', REG_TAG_MAX);
	tag[REG_TAG_MAX] = '\0';
	CHECK(reg_tag_is_valid(tag));

	tag[REG_TAG_MAX] = 'a';
	tag[REG_TAG_MAX + 1] = '\0';
	CHECK(!reg_tag_is_valid(tag));
}

static void digest_sha256_parses(void)
{
	struct reg_digest d;

	CHECK_INT(reg_digest_parse("sha256:" HEX64, &d), 0);
	CHECK_INT(d.algorithm, REG_DIGEST_SHA256);
	CHECK_STR(d.text, "sha256:" HEX64);
	CHECK_STR(d.hex, HEX64);
	CHECK(d.hex == d.text + 7);
	CHECK_INT(reg_digest_algorithm_size(d.algorithm), 32);
	CHECK_STR(reg_digest_algorithm_name(d.algorithm), "sha256");
}

static void digest_sha512_parses(void)
{
	struct reg_digest d;

	CHECK_INT(reg_digest_parse("sha512:" HEX128, &d), 0);
	CHECK_INT(d.algorithm, REG_DIGEST_SHA512);
	CHECK_STR(d.text, "sha512:" HEX128);
	CHECK_STR(d.hex, HEX128);
	CHECK_INT(strlen(d.text) + 1, REG_DIGEST_TEXT_MAX);
	CHECK_INT(reg_digest_algorithm_size(d.algorithm), 64);
	CHECK_STR(reg_digest_algorithm_name(d.algorithm), "sha512");
}

static void digest_grammar_errors(void)
{
	static const char *const malformed[] = {
		"", ":", "sha256", "sha256:", ":" HEX64, "SHA256:" HEX64, "sha256::" HEX64,
		"sha256:" HEX64 " ", "sha256:abc/def", "-sha256:" HEX64, "sha256-:" HEX64,
		"sha256:abc+def", "sha 256:" HEX64,
	};
	struct reg_digest d;

	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		int r = reg_digest_parse(malformed[i], &d);

		if (r != -EINVAL)
			fprintf(stderr, "  \"%s\" returned %d\n", malformed[i], r);
		CHECK_INT(r, -EINVAL);
	}
}

static void digest_unsupported_errors(void)
{
	static const char *const unsupported[] = {
		"md5:d41d8cd98f00b204e9800998ecf8427e",
		"sha256:" HEX64 "0",
		"sha256:0123",
		"sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		"sha256:g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"sha512:" HEX64,
		"sha512:" HEX128 "00",
		"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
		"sha384:" HEX64,
	};
	struct reg_digest d;

	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		int r = reg_digest_parse(unsupported[i], &d);

		if (r != -ENOTSUP)
			fprintf(stderr, "  \"%s\" returned %d\n", unsupported[i], r);
		CHECK_INT(r, -ENOTSUP);
	}
}

static void digest_failure_leaves_output(void)
{
	struct reg_digest d;

	memset(&d, 0x5a, sizeof(d));
	CHECK(reg_digest_parse("sha256:" HEX64 "0", &d) < 0);
	CHECK_INT((unsigned char)d.text[0], 0x5a);
}

static void digest_copy_keeps_hex(void)
{
	struct reg_digest original, copy, empty = { 0 };

	CHECK_INT(reg_digest_parse("sha512:" HEX128, &original), 0);
	reg_digest_copy(&copy, &original);
	CHECK(copy.hex == copy.text + 7);
	CHECK_STR(copy.hex, HEX128);
	CHECK_INT(copy.algorithm, REG_DIGEST_SHA512);

	/* A digest never parsed has no hex, and neither has its copy. */
	reg_digest_copy(&copy, &empty);
	CHECK(copy.hex == NULL);
}

static void reference_digest_detection(void)
{
	CHECK(reg_reference_is_digest("sha256:" HEX64));
	CHECK(reg_reference_is_digest("md5:x"));
	CHECK(!reg_reference_is_digest("latest"));
	CHECK(!reg_reference_is_digest(""));
}

int main(void)
{
	RUN(name_valid_cases);
	RUN(name_invalid_cases);
	RUN(name_length_limit);
	RUN(tag_cases);
	RUN(tag_length_limit);
	RUN(digest_sha256_parses);
	RUN(digest_sha512_parses);
	RUN(digest_grammar_errors);
	RUN(digest_unsupported_errors);
	RUN(digest_failure_leaves_output);
	RUN(digest_copy_keeps_hex);
	RUN(reference_digest_detection);
	return UNIT_EXIT();
}
