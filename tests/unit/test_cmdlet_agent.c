/*
 * Tests of the agent client (cmdlet_agent.c) against a small libmicrohttpd
 * server on a Unix socket in a temporary folder.  Each path of the server
 * returns one kind of reply: JSON, an API error, a non-JSON body, a body over
 * CMDLET_AGENT_REPLY_MAX, a slow reply, or an echo of the request.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmdlet_agent.h"
#include "unit.h"

/* Seconds the /slow path waits before it replies, above the client's 1 s timeout. */
#define SLOW_REPLY_SECONDS 2

static char socket_dir[] = "/tmp/test_cmdlet_agent.XXXXXX";
static char socket_path[128];
static char err[1024];

/* Request body collected for /echo.  Requests are sent one at a time. */
static char echo_body[4096];
static size_t echo_len;

static enum MHD_Result reply(struct MHD_Connection *connection, unsigned status,
			     const char *body)
{
	struct MHD_Response *response = MHD_create_response_from_buffer(
		strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result result;

	MHD_add_response_header(response, "Content-Type", "application/json");
	result = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return result;
}

/* Replies to /echo with the method, Content-Type, Accept-Language and body
 * it received. */
static enum MHD_Result reply_echo(struct MHD_Connection *connection, const char *method)
{
	const char *type = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
						       "Content-Type");
	const char *language = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							   "Accept-Language");
	json_t *json = json_pack("{s:s, s:s?, s:s?, s:s%}", "method", method, "contentType", type,
				 "acceptLanguage", language, "body", echo_body, echo_len);
	char *text = json_dumps(json, JSON_COMPACT);
	enum MHD_Result result = reply(connection, 200, text);

	free(text);
	json_decref(json);
	return result;
}

/* Replies with a JSON object of LEN bytes, which curl delivers in many chunks. */
static enum MHD_Result reply_sized(struct MHD_Connection *connection, size_t len)
{
	char *body = malloc(len + 1);
	enum MHD_Result result;

	memset(body, ' ', len);
	body[0] = '{';
	body[len - 1] = '}';
	body[len] = '\0';
	result = reply(connection, 200, body);
	free(body);
	return result;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *connection, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	static int started;

