/*
 * Garbage collection; see gc.h.
 *
 * Order of a run: mark (read transaction, counts only), sweep (one write
 * transaction that computes liveness again and deletes rows), then files.
 * A blob file goes only when its digest has no row at the moment it is
 * checked.  It is moved aside before it is unlinked.  When the inode that was
 * moved is not the one that was checked, an upload renamed a new copy in
 * between, so the copy is put back.  The folder walk collects files in
 * batches, and several threads check and remove the files of a batch, each
 * file with these steps on its own.
 */
#include "gc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gc_meta.h"
#include "quota.h"
#include "upload.h"

/* Threads that check and remove the files of one batch.  An unlink of a file
 * with data blocks may wait on the file system: on ext4 mounted with
 * "discard" (the machine of docs/BENCHMARKS.md) each took about 200 us, and
 * unlinks on separate threads overlap those waits.  Unlinking 10,000 small
 * files there took 2.0 s on one thread and 0.34 s on eight. */
#define SWEEP_THREADS 8

/* Files collected from the folders before the threads check them, so memory
 * stays bounded however many blobs the store holds. */
#define SWEEP_BATCH_MAX 1024

/* One file under blobs/ as the folder walk found it. */
struct sweep_file {
	char digest[REG_DIGEST_TEXT_MAX];
	struct stat st;
};

struct file_sweep {
	const struct reg_context *ctx;
	bool dry_run;
	time_t settled_before; /* files whose ctime is at or after this are left */

	struct sweep_file batch[SWEEP_BATCH_MAX];
	size_t batch_len;
	atomic_size_t next;    /* index of the next file of the batch to check */
	atomic_int error;      /* first negative errno of a thread, or 0 */

	pthread_mutex_t lock;  /* guards the counts of report */
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

/* Moves the blob file of FILE aside and unlinks it, unless the file there is
 * no longer the one of FILE->st.  Returns 1 when removed, 0 when kept, or a
 * negative errno. */
static int blob_file_remove(const struct file_sweep *sweep, const struct sweep_file *file)
{
	const char *hex = strchr(file->digest, ':') + 1;
	char path[PATH_MAX], trash[PATH_MAX];
	struct stat moved;

	if (snprintf(path, sizeof(path), "%s/blobs/%.*s/%.2s/%s", sweep->ctx->store.root,
		     (int)(hex - 1 - file->digest), file->digest, hex, hex) >= (int)sizeof(path) ||
	    snprintf(trash, sizeof(trash), "%s/uploads/tmp-gc-%s", sweep->ctx->store.root, hex) >=
	    (int)sizeof(trash))
		return -ENAMETOOLONG;
	if (rename(path, trash) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (stat(trash, &moved) < 0)
		return -errno;
	if (moved.st_ino != file->st.st_ino || moved.st_dev != file->st.st_dev) {
		/* A new copy with the same bytes arrived after the check.  NOTE: a
		 * crash before the rename back leaves that copy as an orphan in
		 * uploads/ and its blob row without a file. */
		if (rename(trash, path) < 0)
			return -errno;
		return 0;
	}
	if (unlink(trash) < 0)
		return -errno;
	return 1;
}

/* Checks one file against the metadata at this moment and removes it when it
 * has no blob row and has settled.  Adds what it did to *COUNTS. */
static int blob_file_sweep(const struct file_sweep *sweep, const struct sweep_file *file,
			   struct reg_gc_report *counts)
{
	int r;

	r = reg_meta_gc_blob_known(sweep->ctx->meta, file->digest);
	if (r != 0)
		return r < 0 ? r : 0;
	if (file->st.st_ctime >= sweep->settled_before) {
		counts->files_pending++;
		return 0;
	}
	if (!sweep->dry_run) {
		r = blob_file_remove(sweep, file);
		if (r <= 0)
			return r;
	}
	counts->blobs++;
	counts->bytes += (uint64_t)file->st.st_size;
	return 0;
}

/* Thread body: takes files of the batch until none is left or one failed. */
static void *batch_worker(void *userdata)
{
	struct file_sweep *sweep = userdata;
	struct reg_gc_report counts = { 0 };
	size_t i;
	int r;

	while (atomic_load(&sweep->error) == 0 &&
	       (i = atomic_fetch_add(&sweep->next, 1)) < sweep->batch_len) {
		r = blob_file_sweep(sweep, &sweep->batch[i], &counts);
		if (r < 0) {
			int expected = 0;

			atomic_compare_exchange_strong(&sweep->error, &expected, r);
		}
	}

	pthread_mutex_lock(&sweep->lock);
	sweep->report->blobs += counts.blobs;
	sweep->report->bytes += counts.bytes;
	sweep->report->files_pending += counts.files_pending;
	pthread_mutex_unlock(&sweep->lock);
	return NULL;
}

/* Checks and removes the files of the batch on SWEEP_THREADS threads (fewer
 * when threads cannot be created: the calling thread always takes part). */
static int batch_run(struct file_sweep *sweep)
{
	pthread_t threads[SWEEP_THREADS - 1];
	size_t started = 0;

	atomic_store(&sweep->next, 0);
	for (; started < SWEEP_THREADS - 1 && started + 1 < sweep->batch_len; started++)
		if (pthread_create(&threads[started], NULL, batch_worker, sweep) != 0)
			break;
	batch_worker(sweep);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	sweep->batch_len = 0;
	return atomic_load(&sweep->error);
}

/* Adds NAME of folder DIRFD to the batch when it is a regular file named like
 * a digest of ALGORITHM, and runs the batch when it is full. */
static int blob_file_collect(struct file_sweep *sweep, int dirfd, const char *algorithm,
			     const char *name, size_t hex_len)
{
	struct sweep_file *file = &sweep->batch[sweep->batch_len];

	if (!hex_name_valid(name, hex_len) ||
	    fstatat(dirfd, name, &file->st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(file->st.st_mode))
		return 0;
	if (snprintf(file->digest, sizeof(file->digest), "%s:%s", algorithm, name) >=
	    (int)sizeof(file->digest))
		return 0;
	sweep->batch_len++;
	return sweep->batch_len == SWEEP_BATCH_MAX ? batch_run(sweep) : 0;
}

/* Walks blobs/ALGORITHM/<xx>/ and sweeps each file. */
static int algorithm_sweep(struct file_sweep *sweep, const char *algorithm, size_t hex_len)
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
			r = blob_file_collect(sweep, dirfd(sub), algorithm, inner->d_name, hex_len);
		closedir(sub);
	}
	closedir(top);
	if (r >= 0 && sweep->batch_len > 0)
		r = batch_run(sweep);
	return r;
}

static int files_sweep(const struct reg_context *ctx, bool dry_run, struct reg_gc_report *report)
{
	struct file_sweep *sweep;
	int r;

	/* About 170 KiB: too large for the stack of a server thread. */
	sweep = calloc(1, sizeof(*sweep));
	if (!sweep)
		return -ENOMEM;
	sweep->ctx = ctx;
	sweep->dry_run = dry_run;
	sweep->settled_before = time(NULL) - REG_GC_FILE_SETTLE_SECONDS;
	sweep->report = report;
	pthread_mutex_init(&sweep->lock, NULL);

	r = algorithm_sweep(sweep, "sha256", 64);
	if (r == 0)
		r = algorithm_sweep(sweep, "sha512", 128);

	pthread_mutex_destroy(&sweep->lock);
	free(sweep);
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
