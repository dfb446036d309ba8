/* Unit tests for registry/route.c: splitting /v2/ paths into endpoints. */
#include <errno.h>
#include <string.h>

#include "route.h"
#include "unit.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST "sha256:" HEX64
#define UPLOAD_ID "0123456789abcdef0123456789abcdef"

/*
 * Parses PATH into *ROUTE, expecting success.  ROUTE is an out-parameter and
 * not a return value, because a struct copy would leave digest.hex pointing
 * into the callee's stack.
 */
static void parse_ok(const char *path, struct reg_route *route)
{
	enum reg_error error = REG_OK;
	int r;

	memset(route, 0, sizeof(*route));
	r = reg_route_parse(path, route, &error);
	if (r != 0)
		fprintf(stderr, "  \"%s\" returned %d, error %d\n", path, r, (int)error);
	CHECK_INT(r, 0);
}

/* Parses PATH, expecting -EINVAL with EXPECTED as the error. */
static void check_invalid(const char *path, enum reg_error expected)
{
	struct reg_route route;
	enum reg_error error = REG_OK;
	int r = reg_route_parse(path, &route, &error);

	if (r != -EINVAL || error != expected)
		fprintf(stderr, "  \"%s\" returned %d, error %d\n", path, r, (int)error);
	CHECK_INT(r, -EINVAL);
	CHECK_INT(error, expected);
}

static void check_not_found(const char *path)
{
	struct reg_route route;
	enum reg_error error = REG_OK;
	int r = reg_route_parse(path, &route, &error);

	if (r != -ENOENT)
		fprintf(stderr, "  \"%s\" returned %d\n", path, r);
	CHECK_INT(r, -ENOENT);
	CHECK_INT(error, REG_OK);
}

static void base_and_catalog(void)
{
	struct reg_route route;

	parse_ok("/v2", &route);
	CHECK_INT(route.kind, REG_ROUTE_BASE);
	CHECK_STR(route.name, "");
	parse_ok("/v2/", &route);
	CHECK_INT(route.kind, REG_ROUTE_BASE);
	parse_ok("/v2/_catalog", &route);
	CHECK_INT(route.kind, REG_ROUTE_CATALOG);
	CHECK_STR(route.name, "");
}

static void extension_endpoints(void)
{
	struct reg_route route;

	parse_ok("/v2/_edgecr/usage", &route);
	CHECK_INT(route.kind, REG_ROUTE_USAGE);
	parse_ok("/v2/_edgecr/gc", &route);
	CHECK_INT(route.kind, REG_ROUTE_GC);
	parse_ok("/v2/_edgecr/repositories/app/web", &route);
	CHECK_INT(route.kind, REG_ROUTE_REPOSITORY);
	CHECK_STR(route.name, "app/web");
	/* A name may contain an endpoint's word; the whole rest is the name. */
	parse_ok("/v2/_edgecr/repositories/a/manifests/b", &route);
	CHECK_INT(route.kind, REG_ROUTE_REPOSITORY);
	CHECK_STR(route.name, "a/manifests/b");
	check_invalid("/v2/_edgecr/repositories/App", REG_E_NAME_INVALID);
	check_invalid("/v2/_edgecr/repositories/", REG_E_NAME_INVALID);
	check_not_found("/v2/_edgecr/usage/");
	check_not_found("/v2/_edgecr/other");
	check_not_found("/v2/_edgecr");
}

static void not_registry_paths(void)
{
	check_not_found("");
	check_not_found("/");
	check_not_found("/v1/");
	check_not_found("/v2x");
	check_not_found("/V2/");
	check_not_found("v2/");
	check_not_found("/v2//");
	check_not_found("/v2/_catalog/");
	check_not_found("/v2/x");
	check_not_found("/v2/x/");
	check_not_found("/v2/x/tags");
	check_not_found("/v2/x/tags/");
	check_not_found("/v2/x/tags/list/");
	check_not_found("/v2/x/tags/list/extra");
	check_not_found("/v2/x/manifests/");
	check_not_found("/v2/x/manifests/latest/");
	check_not_found("/v2/x/manifests/a/b");
	check_not_found("/v2/x/blobs/");
	check_not_found("/v2/x/blobs/" DIGEST "/");
	check_not_found("/v2/x/referrers/");
	check_not_found("/v2/x/unknown/latest");
	check_not_found("/v2/manifests/latest");
	check_not_found("/v2/x/blobs/uploads/" UPLOAD_ID "/");
}

