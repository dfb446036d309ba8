/*
 * Blob uploads: POST (start, monolithic ?digest=, cross-repository mount),
 * PATCH (a chunk), PUT (the last chunk, then the digest check), GET (status)
 * and DELETE (cancel) under /v2/<name>/blobs/uploads/.
 *
 * Bodies are written to the upload file piece by piece as libmicrohttpd hands
 * them over, so memory does not grow with the blob.  A chunk that does not
 * arrive completely is cut off again (on_abort), so the upload stays at the
 * last acknowledged size and the client can resume from the Range in the last response.
 */
#include "handlers.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gc_meta.h"
#include "log.h"
#include "quota.h"
#include "upload.h"

static void upload_headers(struct reg_request *req, struct MHD_Response *response,
			   const char *id, uint64_t size)
{
	char location[REG_NAME_MAX + 256], range[48];

	if (reg_request_location(req, location, sizeof(location), "/v2/%s/blobs/uploads/%s",
				 req->route.name, id) == 0)
		reg_response_header(response, MHD_HTTP_HEADER_LOCATION, location);
	/* "0-0" for an empty upload, as distribution sends it: docker expects a range. */
	snprintf(range, sizeof(range), "0-%" PRIu64, size ? size - 1 : 0);
	reg_response_header(response, MHD_HTTP_HEADER_RANGE, range);
	reg_response_header(response, "Docker-Upload-UUID", id);
}

static void respond_upload(struct reg_request *req, unsigned status, const char *id, uint64_t size)
{
	struct MHD_Response *response = reg_response_empty();

	upload_headers(req, response, id, size);
	reg_respond(req, response, status, 0);
}

static void respond_blob_created(struct reg_request *req, const struct reg_digest *digest)
{
	struct MHD_Response *response = reg_response_empty();
	char location[REG_NAME_MAX + 256];

	if (reg_request_location(req, location, sizeof(location), "/v2/%s/blobs/%s",
				 req->route.name, digest->text) == 0)
		reg_response_header(response, MHD_HTTP_HEADER_LOCATION, location);
	reg_response_header(response, "Docker-Content-Digest", digest->text);
	reg_respond(req, response, MHD_HTTP_CREATED, 0);
}

static int upload_body(struct reg_request *req, const char *data, size_t size)
{
	char detail[sizeof(req->body_detail)];
	int r;

	if (req->has_content_range && req->offset + size > req->range_last + 1) {
		reg_request_fail(req, REG_E_SIZE_INVALID, 0, "body longer than its Content-Range");
		return -EINVAL;
	}
	r = reg_quota_check(req->ctx, req->upload_id, &req->quota, req->offset + size, size,
			    detail, sizeof(detail));
	if (r < 0) {
		reg_request_fail(req, REG_E_DENIED, 0, detail);
		return r;
	}
	r = reg_upload_write(req->upload_id, req->fd, req->offset, data, size);
	if (r == -ENOSPC || r == -EDQUOT) {
		ecr_log(LOG_ERR, "upload %s: write failed: %s; removing the upload", req->upload_id,
			strerror(-r));
		reg_request_fail(req, REG_E_INTERNAL, MHD_HTTP_INSUFFICIENT_STORAGE,
				 "no space left on the storage device");
		return r;
	}
	if (r < 0) {
		reg_request_fail(req, REG_E_INTERNAL, 0, strerror(-r));
		return r;
	}
	req->offset += size;
	return 0;
}

/* Cuts the upload back to its size before this request. */
static void upload_rollback(struct reg_request *req)
{
	int r;

	if (req->fd < 0 || req->offset == req->offset_start)
		return;
	r = reg_upload_truncate(req->upload_id, req->fd, req->offset_start);
	if (r < 0)
		ecr_log(LOG_WARNING, "upload %s: cannot cut back to %" PRIu64 " bytes: %s; ignoring",
			req->upload_id, req->offset_start, strerror(-r));
}

static void upload_abort_cancel(struct reg_request *req)
{
	reg_upload_cancel(req->ctx, req->upload_id);
}

/* Removes the whole upload after a refusal for space, so nothing partial
 * stays.  The data is cut first: on a full disk the row delete may fail, and
 * the space of an unlinked file comes back only once its descriptor closes. */
static void upload_discard(struct reg_request *req)
{
	char path[PATH_MAX];
	int r = req->fd >= 0 ? reg_upload_truncate(req->upload_id, req->fd, 0) : 0;

	if (r < 0)
		ecr_log(LOG_WARNING, "upload %s: cannot cut the data: %s; ignoring", req->upload_id,
			strerror(-r));
	if (reg_blobstore_upload_path(&req->ctx->store, req->upload_id, path) == 0)
		unlink(path);
	reg_upload_cancel(req->ctx, req->upload_id);
	req->offset = req->offset_start = 0;
}

/* Sends the error recorded while receiving the body, or the error for a
 * short body.  Returns true when it sent one. */
