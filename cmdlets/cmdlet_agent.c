/* libcurl client of the agent API; see cmdlet_agent.h. */
#include "cmdlet_agent.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "i18n.h"

/* Seconds allowed to connect to the local socket.  A live agent accepts at once. */
#define AGENT_CONNECT_TIMEOUT 5L

/* Reply body collected by reply_append.  It may hold the registry password,
 * so it is wiped before it is freed. */
struct reply_buffer {
	char *data;
	size_t len;
	bool too_large;
};

static void reply_buffer_release(struct reply_buffer *buf)
{
	if (buf->data)
		explicit_bzero(buf->data, buf->len);
	free(buf->data);
	buf->data = NULL;
	buf->len = 0;
}

static size_t reply_append(char *chunk, size_t size, size_t count, void *userdata)
{
	struct reply_buffer *buf = userdata;
	size_t n = size * count;
	size_t new_len = buf->len + n;
	char *grown;

	if (new_len > CMDLET_AGENT_REPLY_MAX) {
		buf->too_large = true;
		return 0;
	}
	grown = malloc(new_len + 1);
	if (!grown)
		return 0;

	/* Copying instead of realloc lets the old block be wiped. */
	if (buf->data)
		memcpy(grown, buf->data, buf->len);
	memcpy(grown + buf->len, chunk, n);
	grown[new_len] = '\0';
	reply_buffer_release(buf);
	buf->data = grown;
	buf->len = new_len;
	return n;
}

const char *cmdlet_agent_socket_path(void)
{
	const char *path = getenv("EDGECR_AGENT_SOCKET");

	return path && *path ? path : CMDLET_AGENT_SOCKET_DEFAULT;
}

static int not_running(const char *socket_path, int r, char *err, size_t err_size)
{
	snprintf(err, err_size,
		 _("edgecr-agent is not running (no agent listens on %s). "
		   "Start it with: systemctl start edgecr-agent, or set "
		   "EDGECR_AGENT_SOCKET to the socket of a running agent"),
		 socket_path);
	return r;
}

static int access_denied(char *err, size_t err_size)
{
	snprintf(err, err_size,
		 _("Access denied: run this command as root or as a member of the agent's admin group "
		   "(edgecr-admin unless the agent configuration names another)."));
	return -EACCES;
}

/* Describes a failed curl_easy_perform.  OS_ERRNO is the errno of the connect. */
static int transfer_error(CURLcode code, long os_errno, const char *socket_path,
			  long timeout_seconds, char *err, size_t err_size)
{
	if (code == CURLE_COULDNT_CONNECT) {
		if (os_errno == EACCES || os_errno == EPERM)
			return access_denied(err, err_size);
		if (os_errno == ENOENT || os_errno == ECONNREFUSED)
			return not_running(socket_path, -(int)os_errno, err, err_size);
	}
	if (code == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, err_size, _("edgecr-agent timed out: no reply within %ld seconds."),
			 timeout_seconds);
		return -ETIMEDOUT;
	}
	snprintf(err, err_size, _("Request to edgecr-agent on %s failed: %s."), socket_path,
		 curl_easy_strerror(code));
	return -EIO;
}

/*
 * Turns the reply into *ret_reply (2xx with a JSON object) or into ERR: 403
 * gets the fixed access message, other errors the agent's own message.
 */
static int reply_interpret(long status, const struct reply_buffer *reply,
			   json_t **ret_reply, char *err, size_t err_size)
{
	const char *message = NULL;
	json_t *json = NULL;
	int r;

	if (status == 403)
		return access_denied(err, err_size);

	if (reply->data)
		json = json_loadb(reply->data, reply->len, 0, NULL);

	if (status >= 200 && status < 300) {
		if (json_is_object(json)) {
			*ret_reply = json;
			return 0;
		}
		snprintf(err, err_size,
			 _("edgecr-agent sent a reply that is not a JSON object (HTTP status %ld)."),
			 status);
		r = -EBADMSG;
		goto out;
	}

	if (json_unpack(json, "{s:{s:s}}", "error", "message", &message) == 0 && *message)
		snprintf(err, err_size, "%s", message);
	else
		snprintf(err, err_size, _("edgecr-agent failed with HTTP status %ld."), status);
	r = -EPROTO;
out:
	json_decref(json);
	return r;
}

/* Characters of a locale's language and territory, such as "pt_PT"; anything
 * else would not be a valid HTTP header value or language tag. */
#define LANGUAGE_TAG_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

/* Returns the locale name that gettext uses for messages, or NULL. */
static const char *messages_locale(void)
{
	static const char *const names[] = { "LC_ALL", "LC_MESSAGES", "LANG" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *value = getenv(names[i]);

		if (value && *value)
			return value;
	}
	return NULL;
}

