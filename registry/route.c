/*
 * Routing of /v2/ request paths; see route.h.
 *
 * A name may itself contain "blobs", "manifests" or "tags" as components, so
 * the path is read from its end: the last one or two components name the
 * endpoint, and only what is left before them is taken as the name.  A path
 * with a trailing slash matches no endpoint except "/blobs/uploads/".
 */
#include "route.h"

#include <errno.h>
#include <string.h>

#define V2_PREFIX "/v2/"
#define TAGS_SUFFIX "/tags/list"
#define UPLOADS_SUFFIX "/blobs/uploads"
#define EXTENSION_PREFIX "_edgecr/"
#define EXTENSION_REPOSITORY "repositories/"

/* Returns true when S (LEN bytes) ends with SUFFIX. */
static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t suffix_len = strlen(suffix);

	return len >= suffix_len && memcmp(s + len - suffix_len, suffix, suffix_len) == 0;
}

/* Returns true when the bytes of START before END end with "/WORD". */
static bool component_before_is(const char *start, const char *end, const char *word)
{
	size_t word_len = strlen(word);

	if ((size_t)(end - start) < word_len + 1)
		return false;
	return end[-(long)word_len - 1] == '/' &&
	       memcmp(end - word_len, word, word_len) == 0;
}

static int copy_name(const char *name, size_t len, struct reg_route *route,
		     enum reg_error *ret_error)
{
	if (len == 0 || len > REG_NAME_MAX) {
		*ret_error = REG_E_NAME_INVALID;
		return -EINVAL;
	}
	memcpy(route->name, name, len);
	route->name[len] = '\0';

	if (!reg_name_is_valid(route->name)) {
		*ret_error = REG_E_NAME_INVALID;
		return -EINVAL;
	}
	return 0;
}

static int parse_digest(const char *text, struct reg_route *route, enum reg_error *ret_error)
{
	if (reg_digest_parse(text, &route->digest) < 0) {
		*ret_error = REG_E_DIGEST_INVALID;
		return -EINVAL;
	}
	return 0;
}

static int parse_reference(const char *text, struct reg_route *route, enum reg_error *ret_error)
{
	int r;

	if (reg_reference_is_digest(text)) {
		r = parse_digest(text, route, ret_error);
		if (r < 0)
			return r;
		route->is_digest = true;
		strcpy(route->reference, route->digest.text);
		return 0;
	}

	/* A tag outside the grammar is an invalid name of a manifest, so it gets
	 * the same code as an invalid repository name. */
	if (!reg_tag_is_valid(text)) {
		*ret_error = REG_E_NAME_INVALID;
		return -EINVAL;
	}
	strcpy(route->reference, text);
	return 0;
}

static int parse_upload_id(const char *text, struct reg_route *route, enum reg_error *ret_error)
{
	size_t len = strnlen(text, REG_UPLOAD_ID_LEN + 1);

	if (len != REG_UPLOAD_ID_LEN || strspn(text, "0123456789abcdef") != len) {
		*ret_error = REG_E_BLOB_UPLOAD_UNKNOWN;
		return -EINVAL;
	}
	memcpy(route->upload_id, text, len + 1);
	return 0;
}

/*
 * Matches the endpoints without an argument at the end of REST (LEN bytes):
 * tags/list and a new upload.  Sets route->kind and *ret_name_len, the length
 * of the name before the endpoint, and returns true on a match.
 */
static bool split_fixed_endpoint(const char *rest, size_t len, struct reg_route *route,
				 size_t *ret_name_len)
{
	if (ends_with(rest, len, TAGS_SUFFIX)) {
		route->kind = REG_ROUTE_TAGS;
		*ret_name_len = len - strlen(TAGS_SUFFIX);
		return true;
	}
	if (ends_with(rest, len, UPLOADS_SUFFIX "/")) {
		route->kind = REG_ROUTE_UPLOAD_NEW;
		*ret_name_len = len - strlen(UPLOADS_SUFFIX "/");
		return true;
	}
	if (ends_with(rest, len, UPLOADS_SUFFIX)) {
		route->kind = REG_ROUTE_UPLOAD_NEW;
		*ret_name_len = len - strlen(UPLOADS_SUFFIX);
		return true;
	}
	return false;
}

