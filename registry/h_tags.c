/*
 * GET /v2/<name>/tags/list and GET /v2/_catalog, paginated with "n" and
 * "last".  When more entries follow a page, a Link header names the next one
 * (RFC 8288, rel="next"), as the distribution spec describes.
 *
 * The JSON body is written as text while the names come from the metadata.
 * Building it with jansson, one string object per name and then a dump, took
 * most of the server's time for a page of 10,000 tags.
 */
#include "handlers.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest "n" accepted before clamping; beyond it the value is an error. */
#define PAGE_PARSE_MAX 1000000000u

/* First allocation of a page's body; it doubles as needed. */
#define PAGE_TEXT_INITIAL 4096

/* First pages of tags/list kept for the next request.  Pages larger than
 * 256 KiB are not kept, so the kept pages take at most 4 * 256 KiB. */
#define TAGS_CACHE_SLOTS 4
#define TAGS_CACHE_BODY_MAX (256 * 1024)

/* A page's JSON body being written, and its last name for the Link header. */
struct page {
	char *text; /* owned, not NUL-terminated; NULL until the first append */
	size_t len;
	size_t size;
	size_t names;
	char last[REG_NAME_MAX + 1];
};

/*
 * A tags/list page as sent, kept with the tag generation of the snapshot it
 * was read from.  Every committed change to a tag or to the set of
 * repositories raises the generation, in the same transaction and whichever
 * process made it, so while the generation read now is the same, the page is
 * too.  Only first pages (no "last") are kept: a client that lists all tags
 * starts there every time.
 */
struct tags_cache_slot {
	uint64_t meta_serial;        /* reg_meta_serial of the database; 0 when free */
	char repo[REG_NAME_MAX + 1];
	unsigned limit;
	int64_t generation;
	struct page page;            /* text owned by the slot */
	bool more;
	uint64_t used;               /* tick of the last use; the oldest slot is replaced */
};

static struct {
	pthread_mutex_t lock;        /* guards everything below */
	struct tags_cache_slot slots[TAGS_CACHE_SLOTS];
	uint64_t tick;
} tags_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

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

/* Makes room for LEN more bytes of PAGE's body.  Returns 0 or -ENOMEM. */
static int page_reserve(struct page *page, size_t len)
{
	size_t size = page->size ? page->size : PAGE_TEXT_INITIAL;
	char *text;

	if (len > SIZE_MAX / 2 - page->len)
		return -ENOMEM;
	while (size - page->len < len)
		size *= 2;
	if (size == page->size)
		return 0;
	text = realloc(page->text, size);
	if (!text)
		return -ENOMEM;
	page->text = text;
	page->size = size;
	return 0;
}

/* Appends TEXT, which needs no escape. */
static int page_append(struct page *page, const char *text)
{
	size_t len = strlen(text);
	int r = page_reserve(page, len);

	if (r < 0)
		return r;
	memcpy(page->text + page->len, text, len);
	page->len += len;
	return 0;
}

/* Appends NAME as a JSON string.  Validated tag and repository names never
 * need an escape, but a quote, backslash or control byte is escaped all the
 * same, so the body stays valid JSON whatever the metadata holds. */
static int page_append_string(struct page *page, const char *name, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char *out;
	int r;

	/* "\u00XX" is the longest escape: 6 bytes for one input byte. */
	if (len > (SIZE_MAX - 2) / 6)
		return -ENOMEM;
	r = page_reserve(page, len * 6 + 2);
	if (r < 0)
		return r;
	out = page->text + page->len;
	*out++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '"' || c == '\\') {
			*out++ = '\\';
			*out++ = (char)c;
		} else if (c < 0x20) {
			memcpy(out, "\\u00", 4);
			out[4] = hex[c >> 4];
			out[5] = hex[c & 0xf];
			out += 6;
		} else {
			*out++ = (char)c;
		}
	}
	*out++ = '"';
	page->len = (size_t)(out - page->text);
	return 0;
}

/* The reg_meta_name_fn of both listings: one array element per name. */
static int page_add_name(void *userdata, const char *name, size_t len)
{
	struct page *page = userdata;
	int r;

	if (len >= sizeof(page->last))
		return -ENAMETOOLONG;
	if (page->names > 0) {
		r = page_append(page, ",");
		if (r < 0)
			return r;
	}
	r = page_append_string(page, name, len);
	if (r < 0)
		return r;
	memcpy(page->last, name, len + 1);
	page->names++;
	return 0;
}

/* Writes the Link header value for the page after PAGE's last name into BUF. */
static int next_link(struct reg_request *req, const char *path, const struct page *page,
		     unsigned limit, char *buf, size_t size)
{
	char location[1024];
	int r;

	r = reg_request_location(req, location, sizeof(location), "%s?n=%u&last=%s", path, limit,
				 page->last);
	if (r < 0)
		return r;
	return snprintf(buf, size, "<%s>; rel=\"next\"", location) < (int)size ? 0 : -ENAMETOOLONG;
}

/* Sends PAGE's body (taking its text) with a Link header when MORE follow. */
static void respond_page(struct reg_request *req, const char *path, struct page *page,
			 unsigned limit, bool more)
{
	struct MHD_Response *response;
	char link[1200];
	size_t len = page->len;

	response = MHD_create_response_from_buffer(len, page->text, MHD_RESPMEM_MUST_FREE);
	if (!response)
		free(page->text);
	page->text = NULL;
	reg_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
			    "application/json; charset=utf-8");
	if (more && limit > 0 && page->names > 0 &&
	    next_link(req, path, page, limit, link, sizeof(link)) == 0)
		reg_response_header(response, MHD_HTTP_HEADER_LINK, link);
	reg_respond(req, response, MHD_HTTP_OK, len);
}

