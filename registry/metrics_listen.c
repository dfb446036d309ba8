/*
 * The loopback metrics listener; see metrics_listen.h.
 */
#include "metrics_listen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "log.h"
#include "metrics.h"

/* Scrapers are few and local, so a few connections suffice; libmicrohttpd
 * closes connections above the limit at once. */
#define METRICS_CONNECTIONS_MAX 8
#define METRICS_CONNECTION_TIMEOUT 30
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct reg_metrics_listener {
	struct MHD_Daemon *mhd;
	const struct reg_context *ctx;
};

static enum MHD_Result respond_text(struct MHD_Connection *connection, unsigned status,
				    char *text, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *response;
	enum MHD_Result result;

	response = MHD_create_response_from_buffer(len, text, mode);
	if (!response) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(text);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
				status == MHD_HTTP_OK ? METRICS_CONTENT_TYPE : "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	result = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return result;
}

static enum MHD_Result respond_metrics(struct reg_metrics_listener *listener,
				       struct MHD_Connection *connection)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	int r;

	out = open_memstream(&text, &len);
	if (!out)
		return MHD_NO;
	r = reg_metrics_write(listener->ctx, out);
	if (fclose(out) != 0) {
		free(text);
		return MHD_NO;
	}
	if (r < 0)
		ecr_log(LOG_WARNING, "metrics: storage gauges left out, ignoring: %s", strerror(-r));
	return respond_text(connection, MHD_HTTP_OK, text, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *connection, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **req_cls)
{
	static const char not_found[] = "not found; this listener serves only /metrics\n";
	static const char not_allowed[] = "method not allowed; use GET or HEAD\n";
	static int started;

	/* The first call only announces the request; a body is read and dropped. */
	if (!*req_cls) {
		*req_cls = &started;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return respond_text(connection, MHD_HTTP_NOT_FOUND, (char *)not_found,
				    sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return respond_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED, (char *)not_allowed,
				    sizeof(not_allowed) - 1, MHD_RESPMEM_PERSISTENT);
	return respond_metrics(cls, connection);
}

static void on_mhd_log(void *cls, const char *format, va_list ap)
{
	char message[512];

	vsnprintf(message, sizeof(message), format, ap);
	message[strcspn(message, "\n")] = '\0';
	ecr_log(LOG_INFO, "libmicrohttpd (metrics_listen): %s", message);
}

int reg_metrics_listener_start(const struct reg_context *ctx, struct reg_metrics_listener **ret,
			       char *err, size_t err_size)
{
	const struct reg_config *config = ctx->config;
	struct reg_metrics_listener *listener;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;

	listener = calloc(1, sizeof(*listener));
	if (!listener) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	listener->ctx = ctx;
	if (config->metrics_listen_addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;

	listener->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_access, listener,
					 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
					 MHD_OPTION_SOCK_ADDR, &config->metrics_listen_addr,
					 MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONNECTIONS_MAX,
					 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_CONNECTION_TIMEOUT,
					 MHD_OPTION_END);
	if (!listener->mhd) {
		snprintf(err, err_size, "metrics_listen: cannot listen on \"%s\"",
			 config->metrics_listen);
		free(listener);
		return -EADDRNOTAVAIL;
	}
	*ret = listener;
	return 0;
}

void reg_metrics_listener_stop(struct reg_metrics_listener *listener)
{
	if (!listener)
		return;
	MHD_stop_daemon(listener->mhd);
	free(listener);
}
