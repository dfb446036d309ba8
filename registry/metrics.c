/*
 * Prometheus metrics of the registry; see metrics.h.
 */
#include "metrics.h"
#include "quota.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "gc_meta.h"

enum method { M_GET, M_HEAD, M_PUT, M_PATCH, M_POST, M_DELETE, M_OTHER, M_COUNT };

static const char *const method_names[M_COUNT] = {
	"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "other",
};

enum route { R_BASE, R_CATALOG, R_TAGS, R_MANIFEST, R_BLOB, R_UPLOAD, R_REFERRERS, R_EDGECR,
	     R_OTHER, R_COUNT };

static const char *const route_names[R_COUNT] = {
	"base", "catalog", "tags", "manifest", "blob", "upload", "referrers", "edgecr", "other",
};

/* Every status the registry sends itself, and 0 for a request whose
 * connection closed before a response was queued.  Any other code (such as
 * one libmicrohttpd sends) is counted as "other". */
static const unsigned status_codes[] = {
	0, 200, 201, 202, 204, 206, 307, 400, 401, 403, 404, 405, 409, 413, 416, 429, 500, 503, 507,
};
#define STATUS_SLOTS (sizeof(status_codes) / sizeof(status_codes[0]) + 1)

/* Upper bounds of the duration buckets in seconds: from a cached manifest
 * HEAD (a few ms) to a large layer over a slow link (minutes). */
static const double duration_bounds[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
};
#define BUCKET_SLOTS (sizeof(duration_bounds) / sizeof(duration_bounds[0]) + 1)

static atomic_ullong requests[M_COUNT][R_COUNT][STATUS_SLOTS];
static atomic_ullong received_bytes[R_COUNT];
static atomic_ullong sent_bytes[R_COUNT];
/* Per bucket, not cumulative: the writer adds them up. */
static atomic_ullong duration_buckets[R_COUNT][BUCKET_SLOTS];
static atomic_ullong duration_sum_us[R_COUNT];
static atomic_ullong failed_logins;
static atomic_ullong gc_runs_ok, gc_runs_failed, gc_freed_bytes, gc_last_end;

static enum method method_index(const char *name)
{
	for (int i = 0; i < M_OTHER; i++)
		if (strcmp(method_names[i], name) == 0)
			return (enum method)i;
	return M_OTHER;
}

static enum route route_index_of_kind(enum reg_route_kind kind)
{
	switch (kind) {
	case REG_ROUTE_BASE: return R_BASE;
	case REG_ROUTE_CATALOG: return R_CATALOG;
	case REG_ROUTE_TAGS: return R_TAGS;
	case REG_ROUTE_MANIFEST: return R_MANIFEST;
	case REG_ROUTE_BLOB: return R_BLOB;
	case REG_ROUTE_UPLOAD_NEW: return R_UPLOAD;
	case REG_ROUTE_UPLOAD: return R_UPLOAD;
	case REG_ROUTE_REFERRERS: return R_REFERRERS;
	case REG_ROUTE_USAGE: return R_EDGECR;
	case REG_ROUTE_GC: return R_EDGECR;
	case REG_ROUTE_REPOSITORY: return R_EDGECR;
	}
	return R_OTHER;
}

/* The router parses the path only after authentication, so a 401 or 429 has
 * no route yet.  Parsing it here counts it under the endpoint it was for. */
static enum route route_index(const struct reg_request *req)
{
	struct reg_route route;
	enum reg_error error;

	if (req->routed)
		return route_index_of_kind(req->route.kind);
	if (reg_route_parse(req->url, &route, &error) == 0)
		return route_index_of_kind(route.kind);
	return R_OTHER;
}

static size_t status_index(unsigned status)
{
	for (size_t i = 0; i < STATUS_SLOTS - 1; i++)
		if (status_codes[i] == status)
			return i;
	return STATUS_SLOTS - 1;
}

static uint64_t elapsed_us(const struct timespec *since)
{
	struct timespec now;
	int64_t us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - since->tv_sec) * 1000000 +
	     (now.tv_nsec - since->tv_nsec) / 1000;
	return us > 0 ? (uint64_t)us : 0;
}

static size_t bucket_index(uint64_t us)
{
	double seconds = (double)us / 1e6;
	size_t i;

	for (i = 0; i < BUCKET_SLOTS - 1; i++)
		if (seconds <= duration_bounds[i])
			break;
	return i;
}

