/*
 * One HTTP request from its first header to the completion callback, and the
 * helpers handlers use to respond.
 *
 * Lifecycle (libmicrohttpd calls the access handler several times):
 *   1. headers arrived (for a request with a body) or the request is complete
 *      (without one): the router authenticates, parses the route and either
 *      responds at once or installs on_body / on_finish;
 *   2. each piece of the body goes to on_body (or is discarded);
 *   3. the body is complete: on_finish responds;
 *   4. the completion callback logs the access line, calls on_abort when the
 *      request did not complete, and frees the request.
 * The request lives in MHD's *req_cls from 1 to 4, so an aborted transfer frees
 * it too.  Only the connection's thread touches it.
 */
#ifndef EDGECR_REG_REQUEST_H
#define EDGECR_REG_REQUEST_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "context.h"
#include "errors.h"
#include "httpparse.h"
#include "quota.h"
#include "route.h"

#define REG_API_VERSION_HEADER "Docker-Distribution-API-Version"
#define REG_API_VERSION "registry/2.0"
/* Read size for blobs sent over TLS.  MHD's fd responses read 4 KiB at a
 * time there and sent each read as one TLS record.  With this size a 1 GiB
 * download over loopback (curl, 2 CPUs) went from about 620 to 1,350 MB/s. */
#define REG_BLOB_BLOCK_SIZE (256 * 1024)

struct reg_request;

/* Consumes SIZE body bytes.  Returns 0, or a negative errno after recording
 * the error to respond with (reg_request_fail); the rest of the body is then
 * discarded. */
typedef int (*reg_body_fn)(struct reg_request *req, const char *data, size_t size);
typedef void (*reg_request_fn)(struct reg_request *req);

struct reg_request {
	const struct reg_context *ctx;
	struct MHD_Connection *connection;
	char method[12];
	char *url;                 /* request path, for the access log */
	char request_id[24];
	char user[REG_AUTH_USER_MAX + 1];
	char address[48];          /* client IP as text */
	struct timespec started;
	struct reg_route route;
	bool routed;               /* route is valid */

	unsigned status;           /* status sent, 0 until then */
	uint64_t bytes_sent;       /* size of the response body */
	uint64_t bytes_received;   /* request body bytes seen */
	bool dispatched;           /* the router has run */
	bool responded;
	bool close_connection;     /* the response closes the connection */
	enum MHD_Result queue_result;

	reg_body_fn on_body;       /* NULL: the body is discarded */
	reg_request_fn on_finish;  /* called once the whole body arrived */
	reg_request_fn on_abort;   /* called when the request ends without completing */

	/* First error met while consuming the body, sent by on_finish. */
	enum reg_error body_error;
	unsigned body_status;
	char body_detail[192];

	/* Handler state: an open upload or blob file and its position. */
	int fd;
	uint64_t offset_start;
	uint64_t offset;
	struct reg_quota_upload quota;  /* the quota check's state of this upload */
	bool has_content_range;
	uint64_t range_last;       /* last byte of the Content-Range, if has_content_range */
	struct reg_digest digest;  /* the digest query parameter, where one is needed */
	char upload_id[REG_UPLOAD_ID_LEN + 1];

	/* Manifest body, at most REG_MANIFEST_MAX bytes. */
	char *body;
	size_t body_len;
};

/* Allocates a request for CONNECTION.  Returns NULL when out of memory. */
struct reg_request *reg_request_new(const struct reg_context *ctx,
				    struct MHD_Connection *connection, const char *method,
				    const char *url);

/* Closes the request's file, frees its buffers and REQ; NULL is a no-op. */
void reg_request_free(struct reg_request *req);

/* Logs the access line: method, path, repository, status, bytes, duration, user. */
void reg_request_log(const struct reg_request *req, bool completed);

/* Returns the request header NAME, or NULL. */
const char *reg_request_header(const struct reg_request *req, const char *name);

/* Returns the query parameter NAME (percent-decoded), or NULL. */
const char *reg_request_query(const struct reg_request *req, const char *name);

/* Records ERROR (with STATUS, 0 for its usual one, and DETAIL) as the response
 * on_finish will send. */
void reg_request_fail(struct reg_request *req, enum reg_error error, unsigned status,
		      const char *detail);

/*
 * Writes "PREFIX/v2/..." into BUF: the configured endpoint, or nothing so the
 * Location is a relative path.  The Host header is never used.  Returns 0 or
 * -ENAMETOOLONG.
 */
int reg_request_location(const struct reg_request *req, char *buf, size_t size,
			 const char *format, ...) __attribute__((format(printf, 4, 5)));

/* Creates a response with no body.  Returns NULL when out of memory. */
struct MHD_Response *reg_response_empty(void);

/* Adds header NAME: VALUE to RESPONSE. */
void reg_response_header(struct MHD_Response *response, const char *name, const char *value);

/*
 * Queues RESPONSE with STATUS (adding the API version header, and
 * "Connection: close" when req->close_connection is set) and destroys it.  A NULL RESPONSE (out of memory) gets a 500 instead.  Every response
 * goes through here.
 */
void reg_respond(struct reg_request *req, struct MHD_Response *response, unsigned status,
		 uint64_t body_size);

/* Sends the spec's error body for ERROR.  STATUS 0 uses the error's usual
 * status, and DETAIL may be NULL. */
void reg_respond_error(struct reg_request *req, enum reg_error error, unsigned status,
		       const char *detail);

/* Like reg_respond_error for a CODE that errors.h does not list. */
void reg_respond_error_code(struct reg_request *req, unsigned status, const char *code,
			    const char *message, const char *detail);

/* Answers with JSON (stealing the reference to JSON) and CONTENT_TYPE;
 * EXTRA_NAME/EXTRA_VALUE add one header when not NULL. */
void reg_respond_json(struct reg_request *req, unsigned status, json_t *json,
		      const char *content_type, const char *extra_name, const char *extra_value);

/*
 * Creates a response that sends LENGTH bytes of FD from OFFSET and takes FD
 * (closing it also on failure).  MHD sends it with sendfile over plain HTTP
 * and through its connection buffer in small reads over TLS, so use it for
 * small files only.  Returns NULL when out of memory.
 */
struct MHD_Response *reg_response_fd(int fd, uint64_t offset, uint64_t length);

/*
 * Like reg_response_fd, for blobs of any size: over TLS the body is read
 * with pread into a REG_BLOB_BLOCK_SIZE buffer per response, so memory stays
 * flat and each read fills several TLS records.  Plain HTTP uses sendfile.
 */
struct MHD_Response *reg_response_blob(const struct reg_request *req, int fd, uint64_t offset,
				       uint64_t length);

/* Sends 500 UNKNOWN and logs ERRNO_VALUE with WHAT at err level. */
void reg_respond_internal(struct reg_request *req, const char *what, int errno_value);

#endif
