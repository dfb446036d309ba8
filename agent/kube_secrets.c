/*
 * The Kubernetes secrets thread: requests from provisioning, the status, and
 * the loop that loads the kubeconfig and runs a sync or a removal; see
 * kube_secrets.h.
 */
#include "kube_private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"

#define BACKOFF_FIRST_MS 500

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void desired_clear(struct kube_desired *d)
{
	free(d->kubeconfig);
	free(d->serviceaccount_dir);
	free(d->skip_namespaces);
	agent_credentials_clear(&d->credentials);
	d->kubeconfig = d->serviceaccount_dir = d->skip_namespaces = NULL;
}

/* Copies SRC into DST, which must be cleared.  Returns 0 or -ENOMEM. */
static int desired_copy(struct kube_desired *dst, const struct kube_desired *src)
{
	*dst = *src;
	dst->kubeconfig = src->kubeconfig ? strdup(src->kubeconfig) : NULL;
	dst->serviceaccount_dir = strdup(src->serviceaccount_dir ? src->serviceaccount_dir : "");
	dst->skip_namespaces = strdup(src->skip_namespaces ? src->skip_namespaces : "");
	if ((src->kubeconfig && !dst->kubeconfig) || !dst->serviceaccount_dir ||
	    !dst->skip_namespaces) {
		desired_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

bool kube_interrupted(struct kube_sync *s)
{
	struct agent_kube *kube = s->kube;
	bool interrupted;

	pthread_mutex_lock(&kube->lock);
	interrupted = kube->stop || kube->desired.generation != s->want.generation;
	pthread_mutex_unlock(&kube->lock);
	return interrupted;
}

bool kube_sleep(struct kube_sync *s, unsigned ms)
{
	struct agent_kube *kube = s->kube;
	struct timespec deadline;
	bool interrupted;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (long)(ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&kube->lock);
	for (;;) {
		interrupted = kube->stop || kube->desired.generation != s->want.generation;
		if (interrupted || r == ETIMEDOUT)
			break;
		r = pthread_cond_timedwait(&kube->wake, &kube->lock, &deadline);
	}
	pthread_mutex_unlock(&kube->lock);
	return !interrupted;
}

void kube_fail(struct kube_sync *s, const char *format, ...)
{
	char text[sizeof(s->err)];
	va_list ap;

	va_start(ap, format);
	vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);

	/* A server that stays down fails the same way on every retry, and a
	 * request cancelled by a stopping agent is no error. */
	if (strcmp(text, s->err) != 0 && !atomic_load(&s->kube->stopping))
		ecr_log(LOG_ERR, "kubernetes secrets: %s; retrying", text);
	if (!atomic_load(&s->kube->stopping))
		agent_metrics_secret_error();
	memcpy(s->err, text, sizeof(text));
	s->failed = true;
}

void kube_publish(struct kube_sync *s, enum kube_state state)
{
	struct agent_kube *kube = s->kube;
	json_t *conflicts = json_array();
	size_t synced = 0;

	for (size_t i = 0; i < s->n_ns; i++) {
		if (s->ns[i].state == NS_SYNCED)
			synced++;
		else if (s->ns[i].state == NS_CONFLICT)
			json_array_append_new(conflicts, json_string(s->ns[i].name));
		else if (state == KUBE_SYNCED)
			state = KUBE_PENDING;
	}
	pthread_mutex_lock(&kube->lock);
	if (kube->state != state && state == KUBE_SYNCED)
		ecr_log(LOG_INFO, "kubernetes secrets: in sync in %zu namespaces", synced);
	kube->state = state;
	kube->namespaces = synced;
	snprintf(kube->last_error, sizeof(kube->last_error), "%s",
		 state == KUBE_PENDING ? s->err : "");
	json_decref(kube->conflicts);
	kube->conflicts = conflicts;
	pthread_mutex_unlock(&kube->lock);
}

static unsigned next_backoff(unsigned backoff)
{
	return backoff * 2 > AGENT_KUBE_BACKOFF_MAX_MS ? AGENT_KUBE_BACKOFF_MAX_MS : backoff * 2;
}

/* Loads the kubeconfig of s->want into s->client, retrying with a backoff
 * because the file may appear later.  Returns false when interrupted.  It
 * runs again after each failure, because the token file of a service account
 * is replaced before its token expires. */
static bool connect_client(struct kube_sync *s)
{
	unsigned backoff = BACKOFF_FIRST_MS;

	agent_kube_client_free(s->client);
	s->client = NULL;
	for (;;) {
		struct agent_kube_auth *auth = NULL;
		char err[512] = "out of memory";
		int r;

		r = agent_kubeconfig_load(s->want.kubeconfig, s->want.serviceaccount_dir, &auth,
					  err, sizeof(err));
		if (r == 0)
			r = agent_kube_client_new(auth, &s->kube->stopping, &s->client);
		if (r == 0)
			return true;
		if (r == -ENOMEM)
			agent_kube_auth_free(auth);
		kube_fail(s, "%s", err);
		kube_publish(s, KUBE_PENDING);
		if (!kube_sleep(s, backoff))
			return false;
		backoff = next_backoff(backoff);
	}
}

/* Publishes the failure, waits BACKOFF and reloads the credentials.  Returns
 * false when interrupted. */
static bool retry_after(struct kube_sync *s, unsigned backoff)
{
	kube_publish(s, KUBE_PENDING);
	return kube_sleep(s, backoff) && connect_client(s);
}

/* Runs the sync until it is interrupted: a full sync, then watches.  A watch
 * that ends or fails resumes from its last resourceVersion.  The thread lists
 * again after 410 Gone, after a change that failed and every
 * AGENT_KUBE_RESYNC_SEC. */
static void run_present(struct kube_sync *s)
{
	unsigned backoff = BACKOFF_FIRST_MS;
	uint64_t synced_at = 0;
	bool relist = true;
	int r;

	while (!kube_interrupted(s)) {
		if (relist || monotonic_ms() - synced_at > AGENT_KUBE_RESYNC_SEC * 1000ULL) {
			s->failed = false;
			s->change_failed = false;
			r = kube_full_sync(s);
			agent_metrics_secret_run();
			if (r < 0 || s->failed) {
				if (!retry_after(s, backoff))
					return;
				backoff = next_backoff(backoff);
				continue;
			}
			relist = false;
			synced_at = monotonic_ms();
			backoff = BACKOFF_FIRST_MS;
			s->err[0] = '\0';
			kube_publish(s, KUBE_SYNCED);
		}

		s->failed = false;
		r = kube_watch(s);
		if (r == -ESTALE) {
			ecr_log(LOG_INFO, "kubernetes secrets: the watched resourceVersion expired (410 Gone); listing again");
			relist = true;
		} else if (r < 0 || s->failed) {
			if (!retry_after(s, backoff))
				return;
			backoff = next_backoff(backoff);
			relist = s->change_failed;
		} else if (r == 1) {
			/* The watches connected: the next failure starts a new series. */
			backoff = BACKOFF_FIRST_MS;
		}
	}
}

/* Deletes the managed secrets, retrying until done or interrupted. */
static void run_removed(struct kube_sync *s)
{
	unsigned backoff = BACKOFF_FIRST_MS;
	int r;

	s->n_ns = 0;
	for (;;) {
		s->failed = false;
		r = kube_remove_all(s);
		agent_metrics_secret_run();
		if (r == 0 && !s->failed)
			break;
		if (!retry_after(s, backoff))
			return;
		backoff = next_backoff(backoff);
	}
	s->err[0] = '\0';
	kube_publish(s, KUBE_DISABLED);
}

static void run_request(struct kube_sync *s)
{
	s->err[0] = '\0';
	if (!s->want.configured) {
		s->n_ns = 0;
		kube_publish(s, KUBE_DISABLED);
		return;
	}
	if (!connect_client(s))
		return;
	if (s->want.present) {
		if (kube_build_secret_data(s) < 0) {
			kube_fail(s, "out of memory while building the secret");
			kube_publish(s, KUBE_PENDING);
			return;
		}
		run_present(s);
	} else {
		run_removed(s);
	}
}

/* Waits for a request newer than the one in s->want and copies it there.
 * Returns false at stop. */
static bool wait_for_request(struct kube_sync *s)
{
	struct agent_kube *kube = s->kube;
	bool go_on;
	int r = 0;

	pthread_mutex_lock(&kube->lock);
	while (!kube->stop && kube->desired.generation == s->want.generation)
		pthread_cond_wait(&kube->wake, &kube->lock);
	go_on = !kube->stop;
	if (go_on) {
		desired_clear(&s->want);
		r = desired_copy(&s->want, &kube->desired);
	}
	pthread_mutex_unlock(&kube->lock);
	if (r < 0)
		ecr_log(LOG_ERR, "kubernetes secrets: out of memory; stopping the thread");
	return go_on && r == 0;
}

static void *kube_main(void *userdata)
{
	struct kube_sync s = { .kube = userdata };

	while (wait_for_request(&s))
		run_request(&s);

	agent_kube_client_free(s.client);
	json_decref(s.dockerconfig);
	free(s.dockerconfig_b64);
	free(s.ns);
	desired_clear(&s.want);
	return NULL;
}

int agent_kube_start(struct agent_kube **ret_kube)
{
	struct agent_kube *kube = calloc(1, sizeof(*kube));
	int r;

	if (!kube)
		return -ENOMEM;
	pthread_mutex_init(&kube->lock, NULL);
	pthread_cond_init(&kube->wake, NULL);
	kube->conflicts = json_array();

	r = pthread_create(&kube->thread, NULL, kube_main, kube);
	if (r != 0) {
		json_decref(kube->conflicts);
		pthread_cond_destroy(&kube->wake);
		pthread_mutex_destroy(&kube->lock);
		free(kube);
		return -r;
	}
	*ret_kube = kube;
	return 0;
}

/* Wakes the thread wherever it waits; caller holds kube->lock. */
static void wake_locked(struct agent_kube *kube)
{
	pthread_cond_broadcast(&kube->wake);
	if (kube->multi)
		curl_multi_wakeup(kube->multi);
}

void agent_kube_stop(struct agent_kube *kube)
{
	if (!kube)
		return;
	atomic_store(&kube->stopping, true);
	pthread_mutex_lock(&kube->lock);
	kube->stop = true;
	wake_locked(kube);
	pthread_mutex_unlock(&kube->lock);

	pthread_join(kube->thread, NULL);
	desired_clear(&kube->desired);
	json_decref(kube->conflicts);
	pthread_cond_destroy(&kube->wake);
	pthread_mutex_destroy(&kube->lock);
	free(kube);
}

/* Replaces the request with NEXT (taking its strings) when it differs. */
static void set_desired(struct agent_kube *kube, struct kube_desired *next)
{
	struct kube_desired *d = &kube->desired;
	bool same;

	pthread_mutex_lock(&kube->lock);
	same = d->generation > 0 && d->configured == next->configured &&
	       d->present == next->present &&
	       !strcmp(d->kubeconfig ? d->kubeconfig : "", next->kubeconfig ? next->kubeconfig : "") &&
	       !strcmp(d->serviceaccount_dir, next->serviceaccount_dir) &&
	       !strcmp(d->skip_namespaces, next->skip_namespaces) &&
	       !strcmp(d->endpoint, next->endpoint) &&
	       !strcmp(d->credentials.password, next->credentials.password);
	if (!same) {
		next->generation = d->generation + 1;
		desired_clear(d);
		*d = *next;
		memset(next, 0, sizeof(*next));
		if (!d->configured)
			kube->state = KUBE_DISABLED;
		else
			kube->state = KUBE_PENDING;
		wake_locked(kube);
	}
	pthread_mutex_unlock(&kube->lock);
	desired_clear(next);
}

static int desired_from_config(const struct agent_config *config, struct kube_desired *ret)
{
	struct kube_desired d = { .configured = config->kubeconfig != NULL };

	d.kubeconfig = config->kubeconfig ? strdup(config->kubeconfig) : NULL;
	d.serviceaccount_dir = strdup(config->kube_serviceaccount_dir);
	d.skip_namespaces = strdup(config->kube_skip_namespaces);
	if ((config->kubeconfig && !d.kubeconfig) || !d.serviceaccount_dir || !d.skip_namespaces) {
		desired_clear(&d);
		return -ENOMEM;
	}
	*ret = d;
	return 0;
}

void agent_kube_set_registry(struct agent_kube *kube, const struct agent_config *config,
			     const char *endpoint, const struct agent_credentials *credentials)
{
	struct kube_desired next;

	if (!kube || desired_from_config(config, &next) < 0)
		return;
	next.present = true;
	snprintf(next.endpoint, sizeof(next.endpoint), "%s", endpoint);
	next.credentials = *credentials;
	set_desired(kube, &next);
}

void agent_kube_set_removed(struct agent_kube *kube, const struct agent_config *config)
{
	struct kube_desired next;

	if (!kube || desired_from_config(config, &next) < 0)
		return;
	next.present = false;
	set_desired(kube, &next);
}

static const char *state_name(enum kube_state state)
{
	switch (state) {
	case KUBE_SYNCED: return "synced";
	case KUBE_PENDING: return "pending";
	default: return "disabled";
	}
}

json_t *agent_kube_status_json(struct agent_kube *kube)
{
	json_t *status;

	if (!kube)
		return json_pack("{s:s,s:i,s:n,s:[]}", "state", "disabled", "namespaces", 0,
				 "lastError", "unmanagedConflicts");
	pthread_mutex_lock(&kube->lock);
	/* A copy: the thread replaces the array while the caller serializes it. */
	status = json_pack("{s:s,s:I,s:o,s:o}", "state", state_name(kube->state),
			   "namespaces", (json_int_t)kube->namespaces,
			   "lastError", kube->last_error[0] ? json_string(kube->last_error) : json_null(),
			   "unmanagedConflicts", json_deep_copy(kube->conflicts));
	pthread_mutex_unlock(&kube->lock);
	return status;
}
