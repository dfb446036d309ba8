/* Unit tests of the registry's metrics (registry/metrics.c): labels of
 * counted requests, histogram buckets, gc counters and the gauges read from a
 * real sqlite database.  The counters are global, so each check compares
 * values before and after the step it tests. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "context.h"
#include "metrics.h"
#include "unit.h"

static char dir[] = "/tmp/test_reg_metrics.XXXXXX";
static struct reg_config config;
static struct reg_context ctx;

/* Returns the value of SERIES (as written, labels in the writer's order) in
 * the current text, or -1 when the series is absent. */
static double metric(const char *series)
{
	char *text = NULL, *line;
	size_t len = 0, series_len = strlen(series);
	double value = -1;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return -2;
	reg_metrics_write(&ctx, out);
	fclose(out);
	line = text;
	while (line && *line) {
		if (strncmp(line, series, series_len) == 0 && line[series_len] == ' ') {
			value = strtod(line + series_len + 1, NULL);
			break;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	free(text);
	return value;
}

/* Counts one request as the completion callback would, SECONDS after its start. */
static void request_done(const char *method, const char *url, unsigned status, bool routed,
			 enum reg_route_kind kind, uint64_t sent, uint64_t received, long seconds)
{
	struct reg_request req = { 0 };
	char url_copy[256];

	snprintf(req.method, sizeof(req.method), "%s", method);
	snprintf(url_copy, sizeof(url_copy), "%s", url);
	req.url = url_copy;
	req.status = status;
	req.routed = routed;
	req.route.kind = kind;
	req.bytes_sent = sent;
	req.bytes_received = received;
	clock_gettime(CLOCK_MONOTONIC, &req.started);
	req.started.tv_sec -= seconds;
	reg_metrics_request_done(&req);
}

static void metrics_request_labels(void)
{
	const char *series = "edgecr_registry_http_requests_total"
			     "{method=\"PUT\",route=\"manifest\",code=\"201\"}";
	double before = metric(series);

	request_done("PUT", "/v2/app/manifests/v1", 201, true, REG_ROUTE_MANIFEST, 0, 300, 0);
	CHECK(metric(series) == (before < 0 ? 0 : before) + 1);
}

static void metrics_unrouted_401_keeps_route(void)
{
	const char *series = "edgecr_registry_http_requests_total"
			     "{method=\"GET\",route=\"blob\",code=\"401\"}";
	double before = metric(series);

	request_done("GET", "/v2/app/blobs/sha256:"
		     "0000000000000000000000000000000000000000000000000000000000000000",
		     401, false, REG_ROUTE_BASE, 113, 0, 0);
	CHECK(metric(series) == (before < 0 ? 0 : before) + 1);
}

static void metrics_unknown_values_are_other(void)
{
	const char *series = "edgecr_registry_http_requests_total"
			     "{method=\"other\",route=\"other\",code=\"other\"}";
	double before = metric(series);

	request_done("BREW", "/coffee", 418, false, REG_ROUTE_BASE, 0, 0, 0);
	CHECK(metric(series) == (before < 0 ? 0 : before) + 1);
}

static void metrics_head_sends_no_bytes(void)
{
	const char *series = "edgecr_registry_http_sent_bytes_total{route=\"tags\"}";
	double before = metric(series);

	request_done("HEAD", "/v2/app/tags/list", 200, true, REG_ROUTE_TAGS, 500, 0, 0);
	CHECK(metric(series) == before);
	request_done("GET", "/v2/app/tags/list", 200, true, REG_ROUTE_TAGS, 500, 0, 0);
	CHECK(metric(series) == before + 500);
}

static void metrics_received_bytes(void)
{
	const char *series = "edgecr_registry_http_received_bytes_total{route=\"upload\"}";
	double before = metric(series);

	request_done("PATCH", "/v2/app/blobs/uploads/0123456789abcdef0123456789abcdef", 202,
		     true, REG_ROUTE_UPLOAD, 0, 4096, 0);
	CHECK(metric(series) == before + 4096);
}

/* A request of 2 s lands in the 2.5 s bucket and every bucket above it. */
static void metrics_duration_buckets_cumulative(void)
{
	const char *name = "edgecr_registry_http_request_duration_seconds";
	char one[160], two_and_half[160], inf[160], count[160], sum[160];
	double below, at, top, n, total;

	snprintf(one, sizeof(one), "%s_bucket{route=\"referrers\",le=\"1\"}", name);
	snprintf(two_and_half, sizeof(two_and_half), "%s_bucket{route=\"referrers\",le=\"2.5\"}",
		 name);
	snprintf(inf, sizeof(inf), "%s_bucket{route=\"referrers\",le=\"+Inf\"}", name);
	snprintf(count, sizeof(count), "%s_count{route=\"referrers\"}", name);
	snprintf(sum, sizeof(sum), "%s_sum{route=\"referrers\"}", name);
	below = metric(one);
	at = metric(two_and_half);
	top = metric(inf);
	n = metric(count);
	total = metric(sum);

	request_done("GET", "/v2/app/referrers/x", 200, true, REG_ROUTE_REFERRERS, 0, 0, 2);
	CHECK(metric(one) == below);
	CHECK(metric(two_and_half) == at + 1);
	CHECK(metric(inf) == top + 1);
	CHECK(metric(count) == n + 1);
	CHECK(metric(inf) == metric(count));
	CHECK(metric(sum) >= total + 2);
	CHECK(metric(sum) < total + 2.5);
}

static void metrics_failed_logins(void)
{
	double before = metric("edgecr_registry_failed_logins_total");

	reg_metrics_login_failed();
	CHECK(metric("edgecr_registry_failed_logins_total") == before + 1);
}

static void metrics_gc_results(void)
{
	struct reg_gc_report report = { .bytes = 1000 };
	double ok = metric("edgecr_registry_gc_runs_total{result=\"ok\"}");
	double failed = metric("edgecr_registry_gc_runs_total{result=\"failed\"}");
	double freed = metric("edgecr_registry_gc_freed_bytes_total");

	reg_metrics_gc_done(0, &report);
	reg_metrics_gc_done(-EIO, NULL);
	CHECK(metric("edgecr_registry_gc_runs_total{result=\"ok\"}") == ok + 1);
	CHECK(metric("edgecr_registry_gc_runs_total{result=\"failed\"}") == failed + 1);
	CHECK(metric("edgecr_registry_gc_freed_bytes_total") == freed + 1000);
	CHECK(metric("edgecr_registry_gc_last_run_end_timestamp_seconds") >= (double)time(NULL) - 5);
}

static void metrics_storage_gauges(void)
{
	const char *digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

	CHECK(metric("edgecr_registry_uploads_in_progress") == 0);
	CHECK(metric("edgecr_registry_storage_used_bytes") == 0);
	CHECK_INT(reg_meta_upload_create(ctx.meta, "app", "0123456789abcdef0123456789abcdef"), 0);
	CHECK_INT(reg_meta_blob_link(ctx.meta, "app", digest, 12345), 0);
	CHECK(metric("edgecr_registry_uploads_in_progress") == 1);
	CHECK(metric("edgecr_registry_storage_used_bytes") == 12345);
	CHECK(metric("edgecr_registry_storage_limit_bytes") == 0);
}

int main(void)
{
	char root[PATH_MAX], err[256] = "", command[PATH_MAX + 16];

	if (!mkdtemp(dir))
		return 1;
	snprintf(root, sizeof(root), "%s/root", dir);
	if (reg_config_init(&config) < 0)
		return 1;
	free(config.root);
	config.root = strdup(root);
	if (reg_context_init(&ctx, &config, err, sizeof(err)) < 0) {
		fprintf(stderr, "cannot open %s: %s\n", root, err);
		return 1;
	}

	RUN(metrics_request_labels);
	RUN(metrics_unrouted_401_keeps_route);
	RUN(metrics_unknown_values_are_other);
	RUN(metrics_head_sends_no_bytes);
	RUN(metrics_received_bytes);
	RUN(metrics_duration_buckets_cumulative);
	RUN(metrics_failed_logins);
	RUN(metrics_gc_results);
	RUN(metrics_storage_gauges);

	reg_context_release(&ctx);
	reg_config_release(&config);
	snprintf(command, sizeof(command), "rm -rf %s", dir);
	if (system(command) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return UNIT_EXIT();
}
