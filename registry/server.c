/*
 * libmicrohttpd daemons on one listening socket; see server.h.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include <openssl/crypto.h>

#include "fileio.h"
#include "framing.h"
#include "header_timer.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "router.h"

/*
 * GnuTLS priority string: TLS 1.2 and 1.3 only, because older versions have
 * known weaknesses.  Under TLS 1.2 only ECDHE key exchange (forward secrecy;
 * RSA key exchange has none) with AEAD ciphers, AES-GCM and ChaCha20-Poly1305.
 * That removes CBC mode with its padding-oracle history, SHA-1 MACs, 3DES
 * and finite-field DHE.  TLS 1.3 offers only AEAD suites anyway.  Every
 * client edgecr supports (docker, containerd, podman, skopeo, curl) speaks
 * TLS 1.2 with ECDHE and AES-GCM.
 */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:" \
	"-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"
/* Largest certificate chain or key file read. */
#define TLS_FILE_MAX (1024 * 1024)
/* Daemons replaced by reloads that may still be draining at once. */
#define DRAINING_MAX 8
/* A replaced daemon is stopped after this long even with requests left. */
#define DRAIN_MAX_SECONDS 600
/*
 * Per-connection buffer for headers and body pieces.  libmicrohttpd 0.9.75
 * zeroes the whole buffer before each request on a kept-alive connection,
 * so every open connection keeps all of it resident.  At 128 KiB that was
 * 8 MiB at 64 connections and 4% of the CPU of small requests.  32 KiB is MHD's
 * default.  256 MiB TLS pushes with curl on a loaded 2-vCPU guest varied
 * from 128 to 232 MiB/s at either size, so no gain of 128 KiB showed.
 */
#define CONNECTION_MEMORY (32 * 1024)
/* Stack of each connection thread; handlers use a few tens of KiB. */
#define THREAD_STACK_SIZE (1024 * 1024)
#define LISTEN_BACKLOG 1024

struct daemon_slot {
	struct MHD_Daemon *mhd;
	const struct reg_context *ctx;
	struct reg_header_timer *header_timer; /* the server's, shared by every slot */
	atomic_uint inflight;   /* requests between the first call and completion */
	time_t quiesced_at;     /* 0 while accepting */
	char *cert, *key;       /* PEM text given to MHD, kept until it stops */
};

/* State of one TCP connection, kept in MHD's socket context. */
struct connection_state {
	/* The path or query of the request being parsed contained %00.  Set by
	 * the unescape callback, read and cleared by the access handler.  MHD
	 * closes the connection after an error it sends itself (such as 431),
	 * so a flag that the handler never cleared cannot reach the next request. */
	bool nul_escape;
	/* The connection is in the header timer's list. */
	bool timed;
	struct reg_header_conn header;
};

struct reg_server {
	const struct reg_context *ctx;
	int listen_fd;
	/* Outlives every slot, because their connections are in its list until
	 * MHD_stop_daemon has closed them. */
	struct reg_header_timer *header_timer;
	struct daemon_slot *current;
	struct daemon_slot *draining[DRAINING_MAX];
};

/* Returns true when the request announces a body. */
static bool request_has_body(struct MHD_Connection *connection)
{
	const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *encoding = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							   MHD_HTTP_HEADER_TRANSFER_ENCODING);

	return encoding || (length && strcmp(length, "0") != 0);
}

/* Runs in the daemon's thread before the connection's thread starts. */
static void connection_started(struct daemon_slot *slot, struct MHD_Connection *connection,
			       struct connection_state *state)
{
	const union MHD_ConnectionInfo *info;

	info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!info)
		return;
	reg_header_timer_add(slot->header_timer, &state->header, info->connect_fd,
			     reg_header_timer_now_ms());
	state->timed = true;
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct daemon_slot *slot = cls;
	struct connection_state *state = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		/* NOTE: a connection whose state cannot be allocated has no
		 * header deadline until access_first refuses its request. */
		state = calloc(1, sizeof(*state));
		if (state)
			connection_started(slot, connection, state);
		*socket_context = state;
		return;
	}
	/* MHD 0.9.75 reports CLOSED before it closes the socket, so after
	 * this removal the timer cannot shut down a reused descriptor. */
	if (state && state->timed)
		reg_header_timer_remove(slot->header_timer, &state->header);
	free(state);
	*socket_context = NULL;
}

