/*
 * Per-request state, responses and the access log; see request.h.
 */
#include "request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "log.h"
#include "meta.h"

static pthread_once_t request_id_once = PTHREAD_ONCE_INIT;
static unsigned request_id_prefix;
static atomic_ulong request_counter;

/*
 * A random prefix per process keeps ids unique across restarts in the
 * journal.  It comes from getrandom and not OpenSSL, because the first
 * OpenSSL call loads its configuration and providers, which added about
 * 2 MiB to the RSS of a server that had not hashed anything yet.
 */
static void request_id_init(void)
{
	ssize_t n = getrandom(&request_id_prefix, sizeof(request_id_prefix), GRND_NONBLOCK);

	if (n != (ssize_t)sizeof(request_id_prefix))
		request_id_prefix = (unsigned)getpid();
}

static void client_address(struct MHD_Connection *connection, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *info;
	const struct sockaddr *sa;

	snprintf(buf, size, "unknown");
	info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!info || !info->client_addr)
		return;
	sa = info->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)size);
}

struct reg_request *reg_request_new(const struct reg_context *ctx,
				    struct MHD_Connection *connection, const char *method,
				    const char *url)
{
	struct reg_request *req;

	req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	req->url = strdup(url ? url : "");
	if (!req->url) {
		free(req);
		return NULL;
	}
	pthread_once(&request_id_once, request_id_init);

	req->ctx = ctx;
	req->connection = connection;
	req->fd = -1;
	snprintf(req->method, sizeof(req->method), "%s", method);
	snprintf(req->request_id, sizeof(req->request_id), "%08x%08lx", request_id_prefix,
		 (unsigned long)atomic_fetch_add(&request_counter, 1) + 1);
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	client_address(connection, req->address, sizeof(req->address));
	return req;
}

void reg_request_free(struct reg_request *req)
{
	if (!req)
		return;
	if (req->fd >= 0)
		close(req->fd);
	free(req->body);
	free(req->url);
	free(req);
}

static long long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - since->tv_sec) * 1000 +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

void reg_request_log(const struct reg_request *req, bool completed)
{
	char status[8], sent[24], received[24], duration[24];
	struct ecr_log_field fields[] = {
		{ "HTTP_METHOD", req->method },
		{ "HTTP_PATH", req->url },
		{ "REPOSITORY", req->routed && req->route.name[0] ? req->route.name : NULL },
		{ "HTTP_STATUS", status },
		{ "BYTES", sent },
		{ "BYTES_RECEIVED", received },
		{ "DURATION_MS", duration },
		{ "USER", req->user[0] ? req->user : NULL },
		{ "REMOTE_ADDR", req->address },
		{ "REQUEST_ID", req->request_id },
	};

	snprintf(status, sizeof(status), "%u", req->status);
	snprintf(sent, sizeof(sent), "%llu", (unsigned long long)req->bytes_sent);
	snprintf(received, sizeof(received), "%llu", (unsigned long long)req->bytes_received);
	snprintf(duration, sizeof(duration), "%lld", elapsed_ms(&req->started));

	/* Operators expect one access line per request at the default level, so
	 * it is logged at info and not debug.  An aborted transfer is a warning. */
	ecr_log_fields(completed ? LOG_INFO : LOG_WARNING, fields, sizeof(fields) / sizeof(fields[0]),
		       "%s %s %u%s", req->method, req->url, req->status,
		       completed ? "" : " (connection closed before the request completed)");
}

