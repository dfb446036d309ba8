/*
 * The watches of the secrets thread: namespaces, and secrets named
 * AGENT_KUBE_SECRET_NAME in every namespace, both followed on one curl multi
 * handle; see kube_secrets.h.
 *
 * Each stream line is one event (JSON).  The write callbacks only queue the
 * lines; the events run after curl_multi_perform returns, because they send
 * requests of their own.
 */
#include "kube_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* How often the loop checks for a new request when no event arrives. */
#define POLL_MS 1000

enum stream { STREAM_NAMESPACES, STREAM_SECRETS };

struct watch_stream {
	struct watch_round *round;
	enum stream kind;
	CURL *easy;
};

struct watch_round {
	struct kube_sync *sync;
	struct watch_stream streams[2];
	json_t *queue;             /* array of [kind, event] */
	int result;                /* 0 while watching */
	bool ended;
	bool connected;            /* both streams answered 200 */
};

static void queue_line(void *userdata, const char *line, size_t len)
{
	struct watch_stream *stream = userdata;
	json_t *event = json_loadb(line, len, 0, NULL);

	if (!event) {
		kube_fail(stream->round->sync, "a watch event is not valid JSON");
		stream->round->result = -EIO;
		return;
	}
	json_array_append_new(stream->round->queue, json_pack("[i,o]", (int)stream->kind, event));
}

static void save_version(char *ret, size_t size, json_t *object)
{
	const char *version = json_string_value(
		json_object_get(json_object_get(object, "metadata"), "resourceVersion"));

	if (version)
		snprintf(ret, size, "%s", version);
}

static void namespace_event(struct kube_sync *s, const char *type, json_t *object)
{
	const char *name = json_string_value(json_object_get(json_object_get(object, "metadata"), "name"));
	const char *phase = json_string_value(json_object_get(json_object_get(object, "status"), "phase"));

	save_version(s->ns_version, sizeof(s->ns_version), object);
	if (!name || agent_namespace_in_list(s->want.skip_namespaces, name))
		return;
	if (strcmp(type, "DELETED") == 0 || (phase && strcmp(phase, "Terminating") == 0)) {
		kube_ns_remove(s, name);
		return;
	}
	if ((strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) && !kube_ns_find(s, name)) {
		if (kube_ns_add(s, name) < 0) {
			kube_fail(s, "cannot track namespace %s", name);
			return;
		}
		kube_ensure_secret(s, name, NULL);
	}
}

static void secret_event(struct kube_sync *s, const char *type, json_t *object)
{
	const char *ns = json_string_value(json_object_get(json_object_get(object, "metadata"), "namespace"));

	save_version(s->secret_version, sizeof(s->secret_version), object);
	if (!ns || !kube_ns_find(s, ns))
		return;
	if (strcmp(type, "DELETED") == 0)
		kube_ensure_secret(s, ns, json_null());
	else if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0)
		kube_ensure_secret(s, ns, object);
}

/* Runs one queued event.  Returns -ESTALE for 410 Gone, -EIO for another
 * error event, else 0. */
static int run_event(struct kube_sync *s, enum stream kind, json_t *event)
{
	const char *type = json_string_value(json_object_get(event, "type"));
	json_t *object = json_object_get(event, "object");

	if (!type || strcmp(type, "ERROR") == 0) {
		/* A Status object; the whole line when the server refused the watch. */
		json_t *status = type ? object : event;
		const char *message = json_string_value(json_object_get(status, "message"));

		if (json_integer_value(json_object_get(status, "code")) == 410)
			return -ESTALE;
		kube_fail(s, "watch of %s failed: %s", kind == STREAM_NAMESPACES ? "namespaces" : "secrets",
			  message ? message : "unknown error");
		return -EIO;
	}
	if (strcmp(type, "BOOKMARK") == 0)
		save_version(kind == STREAM_NAMESPACES ? s->ns_version : s->secret_version,
			     sizeof(s->ns_version), object);
	else if (kind == STREAM_NAMESPACES)
		namespace_event(s, type, object);
	else
		secret_event(s, type, object);
	return 0;
}

/* Sets w->connected once both streams have their response headers. */
static void check_connected(struct watch_round *w)
{
	for (int i = 0; i < 2; i++) {
		long status = 0;

		curl_easy_getinfo(w->streams[i].easy, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200)
			return;
	}
	w->connected = true;
}