	/* The first call only announces the request, and the body follows. */
	if (*req_cls == NULL) {
		*req_cls = &started;
		echo_len = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		if (n > sizeof(echo_body) - echo_len)
			n = sizeof(echo_body) - echo_len;
		memcpy(echo_body + echo_len, upload_data, n);
		echo_len += n;
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (strcmp(url, "/ok") == 0)
		return reply(connection, 200, "{\"enabled\":true}");
	if (strcmp(url, "/forbidden") == 0)
		return reply(connection, 403, "{\"error\":{\"code\":\"FORBIDDEN\","
					      "\"message\":\"Only root may do that.\"}}");
	if (strcmp(url, "/conflict") == 0)
		return reply(connection, 409, "{\"error\":{\"code\":\"NOT_ENABLED\","
					      "\"message\":\"The registry is not enabled.\"}}");
	if (strcmp(url, "/bare-error") == 0)
		return reply(connection, 500, "Internal failure");
	if (strcmp(url, "/text") == 0)
		return reply(connection, 200, "hello");
	if (strcmp(url, "/array") == 0)
		return reply(connection, 200, "[1,2]");
	if (strcmp(url, "/large") == 0)
		return reply_sized(connection, CMDLET_AGENT_REPLY_MAX + 1024);
	if (strcmp(url, "/medium") == 0)
		return reply_sized(connection, 200 * 1024);
	if (strcmp(url, "/slow") == 0) {
		sleep(SLOW_REPLY_SECONDS);
		return reply(connection, 200, "{}");
	}
	if (strcmp(url, "/echo") == 0)
		return reply_echo(connection, method);
	return reply(connection, 404, "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"No such path.\"}}");
}

/* Binds a listening Unix socket at PATH.  Returns the socket, or -1. */
static int listen_unix(const char *path)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(address.sun_path, sizeof(address.sun_path), "%s", path);
	if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0 || listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int call(const char *method, const char *path, const char *body, json_t **ret_reply)
{
	err[0] = '\0';
	return cmdlet_agent_call(method, path, body, 1, ret_reply, err, sizeof(err));
}

static void test_json_reply(void)
{
	json_t *json = NULL;

	CHECK_INT(call("GET", "/ok", NULL, &json), 0);
	CHECK(json_is_true(json_object_get(json, "enabled")));
	json_decref(json);
}

static void test_request_body_sent(void)
{
	json_t *json = NULL;

	CHECK_INT(call("PUT", "/echo", "{\"rotatePassword\":true}", &json), 0);
	CHECK_STR(json_string_value(json_object_get(json, "method")), "PUT");
	CHECK_STR(json_string_value(json_object_get(json, "contentType")), "application/json");
	CHECK_STR(json_string_value(json_object_get(json, "body")), "{\"rotatePassword\":true}");
	json_decref(json);

	CHECK_INT(call("DELETE", "/echo", NULL, &json), 0);
	CHECK_STR(json_string_value(json_object_get(json, "method")), "DELETE");
	CHECK(json_is_null(json_object_get(json, "contentType")));
	json_decref(json);
}

static void test_forbidden_names_admin_group(void)
{
	json_t *json = NULL;

	CHECK_INT(call("GET", "/forbidden", NULL, &json), -EACCES);
	CHECK(json == NULL);
	CHECK(strstr(err, "root") != NULL);
	CHECK(strstr(err, "admin group") != NULL);
}

static void test_agent_error_message(void)
{
	json_t *json = NULL;

	CHECK_INT(call("GET", "/conflict", NULL, &json), -EPROTO);
	CHECK_STR(err, "The registry is not enabled.");

	CHECK_INT(call("GET", "/bare-error", NULL, &json), -EPROTO);
	CHECK(strstr(err, "500") != NULL);
	CHECK(json == NULL);
}

static void test_reply_not_json_object(void)
{
	json_t *json = NULL;

	CHECK_INT(call("GET", "/text", NULL, &json), -EBADMSG);
	CHECK(strstr(err, "JSON") != NULL);
	CHECK_INT(call("GET", "/array", NULL, &json), -EBADMSG);
	CHECK(json == NULL);
}

static void test_reply_many_chunks(void)
{
	json_t *json = NULL;

	CHECK_INT(call("GET", "/medium", NULL, &json), 0);
	CHECK(json_is_object(json));
	json_decref(json);
}

static void test_reply_too_large(void)
{
	json_t *json = NULL;

	CHECK_INT(call("GET", "/large", NULL, &json), -EBADMSG);
	CHECK(strstr(err, "larger") != NULL);
	CHECK(json == NULL);
}

static void test_reply_timeout(void)
{
	json_t *json = NULL;

	CHECK_INT(call("GET", "/slow", NULL, &json), -ETIMEDOUT);
	CHECK(strstr(err, "timed out") != NULL);
	CHECK(json == NULL);
}

static void test_socket_missing(void)
{
	char missing[256];
	json_t *json = NULL;

	snprintf(missing, sizeof(missing), "%s/missing.sock", socket_dir);
	setenv("EDGECR_AGENT_SOCKET", missing, 1);
	CHECK_INT(call("GET", "/ok", NULL, &json), -ENOENT);
	CHECK(strstr(err, missing) != NULL);
	CHECK(strstr(err, "systemctl start edgecr-agent") != NULL);
	setenv("EDGECR_AGENT_SOCKET", socket_path, 1);
}

/* A socket file that nothing listens on, as a crashed agent leaves behind. */
static void test_socket_stale(void)
{
	char stale[256];
	json_t *json = NULL;
	int fd;

	snprintf(stale, sizeof(stale), "%s/stale.sock", socket_dir);
	fd = listen_unix(stale);
	CHECK(fd >= 0);
	close(fd);

	setenv("EDGECR_AGENT_SOCKET", stale, 1);
	CHECK_INT(call("GET", "/ok", NULL, &json), -ECONNREFUSED);
	CHECK(strstr(err, "systemctl start edgecr-agent") != NULL);
	setenv("EDGECR_AGENT_SOCKET", socket_path, 1);
	unlink(stale);
}

/* Sets the locale variables that cmdlet_agent_language_tag reads. */
static void locale_env(const char *language, const char *lc_all, const char *lc_messages,
		       const char *lang)
{
	const char *names[] = { "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG" };
	const char *values[] = { language, lc_all, lc_messages, lang };

	for (size_t i = 0; i < 4; i++) {
		if (values[i])
			setenv(names[i], values[i], 1);
		else
			unsetenv(names[i]);
	}
}

static void test_language_tag_from_locale(void)
{
	char tag[CMDLET_LANGUAGE_TAG_MAX + 1];

	locale_env(NULL, NULL, NULL, "pt_PT.UTF-8");
	CHECK_INT(cmdlet_agent_language_tag(tag), 0);
	CHECK_STR(tag, "pt-PT");
	locale_env(NULL, NULL, "en_GB.UTF-8", "pt_PT.UTF-8");
	CHECK_INT(cmdlet_agent_language_tag(tag), 0);
	CHECK_STR(tag, "en-GB");
	locale_env(NULL, "pt_PT@euro", "en_GB.UTF-8", NULL);
	CHECK_INT(cmdlet_agent_language_tag(tag), 0);
	CHECK_STR(tag, "pt-PT");
	locale_env("pt_PT:en", "C.UTF-8", NULL, NULL);
	CHECK_INT(cmdlet_agent_language_tag(tag), 0);
	CHECK_STR(tag, "pt-PT");
}

static void test_language_tag_none(void)
{
	char tag[CMDLET_LANGUAGE_TAG_MAX + 1];

	locale_env(NULL, NULL, NULL, NULL);
	CHECK_INT(cmdlet_agent_language_tag(tag), -ENOENT);
	CHECK_STR(tag, "");
	locale_env("pt_PT", "C", NULL, "pt_PT.UTF-8");
	CHECK_INT(cmdlet_agent_language_tag(tag), -ENOENT);
	locale_env(NULL, NULL, NULL, "POSIX");
	CHECK_INT(cmdlet_agent_language_tag(tag), -ENOENT);
	locale_env(NULL, NULL, NULL, "pt PT\r\nX: y");
	CHECK_INT(cmdlet_agent_language_tag(tag), -ENOENT);
	CHECK_STR(tag, "");
}

static void test_accept_language_sent(void)
{
	json_t *json = NULL;

	locale_env(NULL, NULL, NULL, "pt_PT.UTF-8");
	CHECK_INT(call("GET", "/echo", NULL, &json), 0);
	CHECK_STR(json_string_value(json_object_get(json, "acceptLanguage")), "pt-PT");
	json_decref(json);

	locale_env(NULL, "C", NULL, NULL);
	CHECK_INT(call("GET", "/echo", NULL, &json), 0);
	CHECK(json_is_null(json_object_get(json, "acceptLanguage")));
	json_decref(json);
}

static void test_socket_path_default(void)
{
	unsetenv("EDGECR_AGENT_SOCKET");
	CHECK_STR(cmdlet_agent_socket_path(), "/run/edgecr/agent.sock");
	setenv("EDGECR_AGENT_SOCKET", "", 1);
	CHECK_STR(cmdlet_agent_socket_path(), "/run/edgecr/agent.sock");
	setenv("EDGECR_AGENT_SOCKET", socket_path, 1);
	CHECK_STR(cmdlet_agent_socket_path(), socket_path);
}

int main(void)
{
	struct MHD_Daemon *daemon;
	int fd;

	if (!mkdtemp(socket_dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(socket_path, sizeof(socket_path), "%s/agent.sock", socket_dir);
	fd = listen_unix(socket_path);
	daemon = fd < 0 ? NULL :
		MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, NULL,
				 MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_END);
	if (!daemon) {
		fprintf(stderr, "cannot start the test server on %s\n", socket_path);
		return 1;
	}
	setenv("EDGECR_AGENT_SOCKET", socket_path, 1);

	RUN(test_json_reply);
	RUN(test_request_body_sent);
	/* Before test_reply_timeout, whose /slow reply keeps the one server
	 * thread busy after the client gave up. */
	RUN(test_accept_language_sent);
	RUN(test_forbidden_names_admin_group);
	RUN(test_agent_error_message);
	RUN(test_reply_not_json_object);
	RUN(test_reply_many_chunks);
	RUN(test_reply_too_large);
	RUN(test_reply_timeout);
	RUN(test_socket_missing);
	RUN(test_socket_stale);
	RUN(test_socket_path_default);
	RUN(test_language_tag_from_locale);
	RUN(test_language_tag_none);

	MHD_stop_daemon(daemon);
	unlink(socket_path);
	rmdir(socket_dir);
	return UNIT_EXIT();
}