static void tags_list(void)
{
	struct reg_route route;

	parse_ok("/v2/team/app/tags/list", &route);
	CHECK_INT(route.kind, REG_ROUTE_TAGS);
	CHECK_STR(route.name, "team/app");

	/* "manifests" is a valid name component, so the last marker decides. */
	parse_ok("/v2/x/manifests/tags/list", &route);
	CHECK_INT(route.kind, REG_ROUTE_TAGS);
	CHECK_STR(route.name, "x/manifests");
}

static void manifest_by_tag(void)
{
	struct reg_route route;

	parse_ok("/v2/library/ubuntu/manifests/22.04", &route);
	CHECK_INT(route.kind, REG_ROUTE_MANIFEST);
	CHECK_STR(route.name, "library/ubuntu");
	CHECK_STR(route.reference, "22.04");
	CHECK(!route.is_digest);
}

static void manifest_by_digest(void)
{
	struct reg_route route;

	parse_ok("/v2/a/manifests/" DIGEST, &route);
	CHECK_INT(route.kind, REG_ROUTE_MANIFEST);
	CHECK_STR(route.name, "a");
	CHECK(route.is_digest);
	CHECK_STR(route.reference, DIGEST);
	CHECK_STR(route.digest.text, DIGEST);
	CHECK_INT(route.digest.algorithm, REG_DIGEST_SHA256);
}

static void last_marker_decides(void)
{
	struct reg_route route;

	parse_ok("/v2/x/blobs/y/manifests/latest", &route);
	CHECK_INT(route.kind, REG_ROUTE_MANIFEST);
	CHECK_STR(route.name, "x/blobs/y");
	CHECK_STR(route.reference, "latest");

	parse_ok("/v2/x/manifests/y/blobs/" DIGEST, &route);
	CHECK_INT(route.kind, REG_ROUTE_BLOB);
	CHECK_STR(route.name, "x/manifests/y");

	parse_ok("/v2/blobs/manifests/blobs", &route);
	CHECK_INT(route.kind, REG_ROUTE_MANIFEST);
	CHECK_STR(route.name, "blobs");
	CHECK_STR(route.reference, "blobs");

	parse_ok("/v2/uploads/blobs/uploads/", &route);
	CHECK_INT(route.kind, REG_ROUTE_UPLOAD_NEW);
	CHECK_STR(route.name, "uploads");
}

static void blob_and_referrers(void)
{
	struct reg_route route;

	parse_ok("/v2/a/b/blobs/" DIGEST, &route);
	CHECK_INT(route.kind, REG_ROUTE_BLOB);
	CHECK_STR(route.name, "a/b");
	CHECK_STR(route.digest.text, DIGEST);
	CHECK_STR(route.digest.hex, HEX64);

	parse_ok("/v2/a/referrers/" DIGEST, &route);
	CHECK_INT(route.kind, REG_ROUTE_REFERRERS);
	CHECK_STR(route.name, "a");
	CHECK_STR(route.digest.text, DIGEST);
}

static void uploads(void)
{
	struct reg_route route;

	parse_ok("/v2/a/blobs/uploads/", &route);
	CHECK_INT(route.kind, REG_ROUTE_UPLOAD_NEW);
	CHECK_STR(route.name, "a");

	parse_ok("/v2/a/b/blobs/uploads", &route);
	CHECK_INT(route.kind, REG_ROUTE_UPLOAD_NEW);
	CHECK_STR(route.name, "a/b");

	parse_ok("/v2/a/blobs/uploads/" UPLOAD_ID, &route);
	CHECK_INT(route.kind, REG_ROUTE_UPLOAD);
	CHECK_STR(route.name, "a");
	CHECK_STR(route.upload_id, UPLOAD_ID);
}

