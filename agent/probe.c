/*
 * Registry readiness check with libcurl; see probe.h.
 *
 * Callers must have run curl_global_init before starting threads.
 */
#include "probe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#define REQUEST_TIMEOUT_MS 3000
#define RETRY_INTERVAL_MS 100

static size_t discard_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	return size * nmemb;
}

static int setup_request(CURL *curl, const struct agent_probe_target *t,
			 struct curl_slist **ret_resolve)
{
	char url[512], resolve[512];
	int is_ipv6 = strchr(t->ip, ':') != NULL;

	snprintf(url, sizeof(url), "https://%s:%u/v2/", t->endpoint_name, t->port);
	snprintf(resolve, sizeof(resolve), is_ipv6 ? "%s:%u:[%s]" : "%s:%u:%s",
		 t->endpoint_name, t->port, t->ip);
	*ret_resolve = curl_slist_append(NULL, resolve);
	if (!*ret_resolve)
		return -ENOMEM;

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_RESOLVE, *ret_resolve);
	curl_easy_setopt(curl, CURLOPT_CAINFO, t->ca_file);
	curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
	if (t->pinned_key)
		curl_easy_setopt(curl, CURLOPT_PINNEDPUBLICKEY, t->pinned_key);
	if (t->credentials) {
		curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(curl, CURLOPT_USERNAME, t->credentials->username);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, t->credentials->password);
	}
	return 0;
}

static int map_curl_error(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	default:
		return -EPROTO;
	}
}

static int probe_request(const struct agent_probe_target *target, long *ret_status,
			 char *err, size_t size)
{
	struct curl_slist *resolve = NULL;
	CURL *curl = curl_easy_init();
	CURLcode code;
	long status = 0;
	int r;

	if (!curl)
		return -ENOMEM;
	r = setup_request(curl, target, &resolve);
	if (r < 0)
		goto out;

	code = curl_easy_perform(curl);
	if (code != CURLE_OK) {
		snprintf(err, size, "%s", curl_easy_strerror(code));
		r = map_curl_error(code);
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	*ret_status = status;

out:
	curl_easy_cleanup(curl);
	curl_slist_free_all(resolve);
	return r;
}

int agent_probe_once(const struct agent_probe_target *target, long *ret_status)
{
	char err[256];

	return probe_request(target, ret_status, err, sizeof(err));
}

static unsigned long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (unsigned long)((now.tv_sec - start->tv_sec) * 1000 +
			       (now.tv_nsec - start->tv_nsec) / 1000000);
}

int agent_probe_wait(const struct agent_probe_target *target, long expected_status,
		     unsigned timeout_ms, const atomic_bool *cancel,
		     char *ret_last_error, size_t size)
{
	struct timespec start;
	long status;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	snprintf(ret_last_error, size, "no attempt made");
	for (;;) {
		if (cancel && atomic_load(cancel))
			return -ECANCELED;

		r = probe_request(target, &status, ret_last_error, size);
		if (r == 0 && status == expected_status)
			return 0;
		if (r == 0)
			snprintf(ret_last_error, size, "GET /v2/ returned HTTP %ld, expected %ld",
				 status, expected_status);

		if (elapsed_ms(&start) >= timeout_ms)
			return -ETIMEDOUT;
		usleep(RETRY_INTERVAL_MS * 1000);
	}
}
