/*
 * The query parameters of the registry's endpoints, each handed to the code
 * that reads it in the handlers: "n" to reg_query_parse_count, "digest" and
 * "mount" to reg_digest_parse, "from" to reg_name_is_valid, and "last" to the
 * tags/list and _catalog queries of a metadata database in a temporary folder.
 * The input is a query string, "key=value" pairs joined by '&'; libmicrohttpd
 * has decoded the percent escapes before the handlers see a value, so the
 * pairs are used as they are.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "httpparse.h"
#include "meta.h"
#include "ref.h"

/* The largest "n" h_tags.c accepts before clamping. */
#define FUZZ_PAGE_PARSE_MAX 1000000000u

static struct reg_meta *meta;
static char meta_dir[64];

static void remove_meta_dir(void)
{
	char path[128];

	reg_meta_free(meta);
	meta = NULL;
	/* SQLite's WAL files go when the last connection closes. */
	snprintf(path, sizeof(path), "%s/metadata.db", meta_dir);
	unlink(path);
	rmdir(meta_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[128], err[256];

	snprintf(meta_dir, sizeof(meta_dir), "/tmp/edgecr-fuzz-query-XXXXXX");
	if (!mkdtemp(meta_dir))
		abort();
	snprintf(path, sizeof(path), "%s/metadata.db", meta_dir);
	if (reg_meta_open(path, &meta, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_query: %s\n", err);
		abort();
	}
	atexit(remove_meta_dir);
	return 0;
}

/* The reg_meta_name_fn of the listings; the names themselves are not checked. */
static int name_ignore(void *userdata, const char *name, size_t len)
{
	(void)userdata;
	if (strlen(name) != len)
		abort();
	return 0;
}

static void list_after(const char *last)
{
	bool more;

	(void)reg_meta_tags_list(meta, "library/busybox", last, 10, name_ignore, NULL, &more, NULL);
	(void)reg_meta_catalog(meta, last, 10, name_ignore, NULL, &more);
}

static void parse_pair(const char *key, const char *value)
{
	struct reg_digest digest;
	unsigned n;

	if (strcmp(key, "n") == 0) {
		if (reg_query_parse_count(value, FUZZ_PAGE_PARSE_MAX, &n) == 0 &&
		    n > FUZZ_PAGE_PARSE_MAX)
			abort();
	} else if (strcmp(key, "digest") == 0 || strcmp(key, "mount") == 0) {
		(void)reg_digest_parse(value, &digest);
	} else if (strcmp(key, "from") == 0) {
		(void)reg_name_is_valid(value);
	} else if (strcmp(key, "last") == 0) {
		list_after(value);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *query = fuzz_strndup(data, size);
	char *pair, *next, *value;

	for (pair = query; pair; pair = next) {
		next = strchr(pair, '&');
		if (next)
			*next++ = '\0';
		value = strchr(pair, '=');
		if (value)
			*value++ = '\0';
		else
			value = "";
		parse_pair(pair, value);
	}
	free(query);
	return 0;
}
