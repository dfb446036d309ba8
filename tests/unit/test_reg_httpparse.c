/* Unit tests for registry/httpparse.c: Range, Content-Range, n, Basic, Accept. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <openssl/evp.h>

#include "httpparse.h"
#include "unit.h"

/* Parses HEADER against SIZE, expecting the inclusive range FIRST-LAST. */
static void check_range(const char *header, uint64_t size, uint64_t first, uint64_t last)
{
	uint64_t got_first = 0, got_last = 0;
	int r = reg_range_parse(header, size, &got_first, &got_last);

	if (r != 0)
		fprintf(stderr, "  \"%s\" (size %llu) returned %d\n", header,
			(unsigned long long)size, r);
	CHECK_INT(r, 0);
	CHECK_INT(got_first, first);
	CHECK_INT(got_last, last);
}

static void check_range_error(const char *header, uint64_t size, int expected)
{
	uint64_t first = 77, last = 77;
	int r = reg_range_parse(header, size, &first, &last);

	if (r != expected)
		fprintf(stderr, "  \"%s\" (size %llu) returned %d\n", header,
			(unsigned long long)size, r);
	CHECK_INT(r, expected);
	CHECK_INT(first, 77);
	CHECK_INT(last, 77);
}

static void range_satisfiable(void)
{
	check_range("bytes=0-9", 100, 0, 9);
	check_range("bytes=10-", 100, 10, 99);
	check_range("bytes=99-99", 100, 99, 99);
	check_range("bytes=0-0", 1, 0, 0);
	check_range("BYTES=1-2", 100, 1, 2);
	check_range("bytes=0-18446744073709551615", 10, 0, 9);
	check_range("bytes=0-99999999999999999999999", 10, 0, 9);
}

static void range_clamped(void)
{
	check_range("bytes=50-500", 100, 50, 99);
	check_range("bytes=0-100", 100, 0, 99);
}

static void range_suffix(void)
{
	check_range("bytes=-10", 100, 90, 99);
	check_range("bytes=-100", 100, 0, 99);
	check_range("bytes=-500", 100, 0, 99);
	check_range("bytes=-1", 1, 0, 0);
}

static void range_unsatisfiable(void)
{
	check_range_error("bytes=100-", 100, -ERANGE);
	check_range_error("bytes=100-200", 100, -ERANGE);
	check_range_error("bytes=99999999999999999999999-", 100, -ERANGE);
	check_range_error("bytes=-0", 100, -ERANGE);
	check_range_error("bytes=0-", 0, -ERANGE);
	check_range_error("bytes=0-0", 0, -ERANGE);
	check_range_error("bytes=-5", 0, -ERANGE);
}

static void range_malformed(void)
{
	static const char *const malformed[] = {
		"", "bytes", "bytes=", "bytes=-", "bytes=5-2", "bytes=a-b", "bytes=1",
		"bytes=1-2,3-4", "bytes=0-1,", "bytes=--1", "bytes=1-2-3", "items=0-1",
		"bytes=+1-2", "bytes=1 -2", "bytes=0x1-2", "bytes 0-1", "bytes=-1-2",
	};

	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		check_range_error(malformed[i], 100, -EINVAL);
	/* A malformed header stays malformed even against an empty blob. */
	check_range_error("bytes=5-2", 0, -EINVAL);
}

static void content_range_forms(void)
{
	uint64_t first = 0, last = 0;

	CHECK_INT(reg_content_range_parse("0-99", &first, &last), 0);
	CHECK_INT(first, 0);
	CHECK_INT(last, 99);
	CHECK_INT(reg_content_range_parse("100-100", &first, &last), 0);
	CHECK_INT(first, 100);
	CHECK_INT(last, 100);
	CHECK_INT(reg_content_range_parse("bytes 5-9/*", &first, &last), 0);
	CHECK_INT(first, 5);
	CHECK_INT(last, 9);
	CHECK_INT(reg_content_range_parse("bytes 0-9/10", &first, &last), 0);
	CHECK_INT(first, 0);
	CHECK_INT(last, 9);
}

static void content_range_malformed(void)
{
	static const char *const malformed[] = {
		"", "-", "5-", "-5", "9-5", "a-b", "0-9/10", "bytes 0-9", "bytes 0-9/",
		"bytes 0-10/10", "bytes 0-9/x", "0-9 ", " 0-9", "bytes=0-9", "0-99999999999999999999999",
		"bytes 0-9/*x",
	};

	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		uint64_t first = 77, last = 77;
		int r = reg_content_range_parse(malformed[i], &first, &last);

		if (r != -EINVAL)
			fprintf(stderr, "  \"%s\" returned %d\n", malformed[i], r);
		CHECK_INT(r, -EINVAL);
		CHECK_INT(first, 77);
	}
}