static int run_queue(struct watch_round *w)
{
	json_t *item;
	size_t i;
	int r = 0;

	json_array_foreach(w->queue, i, item) {
		r = run_event(w->sync, (enum stream)json_integer_value(json_array_get(item, 0)),
			      json_array_get(item, 1));
		if (r < 0)
			break;
	}
	json_array_clear(w->queue);
	/* Until both streams are up, a server that is down still looks pending. */
	if (r == 0 && (w->connected || w->sync->failed))
		kube_publish(w->sync, w->sync->failed ? KUBE_PENDING : KUBE_SYNCED);
	return r;
}

/* Reads finished transfers: a stream that ends normally ends the round so
 * that both resume.  410 leads to a relist, and anything else is an error. */
static void read_done(struct watch_round *w, CURLM *multi)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(multi, &left))) {
		long status = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		w->ended = true;
		if (w->result)
			continue;
		if (msg->data.result != CURLE_OK)
			kube_fail(w->sync, "watch connection to %s failed: %s",
				  agent_kube_client_server(w->sync->client),
				  curl_easy_strerror(msg->data.result));
		else if (status == 410)
			w->result = -ESTALE;
		else if (status != 200)
			kube_fail(w->sync, "watch request to %s returned HTTP %ld",
				  agent_kube_client_server(w->sync->client), status);
		if (!w->result && w->sync->failed)
			w->result = -EIO;
	}
}

static int open_streams(struct watch_round *w, CURLM *multi)
{
	struct kube_sync *s = w->sync;
	char path[512];

	snprintf(path, sizeof(path),
		 "/api/v1/namespaces?watch=1&allowWatchBookmarks=true&timeoutSeconds=%d&resourceVersion=%s",
		 AGENT_KUBE_WATCH_SEC, s->ns_version);
	w->streams[0] = (struct watch_stream){ w, STREAM_NAMESPACES, NULL };
	w->streams[0].easy = agent_kube_watch_new(s->client, path, queue_line, &w->streams[0]);
	snprintf(path, sizeof(path),
		 "/api/v1/secrets?watch=1&allowWatchBookmarks=true&timeoutSeconds=%d&fieldSelector=metadata.name%%3D%s&resourceVersion=%s",
		 AGENT_KUBE_WATCH_SEC, AGENT_KUBE_SECRET_NAME, s->secret_version);
	w->streams[1] = (struct watch_stream){ w, STREAM_SECRETS, NULL };
	w->streams[1].easy = agent_kube_watch_new(s->client, path, queue_line, &w->streams[1]);
	if (!w->streams[0].easy || !w->streams[1].easy)
		return -ENOMEM;
	curl_multi_add_handle(multi, w->streams[0].easy);
	curl_multi_add_handle(multi, w->streams[1].easy);
	return 0;
}

static void set_multi(struct kube_sync *s, CURLM *multi)
{
	pthread_mutex_lock(&s->kube->lock);
	s->kube->multi = multi;
	pthread_mutex_unlock(&s->kube->lock);
}

int kube_watch(struct kube_sync *s)
{
	struct watch_round w = { .sync = s, .queue = json_array() };
	CURLM *multi = curl_multi_init();
	int running = 1, r;

	if (!multi || !w.queue) {
		r = -ENOMEM;
		goto out;
	}
	r = open_streams(&w, multi);
	if (r < 0)
		goto out;
	set_multi(s, multi);
	while (!w.result && !w.ended && !kube_interrupted(s)) {
		curl_multi_perform(multi, &running);
		if (!w.connected)
			check_connected(&w);
		r = run_queue(&w);
		if (r < 0 && !w.result)
			w.result = r;
		/* A failed change is retried by a relist after the backoff. */
		if (s->failed && !w.result)
			w.result = -EIO;
		read_done(&w, multi);
		if (!w.result && !w.ended)
			curl_multi_poll(multi, NULL, 0, POLL_MS, NULL);
	}
	set_multi(s, NULL);
	r = w.result ? w.result : w.connected;
out:
	for (int i = 0; i < 2; i++) {
		if (multi && w.streams[i].easy)
			curl_multi_remove_handle(multi, w.streams[i].easy);
		agent_kube_watch_free(w.streams[i].easy);
	}
	curl_multi_cleanup(multi);
	json_decref(w.queue);
	return r;
}
