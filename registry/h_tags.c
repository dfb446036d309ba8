/*
 * GET /v2/<name>/tags/list and GET /v2/_catalog, paginated with "n" and
 * "last".  When more entries follow a page, a Link header names the next one
 * (RFC 8288, rel="next"), as the distribution spec describes.
 */
#include "handlers.h"

#include <errno.h>
#include <stdio.h>

/* Largest "n" accepted before clamping; beyond it the value is an error. */
#define PAGE_PARSE_MAX 1000000000u

/* Reads "n" into *RET_LIMIT (DEFAULT_LIMIT when absent).  Returns false after
 * sending the error response when it is malformed. */
static bool page_limit(struct reg_request *req, unsigned default_limit, unsigned *ret_limit)
{
	const char *value = reg_request_query(req, "n");
	unsigned n;

	if (!value) {
		*ret_limit = default_limit;
		return true;
	}
	if (reg_query_parse_count(value, PAGE_PARSE_MAX, &n) < 0) {
		reg_respond_error_code(req, MHD_HTTP_BAD_REQUEST, "PAGINATION_NUMBER_INVALID",
				       "invalid number of results requested", value);
		return false;
	}
	*ret_limit = n < REG_PAGE_MAX ? n : REG_PAGE_MAX;
	return true;
}

/* Writes the Link header value for the page after LAST into BUF. */
static int next_link(struct reg_request *req, const char *path, json_t *page, unsigned limit,
		     char *buf, size_t size)
{
	const char *last = json_string_value(json_array_get(page, json_array_size(page) - 1));
	char location[1024];
	int r;

	r = reg_request_location(req, location, sizeof(location), "%s?n=%u&last=%s", path, limit,
				 last ? last : "");
	if (r < 0)
		return r;
	return snprintf(buf, size, "<%s>; rel=\"next\"", location) < (int)size ? 0 : -ENAMETOOLONG;
}

static void respond_page(struct reg_request *req, const char *path, json_t *body, json_t *page,
			 unsigned limit, bool more)
{
	char link[1200];

	if (more && limit > 0 && next_link(req, path, page, limit, link, sizeof(link)) == 0) {
		reg_respond_json(req, MHD_HTTP_OK, body, "application/json; charset=utf-8",
				 MHD_HTTP_HEADER_LINK, link);
		return;
	}
	reg_respond_json(req, MHD_HTTP_OK, body, "application/json; charset=utf-8", NULL, NULL);
}

void reg_h_tags(struct reg_request *req)
{
	char path[REG_NAME_MAX + 32];
	unsigned limit;
	bool more = false;
	json_t *tags;
	int r;

	if (!page_limit(req, REG_PAGE_MAX, &limit))
		return;
	tags = json_array();
	if (!tags) {
		reg_respond_internal(req, "tag listing", -ENOMEM);
		return;
	}

	r = reg_meta_tags_list(req->ctx->meta, req->route.name, reg_request_query(req, "last"),
			       limit, tags, &more);
	if (r == -ENOENT) {
		json_decref(tags);
		reg_respond_error(req, REG_E_NAME_UNKNOWN, 0, req->route.name);
		return;
	}
	if (r < 0) {
		json_decref(tags);
		reg_respond_internal(req, "tag listing", r);
		return;
	}

	snprintf(path, sizeof(path), "/v2/%s/tags/list", req->route.name);
	respond_page(req, path, json_pack("{s:s, s:O}", "name", req->route.name, "tags", tags),
		     tags, limit, more);
	json_decref(tags);
}

void reg_h_catalog(struct reg_request *req)
{
	unsigned limit;
	bool more = false;
	json_t *names;
	int r;

	if (!page_limit(req, REG_CATALOG_PAGE_DEFAULT, &limit))
		return;
	names = json_array();
	if (!names) {
		reg_respond_internal(req, "catalog listing", -ENOMEM);
		return;
	}

	r = reg_meta_catalog(req->ctx->meta, reg_request_query(req, "last"), limit, names, &more);
	if (r < 0) {
		json_decref(names);
		reg_respond_internal(req, "catalog listing", r);
		return;
	}
	respond_page(req, "/v2/_catalog", json_pack("{s:O}", "repositories", names), names, limit,
		     more);
	json_decref(names);
}