static void count_parsing(void)
{
	unsigned n = 7;

	CHECK_INT(reg_query_parse_count("0", 100, &n), 0);
	CHECK_INT(n, 0);
	CHECK_INT(reg_query_parse_count("100", 100, &n), 0);
	CHECK_INT(n, 100);
	CHECK_INT(reg_query_parse_count("007", 100, &n), 0);
	CHECK_INT(n, 7);

	n = 9;
	CHECK_INT(reg_query_parse_count("101", 100, &n), -EINVAL);
	CHECK_INT(reg_query_parse_count("", 100, &n), -EINVAL);
	CHECK_INT(reg_query_parse_count("-1", 100, &n), -EINVAL);
	CHECK_INT(reg_query_parse_count("+1", 100, &n), -EINVAL);
	CHECK_INT(reg_query_parse_count(" 1", 100, &n), -EINVAL);
	CHECK_INT(reg_query_parse_count("1 ", 100, &n), -EINVAL);
	CHECK_INT(reg_query_parse_count("1x", 100, &n), -EINVAL);
	CHECK_INT(reg_query_parse_count("4294967296", 4294967295u, &n), -EINVAL);
	CHECK_INT(reg_query_parse_count("99999999999999999999999", 100, &n), -EINVAL);
	CHECK_INT(n, 9);
}

/* Builds "Basic <base64 of CREDENTIALS (LEN bytes)>" into HEADER. */
static void basic_header(const char *scheme, const void *credentials, size_t len,
			 char *header, size_t size)
{
	unsigned char encoded[4096];

	EVP_EncodeBlock(encoded, credentials, (int)len);
	snprintf(header, size, "%s%s", scheme, encoded);
}

static void basic_auth_valid(void)
{
	char user[REG_AUTH_USER_MAX + 1], password[REG_AUTH_PASSWORD_MAX + 1];
	size_t len = 0;

	/* "Aladdin:open sesame" from RFC 7617. */
	CHECK_INT(reg_basic_auth_parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", user, password, &len), 0);
	CHECK_STR(user, "Aladdin");
	CHECK_STR(password, "open sesame");
	CHECK_INT(len, 11);

	CHECK_INT(reg_basic_auth_parse("basic   QWxhZGRpbjpvcGVuIHNlc2FtZQ==", user, password, &len), 0);
	CHECK_STR(user, "Aladdin");
	CHECK_INT(reg_basic_auth_parse("BASIC QWxhZGRpbjpvcGVuIHNlc2FtZQ==", user, password, &len), 0);
}

static void basic_auth_password_bytes(void)
{
	char user[REG_AUTH_USER_MAX + 1], password[REG_AUTH_PASSWORD_MAX + 1];
	char header[4200];
	size_t len = 0;

	basic_header("Basic ", "bob:a:b::c", 10, header, sizeof(header));
	CHECK_INT(reg_basic_auth_parse(header, user, password, &len), 0);
	CHECK_STR(user, "bob");
	CHECK_STR(password, "a:b::c");
	CHECK_INT(len, 6);

	basic_header("Basic ", "j\xc3\xbcrgen:p\xc3\xa4ss\xe2\x82\xac", 16, header, sizeof(header));
	CHECK_INT(reg_basic_auth_parse(header, user, password, &len), 0);
	CHECK_STR(user, "j\xc3\xbcrgen");
	CHECK_STR(password, "p\xc3\xa4ss\xe2\x82\xac");
	CHECK_INT(len, 8);

	/* An empty password, and a password of control and high bytes. */
	basic_header("Basic ", "u:", 2, header, sizeof(header));
	CHECK_INT(reg_basic_auth_parse(header, user, password, &len), 0);
	CHECK_INT(len, 0);
	basic_header("Basic ", "u:\x01\xff\t ", 6, header, sizeof(header));
	CHECK_INT(reg_basic_auth_parse(header, user, password, &len), 0);
	CHECK_INT(len, 4);
	CHECK(memcmp(password, "\x01\xff\t ", 5) == 0);
}

static void basic_auth_limits(void)
{
	char user[REG_AUTH_USER_MAX + 1], password[REG_AUTH_PASSWORD_MAX + 1];
	char credentials[REG_AUTH_USER_MAX + REG_AUTH_PASSWORD_MAX + 8];
	char header[4200];
	size_t len = 0;

	/* The longest user and password. */
	memset(credentials, 'u', REG_AUTH_USER_MAX);
	credentials[REG_AUTH_USER_MAX] = ':';
	memset(credentials + REG_AUTH_USER_MAX + 1, 'p', REG_AUTH_PASSWORD_MAX);
	basic_header("Basic ", credentials, REG_AUTH_USER_MAX + 1 + REG_AUTH_PASSWORD_MAX,
		     header, sizeof(header));
	CHECK_INT(reg_basic_auth_parse(header, user, password, &len), 0);
	CHECK_INT(strlen(user), REG_AUTH_USER_MAX);
	CHECK_INT(len, REG_AUTH_PASSWORD_MAX);

	/* One byte more in the password. */
	credentials[REG_AUTH_USER_MAX + 1 + REG_AUTH_PASSWORD_MAX] = 'p';
	basic_header("Basic ", credentials, REG_AUTH_USER_MAX + 2 + REG_AUTH_PASSWORD_MAX,
		     header, sizeof(header));
	CHECK_INT(reg_basic_auth_parse(header, user, password, &len), -EINVAL);

	/* One byte more in the user. */
	memset(credentials, 'u', REG_AUTH_USER_MAX + 1);
	credentials[REG_AUTH_USER_MAX + 1] = ':';
	credentials[REG_AUTH_USER_MAX + 2] = 'p';
	basic_header("Basic ", credentials, REG_AUTH_USER_MAX + 3, header, sizeof(header));
	CHECK_INT(reg_basic_auth_parse(header, user, password, &len), -EINVAL);
}

static void basic_auth_rejected(void)
{
	char user[REG_AUTH_USER_MAX + 1], password[REG_AUTH_PASSWORD_MAX + 1];
	char header[200];
	size_t len = 99;
	static const char *const rejected[] = {
		"", "Basic", "Basic ", "Basic  ", "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
		"BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Basic\tQWxhZGRpbjpvcGVuIHNlc2FtZQ==",
		" Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ",
		"Basic QWxh ZGRpbjpvcGVuIHNlc2FtZQ==", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==x",
		"Basic QWxh=GRpbjpvcGVuIHNlc2FtZQ==", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZ===",
		"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ-_", "Basic YWxhZGRpbg==",
	};

	for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
		int r = reg_basic_auth_parse(rejected[i], user, password, &len);

		if (r != -EINVAL)
			fprintf(stderr, "  \"%s\" returned %d\n", rejected[i], r);
		CHECK_INT(r, -EINVAL);
	}

	/* A NUL byte in the user or the password. */
	basic_header("Basic ", "us\0er:pw", 8, header, sizeof(header));
	CHECK_INT(reg_basic_auth_parse(header, user, password, &len), -EINVAL);
	basic_header("Basic ", "user:p\0w", 8, header, sizeof(header));
	CHECK_INT(reg_basic_auth_parse(header, user, password, &len), -EINVAL);
	CHECK_INT(len, 99);

	/* Far longer than any accepted token. */
	memset(header, 'A', sizeof(header) - 1);
	memcpy(header, "Basic ", 6);
	header[sizeof(header) - 1] = '\0';
	CHECK_INT(reg_basic_auth_parse(header, user, password, &len), -EINVAL);
}