static void invalid_names(void)
{
	check_invalid("/v2/../x/manifests/a", REG_E_NAME_INVALID);
	check_invalid("/v2/x/../y/manifests/a", REG_E_NAME_INVALID);
	check_invalid("/v2/../../etc/blobs/" DIGEST, REG_E_NAME_INVALID);
	check_invalid("/v2/./x/tags/list", REG_E_NAME_INVALID);
	check_invalid("/v2//manifests/a", REG_E_NAME_INVALID);
	check_invalid("/v2//tags/list", REG_E_NAME_INVALID);
	check_invalid("/v2/a//b/manifests/a", REG_E_NAME_INVALID);
	check_invalid("/v2//a/manifests/a", REG_E_NAME_INVALID);
	check_invalid("/v2/Team/App/manifests/latest", REG_E_NAME_INVALID);
	check_invalid("/v2/a_/blobs/uploads/", REG_E_NAME_INVALID);
	check_invalid("/v2/a b/referrers/" DIGEST, REG_E_NAME_INVALID);
	/* The name is reported even when the reference is bad too. */
	check_invalid("/v2/UP/manifests/-bad", REG_E_NAME_INVALID);
}

static void name_length_limit(void)
{
	char path[600];
	char name[REG_NAME_MAX + 2];
	struct reg_route route;

	memset(name, 'a', REG_NAME_MAX);
	name[REG_NAME_MAX] = '\0';
	snprintf(path, sizeof(path), "/v2/%s/tags/list", name);
	parse_ok(path, &route);
	CHECK_STR(route.name, name);

	strcat(name, "a");
	snprintf(path, sizeof(path), "/v2/%s/tags/list", name);
	check_invalid(path, REG_E_NAME_INVALID);
}

static void invalid_references(void)
{
	struct reg_route route;
	char path[400];
	char tag[201];

	memset(tag, 'a', 200);
	tag[200] = '\0';
	snprintf(path, sizeof(path), "/v2/a/manifests/%s", tag);
	check_invalid(path, REG_E_NAME_INVALID);

	/* 128 characters is the longest tag. */
	tag[REG_TAG_MAX] = '\0';
	snprintf(path, sizeof(path), "/v2/a/manifests/%s", tag);
	parse_ok(path, &route);
	CHECK_STR(route.reference, tag);

	check_invalid("/v2/a/manifests/-tag", REG_E_NAME_INVALID);
	check_invalid("/v2/a/manifests/..", REG_E_NAME_INVALID);
	check_invalid("/v2/a/manifests/sha256:abc", REG_E_DIGEST_INVALID);
	check_invalid("/v2/a/manifests/md5:abc", REG_E_DIGEST_INVALID);
	check_invalid("/v2/a/blobs/latest", REG_E_DIGEST_INVALID);
	check_invalid("/v2/a/blobs/..", REG_E_DIGEST_INVALID);
	check_invalid("/v2/a/blobs/sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		      REG_E_DIGEST_INVALID);
	check_invalid("/v2/a/referrers/latest", REG_E_DIGEST_INVALID);
}

static void invalid_upload_ids(void)
{
	check_invalid("/v2/a/blobs/uploads/abc", REG_E_BLOB_UPLOAD_UNKNOWN);
	check_invalid("/v2/a/blobs/uploads/" UPLOAD_ID "0", REG_E_BLOB_UPLOAD_UNKNOWN);
	check_invalid("/v2/a/blobs/uploads/0123456789ABCDEF0123456789abcdef",
		      REG_E_BLOB_UPLOAD_UNKNOWN);
	check_invalid("/v2/a/blobs/uploads/..", REG_E_BLOB_UPLOAD_UNKNOWN);
}

static void failure_leaves_output(void)
{
	struct reg_route route;
	enum reg_error error = REG_OK;

	memset(&route, 0x5a, sizeof(route));
	CHECK_INT(reg_route_parse("/v2/a/manifests/-tag", &route, &error), -EINVAL);
	CHECK_INT((unsigned char)route.name[0], 0x5a);
	CHECK_INT((unsigned char)route.reference[0], 0x5a);
}

int main(void)
{
	RUN(base_and_catalog);
	RUN(extension_endpoints);
	RUN(not_registry_paths);
	RUN(tags_list);
	RUN(manifest_by_tag);
	RUN(manifest_by_digest);
	RUN(last_marker_decides);
	RUN(blob_and_referrers);
	RUN(uploads);
	RUN(invalid_names);
	RUN(name_length_limit);
	RUN(invalid_references);
	RUN(invalid_upload_ids);
	RUN(failure_leaves_output);
	return UNIT_EXIT();
}
