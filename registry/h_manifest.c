/*
 * GET, HEAD, PUT and DELETE /v2/<name>/manifests/<reference>.
 *
 * A manifest's bytes are kept as a blob, exactly as pushed, and served with
 * the media type it was pushed with.  GET ignores a mismatching Accept header
 * and sends the stored manifest anyway: clients often accept only the Docker
 * type and then read Docker-Content-Digest, and there is no other form of it
 * to convert to.
 */
#include "handlers.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"

/* Initial manifest buffer; grown by doubling up to REG_MANIFEST_MAX. */
#define BODY_INITIAL (16 * 1024)

void reg_h_manifest_get(struct reg_request *req)
{
	struct reg_meta_manifest found;
	struct reg_digest digest;
	struct MHD_Response *response;
	char etag[REG_DIGEST_TEXT_MAX + 2];
	uint64_t size;
	int fd, r;

	r = reg_meta_manifest_get(req->ctx->meta, req->route.name, req->route.reference,
				  req->route.is_digest, &found);
	if (r == 0)
		r = reg_digest_parse(found.digest, &digest) < 0 ? -EIO : 0;
	if (r == 0)
		r = reg_blobstore_open(&req->ctx->store, &digest, &fd, &size);
	if (r == -ENOENT) {
		reg_respond_error(req, REG_E_MANIFEST_UNKNOWN, 0, req->route.reference);
		return;
	}
	if (r < 0) {
		reg_respond_internal(req, "manifest read", r);
		return;
	}

	response = reg_response_fd(fd, 0, size);
	snprintf(etag, sizeof(etag), "\"%s\"", found.digest);
	reg_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, found.media_type);
	reg_response_header(response, "Docker-Content-Digest", found.digest);
	reg_response_header(response, MHD_HTTP_HEADER_ETAG, etag);
	reg_respond(req, response, MHD_HTTP_OK, size);
}

/* The buffer size for LEN bytes: BODY_INITIAL doubled as often as needed.
 * The buffer is always allocated at this size, so it need not be stored. */
static size_t body_capacity(size_t len)
{
	size_t capacity = BODY_INITIAL;

	while (capacity < len)
		capacity *= 2;
	return capacity;
}

static int manifest_body(struct reg_request *req, const char *data, size_t size)
{
	size_t needed;
	char *grown;

	if (size > REG_MANIFEST_MAX - req->body_len) {
		reg_request_fail(req, REG_E_MANIFEST_INVALID, MHD_HTTP_CONTENT_TOO_LARGE,
				 "manifest larger than 4 MiB");
		return -EFBIG;
	}

	needed = req->body_len + size;
	if (!req->body || body_capacity(needed) > body_capacity(req->body_len)) {
		grown = realloc(req->body, body_capacity(needed));
		if (!grown) {
			reg_request_fail(req, REG_E_INTERNAL, 0, "out of memory");
			return -ENOMEM;
		}
		req->body = grown;
	}
	memcpy(req->body + req->body_len, data, size);
	req->body_len = needed;
	return 0;
}

struct manifest_bytes {
	const struct reg_blobstore *store;
	const struct reg_digest *digest;
	const char *data;
	size_t len;
};

static int manifest_bytes_store(void *userdata)
{
	const struct manifest_bytes *bytes = userdata;

	return reg_blobstore_put(bytes->store, bytes->digest, bytes->data, bytes->len);
}

/* Computes the digest of the body into *RET: with the reference's algorithm
 * when the client pushed by digest, which must then match.  Returns false
 * after sending the error response. */
static bool manifest_digest(struct reg_request *req, struct reg_digest *ret)
{
	enum reg_digest_algorithm algorithm =
		req->route.is_digest ? req->route.digest.algorithm : REG_DIGEST_SHA256;
	int r;

	r = reg_blobstore_digest_bytes(algorithm, req->body, req->body_len, ret);
	if (r < 0) {
		reg_respond_internal(req, "manifest digest", r);
		return false;
	}
	if (req->route.is_digest && strcmp(ret->text, req->route.digest.text) != 0) {
		reg_respond_error(req, REG_E_DIGEST_INVALID, 0, req->route.digest.text);
		return false;
	}
	return true;
}

