/*
 * Uploads in progress; see upload.h.
 */
#include "upload.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "upload_hash.h"

/* Uploads removed per expiry pass; the rest wait for the next pass. */
#define EXPIRE_BATCH 256

/* Upload ids are random and unique across storage roots, so one table serves
 * every context of the process.  It is made on first use and never freed. */
static struct reg_upload_hashes hashes;
static pthread_once_t hashes_once = PTHREAD_ONCE_INIT;
static bool hashes_ready;

static void hashes_init(void)
{
	hashes_ready = reg_upload_hashes_init(&hashes, REG_UPLOAD_HASHES_MAX) == 0;
}

/* Returns the table of running digests, or NULL when it could not be made
 * (out of memory); every upload is then hashed from its file. */
static struct reg_upload_hashes *hashes_get(void)
{
	pthread_once(&hashes_once, hashes_init);
	return hashes_ready ? &hashes : NULL;
}

static int upload_id_new(char *ret_id)
{
	unsigned char random[REG_UPLOAD_ID_LEN / 2];

	if (RAND_bytes(random, sizeof(random)) != 1)
		return -EIO;
	for (size_t i = 0; i < sizeof(random); i++)
		snprintf(ret_id + 2 * i, 3, "%02x", random[i]);
	return 0;
}

int reg_upload_create(const struct reg_context *ctx, const char *repo, char *ret_id)
{
	char id[REG_UPLOAD_ID_LEN + 1], path[PATH_MAX];
	int fd, r;

	r = upload_id_new(id);
	if (r < 0)
		return r;
	r = reg_blobstore_upload_path(&ctx->store, id, path);
	if (r < 0)
		return r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	close(fd);

	r = reg_meta_upload_create(ctx->meta, repo, id);
	if (r < 0) {
		unlink(path);
		return r;
	}
	memcpy(ret_id, id, sizeof(id));
	return 0;
}

int reg_upload_open(const struct reg_context *ctx, const char *repo, const char *id,
		    int *ret_fd, uint64_t *ret_size)
{
	char path[PATH_MAX];
	struct stat st;
	int fd = -1, r;

	r = reg_meta_upload_find(ctx->meta, repo, id);
	if (r < 0)
		goto out;
	r = reg_blobstore_upload_path(&ctx->store, id, path);
	if (r < 0)
		goto out;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto out;
	}
	r = fstat(fd, &st) < 0 ? -errno : 0;
out:
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	*ret_fd = fd;
	*ret_size = (uint64_t)st.st_size;
	return 0;
}

int reg_upload_size(const struct reg_context *ctx, const char *repo, const char *id,
		    uint64_t *ret_size)
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	r = reg_meta_upload_find(ctx->meta, repo, id);
	if (r < 0)
		return r;
	r = reg_blobstore_upload_path(&ctx->store, id, path);
	if (r < 0)
		return r;
	if (stat(path, &st) < 0)
		return -errno;
	*ret_size = (uint64_t)st.st_size;
	return 0;
}