static bool body_failed(struct reg_request *req)
{
	if (req->body_error == REG_OK && req->has_content_range &&
	    req->offset != req->range_last + 1)
		reg_request_fail(req, REG_E_SIZE_INVALID, 0, "body shorter than its Content-Range");
	if (req->body_error == REG_OK)
		return false;

	if (req->body_error == REG_E_DENIED ||
	    req->body_status == MHD_HTTP_INSUFFICIENT_STORAGE)
		upload_discard(req);
	if (req->body_error == REG_E_INTERNAL && req->body_status == 0)
		reg_respond_internal(req, "upload write", -EIO);
	else if (req->body_error == REG_E_DENIED)
		/* docker and podman print the code and the message, never the
		 * detail, so the quota's used and limit go into the message. */
		reg_respond_error_code(req, reg_error_status(REG_E_DENIED), "DENIED",
				       req->body_detail, req->body_detail);
	else
		reg_respond_error(req, req->body_error, req->body_status, req->body_detail);
	return true;
}

/* Finishes the upload with the digest given in the request and responds. */
static void upload_complete(struct reg_request *req)
{
	uint64_t size;
	int r;

	/* A blob pushed again gets a new garbage-collection grace period. */
	r = reg_meta_gc_link_refresh(req->ctx->meta, req->route.name, req->digest.text);
	if (r < 0)
		ecr_log(LOG_WARNING, "upload %s: cannot refresh the blob link time: %s; ignoring",
			req->upload_id, strerror(-r));
	r = reg_upload_finish(req->ctx, req->route.name, req->upload_id, req->fd, &req->digest, &size);
	if (r == -EBADMSG) {
		reg_respond_error(req, REG_E_DIGEST_INVALID, 0, req->digest.text);
		return;
	}
	if (r == -ENOENT) {
		reg_respond_error(req, REG_E_BLOB_UPLOAD_UNKNOWN, 0, req->upload_id);
		return;
	}
	if (r < 0) {
		reg_upload_cancel(req->ctx, req->upload_id);
		reg_respond_internal(req, "upload finish", r);
		return;
	}
	reg_quota_usage_changed();
	respond_blob_created(req, &req->digest);
}

static void monolithic_finish(struct reg_request *req)
{
	req->on_abort = NULL;
	if (body_failed(req)) {
		reg_upload_cancel(req->ctx, req->upload_id);
		return;
	}
	upload_complete(req);
}

static void put_finish(struct reg_request *req)
{
	req->on_abort = NULL;
	if (body_failed(req)) {
		upload_rollback(req);
		return;
	}
	upload_complete(req);
}

static void patch_finish(struct reg_request *req)
{
	req->on_abort = NULL;
	if (body_failed(req)) {
		upload_rollback(req);
		return;
	}
	reg_meta_upload_touch(req->ctx->meta, req->upload_id);

	/* Closing the file releases its lock before the client reads the 202,
	 * so that a PUT sent right after it is not refused as a second writer. */
	close(req->fd);
	req->fd = -1;
	respond_upload(req, MHD_HTTP_ACCEPTED, req->upload_id, req->offset);
}

/* Reads the digest query parameter into req->digest.  Returns false after
 * responding DIGEST_INVALID. */
static bool digest_param(struct reg_request *req, const char *value)
{
	if (!value || reg_digest_parse(value, &req->digest) < 0) {
		reg_respond_error(req, REG_E_DIGEST_INVALID, 0,
				  value ? value : "the digest parameter is required");
		return false;
	}
	return true;
}

/* Tries a cross-repository mount.  Returns true when it sent a response
 * (201, or an error).  Returns false to fall back to a new upload, which the
 * spec requires when the source is not readable. */
static bool mount_try(struct reg_request *req, const char *mount, const char *from)
{
	struct reg_digest digest;
	uint64_t size;
	int fd, r;

	if (reg_digest_parse(mount, &digest) < 0 || !from || !reg_name_is_valid(from))
		return false;
	r = reg_meta_blob_readable(req->ctx->meta, from, digest.text);
	if (r <= 0)
		return false;
	if (reg_blobstore_open(&req->ctx->store, &digest, &fd, &size) < 0)
		return false;
	close(fd);

	/* Checked again inside the link's transaction: a garbage collection may
	 * have removed the source link since. */
	r = reg_meta_gc_blob_mount(req->ctx->meta, from, req->route.name, digest.text);
	if (r == -ENOENT)
		return false;
	if (r < 0) {
		reg_respond_internal(req, "blob mount", r);
		return true;
	}
	respond_blob_created(req, &digest);
	return true;
}

static void monolithic_begin(struct reg_request *req)
{
	int r;

	r = reg_upload_create(req->ctx, req->route.name, req->upload_id);
	if (r == 0)
		r = reg_upload_open(req->ctx, req->route.name, req->upload_id, &req->fd, &req->offset);
	if (r < 0) {
		reg_respond_internal(req, "upload start", r);
		return;
	}
	req->offset_start = req->offset;
	req->on_body = upload_body;
	req->on_finish = monolithic_finish;
	req->on_abort = upload_abort_cancel;
}