static void respond_manifest_created(struct reg_request *req, const struct reg_digest *digest,
				     const struct reg_manifest *m)
{
	struct MHD_Response *response = reg_response_empty();
	char location[REG_NAME_MAX + 256];

	if (reg_request_location(req, location, sizeof(location), "/v2/%s/manifests/%s",
				 req->route.name, digest->text) == 0)
		reg_response_header(response, MHD_HTTP_HEADER_LOCATION, location);
	reg_response_header(response, "Docker-Content-Digest", digest->text);
	if (m->has_subject)
		reg_response_header(response, "OCI-Subject", m->subject.digest.text);
	reg_respond(req, response, MHD_HTTP_CREATED, 0);
}

/* Stores the parsed manifest M and sends the response. */
static void manifest_store(struct reg_request *req, const struct reg_manifest *m)
{
	struct reg_meta_manifest record = { .size = req->body_len };
	char missing[REG_DIGEST_TEXT_MAX] = "";
	struct reg_digest digest;
	struct manifest_bytes bytes = { &req->ctx->store, &digest, req->body, req->body_len };
	int r;

	if (!manifest_digest(req, &digest))
		return;
	snprintf(record.digest, sizeof(record.digest), "%s", digest.text);
	snprintf(record.media_type, sizeof(record.media_type), "%s", m->media_type);

	r = reg_meta_manifest_put(req->ctx->meta, req->route.name, &record, m,
				  req->route.is_digest ? NULL : req->route.reference,
				  manifest_bytes_store, &bytes, missing);
	if (r == -ENOENT) {
		reg_respond_error(req, REG_E_MANIFEST_BLOB_UNKNOWN, 0, missing);
		return;
	}
	if (r < 0) {
		reg_respond_internal(req, "manifest store", r);
		return;
	}
	respond_manifest_created(req, &digest, m);
}

static void manifest_put_finish(struct reg_request *req)
{
	const char *content_type = reg_request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	struct reg_manifest m = { 0 };
	char reason[256] = "";
	int r;

	if (req->body_error != REG_OK) {
		reg_respond_error(req, req->body_error, req->body_status, req->body_detail);
		return;
	}

	r = reg_manifest_parse(content_type, req->body ? req->body : "", req->body_len, &m,
			       reason, sizeof(reason));
	if (r == -EINVAL)
		reg_respond_error(req, REG_E_MANIFEST_INVALID, 0, reason);
	else if (r < 0)
		reg_respond_internal(req, "manifest parse", r);
	else
		manifest_store(req, &m);
	reg_manifest_release(&m);
}

void reg_h_manifest_put(struct reg_request *req)
{
	const char *length = reg_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);

	/* Refused before the body is read when the client announces the size. */
	if (length && strtoull(length, NULL, 10) > REG_MANIFEST_MAX) {
		reg_respond_error(req, REG_E_MANIFEST_INVALID, MHD_HTTP_CONTENT_TOO_LARGE,
				  "manifest larger than 4 MiB");
		return;
	}
	req->on_body = manifest_body;
	req->on_finish = manifest_put_finish;
}

void reg_h_manifest_delete(struct reg_request *req)
{
	int r;

	/* By digest the manifest goes with its tags; by tag only the tag. */
	if (req->route.is_digest)
		r = reg_meta_manifest_delete(req->ctx->meta, req->route.name, req->route.digest.text);
	else
		r = reg_meta_tag_delete(req->ctx->meta, req->route.name, req->route.reference);
	if (r == -ENOENT) {
		reg_respond_error(req, REG_E_MANIFEST_UNKNOWN, 0, req->route.reference);
		return;
	}
	if (r < 0) {
		reg_respond_internal(req, "manifest delete", r);
		return;
	}
	reg_respond(req, reg_response_empty(), MHD_HTTP_ACCEPTED, 0);
}