static struct tags_cache_slot *tags_cache_find(const struct reg_meta *meta, const char *repo,
					       unsigned limit)
{
	for (size_t i = 0; i < TAGS_CACHE_SLOTS; i++) {
		struct tags_cache_slot *slot = &tags_cache.slots[i];

		if (slot->meta_serial == reg_meta_serial(meta) && slot->limit == limit && strcmp(slot->repo, repo) == 0)
			return slot;
	}
	return NULL;
}

/* Copies the kept page of REPO and LIMIT into *RET_PAGE when it was read at
 * GENERATION.  Returns true when it did. */
static bool tags_cache_get(const struct reg_meta *meta, const char *repo, unsigned limit,
			   int64_t generation, struct page *ret_page, bool *ret_more)
{
	struct tags_cache_slot *slot;
	char *text = NULL;

	pthread_mutex_lock(&tags_cache.lock);
	slot = tags_cache_find(meta, repo, limit);
	if (slot && slot->generation == generation)
		text = malloc(slot->page.len);
	if (text) {
		memcpy(text, slot->page.text, slot->page.len);
		*ret_page = slot->page;
		ret_page->text = text;
		ret_page->size = slot->page.len;
		*ret_more = slot->more;
		slot->used = ++tags_cache.tick;
	}
	pthread_mutex_unlock(&tags_cache.lock);
	return text != NULL;
}

/* Keeps a copy of PAGE, read at GENERATION, in place of REPO's older page or
 * of the slot used least recently.  Nothing is kept when memory is short. */
static void tags_cache_put(const struct reg_meta *meta, const char *repo, unsigned limit,
			   int64_t generation, const struct page *page, bool more)
{
	struct tags_cache_slot *slot;
	char *text;

	if (page->len > TAGS_CACHE_BODY_MAX || strlen(repo) >= sizeof(slot->repo))
		return;
	text = malloc(page->len);
	if (!text)
		return;
	memcpy(text, page->text, page->len);

	pthread_mutex_lock(&tags_cache.lock);
	slot = tags_cache_find(meta, repo, limit);
	if (!slot) {
		/* A free slot has used == 0, so it is taken first. */
		slot = &tags_cache.slots[0];
		for (size_t i = 1; i < TAGS_CACHE_SLOTS; i++)
			if (tags_cache.slots[i].used < slot->used)
				slot = &tags_cache.slots[i];
	}
	free(slot->page.text);
	slot->meta_serial = reg_meta_serial(meta);
	snprintf(slot->repo, sizeof(slot->repo), "%s", repo);
	slot->limit = limit;
	slot->generation = generation;
	slot->page = *page;
	slot->page.text = text;
	slot->page.size = page->len;
	slot->more = more;
	slot->used = ++tags_cache.tick;
	pthread_mutex_unlock(&tags_cache.lock);
}

void reg_h_tags(struct reg_request *req)
{
	const char *last = reg_request_query(req, "last");
	struct page page = { 0 };
	char path[REG_NAME_MAX + 32];
	int64_t generation;
	unsigned limit;
	bool more = false;
	int r;

	if (!page_limit(req, REG_PAGE_MAX, &limit))
		return;
	snprintf(path, sizeof(path), "/v2/%s/tags/list", req->route.name);

	/* A failed read of the generation only costs the listing below. */
	if (!last && reg_meta_tags_generation(req->ctx->meta, &generation) == 0 &&
	    tags_cache_get(req->ctx->meta, req->route.name, limit, generation, &page, &more)) {
		respond_page(req, path, &page, limit, more);
		return;
	}

	r = page_append(&page, "{\"name\":");
	if (r == 0)
		r = page_append_string(&page, req->route.name, strlen(req->route.name));
	if (r == 0)
		r = page_append(&page, ",\"tags\":[");
	if (r == 0)
		r = reg_meta_tags_list(req->ctx->meta, req->route.name, last, limit,
				       page_add_name, &page, &more, &generation);
	if (r == 0)
		r = page_append(&page, "]}");
	if (r == -ENOENT) {
		free(page.text);
		reg_respond_error(req, REG_E_NAME_UNKNOWN, 0, req->route.name);
		return;
	}
	if (r < 0) {
		free(page.text);
		reg_respond_internal(req, "tag listing", r);
		return;
	}

	if (!last)
		tags_cache_put(req->ctx->meta, req->route.name, limit, generation, &page, more);
	respond_page(req, path, &page, limit, more);
}

void reg_h_catalog(struct reg_request *req)
{
	struct page page = { 0 };
	unsigned limit;
	bool more = false;
	int r;

	if (!page_limit(req, REG_CATALOG_PAGE_DEFAULT, &limit))
		return;

	r = page_append(&page, "{\"repositories\":[");
	if (r == 0)
		r = reg_meta_catalog(req->ctx->meta, reg_request_query(req, "last"), limit,
				     page_add_name, &page, &more);
	if (r == 0)
		r = page_append(&page, "]}");
	if (r < 0) {
		free(page.text);
		reg_respond_internal(req, "catalog listing", r);
		return;
	}
	respond_page(req, "/v2/_catalog", &page, limit, more);
}
