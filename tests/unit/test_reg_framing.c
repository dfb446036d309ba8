/* Unit tests for registry/framing.c: framing checks and the percent-decoder. */
#include <string.h>

#include "framing.h"
#include "unit.h"

/* Decodes IN and checks the result, its length and the %00 flag. */
static void check_unescape(const char *in, const char *expected, bool expected_nul)
{
	char buf[64];
	bool nul = false;
	size_t len;

	snprintf(buf, sizeof(buf), "%s", in);
	len = reg_unescape(buf, &nul);
	CHECK_STR(buf, expected);
	CHECK_INT(len, strlen(expected));
	CHECK_INT(nul, expected_nul);
}

static void unescape_plain(void)
{
	check_unescape("", "", false);
	check_unescape("/v2/base/tags/list", "/v2/base/tags/list", false);
	check_unescape("a%2fb%2Fc", "a/b/c", false);
	check_unescape("%C3%A9", "\xc3\xa9", false);
	check_unescape("%2e%2e", "..", false);
}

static void unescape_invalid_kept(void)
{
	check_unescape("%", "%", false);
	check_unescape("%4", "%4", false);
	check_unescape("%zz%4g", "%zz%4g", false);
	check_unescape("100%", "100%", false);
}

static void unescape_nul_kept(void)
{
	check_unescape("v1%00evil", "v1%00evil", true);
	check_unescape("%00", "%00", true);
	check_unescape("%41%00%42", "A%00B", true);
	/* %2500 is a literal "%00" and not a NUL. */
	check_unescape("%2500", "%00", false);
	check_unescape("%01", "\x01", false);
}

static void unescape_keeps_flag(void)
{
	char buf[] = "plain";
	bool nul = true;

	reg_unescape(buf, &nul);
	CHECK_INT(nul, true);
}

static void framing_valid(void)
{
	struct reg_framing f = { .hosts = 1 };

	CHECK(reg_framing_error("HTTP/1.1", &f) == NULL);
	f.content_lengths = 1;
	CHECK(reg_framing_error("HTTP/1.1", &f) == NULL);
	f = (struct reg_framing){ .hosts = 1, .transfer_encoding = true };
	CHECK(reg_framing_error("HTTP/1.1", &f) == NULL);
	f = (struct reg_framing){ 0 };
	CHECK(reg_framing_error("HTTP/1.0", &f) == NULL);
}

static void framing_invalid(void)
{
	struct reg_framing f = { 0 };

	CHECK(reg_framing_error("HTTP/1.1", &f) != NULL);
	f = (struct reg_framing){ .hosts = 2 };
	CHECK(reg_framing_error("HTTP/1.1", &f) != NULL);
	CHECK(reg_framing_error("HTTP/1.0", &f) != NULL);
	f = (struct reg_framing){ .hosts = 1, .content_lengths = 2 };
	CHECK(reg_framing_error("HTTP/1.1", &f) != NULL);
	f = (struct reg_framing){ .hosts = 1, .content_lengths = 1, .transfer_encoding = true };
	CHECK(reg_framing_error("HTTP/1.1", &f) != NULL);
}

int main(void)
{
	RUN(unescape_plain);
	RUN(unescape_invalid_kept);
	RUN(unescape_nul_kept);
	RUN(unescape_keeps_flag);
	RUN(framing_valid);
	RUN(framing_invalid);
	return UNIT_EXIT();
}