void reg_h_upload_post(struct reg_request *req)
{
	const char *mount = reg_request_query(req, "mount");
	const char *digest = reg_request_query(req, "digest");
	int r;

	if (mount && mount_try(req, mount, reg_request_query(req, "from")))
		return;
	if (digest) {
		if (digest_param(req, digest))
			monolithic_begin(req);
		return;
	}

	r = reg_upload_create(req->ctx, req->route.name, req->upload_id);
	if (r < 0) {
		reg_respond_internal(req, "upload start", r);
		return;
	}
	respond_upload(req, MHD_HTTP_ACCEPTED, req->upload_id, 0);
}

static void respond_out_of_order(struct reg_request *req, uint64_t size)
{
	struct MHD_Response *response;
	json_t *body;
	char *text;

	body = json_pack("{s:[{s:s, s:s, s:s}]}", "errors", "code", "BLOB_UPLOAD_INVALID",
			 "message", reg_error_message(REG_E_BLOB_UPLOAD_INVALID),
			 "detail", "chunk does not start at the end of the upload; see Range");
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	response = text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE)
			: NULL;
	reg_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
	upload_headers(req, response, req->upload_id, size);
	reg_respond(req, response, MHD_HTTP_RANGE_NOT_SATISFIABLE, text ? strlen(text) : 0);
}

/* Checks Content-Range (and Content-Length against it) for a chunk that must
 * start at SIZE.  Returns false after sending the error response. */
static bool content_range_check(struct reg_request *req, uint64_t size)
{
	const char *range = reg_request_header(req, MHD_HTTP_HEADER_CONTENT_RANGE);
	const char *length = reg_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t first, last;

	if (!range)
		return true;
	if (reg_content_range_parse(range, &first, &last) < 0) {
		reg_respond_error(req, REG_E_BLOB_UPLOAD_INVALID, 0, "malformed Content-Range");
		return false;
	}
	if (first != size) {
		respond_out_of_order(req, size);
		return false;
	}
	if (length && strtoull(length, NULL, 10) != last - first + 1) {
		reg_respond_error(req, REG_E_SIZE_INVALID, 0, "Content-Length does not match Content-Range");
		return false;
	}
	req->has_content_range = true;
	req->range_last = last;
	return true;
}

/* Opens the route's upload for a PATCH or PUT body.  Returns false after
 * sending the error response. */
static bool write_begin(struct reg_request *req)
{
	int r;

	memcpy(req->upload_id, req->route.upload_id, sizeof(req->upload_id));
	r = reg_upload_open(req->ctx, req->route.name, req->upload_id, &req->fd, &req->offset);
	if (r == -ENOENT) {
		reg_respond_error(req, REG_E_BLOB_UPLOAD_UNKNOWN, 0, req->upload_id);
		return false;
	}
	if (r == -EBUSY) {
		reg_respond_error(req, REG_E_BLOB_UPLOAD_INVALID, 0,
				  "another request is writing this upload");
		return false;
	}
	if (r < 0) {
		reg_respond_internal(req, "upload open", r);
		return false;
	}
	req->offset_start = req->offset;
	if (!content_range_check(req, req->offset))
		return false;

	req->on_body = upload_body;
	req->on_abort = upload_rollback;
	return true;
}

void reg_h_upload_patch(struct reg_request *req)
{
	if (write_begin(req))
		req->on_finish = patch_finish;
}

void reg_h_upload_put(struct reg_request *req)
{
	/* The digest is checked first so that a bad request changes nothing. */
	if (!digest_param(req, reg_request_query(req, "digest")))
		return;
	if (write_begin(req))
		req->on_finish = put_finish;
}

void reg_h_upload_status(struct reg_request *req)
{
	uint64_t size;
	int r;

	r = reg_upload_size(req->ctx, req->route.name, req->route.upload_id, &size);
	if (r == -ENOENT) {
		reg_respond_error(req, REG_E_BLOB_UPLOAD_UNKNOWN, 0, req->route.upload_id);
		return;
	}
	if (r < 0) {
		reg_respond_internal(req, "upload status", r);
		return;
	}
	respond_upload(req, MHD_HTTP_NO_CONTENT, req->route.upload_id, size);
}

void reg_h_upload_delete(struct reg_request *req)
{
	int r;

	r = reg_meta_upload_find(req->ctx->meta, req->route.name, req->route.upload_id);
	if (r == 0)
		r = reg_upload_cancel(req->ctx, req->route.upload_id);
	if (r == -ENOENT) {
		reg_respond_error(req, REG_E_BLOB_UPLOAD_UNKNOWN, 0, req->route.upload_id);
		return;
	}
	if (r < 0) {
		reg_respond_internal(req, "upload cancel", r);
		return;
	}
	reg_respond(req, reg_response_empty(), MHD_HTTP_NO_CONTENT, 0);
}