/* Returns the state of CONNECTION, or NULL when it could not be allocated. */
static struct connection_state *connection_state(struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *info;

	info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

/* MHD calls this for the path and for each query parameter name and value. */
static size_t on_unescape(void *cls, struct MHD_Connection *connection, char *s)
{
	struct connection_state *state = connection_state(connection);
	bool nul = false;
	size_t len;

	len = reg_unescape(s, &nul);
	if (nul && state)
		state->nul_escape = true;
	return len;
}

static enum MHD_Result framing_count(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct reg_framing *framing = cls;

	if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
		framing->hosts++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		framing->content_lengths++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		framing->transfer_encoding = true;
	return MHD_YES;
}

/*
 * Sends 400 and closes the connection when REQ is framed ambiguously or its
 * path or query contained %00.  Returns true when it responded.  This runs
 * before authentication: a 401 would keep the connection open, and MHD
 * would read the bytes after an ambiguous request as the next request.
 */
static bool request_reject_malformed(struct reg_request *req, struct connection_state *state,
				     const char *version)
{
	struct reg_framing framing = { 0 };
	const char *error;
	bool nul = state->nul_escape;

	state->nul_escape = false;
	MHD_get_connection_values(req->connection, MHD_HEADER_KIND, framing_count, &framing);
	error = reg_framing_error(version, &framing);
	if (!error && !nul)
		return false;

	req->close_connection = true;
	if (error)
		reg_respond_error_code(req, MHD_HTTP_BAD_REQUEST, "BAD_REQUEST",
				       "malformed HTTP request", error);
	else if (strstr(req->url, "%00"))
		reg_respond_error(req, REG_E_NAME_INVALID, 0, "the path must not contain %00");
	else
		reg_respond_error_code(req, MHD_HTTP_BAD_REQUEST, "BAD_REQUEST",
				       "invalid query parameter",
				       "query parameters must not contain %00");
	return true;
}

static enum MHD_Result access_first(struct daemon_slot *slot, struct MHD_Connection *connection,
				    const char *url, const char *method, const char *version,
				    void **req_cls)
{
	struct connection_state *state = connection_state(connection);
	struct reg_request *req;

	/* Without the state a %00 could go unnoticed, so fail closed. */
	if (!state)
		return MHD_NO;
	if (state->timed)
		reg_header_timer_headers_done(slot->header_timer, &state->header);
	req = reg_request_new(slot->ctx, connection, method, url);
	if (!req)
		return MHD_NO;
	*req_cls = req;
	atomic_fetch_add(&slot->inflight, 1);

	if (request_reject_malformed(req, state, version))
		return req->queue_result;

	/* MHD closes the connection after a response queued before the body was
	 * read, so requests without a body are dispatched on the next call and
	 * keep their connection alive.  Requests with one are dispatched now, so
	 * a refusal (401, unknown upload) does not wait for the whole body. */
	if (!request_has_body(connection))
		return MHD_YES;
	reg_router_dispatch(req, req->url);
	req->dispatched = true;
	return req->responded ? req->queue_result : MHD_YES;
}

static void access_body(struct reg_request *req, const char *data, size_t size)
{
	req->bytes_received += size;
	if (!req->on_body || req->body_error != REG_OK)
		return;
	/* After a failure the rest of the body is read and dropped, so the
	 * error response can still go out on this connection. */
	req->on_body(req, data, size);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *connection, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **req_cls)
{
	struct reg_request *req = *req_cls;

	if (!req)
		return access_first(cls, connection, url, method, version, req_cls);
	if (*upload_data_size > 0) {
		if (!req->responded && req->dispatched)
			access_body(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->responded)
		return MHD_YES;

	if (!req->dispatched) {
		req->dispatched = true;
		reg_router_dispatch(req, req->url);
	}
	if (!req->responded && req->on_finish)
		req->on_finish(req);
	if (!req->responded)
		reg_respond_internal(req, "request handling", -EINVAL);
	return req->queue_result;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct daemon_slot *slot = cls;
	struct reg_request *req = *req_cls;
	struct connection_state *state = connection_state(connection);
	bool completed = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;

	/* A kept-alive connection's next request gets a header deadline of its own. */
	if (state && state->timed)
		reg_header_timer_request_done(slot->header_timer, &state->header,
					      reg_header_timer_now_ms());
	if (!req)
		return;
	if (!completed && req->on_abort)
		req->on_abort(req);
	reg_request_log(req, completed);
	reg_metrics_request_done(req);
	reg_request_free(req);
	*req_cls = NULL;
	atomic_fetch_sub(&slot->inflight, 1);
}

static void on_mhd_log(void *cls, const char *format, va_list ap)
{
	char message[512];
	size_t len;

	vsnprintf(message, sizeof(message), format, ap);
	len = strlen(message);
	while (len > 0 && message[len - 1] == '\n')
		message[--len] = '\0';
	/* Nearly all of these are one client's broken connection or handshake,
	 * so they are not warnings about the server. */
	ecr_log(LOG_INFO, "libmicrohttpd: %s", message);
}

static void slot_free(struct daemon_slot *slot)
{
	if (!slot)
		return;
	if (slot->mhd)
		MHD_stop_daemon(slot->mhd);
	if (slot->key)
		OPENSSL_cleanse(slot->key, strlen(slot->key));
	free(slot->key);
	free(slot->cert);
	free(slot);
}

static int slot_tls_read(struct daemon_slot *slot, const struct reg_config *config, char *err,
			 size_t err_size)
{
	size_t len;
	int r;

	r = ecr_read_file(config->tls_cert, TLS_FILE_MAX, &slot->cert, &len);
	if (r < 0) {
		snprintf(err, err_size, "tls_cert: cannot read \"%s\": %s", config->tls_cert, strerror(-r));
		return r;
	}
	r = ecr_read_file(config->tls_key, TLS_FILE_MAX, &slot->key, &len);
	if (r < 0)
		snprintf(err, err_size, "tls_key: cannot read \"%s\": %s", config->tls_key, strerror(-r));
	return r;
}

static struct MHD_Daemon *slot_mhd_start(struct daemon_slot *slot, int listen_fd)
{
	const struct reg_config *config = slot->ctx->config;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem options[] = {
		/* The logger comes first so that MHD reports option errors through it. */
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL },
		{ MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, config->max_connections, NULL },
		{ MHD_OPTION_PER_IP_CONNECTION_LIMIT, config->max_connections_per_address, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, config->connection_timeout, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY, NULL },
		{ MHD_OPTION_THREAD_STACK_SIZE, THREAD_STACK_SIZE, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, slot },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, slot },
		{ MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)on_unescape, NULL },
		/* The TLS entries come last so that plain HTTP can cut them off. */
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, slot->cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, slot->key },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (slot->cert)
		flags |= MHD_USE_TLS;
	for (size_t i = 0; !slot->cert && options[i].option != MHD_OPTION_END; i++)
		if (options[i].option == MHD_OPTION_HTTPS_MEM_CERT)
			options[i].option = MHD_OPTION_END;

	/* NOTE: errors that MHD 0.9.75 sends itself (431 header too large, 400
	 * bad chunked encoding, 413 chunk too large) are its own HTML pages
	 * without the API version header, because this version has no hook to
	 * replace them. */
	return MHD_start_daemon(flags, 0, NULL, NULL, on_access, slot,
				MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/* Allocates a daemon slot and reads the TLS files, before anything listens. */
static int slot_prepare(const struct reg_server *server, struct daemon_slot **ret, char *err,
			size_t err_size)
{
	const struct reg_context *ctx = server->ctx;
	struct daemon_slot *slot;
	int r = 0;

	slot = calloc(1, sizeof(*slot));
	if (!slot) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	slot->ctx = ctx;
	slot->header_timer = server->header_timer;
	if (ctx->config->tls_cert)
		r = slot_tls_read(slot, ctx->config, err, err_size);
	if (r < 0) {
		slot_free(slot);
		return r;
	}
	*ret = slot;
	return 0;
}

/*
 * Starts SLOT's daemon on a duplicate of LISTEN_FD; on failure frees SLOT.
 * Each daemon gets its own descriptor because MHD closes the one it was given
 * when it fails to start, and a failed reload must not close the socket the
 * running daemon accepts on.
 */
static int slot_start(struct daemon_slot *slot, int listen_fd, char *err, size_t err_size)
{
	int fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, err_size, "cannot duplicate the listening socket: %s", strerror(errno));
		slot_free(slot);
		return -errno;
	}
	slot->mhd = slot_mhd_start(slot, fd);
	if (slot->mhd)
		return 0;

	snprintf(err, err_size, "cannot start the HTTP server on %s%s", slot->ctx->config->listen,
		 slot->cert ? " (check that tls_cert and tls_key hold a matching PEM certificate and key)"
			    : "");
	slot_free(slot);
	return -EIO;
}

