/* Unit tests for common/conf.c: the "key = value" configuration reader. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "unit.h"

static char conf_path[64];

/* Keys and values the callback received, as "key=value;" in order. */
struct seen {
	char text[8192];
	unsigned calls;
	const char *fail_on; /* key on which the callback fails, or NULL */
};

static int record(void *userdata, const char *key, const char *value, char *err,
		  size_t err_size)
{
	struct seen *seen = userdata;
	size_t used = strlen(seen->text);

	seen->calls++;
	if (seen->fail_on && strcmp(key, seen->fail_on) == 0) {
		snprintf(err, err_size, "invalid value \"%s\" for %s", value, key);
		return -ERANGE;
	}
	snprintf(seen->text + used, sizeof(seen->text) - used, "%s=%s;", key, value);
	return 0;
}

static void write_conf(const char *content)
{
	FILE *f = fopen(conf_path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(content, f);
	fclose(f);
}

static void keys_comments_and_blanks(void)
{
	struct seen seen = { 0 };
	char err[256] = "";

	write_conf("# a comment\n\n   # indented comment\n"
		   "port = 31001\n"
		   "  root=/var/lib/edgecr  \n"
		   "\t empty = \n"
		   "equals = a=b\n"
		   "hash = x # not a comment\n"
		   "last = no newline");
	CHECK_INT(ecr_conf_read(conf_path, record, &seen, err, sizeof(err)), 0);
	CHECK_STR(seen.text, "port=31001;root=/var/lib/edgecr;empty=;equals=a=b;"
		  "hash=x # not a comment;last=no newline;");
	CHECK_INT(seen.calls, 6);
}

static void quoted_values(void)
{
	struct seen seen = { 0 };
	char err[256] = "";

	write_conf("a = \"  padded  \"\n"
		   "b = \"\"\n"
		   "c = \"unterminated\n"
		   "d = \"\n"
		   "e = say \"hi\"\n"
		   "f = \"in\"side\"\n");
	CHECK_INT(ecr_conf_read(conf_path, record, &seen, err, sizeof(err)), 0);
	CHECK_STR(seen.text, "a=  padded  ;b=;c=\"unterminated;d=\";e=say \"hi\";f=in\"side;");
}

static void missing_equals(void)
{
	struct seen seen = { 0 };
	char err[256] = "", expected[128];

	write_conf("# ok\nport = 1\njust a word\nlater = 2\n");
	CHECK_INT(ecr_conf_read(conf_path, record, &seen, err, sizeof(err)), -EINVAL);
	snprintf(expected, sizeof(expected), "%s:3: expected \"key = value\", found \"just a word\"",
		 conf_path);
	CHECK_STR(err, expected);
	/* Keys before the bad line were already passed on, none after it. */
	CHECK_STR(seen.text, "port=1;");
}

static void long_lines(void)
{
	struct seen seen = { 0 };
	char err[256] = "", expected[128];
	char *content = malloc(2 * ECR_CONF_LINE_MAX);

	CHECK(content != NULL);
	if (!content)
		return;

	/* A line of exactly ECR_CONF_LINE_MAX bytes, newline included, is read. */
	memset(content, 'v', ECR_CONF_LINE_MAX - 1);
	memcpy(content, "k=", 2);
	content[ECR_CONF_LINE_MAX - 1] = '\n';
	content[ECR_CONF_LINE_MAX] = '\0';
	write_conf(content);
	CHECK_INT(ecr_conf_read(conf_path, record, &seen, err, sizeof(err)), 0);
	CHECK_INT(seen.calls, 1);

	/* One byte more, on line 2. */
	memset(&seen, 0, sizeof(seen));
	memcpy(content, "a=1\n", 4);
	memset(content + 4, 'v', ECR_CONF_LINE_MAX);
	memcpy(content + 4, "k=", 2);
	content[4 + ECR_CONF_LINE_MAX] = '\n';
	content[4 + ECR_CONF_LINE_MAX + 1] = '\0';
	write_conf(content);
	CHECK_INT(ecr_conf_read(conf_path, record, &seen, err, sizeof(err)), -EINVAL);
	snprintf(expected, sizeof(expected), "%s:2: line longer than %d bytes", conf_path,
		 ECR_CONF_LINE_MAX);
	CHECK_STR(err, expected);
	free(content);
}

static void callback_error_names_line(void)
{
	struct seen seen = { .fail_on = "workers" };
	char err[256] = "", expected[256];

	write_conf("port = 1\n\n# c\nworkers = 9999\nother = 2\n");
	CHECK_INT(ecr_conf_read(conf_path, record, &seen, err, sizeof(err)), -ERANGE);
	snprintf(expected, sizeof(expected), "%s:4: invalid value \"9999\" for workers", conf_path);
	CHECK_STR(err, expected);
	CHECK_INT(seen.calls, 2);
}

static void unreadable_file(void)
{
	struct seen seen = { 0 };
	char err[256] = "";

	CHECK_INT(ecr_conf_read("/nonexistent/edgecr.conf", record, &seen, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "/nonexistent/edgecr.conf") != NULL);
	CHECK_INT(seen.calls, 0);
}

static void parse_u64_bounds(void)
{
	uint64_t v = 7;

	CHECK_INT(ecr_conf_parse_u64("0", 0, 10, &v), 0);
	CHECK_INT(v, 0);
	CHECK_INT(ecr_conf_parse_u64("10", 0, 10, &v), 0);
	CHECK_INT(v, 10);
	CHECK_INT(ecr_conf_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	CHECK(v == UINT64_MAX);

	v = 7;
	CHECK_INT(ecr_conf_parse_u64("11", 0, 10, &v), -EINVAL);
	CHECK_INT(ecr_conf_parse_u64("4", 5, 10, &v), -EINVAL);
	CHECK_INT(ecr_conf_parse_u64("", 0, 10, &v), -EINVAL);
	CHECK_INT(ecr_conf_parse_u64("-1", 0, 10, &v), -EINVAL);
	CHECK_INT(ecr_conf_parse_u64("+1", 0, 10, &v), -EINVAL);
	CHECK_INT(ecr_conf_parse_u64(" 1", 0, 10, &v), -EINVAL);
	CHECK_INT(ecr_conf_parse_u64("1x", 0, 10, &v), -EINVAL);
	CHECK_INT(ecr_conf_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -EINVAL);
	CHECK_INT(v, 7);
}

static void parse_bool_words(void)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", "Yes" };
	static const char *const no[] = { "false", "no", "off", "0", "OFF" };
	int v;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = -1;
		CHECK_INT(ecr_conf_parse_bool(yes[i], &v), 0);
		CHECK_INT(v, 1);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = -1;
		CHECK_INT(ecr_conf_parse_bool(no[i], &v), 0);
		CHECK_INT(v, 0);
	}
	v = -1;
	CHECK_INT(ecr_conf_parse_bool("", &v), -EINVAL);
	CHECK_INT(ecr_conf_parse_bool("2", &v), -EINVAL);
	CHECK_INT(ecr_conf_parse_bool("yes ", &v), -EINVAL);
	CHECK_INT(v, -1);
}

static void set_string_replaces(void)
{
	char *slot = NULL;

	CHECK_INT(ecr_conf_set_string(&slot, "first"), 0);
	CHECK_STR(slot, "first");
	CHECK_INT(ecr_conf_set_string(&slot, "second"), 0);
	CHECK_STR(slot, "second");
	free(slot);
}

int main(void)
{
	snprintf(conf_path, sizeof(conf_path), "/tmp/edgecr-test-conf-%d", (int)getpid());

	RUN(keys_comments_and_blanks);
	RUN(quoted_values);
	RUN(missing_equals);
	RUN(long_lines);
	RUN(callback_error_names_line);
	RUN(unreadable_file);
	RUN(parse_u64_bounds);
	RUN(parse_bool_words);
	RUN(set_string_replaces);

	unlink(conf_path);
	return UNIT_EXIT();
}