int cmdlet_agent_language_tag(char *tag)
{
	const char *locale = messages_locale(), *language = getenv("LANGUAGE");
	const char *source = locale;
	size_t len;

	tag[0] = '\0';
	if (!locale || strcmp(locale, "C") == 0 || strcmp(locale, "POSIX") == 0)
		return -ENOENT;
	/* gettext ignores $LANGUAGE under the C locale, and so does this. */
	if (language && *language && *language != ':')
		source = language;

	len = strcspn(source, ".@:");
	if (len == 0 || len > CMDLET_LANGUAGE_TAG_MAX ||
	    strspn(source, LANGUAGE_TAG_CHARS) < len)
		return -ENOENT;
	for (size_t i = 0; i < len; i++)
		tag[i] = source[i] == '_' ? '-' : source[i];
	tag[len] = '\0';
	return 0;
}

/* Builds the request headers into *ret_headers, which the caller frees. */
static int headers_build(bool has_body, struct curl_slist **ret_headers)
{
	char language[CMDLET_LANGUAGE_TAG_MAX + 1], accept_language[64];
	const char *lines[4] = {
		"Accept: application/json",
		/* Certificate bodies would otherwise wait for a 100 Continue. */
		"Expect:",
	};
	size_t n = 2;
	struct curl_slist *list = NULL;

	if (has_body)
		lines[n++] = "Content-Type: application/json";
	if (cmdlet_agent_language_tag(language) == 0) {
		snprintf(accept_language, sizeof(accept_language), "Accept-Language: %s", language);
		lines[n++] = accept_language;
	}
	for (size_t i = 0; i < n; i++) {
		struct curl_slist *longer = curl_slist_append(list, lines[i]);

		if (!longer) {
			curl_slist_free_all(list);
			return -ENOMEM;
		}
		list = longer;
	}
	*ret_headers = list;
	return 0;
}

/* Sets the options of one request.  *headers receives the header list, which
 * the caller frees after the transfer. */
static int request_setup(CURL *curl, const char *method, const char *path, const char *body,
			 long timeout_seconds, struct reply_buffer *reply,
			 struct curl_slist **headers)
{
	char url[512];
	CURLcode code = CURLE_OK;
	int r;

	/* The host part is ignored on a Unix socket, but HTTP/1.1 needs a Host header. */
	if (snprintf(url, sizeof(url), "http://localhost%s", path) >= (int)sizeof(url))
		return -ENAMETOOLONG;

	r = headers_build(body != NULL, headers);
	if (r < 0)
		return r;

	code |= curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, cmdlet_agent_socket_path());
	code |= curl_easy_setopt(curl, CURLOPT_URL, url);
	code |= curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	code |= curl_easy_setopt(curl, CURLOPT_HTTPHEADER, *headers);
	code |= curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, AGENT_CONNECT_TIMEOUT);
	code |= curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_seconds);
	code |= curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	code |= curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, reply_append);
	code |= curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
	if (body) {
		/* POSTFIELDS does not copy: BODY, which may hold a private key,
		 * stays with the caller, who wipes it. */
		code |= curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		code |= curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	return code == CURLE_OK ? 0 : -EINVAL;
}

/* Runs the transfer that CURL is set up for.  Returns 0, or a negative errno
 * with the sentence for the administrator in ERR. */
static int request_perform(CURL *curl, const struct reply_buffer *reply,
			   const char *socket_path, long timeout_seconds,
			   char *err, size_t err_size)
{
	CURLcode code = curl_easy_perform(curl);
	long os_errno = 0;

	if (code == CURLE_OK)
		return 0;
	if (reply->too_large) {
		snprintf(err, err_size, _("edgecr-agent sent a reply larger than %d bytes."),
			 CMDLET_AGENT_REPLY_MAX);
		return -EBADMSG;
	}
	curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
	return transfer_error(code, os_errno, socket_path, timeout_seconds, err, err_size);
}

int cmdlet_agent_call(const char *method, const char *path, const char *body,
		      long timeout_seconds, json_t **ret_reply, char *err, size_t err_size)
{
	const char *socket_path = cmdlet_agent_socket_path();
	struct reply_buffer reply = { 0 };
	struct curl_slist *headers = NULL;
	long status = 0;
	CURL *curl = NULL;
	struct stat st;
	int r;

	/* curl reports a missing socket file only as "couldn't connect". */
	if (stat(socket_path, &st) < 0) {
		if (errno == EACCES)
			return access_denied(err, err_size);
		return not_running(socket_path, -ENOENT, err, err_size);
	}

	curl = curl_easy_init();
	if (!curl) {
		snprintf(err, err_size, _("Out of memory."));
		return -ENOMEM;
	}

	r = request_setup(curl, method, path, body, timeout_seconds, &reply, &headers);
	if (r < 0) {
		snprintf(err, err_size, _("Cannot prepare the request to edgecr-agent: %s."),
			 strerror(-r));
		goto out;
	}

	r = request_perform(curl, &reply, socket_path, timeout_seconds, err, err_size);
	if (r < 0)
		goto out;

	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	r = reply_interpret(status, &reply, ret_reply, err, err_size);
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	reply_buffer_release(&reply);
	return r;
}