void reg_metrics_request_done(const struct reg_request *req)
{
	enum route route = route_index(req);
	uint64_t us = elapsed_us(&req->started);

	atomic_fetch_add_explicit(&requests[method_index(req->method)][route]
				  [status_index(req->status)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&received_bytes[route], req->bytes_received,
				  memory_order_relaxed);
	/* A HEAD response announces its body's size but sends none. */
	if (strcmp(req->method, "HEAD") != 0)
		atomic_fetch_add_explicit(&sent_bytes[route], req->bytes_sent,
					  memory_order_relaxed);
	atomic_fetch_add_explicit(&duration_sum_us[route], us, memory_order_relaxed);
	atomic_fetch_add_explicit(&duration_buckets[route][bucket_index(us)], 1,
				  memory_order_relaxed);
}

void reg_metrics_login_failed(void)
{
	atomic_fetch_add_explicit(&failed_logins, 1, memory_order_relaxed);
}

void reg_metrics_gc_done(int result, const struct reg_gc_report *report)
{
	if (result < 0) {
		atomic_fetch_add(&gc_runs_failed, 1);
	} else {
		atomic_fetch_add(&gc_freed_bytes, report->bytes);
		atomic_fetch_add(&gc_runs_ok, 1);
	}
	atomic_store(&gc_last_end, (unsigned long long)time(NULL));
}

static unsigned long long load(atomic_ullong *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

static void write_header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void write_requests(FILE *out)
{
	write_header(out, "edgecr_registry_http_requests_total", "counter",
		     "HTTP requests by method, route and status code.");
	for (int m = 0; m < M_COUNT; m++) {
		for (int r = 0; r < R_COUNT; r++) {
			for (size_t s = 0; s < STATUS_SLOTS; s++) {
				unsigned long long n = load(&requests[m][r][s]);
				char code[16] = "other";

				/* Series appear once they are first counted. */
				if (n == 0)
					continue;
				if (s < STATUS_SLOTS - 1)
					snprintf(code, sizeof(code), "%u", status_codes[s]);
				fprintf(out, "edgecr_registry_http_requests_total"
					"{method=\"%s\",route=\"%s\",code=\"%s\"} %llu\n",
					method_names[m], route_names[r], code, n);
			}
		}
	}
}

static void write_per_route(FILE *out, const char *name, const char *help,
			    atomic_ullong *values)
{
	write_header(out, name, "counter", help);
	for (int r = 0; r < R_COUNT; r++)
		fprintf(out, "%s{route=\"%s\"} %llu\n", name, route_names[r], load(&values[r]));
}

static void write_durations(FILE *out)
{
	static const char name[] = "edgecr_registry_http_request_duration_seconds";

	write_header(out, name, "histogram",
		     "Time from the first byte of a request to its completion, by route.");
	for (int r = 0; r < R_COUNT; r++) {
		unsigned long long cumulative = 0;

		for (size_t b = 0; b < BUCKET_SLOTS; b++) {
			cumulative += load(&duration_buckets[r][b]);
			if (b < BUCKET_SLOTS - 1)
				fprintf(out, "%s_bucket{route=\"%s\",le=\"%g\"} %llu\n", name,
					route_names[r], duration_bounds[b], cumulative);
			else
				fprintf(out, "%s_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", name,
					route_names[r], cumulative);
		}
		fprintf(out, "%s_sum{route=\"%s\"} %.6f\n", name, route_names[r],
			(double)load(&duration_sum_us[r]) / 1e6);
		fprintf(out, "%s_count{route=\"%s\"} %llu\n", name, route_names[r], cumulative);
	}
}

static void write_gc(FILE *out)
{
	write_header(out, "edgecr_registry_gc_runs_total", "counter",
		     "Scheduled garbage collections of this server by result.");
	fprintf(out, "edgecr_registry_gc_runs_total{result=\"ok\"} %llu\n", load(&gc_runs_ok));
	fprintf(out, "edgecr_registry_gc_runs_total{result=\"failed\"} %llu\n",
		load(&gc_runs_failed));
	write_header(out, "edgecr_registry_gc_freed_bytes_total", "counter",
		     "Bytes of blob files that scheduled garbage collections removed.");
	fprintf(out, "edgecr_registry_gc_freed_bytes_total %llu\n", load(&gc_freed_bytes));
	write_header(out, "edgecr_registry_gc_last_run_end_timestamp_seconds", "gauge",
		     "Unix time at which the last scheduled garbage collection ended, 0 before the first.");
	fprintf(out, "edgecr_registry_gc_last_run_end_timestamp_seconds %llu\n",
		load(&gc_last_end));
}

/* Writes how long this process's metadata writes waited for their turn and
 * for sqlite's write lock, the wait that a slow push spends on the database. */
static void write_metadata_writes(const struct reg_context *ctx, FILE *out)
{
	struct reg_meta_write_stats stats;

	reg_meta_write_stats(ctx->meta, &stats);
	write_header(out, "edgecr_registry_metadata_writes_total", "counter",
		     "Write transactions on the metadata database, failed ones included.");
	fprintf(out, "edgecr_registry_metadata_writes_total %llu\n",
		(unsigned long long)stats.writes);
	write_header(out, "edgecr_registry_metadata_write_lock_timeouts_total", "counter",
		     "Writes that failed because another process held the write lock past the busy timeout.");
	fprintf(out, "edgecr_registry_metadata_write_lock_timeouts_total %llu\n",
		(unsigned long long)stats.lock_timeouts);
	write_header(out, "edgecr_registry_metadata_write_queue_wait_max_seconds", "gauge",
		     "Longest wait of a write behind the other writes of this process.");
	fprintf(out, "edgecr_registry_metadata_write_queue_wait_max_seconds %.6f\n",
		stats.queue_wait_max);
	write_header(out, "edgecr_registry_metadata_write_lock_wait_max_seconds", "gauge",
		     "Longest wait of a write for the write lock after its turn came, which only another process can cause.");
	fprintf(out, "edgecr_registry_metadata_write_lock_wait_max_seconds %.6f\n",
		stats.lock_wait_max);
}

/* Writes the gauges read from the metadata.  A failed query leaves its
 * metric out, so that a scraper finds it missing rather than a false zero. */
static int write_storage(const struct reg_context *ctx, FILE *out)
{
	uint64_t used = 0, uploads = 0;
	int r, usage_r;

	r = reg_meta_upload_count(ctx->meta, &uploads);
	if (r == 0) {
		write_header(out, "edgecr_registry_uploads_in_progress", "gauge",
			     "Blob uploads started and neither finished, cancelled nor expired.");
		fprintf(out, "edgecr_registry_uploads_in_progress %llu\n",
			(unsigned long long)uploads);
	}
	usage_r = reg_meta_gc_usage(ctx->meta, &used);
	if (usage_r == 0) {
		uint64_t upload_bytes = 0;

		/* The same sum that storage_limit is checked against. */
		usage_r = reg_quota_upload_bytes(ctx->store.root, &upload_bytes);
		used += upload_bytes;
	}
	if (usage_r == 0) {
		write_header(out, "edgecr_registry_storage_used_bytes", "gauge",
			     "Bytes of all blobs and manifests, each counted once, and of upload files.");
		fprintf(out, "edgecr_registry_storage_used_bytes %llu\n", (unsigned long long)used);
	}
	write_header(out, "edgecr_registry_storage_limit_bytes", "gauge",
		     "The storage_limit setting in bytes; 0 means no limit.");
	fprintf(out, "edgecr_registry_storage_limit_bytes %llu\n",
		(unsigned long long)ctx->config->storage_limit);
	return r < 0 ? r : usage_r;
}

int reg_metrics_write(const struct reg_context *ctx, FILE *out)
{
	write_requests(out);
	write_per_route(out, "edgecr_registry_http_received_bytes_total",
			"Request body bytes received, by route.", received_bytes);
	write_per_route(out, "edgecr_registry_http_sent_bytes_total",
			"Response body bytes queued, by route; HEAD responses count 0.", sent_bytes);
	write_durations(out);
	write_header(out, "edgecr_registry_failed_logins_total", "counter",
		     "Requests with a wrong user name or password.");
	fprintf(out, "edgecr_registry_failed_logins_total %llu\n", load(&failed_logins));
	write_gc(out);
	write_metadata_writes(ctx, out);
	return write_storage(ctx, out);
}