/*
 * Matches the endpoints whose last component is an argument (a reference,
 * digest or upload id) by the one or two components before it.  Sets
 * route->kind and *ret_name_len, and returns the argument, or NULL when REST
 * is no endpoint.
 */
static const char *split_argument_endpoint(const char *rest, struct reg_route *route,
					   size_t *ret_name_len)
{
	const char *last_slash = strrchr(rest, '/');
	const char *end = last_slash;

	if (!last_slash || last_slash[1] == '\0')
		return NULL;

	if (component_before_is(rest, end, "uploads") &&
	    component_before_is(rest, end - strlen("/uploads"), "blobs")) {
		route->kind = REG_ROUTE_UPLOAD;
		end -= strlen("/blobs/uploads");
	} else if (component_before_is(rest, end, "manifests")) {
		route->kind = REG_ROUTE_MANIFEST;
		end -= strlen("/manifests");
	} else if (component_before_is(rest, end, "blobs")) {
		route->kind = REG_ROUTE_BLOB;
		end -= strlen("/blobs");
	} else if (component_before_is(rest, end, "referrers")) {
		route->kind = REG_ROUTE_REFERRERS;
		end -= strlen("/referrers");
	} else {
		return NULL;
	}
	*ret_name_len = (size_t)(end - rest);
	return last_slash + 1;
}

static int parse_argument(const char *argument, struct reg_route *route,
			  enum reg_error *ret_error)
{
	switch (route->kind) {
	case REG_ROUTE_MANIFEST:
		return parse_reference(argument, route, ret_error);
	case REG_ROUTE_BLOB:
	case REG_ROUTE_REFERRERS:
		return parse_digest(argument, route, ret_error);
	case REG_ROUTE_UPLOAD:
		return parse_upload_id(argument, route, ret_error);
	default:
		return 0;
	}
}

/* Matches REST, the path after "/v2/_edgecr/", against the extension
 * endpoints.  Returns 0, -ENOENT or -EINVAL as reg_route_parse does. */
static int parse_extension(const char *rest, struct reg_route *route, enum reg_error *ret_error)
{
	if (strcmp(rest, "usage") == 0) {
		route->kind = REG_ROUTE_USAGE;
		return 0;
	}
	if (strcmp(rest, "gc") == 0) {
		route->kind = REG_ROUTE_GC;
		return 0;
	}
	if (strncmp(rest, EXTENSION_REPOSITORY, strlen(EXTENSION_REPOSITORY)) == 0) {
		rest += strlen(EXTENSION_REPOSITORY);
		route->kind = REG_ROUTE_REPOSITORY;
		return copy_name(rest, strlen(rest), route, ret_error);
	}
	return -ENOENT;
}

int reg_route_parse(const char *path, struct reg_route *ret, enum reg_error *ret_error)
{
	struct reg_route route = { 0 };
	const char *rest, *argument;
	size_t name_len = 0;
	int r;

	if (strcmp(path, "/v2") == 0 || strcmp(path, V2_PREFIX) == 0) {
		route.kind = REG_ROUTE_BASE;
		goto done;
	}
	if (strncmp(path, V2_PREFIX, strlen(V2_PREFIX)) != 0)
		return -ENOENT;
	rest = path + strlen(V2_PREFIX);
	if (strcmp(rest, "_catalog") == 0) {
		route.kind = REG_ROUTE_CATALOG;
		goto done;
	}
	if (strncmp(rest, EXTENSION_PREFIX, strlen(EXTENSION_PREFIX)) == 0) {
		r = parse_extension(rest + strlen(EXTENSION_PREFIX), &route, ret_error);
		if (r < 0)
			return r;
		goto done;
	}

	if (split_fixed_endpoint(rest, strlen(rest), &route, &name_len))
		argument = "";
	else
		argument = split_argument_endpoint(rest, &route, &name_len);
	if (!argument)
		return -ENOENT;

	/* The name is checked first, so a bad name is reported even with a bad argument. */
	r = copy_name(rest, name_len, &route, ret_error);
	if (r < 0)
		return r;
	r = parse_argument(argument, &route, ret_error);
	if (r < 0)
		return r;

done:
	*ret = route;
	reg_digest_copy(&ret->digest, &route.digest);
	return 0;
}
