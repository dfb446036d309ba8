/* Unit tests of registry/upload.c on a real storage root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context.h"
#include "upload.h"
#include "unit.h"

#define HELLO_SHA256 "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"

static char root[] = "/tmp/test_reg_upload.XXXXXX";
static struct reg_config config;
static struct reg_context ctx;

static void upload_write_and_finish(void)
{
	char id[REG_UPLOAD_ID_LEN + 1];
	struct reg_digest digest;
	uint64_t size = 99, blob_size = 0;
	int fd = -1, fd2 = -1;

	CHECK_INT(reg_upload_create(&ctx, "lib/app", id), 0);
	CHECK_INT(strlen(id), REG_UPLOAD_ID_LEN);
	CHECK_INT(reg_upload_open(&ctx, "lib/other", id, &fd, &size), -ENOENT);
	CHECK_INT(reg_upload_open(&ctx, "lib/app", id, &fd, &size), 0);
	CHECK_INT(size, 0);

	/* A second writer is refused while the first holds the lock. */
	CHECK_INT(reg_upload_open(&ctx, "lib/app", id, &fd2, &size), -EBUSY);

	CHECK_INT(reg_upload_write(id, fd, 0, "hello ", 6), 0);
	CHECK_INT(reg_upload_write(id, fd, 6, "world", 5), 0);
	CHECK_INT(reg_upload_size(&ctx, "lib/app", id, &size), 0);
	CHECK_INT(size, 11);

	reg_digest_parse(HELLO_SHA256, &digest);
	CHECK_INT(reg_upload_finish(&ctx, "lib/app", id, fd, &digest, &blob_size), 0);
	CHECK_INT(blob_size, 11);
	CHECK_INT(reg_blobstore_exists(&ctx.store, &digest), 0);
	CHECK_INT(reg_meta_blob_readable(ctx.meta, "lib/app", digest.text), 1);
	CHECK_INT(reg_upload_size(&ctx, "lib/app", id, &size), -ENOENT);
	close(fd);
}

static void upload_wrong_digest_removed(void)
{
	char id[REG_UPLOAD_ID_LEN + 1], path[PATH_MAX];
	struct reg_digest digest;
	uint64_t size, blob_size = 0;
	int fd = -1;

	reg_upload_create(&ctx, "lib/app", id);
	CHECK_INT(reg_upload_open(&ctx, "lib/app", id, &fd, &size), 0);
	CHECK_INT(reg_upload_write(id, fd, 0, "hello", 5), 0);
	reg_digest_parse(HELLO_SHA256, &digest);
	CHECK_INT(reg_upload_finish(&ctx, "lib/app", id, fd, &digest, &blob_size), -EBADMSG);
	CHECK_INT(blob_size, 0);
	CHECK_INT(reg_meta_upload_find(ctx.meta, "lib/app", id), -ENOENT);
	reg_blobstore_upload_path(&ctx.store, id, path);
	CHECK(access(path, F_OK) < 0);
	close(fd);
}

/* Finishes an upload whose running digest cannot be used, so the file is
 * read again: a chunk written past the table, or a truncation. */
static void upload_finish_without_running_digest(void)
{
	char id[REG_UPLOAD_ID_LEN + 1];
	struct reg_digest digest;
	uint64_t size, blob_size = 0;
	int fd = -1;

	reg_digest_parse(HELLO_SHA256, &digest);

	reg_upload_create(&ctx, "lib/app", id);
	CHECK_INT(reg_upload_open(&ctx, "lib/app", id, &fd, &size), 0);
	CHECK_INT(reg_upload_write(id, fd, 0, "hello ", 6), 0);
	CHECK_INT(pwrite(fd, "world", 5, 6), 5);
	CHECK_INT(reg_upload_finish(&ctx, "lib/app", id, fd, &digest, &blob_size), 0);
	CHECK_INT(blob_size, 11);
	close(fd);

	reg_upload_create(&ctx, "lib/app", id);
	CHECK_INT(reg_upload_open(&ctx, "lib/app", id, &fd, &size), 0);
	CHECK_INT(reg_upload_write(id, fd, 0, "hello world, and more", 21), 0);
	CHECK_INT(reg_upload_truncate(id, fd, 11), 0);
	CHECK_INT(reg_upload_finish(&ctx, "lib/app", id, fd, &digest, &blob_size), 0);
	CHECK_INT(blob_size, 11);
	close(fd);
}

/* A write that fails part way (here at the file size limit) leaves the
 * upload at its size before the write. */
