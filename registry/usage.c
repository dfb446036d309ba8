/*
 * Storage usage for the extension endpoint; see usage.h.
 */
#include "usage.h"

#include <errno.h>

#include "quota.h"

json_t *reg_usage_gc_json(const struct reg_meta_gc_result *result)
{
	return json_pack("{s:o, s:f, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "startedAt", reg_meta_time_json(result->started),
			 /* Milliseconds are all a person needs. */
			 "durationSeconds", (double)(int64_t)(result->seconds * 1000 + 0.5) / 1000,
			 "manifests", (json_int_t)result->manifests,
			 "blobLinks", (json_int_t)result->links,
			 "blobs", (json_int_t)result->blobs,
			 "bytesFreed", (json_int_t)result->bytes,
			 "uploads", (json_int_t)result->uploads,
			 "filesPending", (json_int_t)result->files_pending);
}

static int repository_add(void *userdata, const char *repo, uint64_t bytes)
{
	json_t *entry = json_pack("{s:s, s:I}", "name", repo, "bytes", (json_int_t)bytes);

	if (!entry || json_array_append_new(userdata, entry) < 0)
		return -ENOMEM;
	return 0;
}

static json_t *filesystem_json(const struct reg_config *config)
{
	struct reg_quota_filesystem fs;

	if (reg_quota_filesystem(config, &fs) < 0)
		return json_null();
	return json_pack("{s:I, s:I}", "sizeBytes", (json_int_t)fs.total,
			 "availableBytes", (json_int_t)fs.available);
}

/* The floor of min_free_space in bytes, null when the check is off. */
static json_t *min_free_json(const struct reg_config *config)
{
	struct reg_quota_filesystem fs;

	if (config->min_free_bytes == 0 && config->min_free_percent == 0)
		return json_null();
	if (config->min_free_percent == 0)
		return json_integer((json_int_t)config->min_free_bytes);
	if (reg_quota_filesystem(config, &fs) < 0)
		return json_null();
	return json_integer((json_int_t)fs.floor);
}

static json_t *last_gc_json(const struct reg_context *ctx, int *ret_error)
{
	struct reg_meta_gc_result result;
	int r;

	r = reg_meta_gc_result_load(ctx->meta, &result);
	if (r == -ENOENT)
		return json_null();
	if (r < 0) {
		*ret_error = r;
		return NULL;
	}
	return reg_usage_gc_json(&result);
}

int reg_usage_json(const struct reg_context *ctx, json_t **ret)
{
	const struct reg_config *config = ctx->config;
	uint64_t blobs = 0, uploads = 0;
	json_t *repositories = NULL, *last_gc = NULL, *usage;
	int r;

	r = reg_meta_gc_usage(ctx->meta, &blobs);
	if (r < 0)
		goto out;
	r = reg_quota_upload_bytes(config->root, &uploads);
	if (r < 0)
		goto out;
	repositories = json_array();
	if (!repositories) {
		r = -ENOMEM;
		goto out;
	}
	r = reg_meta_gc_usage_by_repository(ctx->meta, repository_add, repositories);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	last_gc = last_gc_json(ctx, &r);
	if (!last_gc)
		goto out;

	usage = json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:O, s:O}",
			  "usedBytes", (json_int_t)(blobs + uploads),
			  "blobBytes", (json_int_t)blobs,
			  "uploadBytes", (json_int_t)uploads,
			  "limitBytes", config->storage_limit ?
					json_integer((json_int_t)config->storage_limit) : json_null(),
			  "minFreeBytes", min_free_json(config),
			  "filesystem", filesystem_json(config),
			  "repositories", repositories,
			  "lastGc", last_gc);
	r = usage ? 0 : -ENOMEM;
	if (r == 0)
		*ret = usage;
out:
	json_decref(repositories);
	json_decref(last_gc);
	return r;
}
