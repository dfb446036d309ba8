/*
 * Garbage collection; see gc.h.
 *
 * Order of a run: mark (read transaction, counts only), sweep (one write
 * transaction that computes liveness again and deletes rows), then files.
 * A blob file goes only when its digest has no row at the moment it is
 * checked.  It is moved aside before it is unlinked.  When the inode that was
 * moved is not the one that was checked, an upload renamed a new copy in
 * between, so the copy is put back.
 */
#include "gc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gc_meta.h"
#include "quota.h"
#include "upload.h"

struct file_sweep {
	const struct reg_context *ctx;
	bool dry_run;
	time_t settled_before; /* files whose ctime is at or after this are left */
	struct reg_gc_report *report;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool hex_name_valid(const char *name, size_t len)
{
	return strlen(name) == len && strspn(name, "0123456789abcdef") == len;
}

/* Moves blob file NAME of DIRFD aside and unlinks it, unless the file there
 * is no longer the one of ST.  Returns 1 when removed, 0 when kept, or a
 * negative errno. */
static int blob_file_remove(const struct file_sweep *sweep, int dirfd, const char *name,
			    const struct stat *st)
{
	char trash[PATH_MAX];
	struct stat moved;

	if (snprintf(trash, sizeof(trash), "%s/uploads/tmp-gc-%s", sweep->ctx->store.root, name) >=
	    (int)sizeof(trash))
		return -ENAMETOOLONG;
	if (renameat(dirfd, name, AT_FDCWD, trash) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (stat(trash, &moved) < 0)
		return -errno;
	if (moved.st_ino != st->st_ino || moved.st_dev != st->st_dev) {
		/* A new copy with the same bytes arrived after the check.  NOTE: a
		 * crash before the rename back leaves that copy as an orphan in
		 * uploads/ and its blob row without a file. */
		if (renameat(AT_FDCWD, trash, dirfd, name) < 0)
			return -errno;
		return 0;
	}
	if (unlink(trash) < 0)
		return -errno;
	return 1;
}

/* Checks one file of a blobs/<algorithm>/<xx>/ folder. */
static int blob_file_sweep(const struct file_sweep *sweep, int dirfd, const char *algorithm,
			   const char *name, size_t hex_len)
{
	char digest[REG_DIGEST_TEXT_MAX];
	struct stat st;
	int r;

	if (!hex_name_valid(name, hex_len) ||
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (snprintf(digest, sizeof(digest), "%s:%s", algorithm, name) >= (int)sizeof(digest))
		return 0;
	r = reg_meta_gc_blob_known(sweep->ctx->meta, digest);
	if (r != 0)
		return r < 0 ? r : 0;
	if (st.st_ctime >= sweep->settled_before) {
		sweep->report->files_pending++;
		return 0;
	}
	if (!sweep->dry_run) {
		r = blob_file_remove(sweep, dirfd, name, &st);
		if (r <= 0)
			return r;
	}
	sweep->report->blobs++;
	sweep->report->bytes += (uint64_t)st.st_size;
	return 0;
}

/* Walks blobs/ALGORITHM/<xx>/ and sweeps each file. */
static int algorithm_sweep(const struct file_sweep *sweep, const char *algorithm, size_t hex_len)
{
	char path[PATH_MAX];
	struct dirent *outer, *inner;
	DIR *top, *sub;
	int fd, r = 0;

	if (snprintf(path, sizeof(path), "%s/blobs/%s", sweep->ctx->store.root, algorithm) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	top = opendir(path);
	if (!top)
		return errno == ENOENT ? 0 : -errno;
	while (r >= 0 && (outer = readdir(top))) {
		if (!hex_name_valid(outer->d_name, 2))
			continue;
		fd = openat(dirfd(top), outer->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		sub = fd >= 0 ? fdopendir(fd) : NULL;
		if (!sub) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while (r >= 0 && (inner = readdir(sub)))
			r = blob_file_sweep(sweep, dirfd(sub), algorithm, inner->d_name, hex_len);
		closedir(sub);
	}
	closedir(top);
	return r;
}

static int files_sweep(const struct reg_context *ctx, bool dry_run, struct reg_gc_report *report)
{
	struct file_sweep sweep = {
		.ctx = ctx,
		.dry_run = dry_run,
		.settled_before = time(NULL) - REG_GC_FILE_SETTLE_SECONDS,
		.report = report,
	};
	int r;

	r = algorithm_sweep(&sweep, "sha256", 64);
	if (r == 0)
		r = algorithm_sweep(&sweep, "sha512", 128);
	return r;
}

void reg_gc_report_result(const struct reg_gc_report *report, struct reg_meta_gc_result *ret)
{
	*ret = (struct reg_meta_gc_result){
		.started = report->started,
		.seconds = report->seconds,
		.manifests = report->manifests,
		.links = report->links,
		.blobs = report->blobs,
		.bytes = report->bytes,
		.uploads = report->uploads,
		.files_pending = report->files_pending,
	};
}

static int result_save(const struct reg_context *ctx, const struct reg_gc_report *report)
{
	struct reg_meta_gc_result result;

	reg_gc_report_result(report, &result);
	return reg_meta_gc_result_save(ctx->meta, &result);
}

static int gc_run_locked(const struct reg_context *ctx, bool dry_run, struct reg_gc_report *ret)
{
	const struct reg_config *config = ctx->config;
	int64_t cutoff = (int64_t)time(NULL) - config->gc_grace_period;
	struct reg_gc_report report = { .started = (int64_t)time(NULL) };
	struct reg_meta_gc_counts counts = { 0 };
	double started = now_seconds();
	int r;

	r = reg_meta_gc_mark(ctx->meta, cutoff, config->gc_keep_untagged, &counts);
	if (r < 0)
		return r;
	if (!dry_run && (counts.manifests || counts.links || counts.blobs))
		r = reg_meta_gc_sweep(ctx->meta, cutoff, config->gc_keep_untagged, &counts);
	if (r < 0)
		return r;
	report.manifests = counts.manifests;
	report.links = counts.links;
	if (dry_run) {
		/* Files of rows a sweep would remove still have their row now. */
		report.blobs = counts.blobs;
		report.bytes = counts.bytes;
	}

	r = files_sweep(ctx, dry_run, &report);
	if (r < 0)
		return r;
	if (!dry_run)
		reg_quota_usage_changed();

	if (!dry_run) {
		r = reg_upload_expire(ctx, config->upload_idle_timeout);
		if (r < 0)
			return r;
		report.uploads = (uint64_t)r;
	}
	report.seconds = now_seconds() - started;
	if (!dry_run) {
		r = result_save(ctx, &report);
		if (r < 0)
			return r;
	}
	*ret = report;
	return 0;
}

int reg_gc_run(const struct reg_context *ctx, bool dry_run, struct reg_gc_report *ret)
{
	/* The scheduled run and one asked for over HTTP may meet in the server.
	 * Overlapping runs would be safe, but one after the other each report
	 * counts only what that run removed. */
	static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
	int r;

	pthread_mutex_lock(&run_lock);
	r = gc_run_locked(ctx, dry_run, ret);
	pthread_mutex_unlock(&run_lock);
	return r;
}

void reg_gc_report_format(const struct reg_gc_report *report, bool dry_run, char *buf,
			  size_t size)
{
	char human[32];

	reg_quota_format_size(report->bytes, human, sizeof(human));
	snprintf(buf, size,
		 "%s %llu manifests, %llu blob links, %llu blobs (%llu bytes, %s), %llu uploads "
		 "in %.3f s; %llu unreferenced files younger than %d s left for a later run",
		 dry_run ? "gc dry run: would remove" : "gc: removed",
		 (unsigned long long)report->manifests, (unsigned long long)report->links,
		 (unsigned long long)report->blobs, (unsigned long long)report->bytes, human,
		 (unsigned long long)report->uploads, report->seconds,
		 (unsigned long long)report->files_pending, REG_GC_FILE_SETTLE_SECONDS);
}

static int usage_line(void *userdata, const char *repo, uint64_t bytes)
{
	char human[32];

	reg_quota_format_size(bytes, human, sizeof(human));
	if (repo)
		fprintf(userdata, "usage: repository %s %llu bytes (%s)\n", repo,
			(unsigned long long)bytes, human);
	else
		fprintf(userdata, "usage: all blobs %llu bytes (%s)\n", (unsigned long long)bytes,
			human);
	return 0;
}

int reg_gc_usage_print(const struct reg_context *ctx, FILE *out)
{
	uint64_t total;
	int r;

	r = reg_meta_gc_usage(ctx->meta, &total);
	if (r < 0)
		return r;
	usage_line(out, NULL, total);
	return reg_meta_gc_usage_by_repository(ctx->meta, usage_line, out);
}