static void upload_write_failure_cut_back(void)
{
	char id[REG_UPLOAD_ID_LEN + 1], chunk[8192];
	struct rlimit old_limit, limit = { 4096 + 100, RLIM_INFINITY };
	uint64_t size;
	int fd = -1;

	memset(chunk, 'x', sizeof(chunk));
	reg_upload_create(&ctx, "lib/app", id);
	CHECK_INT(reg_upload_open(&ctx, "lib/app", id, &fd, &size), 0);
	CHECK_INT(reg_upload_write(id, fd, 0, chunk, 4096), 0);

	/* Beyond RLIMIT_FSIZE pwrite writes what fits, then fails with EFBIG
	 * (and SIGXFSZ, ignored here). */
	signal(SIGXFSZ, SIG_IGN);
	CHECK_INT(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
	limit.rlim_max = old_limit.rlim_max;
	CHECK_INT(setrlimit(RLIMIT_FSIZE, &limit), 0);
	CHECK_INT(reg_upload_write(id, fd, 4096, chunk, sizeof(chunk)), -EFBIG);
	CHECK_INT(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
	signal(SIGXFSZ, SIG_DFL);

	CHECK_INT(reg_upload_size(&ctx, "lib/app", id, &size), 0);
	CHECK_INT(size, 4096);
	CHECK_INT(reg_upload_cancel(&ctx, id), 0);
	close(fd);
}

static void upload_cancel(void)
{
	char id[REG_UPLOAD_ID_LEN + 1];
	uint64_t size;

	reg_upload_create(&ctx, "lib/app", id);
	CHECK_INT(reg_upload_cancel(&ctx, id), 0);
	CHECK_INT(reg_upload_cancel(&ctx, id), -ENOENT);
	CHECK_INT(reg_upload_size(&ctx, "lib/app", id, &size), -ENOENT);
}

/* Creates FILE under uploads/ with an mtime two days ago. */
static void old_file_create(const char *name, char *ret_path)
{
	struct timespec times[2] = { { time(NULL) - 2 * 86400, 0 }, { time(NULL) - 2 * 86400, 0 } };
	int fd;

	snprintf(ret_path, PATH_MAX, "%s/uploads/%s", root, name);
	fd = open(ret_path, O_WRONLY | O_CREAT, 0640);
	CHECK(fd >= 0);
	close(fd);
	CHECK_INT(utimensat(AT_FDCWD, ret_path, times, 0), 0);
}

static void upload_expire_removes_orphans(void)
{
	char id[REG_UPLOAD_ID_LEN + 1], owned[PATH_MAX], tmp[PATH_MAX], orphan[PATH_MAX];
	char other[PATH_MAX];

	reg_upload_create(&ctx, "lib/app", id);
	old_file_create(id, owned);
	old_file_create("tmp-0011223344556677", tmp);
	old_file_create("ffffffffffffffffffffffffffffffff", orphan);
	old_file_create("README", other);

	/* The owned upload is recent in the metadata, so only orphans go. */
	CHECK_INT(reg_upload_expire(&ctx, 86400), 2);
	CHECK_INT(access(owned, F_OK), 0);
	CHECK(access(tmp, F_OK) < 0);
	CHECK(access(orphan, F_OK) < 0);
	CHECK_INT(access(other, F_OK), 0);

	/* With a zero-second idle limit the owned upload expires too. */
	sleep(1);
	CHECK_INT(reg_upload_expire(&ctx, 0), 1);
	CHECK(access(owned, F_OK) < 0);
	CHECK_INT(reg_meta_upload_exists(ctx.meta, id), 0);
}

int main(void)
{
	char command[PATH_MAX + 16], err[256] = "";

	if (!mkdtemp(root))
		return 1;
	reg_config_init(&config);
	reg_config_set(&config, "root", root, err, sizeof(err));
	if (reg_context_init(&ctx, &config, err, sizeof(err)) < 0) {
		fprintf(stderr, "context: %s\n", err);
		return 1;
	}
	RUN(upload_write_and_finish);
	RUN(upload_wrong_digest_removed);
	RUN(upload_finish_without_running_digest);
	RUN(upload_write_failure_cut_back);
	RUN(upload_cancel);
	RUN(upload_expire_removes_orphans);
	reg_context_release(&ctx);
	reg_config_release(&config);
	snprintf(command, sizeof(command), "rm -rf %s", root);
	if (system(command) != 0)
		fprintf(stderr, "cannot remove %s\n", root);
	return UNIT_EXIT();
}
