/*
 * Storage quota; see quota.h.
 */
#include "quota.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "gc_meta.h"

static _Atomic int64_t usage_checked_at = -1;
static _Atomic uint64_t usage_blob_bytes;

void reg_quota_format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double value = (double)bytes;
	size_t unit = 0;

	while (value >= 1024 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		value /= 1024;
		unit++;
	}
	if (unit == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, size, "%.1f %s", value, units[unit]);
}

void reg_quota_usage_changed(void)
{
	atomic_store(&usage_checked_at, -1);
}

/* Adds up the sizes of the regular files under ROOT/uploads/, except the
 * one named EXCLUDE (NULL: none). */
static int uploads_sum(const char *root, const char *exclude, uint64_t *ret)
{
	char path[PATH_MAX];
	struct dirent *entry;
	struct stat st;
	uint64_t bytes = 0;
	DIR *dir;

	if (snprintf(path, sizeof(path), "%s/uploads", root) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((entry = readdir(dir))) {
		if (exclude && strcmp(entry->d_name, exclude) == 0)
			continue;
		/* A file may go away between readdir and the stat. */
		if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			bytes += (uint64_t)st.st_size;
	}
	closedir(dir);
	*ret = bytes;
	return 0;
}

int reg_quota_upload_bytes(const char *root, uint64_t *ret)
{
	return uploads_sum(root, NULL, ret);
}

/* Returns the bytes of all blobs, at most REG_QUOTA_USAGE_CACHE_SECONDS old.
 * When the query fails the last value stays in use. */
static uint64_t blobs_get(const struct reg_context *ctx)
{
	int64_t now = (int64_t)time(NULL), checked_at = atomic_load(&usage_checked_at);
	uint64_t bytes;

	if ((checked_at < 0 || now - checked_at >= REG_QUOTA_USAGE_CACHE_SECONDS) &&
	    reg_meta_gc_usage(ctx->meta, &bytes) == 0) {
		atomic_store(&usage_blob_bytes, bytes);
		atomic_store(&usage_checked_at, now);
	}
	return atomic_load(&usage_blob_bytes);
}

/* Returns the bytes of the other upload files, read again when STATE's value
 * is REG_QUOTA_USAGE_CACHE_SECONDS old.  When the read fails the last value
 * stays in use. */
static uint64_t other_uploads_get(const struct reg_context *ctx, const char *upload_id,
				  struct reg_quota_upload *state)
{
	int64_t now = (int64_t)time(NULL);
	uint64_t bytes;

	if ((state->others_read_at == 0 ||
	     now - state->others_read_at >= REG_QUOTA_USAGE_CACHE_SECONDS) &&
	    uploads_sum(ctx->config->root, upload_id, &bytes) == 0) {
		state->others_bytes = bytes;
		state->others_read_at = now;
	}
	return state->others_bytes;
}

static int limit_check(const struct reg_context *ctx, const char *upload_id,
		       struct reg_quota_upload *state, uint64_t upload_size, char *msg,
		       size_t msg_size)
{
	uint64_t limit = ctx->config->storage_limit, used;
	char used_text[32], limit_text[32], upload_text[32];

	if (limit == 0)
		return 0;
	used = blobs_get(ctx) + other_uploads_get(ctx, upload_id, state);
	if (used + upload_size <= limit)
		return 0;
	reg_quota_format_size(used, used_text, sizeof(used_text));
	reg_quota_format_size(limit, limit_text, sizeof(limit_text));
	reg_quota_format_size(upload_size, upload_text, sizeof(upload_text));
	snprintf(msg, msg_size, "storage limit reached: %s used of %s (storage_limit), "
		 "the upload needs %s", used_text, limit_text, upload_text);
	return -EDQUOT;
}

int reg_quota_filesystem(const struct reg_config *config, struct reg_quota_filesystem *ret)
{
	struct statvfs st;
	uint64_t total;

	if (statvfs(config->root, &st) < 0)
		return -errno;
	total = (uint64_t)st.f_blocks * st.f_frsize;
	ret->total = total;
	ret->available = (uint64_t)st.f_bavail * st.f_frsize;
	ret->floor = config->min_free_percent ? total / 100 * config->min_free_percent
					      : config->min_free_bytes;
	return 0;
}

static int free_check(const struct reg_context *ctx, uint64_t writing, char *msg,
		      size_t msg_size)
{
	const struct reg_config *config = ctx->config;
	char free_text[32], floor_text[32], total_text[32];
	struct reg_quota_filesystem fs;
	uint64_t available, total, floor;

	if (config->min_free_bytes == 0 && config->min_free_percent == 0)
		return 0;
	/* A file system that cannot be asked is left to the write's own error. */
	if (reg_quota_filesystem(config, &fs) < 0)
		return 0;
	available = fs.available;
	total = fs.total;
	floor = fs.floor;
	if (available >= writing && available - writing >= floor)
		return 0;
	reg_quota_format_size(available, free_text, sizeof(free_text));
	reg_quota_format_size(floor, floor_text, sizeof(floor_text));
	reg_quota_format_size(total - available, total_text, sizeof(total_text));
	snprintf(msg, msg_size, "storage almost full: %s used, %s free, and %s must stay "
		 "free (min_free_space)", total_text, free_text, floor_text);
	return -EDQUOT;
}

int reg_quota_check(const struct reg_context *ctx, const char *upload_id,
		    struct reg_quota_upload *state, uint64_t upload_size, uint64_t writing,
		    char *msg, size_t msg_size)
{
	int r;

	r = limit_check(ctx, upload_id, state, upload_size, msg, msg_size);
	if (r == 0)
		r = free_check(ctx, writing, msg, msg_size);
	return r;
}
