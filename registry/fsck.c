/*
 * Consistency check of the storage root; see fsck.h.
 *
 * Order of a run: sqlite's integrity_check, every blob row against its file
 * (size, then a streaming re-hash), the references between tables, then the
 * files under blobs/ without a row.  With repair, the blobs found bad are
 * removed first, because removing them can leave manifests dangling, which
 * the reference repair then removes.  The references are checked again after
 * the repair, and what is still broken counts as not repaired.
 */
#include "fsck.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gc_meta.h"

/* The state of one run. */
struct fsck_run {
	const struct reg_context *ctx;
	FILE *out;
	struct reg_fsck_report *report;
	char (*bad)[REG_DIGEST_TEXT_MAX]; /* blobs to remove when repairing; owned */
	size_t n_bad, bad_capacity;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int problem_line(void *userdata, const char *line)
{
	struct fsck_run *run = userdata;

	run->report->problems++;
	fprintf(run->out, "problem: %s\n", line);
	return 0;
}

static int unrepaired_line(void *userdata, const char *line)
{
	struct fsck_run *run = userdata;

	run->report->unrepaired++;
	fprintf(run->out, "not repaired: %s\n", line);
	return 0;
}

static int repaired_line(void *userdata, const char *line)
{
	struct fsck_run *run = userdata;

	fprintf(run->out, "repaired: %s\n", line);
	return 0;
}

/* Records DIGEST for removal by the repair. */
static int bad_add(struct fsck_run *run, const char *digest)
{
	if (run->n_bad == run->bad_capacity) {
		size_t capacity = run->bad_capacity ? 2 * run->bad_capacity : 16;
		void *grown = realloc(run->bad, capacity * sizeof(run->bad[0]));

		if (!grown)
			return -ENOMEM;
		run->bad = grown;
		run->bad_capacity = capacity;
	}
	snprintf(run->bad[run->n_bad++], REG_DIGEST_TEXT_MAX, "%s", digest);
	return 0;
}

/* Reports blob DIGEST as bad with REASON and records it for the repair. */
static int blob_bad(struct fsck_run *run, const char *digest, const char *reason)
{
	char line[512];

	snprintf(line, sizeof(line), "blob %s: %s", digest, reason);
	problem_line(run, line);
	return bad_add(run, digest);
}

/* Checks the file of one blob row: present, SIZE bytes, content hashes to DIGEST. */
static int blob_check(void *userdata, const char *digest_text, uint64_t size)
{
	struct fsck_run *run = userdata;
	struct reg_digest digest;
	char reason[128];
	uint64_t file_size;
	int fd = -1, r;

	run->report->blobs++;
	if (reg_digest_parse(digest_text, &digest) < 0)
		return blob_bad(run, digest_text, "the row's digest is not a valid digest");

	r = reg_blobstore_open(&run->ctx->store, &digest, &fd, &file_size);
	if (r == -ENOENT) {
		/* gc commits the row's removal before it unlinks the file, so a
		 * row seen in this run's snapshot may be gone by now. */
		r = reg_meta_gc_blob_known(run->ctx->meta, digest_text);
		if (r <= 0)
			return r;
		return blob_bad(run, digest_text, "file missing");
	}
	if (r < 0)
		return r;

	if (file_size != size) {
		snprintf(reason, sizeof(reason), "file has %llu bytes, the row says %llu",
			 (unsigned long long)file_size, (unsigned long long)size);
		r = blob_bad(run, digest_text, reason);
		goto out;
	}
	r = reg_blobstore_verify_fd(fd, &digest);
	if (r < 0)
		goto out;
	run->report->bytes += file_size;
	r = r == 1 ? 0 : blob_bad(run, digest_text, "content does not match the digest");
out:
	close(fd);
	return r;
}

/* Reports one file of a blobs/<algorithm>/<xx>/ folder when it has no row. */
static int orphan_check(struct fsck_run *run, const char *algorithm, const char *name,
			size_t hex_len)
{
	char digest[REG_DIGEST_TEXT_MAX];
	int r;

	if (strlen(name) != hex_len || strspn(name, "0123456789abcdef") != hex_len) {
		if (name[0] != '.')
			fprintf(run->out, "orphan: blobs/%s/%.2s/%s (not a digest name)\n",
				algorithm, name, name);
		run->report->orphans += name[0] != '.';
		return 0;
	}
	snprintf(digest, sizeof(digest), "%s:%s", algorithm, name);
	r = reg_meta_gc_blob_known(run->ctx->meta, digest);
	if (r != 0)
		return r < 0 ? r : 0;
	run->report->orphans++;
	fprintf(run->out, "orphan: %s has a file but no blob row (gc removes it)\n", digest);
	return 0;
}

/* Walks blobs/ALGORITHM/<xx>/ and checks each file for a row. */
static int orphans_walk(struct fsck_run *run, const char *algorithm, size_t hex_len)
{
	char path[PATH_MAX];
	struct dirent *outer, *inner;
	DIR *top, *sub;
	int fd, r = 0;

	if (snprintf(path, sizeof(path), "%s/blobs/%s", run->ctx->store.root, algorithm) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	top = opendir(path);
	if (!top)
		return errno == ENOENT ? 0 : -errno;
	while (r >= 0 && (outer = readdir(top))) {
		if (strlen(outer->d_name) != 2 || strspn(outer->d_name, "0123456789abcdef") != 2)
			continue;
		fd = openat(dirfd(top), outer->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		sub = fd >= 0 ? fdopendir(fd) : NULL;
		if (!sub) {
			r = -errno;
			if (fd >= 0)
				close(fd);
			break;
		}
		while (r >= 0 && (inner = readdir(sub)))
			r = orphan_check(run, algorithm, inner->d_name, hex_len);
		closedir(sub);
	}
	closedir(top);
	return r;
}

/* Removes the rows, then the file, of one bad blob. */
static int blob_repair(struct fsck_run *run, const char *digest_text)
{
	char path[PATH_MAX], line[512];
	struct reg_digest digest;
	int rows, r;

	rows = reg_meta_fsck_blob_remove(run->ctx->meta, digest_text);
	if (rows < 0)
		return rows;
	run->report->repaired++;
	snprintf(line, sizeof(line), "removed blob row %s and %d repository links",
		 digest_text, rows > 0 ? rows - 1 : 0);
	repaired_line(run, line);

	/* NOTE: a push of the same blob may rename a good copy into place
	 * between the row removal and this unlink.  That copy is then lost, and
	 * the next fsck reports the push's row without a file. */
	if (reg_digest_parse(digest_text, &digest) < 0)
		return 0;
	r = reg_blobstore_blob_path(&run->ctx->store, &digest, path);
	if (r < 0)
		return r;
	if (unlink(path) == 0) {
		snprintf(line, sizeof(line), "removed file of blob %s", digest_text);
		repaired_line(run, line);
	} else if (errno != ENOENT) {
		return -errno;
	}
	return 0;
}

/* Runs the reference repair with its lines held back until its transaction
 * committed, so a rolled-back repair prints no removal. */
static int references_repair(struct fsck_run *run)
{
	struct fsck_run held = *run;
	char *text = NULL;
	size_t size = 0;
	int r;

	held.out = open_memstream(&text, &size);
	if (!held.out)
		return -errno;
	r = reg_meta_fsck_references_repair(run->ctx->meta, repaired_line, &held);
	fclose(held.out);
	if (r >= 0) {
		fputs(text, run->out);
		run->report->repaired += (uint64_t)r;
	}
	free(text);
	return r < 0 ? r : 0;
}

/* Removes the bad blobs, then what the references leave dangling, and
 * checks the references again. */
static int repair(struct fsck_run *run)
{
	char line[512];
	int r;

	for (size_t i = 0; i < run->n_bad; i++) {
		r = blob_repair(run, run->bad[i]);
		if (r < 0) {
			snprintf(line, sizeof(line), "blob %s: %s", run->bad[i], strerror(-r));
			unrepaired_line(run, line);
		}
	}

	r = references_repair(run);
	if (r < 0)
		return r;

	r = reg_meta_fsck_references(run->ctx->meta, unrepaired_line, run);
	return r < 0 ? r : 0;
}

/* Runs the checks in the order the file comment gives. */
static int check(struct fsck_run *run)
{
	int r;

	r = reg_meta_fsck_integrity(run->ctx->meta, problem_line, run);
	if (r < 0)
		return r;
	/* A damaged database is not repaired here; the sqlite documentation
	 * describes recovery from a backup or with ".recover". */
	run->report->unrepaired += (uint64_t)r;

	r = reg_meta_fsck_blobs(run->ctx->meta, blob_check, run);
	if (r < 0)
		return r;
	r = reg_meta_fsck_references(run->ctx->meta, problem_line, run);
	if (r < 0)
		return r;
	r = orphans_walk(run, "sha256", 64);
	if (r == 0)
		r = orphans_walk(run, "sha512", 128);
	return r;
}

int reg_fsck_run(const struct reg_context *ctx, bool repair_wanted, FILE *out,
		 struct reg_fsck_report *ret)
{
	struct reg_fsck_report report = { 0 };
	struct fsck_run run = {
		.ctx = ctx,
		.out = out,
		.report = &report,
	};
	double started = now_seconds();
	int r;

	r = check(&run);
	if (r == 0 && repair_wanted && report.problems > report.unrepaired)
		r = repair(&run);
	free(run.bad);
	if (r < 0)
		return r;
	if (!repair_wanted)
		report.unrepaired = report.problems;
	report.seconds = now_seconds() - started;
	*ret = report;
	return 0;
}

void reg_fsck_report_format(const struct reg_fsck_report *report, bool repair_wanted, char *buf,
			    size_t size)
{
	int n;

	n = snprintf(buf, size,
		     "fsck: %llu blobs (%llu bytes) checked in %.3f s: %llu problems, "
		     "%llu orphan files",
		     (unsigned long long)report->blobs, (unsigned long long)report->bytes,
		     report->seconds, (unsigned long long)report->problems,
		     (unsigned long long)report->orphans);
	if (repair_wanted && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "; %llu removals, %llu not repaired",
			 (unsigned long long)report->repaired,
			 (unsigned long long)report->unrepaired);
}
