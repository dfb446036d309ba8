/*
 * GET, HEAD and DELETE /v2/<name>/blobs/<digest>.
 *
 * A blob is served only when it is readable in the repository (pushed or
 * mounted there), even when another repository has it: repository access is
 * the unit of permission.  One byte range is served (RFC 9110), which lets
 * clients resume interrupted pulls.
 */
#include "handlers.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

/* Opens the blob of the request's route when readable in its repository.
 * Returns 0, -ENOENT, or a negative errno; sends no response. */
static int blob_open(struct reg_request *req, int *ret_fd, uint64_t *ret_size)
{
	int r;

	r = reg_meta_blob_readable(req->ctx->meta, req->route.name, req->route.digest.text);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	return reg_blobstore_open(&req->ctx->store, &req->route.digest, ret_fd, ret_size);
}

static void respond_unsatisfiable(struct reg_request *req, int fd, uint64_t size)
{
	struct MHD_Response *response;
	char content_range[48];

	close(fd);
	snprintf(content_range, sizeof(content_range), "bytes */%" PRIu64, size);
	response = reg_response_empty();
	reg_response_header(response, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
	reg_respond(req, response, MHD_HTTP_RANGE_NOT_SATISFIABLE, 0);
}

static void respond_blob(struct reg_request *req, int fd, uint64_t size)
{
	const char *range = reg_request_header(req, MHD_HTTP_HEADER_RANGE);
	uint64_t first = 0, last = size ? size - 1 : 0;
	unsigned status = MHD_HTTP_OK;
	struct MHD_Response *response;
	char content_range[96];
	int r = -EINVAL;

	if (range)
		r = reg_range_parse(range, size, &first, &last);
	if (r == -ERANGE) {
		respond_unsatisfiable(req, fd, size);
		return;
	}
	if (r == 0)
		status = MHD_HTTP_PARTIAL_CONTENT;
	else
		first = 0, last = size ? size - 1 : 0;

	response = reg_response_blob(req, fd, first, size ? last - first + 1 : 0);
	reg_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	reg_response_header(response, "Docker-Content-Digest", req->route.digest.text);
	reg_response_header(response, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	reg_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "max-age=31536000");
	if (status == MHD_HTTP_PARTIAL_CONTENT) {
		snprintf(content_range, sizeof(content_range), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
			 first, last, size);
		reg_response_header(response, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
	}
	reg_respond(req, response, status, size ? last - first + 1 : 0);
}

void reg_h_blob_get(struct reg_request *req)
{
	uint64_t size;
	int fd, r;

	r = blob_open(req, &fd, &size);
	if (r == -ENOENT) {
		reg_respond_error(req, REG_E_BLOB_UNKNOWN, 0, req->route.digest.text);
		return;
	}
	if (r < 0) {
		reg_respond_internal(req, "blob open", r);
		return;
	}
	respond_blob(req, fd, size);
}

void reg_h_blob_delete(struct reg_request *req)
{
	int r;

	/* Only the link goes; the file is reclaimed by garbage collection once
	 * no repository links it. */
	r = reg_meta_blob_unlink(req->ctx->meta, req->route.name, req->route.digest.text);
	if (r == -ENOENT) {
		reg_respond_error(req, REG_E_BLOB_UNKNOWN, 0, req->route.digest.text);
		return;
	}
	if (r < 0) {
		reg_respond_internal(req, "blob delete", r);
		return;
	}
	reg_respond(req, reg_response_empty(), MHD_HTTP_ACCEPTED, 0);
}