/* Stops SLOT accepting connections and closes its copy of the listening socket. */
static void slot_quiesce(struct daemon_slot *slot)
{
	MHD_socket fd = MHD_quiesce_daemon(slot->mhd);

	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

static int listen_socket(const struct reg_config *config, char *err, size_t err_size)
{
	const struct sockaddr *addr = (const struct sockaddr *)&config->listen_addr;
	int fd, one = 1;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, addr, config->listen_addr_len) < 0)
		goto fail;
	if (listen(fd, LISTEN_BACKLOG) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, err_size, "listen: cannot listen on \"%s\": %s", config->listen, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int reg_server_new(const struct reg_context *ctx, struct reg_server **ret, char *err,
		   size_t err_size)
{
	struct reg_server *server;
	int r;

	server = calloc(1, sizeof(*server));
	if (!server) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	server->ctx = ctx;
	server->listen_fd = -1;

	r = reg_header_timer_new(ctx->config->header_timeout, &server->header_timer);
	if (r == 0)
		r = reg_header_timer_start(server->header_timer);
	if (r < 0) {
		snprintf(err, err_size, "cannot start the header timer: %s", strerror(-r));
		goto out;
	}
	r = slot_prepare(server, &server->current, err, err_size);
	if (r < 0)
		goto out;
	server->listen_fd = listen_socket(ctx->config, err, err_size);
	if (server->listen_fd < 0) {
		slot_free(server->current);
		r = -EADDRNOTAVAIL;
		goto out;
	}
	r = slot_start(server->current, server->listen_fd, err, err_size);
out:
	if (r < 0) {
		if (server->listen_fd >= 0)
			close(server->listen_fd);
		reg_header_timer_free(server->header_timer);
		free(server);
		return r;
	}
	*ret = server;
	return 0;
}

int reg_server_reload_tls(struct reg_server *server, char *err, size_t err_size)
{
	struct daemon_slot *fresh, *old = server->current;
	size_t i;
	int r;

	if (!server->ctx->config->tls_cert)
		return 0;
	for (i = 0; i < DRAINING_MAX && server->draining[i]; i++)
		;
	if (i == DRAINING_MAX) {
		snprintf(err, err_size, "too many reloads still draining; try again later");
		return -EBUSY;
	}

	r = slot_prepare(server, &fresh, err, err_size);
	if (r == 0)
		r = slot_start(fresh, server->listen_fd, err, err_size);
	if (r < 0)
		return r;

	/* From here the new daemon accepts; the old one only finishes. */
	slot_quiesce(old);
	old->quiesced_at = time(NULL);
	server->draining[i] = old;
	server->current = fresh;
	return 0;
}

void reg_server_tick(struct reg_server *server)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < DRAINING_MAX; i++) {
		struct daemon_slot *slot = server->draining[i];

		if (!slot)
			continue;
		/* NOTE: a request arriving on an idle keep-alive connection of the
		 * old daemon right at this moment is cut off; clients retry it. */
		if (atomic_load(&slot->inflight) > 0 && now - slot->quiesced_at < DRAIN_MAX_SECONDS)
			continue;
		slot_free(slot);
		server->draining[i] = NULL;
	}
}

unsigned reg_server_inflight(struct reg_server *server)
{
	unsigned n = atomic_load(&server->current->inflight);

	for (size_t i = 0; i < DRAINING_MAX; i++)
		if (server->draining[i])
			n += atomic_load(&server->draining[i]->inflight);
	return n;
}

void reg_server_stop(struct reg_server *server, unsigned timeout)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	time_t deadline = time(NULL) + timeout;

	if (!server)
		return;

	slot_quiesce(server->current);
	close(server->listen_fd);
	while (reg_server_inflight(server) > 0 && time(NULL) < deadline)
		nanosleep(&pause, NULL);

	for (size_t i = 0; i < DRAINING_MAX; i++)
		slot_free(server->draining[i]);
	slot_free(server->current);
	/* Last, because the slots' connections were in its list until now. */
	reg_header_timer_free(server->header_timer);
	free(server);
}