const char *reg_request_header(const struct reg_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

const char *reg_request_query(const struct reg_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

void reg_request_fail(struct reg_request *req, enum reg_error error, unsigned status,
		      const char *detail)
{
	if (req->body_error != REG_OK)
		return;
	req->body_error = error;
	req->body_status = status;
	snprintf(req->body_detail, sizeof(req->body_detail), "%s", detail ? detail : "");
}

int reg_request_location(const struct reg_request *req, char *buf, size_t size,
			 const char *format, ...)
{
	const char *prefix = req->ctx->config->endpoint;
	size_t len;
	va_list ap;
	int n;

	n = snprintf(buf, size, "%s", prefix ? prefix : "");
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	len = (size_t)n;

	va_start(ap, format);
	n = vsnprintf(buf + len, size - len, format, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < size - len ? 0 : -ENAMETOOLONG;
}

struct MHD_Response *reg_response_empty(void)
{
	return MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
}

struct MHD_Response *reg_response_fd(int fd, uint64_t offset, uint64_t length)
{
	struct MHD_Response *response;

	/* MHD reads nothing for an empty body, but it still wants a valid fd. */
	if (length == 0) {
		close(fd);
		return reg_response_empty();
	}
	response = MHD_create_response_from_fd_at_offset64(length, fd, offset);
	if (!response)
		close(fd);
	return response;
}

/* The body of a blob response over TLS: LENGTH bytes of FD from OFFSET. */
struct blob_reader {
	int fd;
	uint64_t offset;
	uint64_t length;
};

static ssize_t blob_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct blob_reader *reader = cls;
	ssize_t n;

	if (pos >= reader->length)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max > reader->length - pos)
		max = (size_t)(reader->length - pos);
	do
		n = pread(reader->fd, buf, max, (off_t)(reader->offset + pos));
	while (n < 0 && errno == EINTR);
	/* 0 means the file is shorter than announced, so the response cannot
	 * be completed either. */
	if (n <= 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n;
}

static void blob_reader_free(void *cls)
{
	struct blob_reader *reader = cls;

	close(reader->fd);
	free(reader);
}

static bool connection_is_tls(struct MHD_Connection *connection)
{
	/* MHD returns no protocol for a connection without a TLS session. */
	return MHD_get_connection_info(connection, MHD_CONNECTION_INFO_PROTOCOL) != NULL;
}

struct MHD_Response *reg_response_blob(const struct reg_request *req, int fd, uint64_t offset,
				       uint64_t length)
{
	struct MHD_Response *response;
	struct blob_reader *reader;

	if (length == 0 || !connection_is_tls(req->connection))
		return reg_response_fd(fd, offset, length);

	reader = malloc(sizeof(*reader));
	if (!reader) {
		close(fd);
		return NULL;
	}
	*reader = (struct blob_reader){ .fd = fd, .offset = offset, .length = length };
	response = MHD_create_response_from_callback(length, REG_BLOB_BLOCK_SIZE, blob_read,
						     reader, blob_reader_free);
	if (!response)
		blob_reader_free(reader);
	return response;
}

void reg_response_header(struct MHD_Response *response, const char *name, const char *value)
{
	if (response && value)
		MHD_add_response_header(response, name, value);
}

void reg_respond(struct reg_request *req, struct MHD_Response *response, unsigned status,
		 uint64_t body_size)
{
	static const char oom[] = "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"out of memory\"}]}";

	if (!response) {
		response = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom,
							   MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		body_size = sizeof(oom) - 1;
	}
	MHD_add_response_header(response, REG_API_VERSION_HEADER, REG_API_VERSION);
	if (req->close_connection)
		MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");

	req->queue_result = MHD_queue_response(req->connection, status, response);
	MHD_destroy_response(response);
	req->responded = true;
	req->status = status;
	req->bytes_sent = body_size;
}

void reg_respond_json(struct reg_request *req, unsigned status, json_t *json,
		      const char *content_type, const char *extra_name, const char *extra_value)
{
	struct MHD_Response *response = NULL;
	char *text = NULL;
	size_t len = 0;

	if (json)
		text = json_dumps(json, JSON_COMPACT);
	json_decref(json);
	if (text) {
		len = strlen(text);
		response = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
		if (!response)
			free(text);
	}
	reg_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (extra_name)
		reg_response_header(response, extra_name, extra_value);
	reg_respond(req, response, status, len);
}

void reg_respond_error_code(struct reg_request *req, unsigned status, const char *code,
			    const char *message, const char *detail)
{
	json_t *error, *body;

	error = json_pack("{s:s, s:s}", "code", code, "message", message);
	if (error && detail && *detail)
		json_object_set_new(error, "detail", json_string(detail));
	body = error ? json_pack("{s:[o]}", "errors", error) : NULL;
	reg_respond_json(req, status, body, "application/json; charset=utf-8", NULL, NULL);
}

void reg_respond_error(struct reg_request *req, enum reg_error error, unsigned status,
		       const char *detail)
{
	reg_respond_error_code(req, status ? status : reg_error_status(error), reg_error_code(error),
			       reg_error_message(error), detail);
}

void reg_respond_internal(struct reg_request *req, const char *what, int errno_value)
{
	char error[16];
	struct ecr_log_field fields[] = {
		{ "REQUEST_ID", req->request_id },
		{ "REPOSITORY", req->routed && req->route.name[0] ? req->route.name : NULL },
		{ "ERRNO", error },
	};

	snprintf(error, sizeof(error), "%d", -errno_value);
	if (errno_value == -ETIMEDOUT) {
		/* The metadata functions return -ETIMEDOUT only when another
		 * process kept sqlite's write lock for the whole busy timeout.
		 * The condition passes, so the client may retry. */
		ecr_log_fields(LOG_ERR, fields, sizeof(fields) / sizeof(fields[0]),
			       "%s failed: another process (edgecr-registry gc or fsck?) held the "
			       "write lock of metadata.db for more than %d s", what,
			       REG_META_BUSY_TIMEOUT_MS / 1000);
		reg_respond_json(req, MHD_HTTP_SERVICE_UNAVAILABLE,
				 json_pack("{s:[{s:s, s:s, s:s}]}", "errors", "code",
					   reg_error_code(REG_E_INTERNAL), "message",
					   "metadata database locked by another process", "detail", what),
				 "application/json; charset=utf-8", MHD_HTTP_HEADER_RETRY_AFTER, "5");
		return;
	}
	ecr_log_fields(LOG_ERR, fields, sizeof(fields) / sizeof(fields[0]), "%s failed: %s",
		       what, strerror(-errno_value));
	reg_respond_error(req, REG_E_INTERNAL, 0, what);
}