static int write_all_at(int fd, uint64_t offset, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, data, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

/* Starts writeback of the whole steps that the write of [OFFSET, END)
 * completed.  Failures are ignored: the fsync before the commit writes
 * whatever is left and reports I/O errors. */
static void writeback_start(int fd, uint64_t offset, uint64_t end)
{
	uint64_t from = offset / REG_UPLOAD_WRITEBACK_STEP * REG_UPLOAD_WRITEBACK_STEP;
	uint64_t to = end / REG_UPLOAD_WRITEBACK_STEP * REG_UPLOAD_WRITEBACK_STEP;

	if (to > from)
		(void)sync_file_range(fd, (off_t)from, (off_t)(to - from), SYNC_FILE_RANGE_WRITE);
}

int reg_upload_write(const char *id, int fd, uint64_t offset, const char *data, size_t len)
{
	struct reg_upload_hashes *table = hashes_get();
	int r;

	r = write_all_at(fd, offset, data, len);
	if (r < 0) {
		/* Part of the data may be in the file now, unhashed. */
		if (table)
			reg_upload_hashes_drop(table, id);
		if (ftruncate(fd, (off_t)offset) < 0) {
			/* Left to the request's rollback, and a blob with the
			 * extra bytes would fail its digest check anyway. */
		}
		return r;
	}

	writeback_start(fd, offset, offset + len);
	if (table)
		reg_upload_hashes_update(table, id, offset, data, len);
	return 0;
}

int reg_upload_truncate(const char *id, int fd, uint64_t size)
{
	struct reg_upload_hashes *table = hashes_get();

	if (table)
		reg_upload_hashes_drop(table, id);
	return ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
}

/* Returns 1 when the content of upload ID (SIZE bytes, open as FD) has
 * DIGEST, 0 when not, or a negative errno.  Uses the running digest when it
 * covers the file, else reads the file. */
static int upload_digest_matches(const char *id, int fd, uint64_t size,
				 const struct reg_digest *digest)
{
	struct reg_upload_hashes *table = hashes_get();
	struct reg_digest computed;

	if (table && reg_upload_hashes_take(table, id, size, digest->algorithm, &computed) == 0)
		return strcmp(computed.text, digest->text) == 0;
	return reg_blobstore_verify_fd(fd, digest);
}

int reg_upload_finish(const struct reg_context *ctx, const char *repo, const char *id, int fd,
		      const struct reg_digest *digest, uint64_t *ret_size)
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	r = reg_blobstore_upload_path(&ctx->store, id, path);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return -errno;

	r = upload_digest_matches(id, fd, (uint64_t)st.st_size, digest);
	if (r < 0)
		return r;
	if (r == 0) {
		reg_upload_cancel(ctx, id);
		return -EBADMSG;
	}

	/* The file is renamed before the row goes: a crash in between leaves a
	 * dangling upload row, which expiry removes, never a missing blob. */
	r = reg_blobstore_commit(&ctx->store, path, fd, digest);
	if (r < 0)
		return r;
	r = reg_meta_upload_complete(ctx->meta, repo, id, digest->text, (uint64_t)st.st_size);
	if (r < 0)
		return r;
	*ret_size = (uint64_t)st.st_size;
	return 0;
}

int reg_upload_cancel(const struct reg_context *ctx, const char *id)
{
	struct reg_upload_hashes *table = hashes_get();
	char path[PATH_MAX];
	int r;

	if (table)
		reg_upload_hashes_drop(table, id);

	r = reg_meta_upload_delete(ctx->meta, id);
	if (r < 0)
		return r;
	if (reg_blobstore_upload_path(&ctx->store, id, path) == 0)
		unlink(path);
	return 0;
}

/* Returns true when NAME in uploads/ is a file no upload row owns: a manifest
 * left by a crash while it was written ("tmp-..."), or upload data whose row
 * was never committed. */
static bool upload_file_is_orphan(const struct reg_context *ctx, const char *name)
{
	if (strncmp(name, "tmp-", 4) == 0)
		return true;
	if (strlen(name) != REG_UPLOAD_ID_LEN || strspn(name, "0123456789abcdef") != REG_UPLOAD_ID_LEN)
		return false;
	return reg_meta_upload_exists(ctx->meta, name) == 0;
}

/* Removes orphan files of uploads/ last modified before CUTOFF.  Returns the
 * number removed. */
static int orphans_remove(const struct reg_context *ctx, time_t cutoff)
{
	char dir[PATH_MAX];
	struct dirent *entry;
	struct stat st;
	int removed = 0;
	DIR *d;

	if (snprintf(dir, sizeof(dir), "%s/uploads", ctx->store.root) >= (int)sizeof(dir))
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((entry = readdir(d))) {
		if (entry->d_name[0] == '.' ||
		    fstatat(dirfd(d), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime >= cutoff ||
		    !upload_file_is_orphan(ctx, entry->d_name))
			continue;
		if (unlinkat(dirfd(d), entry->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int reg_upload_expire(const struct reg_context *ctx, unsigned idle_seconds)
{
	char ids[EXPIRE_BATCH][REG_UPLOAD_ID_LEN + 1];
	size_t n = 0;
	int removed = 0, r;

	r = reg_meta_uploads_expired(ctx->meta, (int64_t)time(NULL) - idle_seconds, ids,
				     EXPIRE_BATCH, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (reg_upload_cancel(ctx, ids[i]) == 0)
			removed++;
	return removed + orphans_remove(ctx, time(NULL) - idle_seconds);
}