static void accept_matching(void)
{
	const char *oci = "application/vnd.oci.image.manifest.v1+json";

	CHECK_INT(reg_accept_lists(NULL, oci), 1);
	CHECK_INT(reg_accept_lists("", oci), 1);
	CHECK_INT(reg_accept_lists("  ", oci), 1);
	CHECK_INT(reg_accept_lists(oci, oci), 1);
	CHECK_INT(reg_accept_lists("*/*", oci), 1);
	CHECK_INT(reg_accept_lists("application/*", oci), 1);
	CHECK_INT(reg_accept_lists("APPLICATION/*", oci), 1);
	CHECK_INT(reg_accept_lists("Application/VND.OCI.Image.Manifest.V1+JSON", oci), 1);
	CHECK_INT(reg_accept_lists("text/plain, application/vnd.oci.image.manifest.v1+json;q=0.5",
				   oci), 1);
	CHECK_INT(reg_accept_lists("text/plain,application/vnd.oci.image.manifest.v1+json ; q=0.9 ,x/y",
				   oci), 1);
	CHECK_INT(reg_accept_lists("text/plain;q=1, */*;q=0.1", oci), 1);
	CHECK_INT(reg_accept_lists(",,application/vnd.oci.image.manifest.v1+json,,", oci), 1);
}

static void accept_not_matching(void)
{
	const char *oci = "application/vnd.oci.image.manifest.v1+json";

	CHECK_INT(reg_accept_lists("text/plain", oci), 0);
	CHECK_INT(reg_accept_lists("text/*", oci), 0);
	CHECK_INT(reg_accept_lists("application/vnd.oci.image.index.v1+json", oci), 0);
	CHECK_INT(reg_accept_lists("application/vnd.oci.image.manifest.v1+jsonx", oci), 0);
	CHECK_INT(reg_accept_lists("application/vnd.oci.image.manifest.v1", oci), 0);
	CHECK_INT(reg_accept_lists("applicatio/*", oci), 0);
	CHECK_INT(reg_accept_lists("*/json", oci), 0);
	CHECK_INT(reg_accept_lists("*", oci), 0);
	CHECK_INT(reg_accept_lists(",", oci), 0);
	CHECK_INT(reg_accept_lists("text/plain;application/vnd.oci.image.manifest.v1+json", oci), 0);
}

int main(void)
{
	RUN(range_satisfiable);
	RUN(range_clamped);
	RUN(range_suffix);
	RUN(range_unsatisfiable);
	RUN(range_malformed);
	RUN(content_range_forms);
	RUN(content_range_malformed);
	RUN(count_parsing);
	RUN(basic_auth_valid);
	RUN(basic_auth_password_bytes);
	RUN(basic_auth_limits);
	RUN(basic_auth_rejected);
	RUN(accept_matching);
	RUN(accept_not_matching);
	return UNIT_EXIT();
}
