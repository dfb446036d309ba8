/*
 * Blob files; see blobstore.h for the layout and its invariant.
 */
#include "blobstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fileio.h"

/* Read size when hashing: large enough for sequential throughput, small
 * enough that many concurrent verifications keep memory flat. */
#define HASH_BUFFER_SIZE (256 * 1024)

int reg_blobstore_init(struct reg_blobstore *store, const char *root)
{
	char path[PATH_MAX];
	static const char *const dirs[] = { "blobs/sha256", "blobs/sha512", "uploads" };
	int r;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", root, dirs[i]) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		r = ecr_mkdir_p(path, 0750);
		if (r < 0)
			return r;
	}

	store->root = strdup(root);
	return store->root ? 0 : -ENOMEM;
}

void reg_blobstore_release(struct reg_blobstore *store)
{
	free(store->root);
	store->root = NULL;
}

/* The hex part of a canonical digest text; see ref.h.  Not taken from
 * digest->hex, which dangles once a struct reg_digest is copied. */
static const char *digest_hex(const struct reg_digest *digest)
{
	return strchr(digest->text, ':') + 1;
}

int reg_blobstore_blob_path(const struct reg_blobstore *store, const struct reg_digest *digest,
			    char *buf)
{
	const char *hex = digest_hex(digest);
	int n;

	n = snprintf(buf, PATH_MAX, "%s/blobs/%s/%.2s/%s", store->root,
		     reg_digest_algorithm_name(digest->algorithm), hex, hex);
	return n < PATH_MAX ? 0 : -ENAMETOOLONG;
}

int reg_blobstore_upload_path(const struct reg_blobstore *store, const char *id, char *buf)
{
	int n = snprintf(buf, PATH_MAX, "%s/uploads/%s", store->root, id);

	return n < PATH_MAX ? 0 : -ENAMETOOLONG;
}

int reg_blobstore_open(const struct reg_blobstore *store, const struct reg_digest *digest,
		       int *ret_fd, uint64_t *ret_size)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, r;

	r = reg_blobstore_blob_path(store, digest, path);
	if (r < 0)
		return r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}

	*ret_fd = fd;
	*ret_size = (uint64_t)st.st_size;
	return 0;
}

int reg_blobstore_exists(const struct reg_blobstore *store, const struct reg_digest *digest)
{
	char path[PATH_MAX];
	int r;

	r = reg_blobstore_blob_path(store, digest, path);
	if (r < 0)
		return r;
	return access(path, F_OK) == 0 ? 0 : -errno;
}

static const EVP_MD *digest_md(enum reg_digest_algorithm algorithm)
{
	return algorithm == REG_DIGEST_SHA512 ? EVP_sha512() : EVP_sha256();
}

static void digest_format(enum reg_digest_algorithm algorithm, const unsigned char *hash,
			  unsigned hash_len, struct reg_digest *ret)
{
	static const char hexdigits[] = "0123456789abcdef";
	const char *name = reg_digest_algorithm_name(algorithm);
	size_t off = strlen(name) + 1;

	ret->algorithm = algorithm;
	snprintf(ret->text, sizeof(ret->text), "%s:", name);
	for (unsigned i = 0; i < hash_len; i++) {
		ret->text[off + 2 * i] = hexdigits[hash[i] >> 4];
		ret->text[off + 2 * i + 1] = hexdigits[hash[i] & 15];
	}
	ret->text[off + 2 * hash_len] = '\0';
	ret->hex = ret->text + off;
}

int reg_blobstore_digest_bytes(enum reg_digest_algorithm algorithm, const void *data,
			       size_t len, struct reg_digest *ret)
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned hash_len;

	if (EVP_Digest(data, len, hash, &hash_len, digest_md(algorithm), NULL) != 1)
		return -EIO;
	digest_format(algorithm, hash, hash_len, ret);
	return 0;
}

static int hash_fd(int fd, EVP_MD_CTX *ctx, unsigned char *buf)
{
	off_t offset = 0;
	ssize_t n;

	for (;;) {
		n = pread(fd, buf, HASH_BUFFER_SIZE, offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			return -EIO;
		offset += n;
	}
}

int reg_blobstore_verify_fd(int fd, const struct reg_digest *digest)
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	struct reg_digest computed;
	unsigned char *buf = NULL;
	EVP_MD_CTX *ctx = NULL;
	unsigned hash_len;
	int r = -ENOMEM;

	buf = malloc(HASH_BUFFER_SIZE);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx)
		goto out;
	r = -EIO;
	if (EVP_DigestInit_ex(ctx, digest_md(digest->algorithm), NULL) != 1)
		goto out;

	r = hash_fd(fd, ctx, buf);
	if (r < 0)
		goto out;

	r = -EIO;
	if (EVP_DigestFinal_ex(ctx, hash, &hash_len) != 1)
		goto out;
	digest_format(digest->algorithm, hash, hash_len, &computed);
	r = strcmp(computed.text, digest->text) == 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return r;
}

static int blob_dir_create(const struct reg_blobstore *store, const struct reg_digest *digest)
{
	char path[PATH_MAX];
	const char *hex = digest_hex(digest);

	if (snprintf(path, sizeof(path), "%s/blobs/%s/%.2s", store->root,
		     reg_digest_algorithm_name(digest->algorithm), hex) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, 0750) < 0)
		return errno == EEXIST ? 0 : -errno;
	/* A new folder's own name must be durable before a blob in it is. */
	return ecr_fsync_parent_dir(path);
}

int reg_blobstore_commit(const struct reg_blobstore *store, const char *path, int fd,
			 const struct reg_digest *digest)
{
	char target[PATH_MAX];
	int r;

	/* Data first: after the rename the name promises these exact bytes. */
	if (fsync(fd) < 0)
		return -errno;

	r = reg_blobstore_blob_path(store, digest, target);
	if (r < 0)
		return r;
	r = blob_dir_create(store, digest);
	if (r < 0)
		return r;

	if (rename(path, target) < 0)
		return -errno;
	return ecr_fsync_parent_dir(target);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int temp_file_create(const struct reg_blobstore *store, char *path)
{
	unsigned char random[12];
	char name[32];
	int fd;

	if (RAND_bytes(random, sizeof(random)) != 1)
		return -EIO;
	for (size_t i = 0; i < sizeof(random); i++)
		snprintf(name + 2 * i, 3, "%02x", random[i]);
	if (snprintf(path, PATH_MAX, "%s/uploads/tmp-%s", store->root, name) >= PATH_MAX)
		return -ENAMETOOLONG;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	return fd < 0 ? -errno : fd;
}

int reg_blobstore_put(const struct reg_blobstore *store, const struct reg_digest *digest,
		      const void *data, size_t len)
{
	char path[PATH_MAX];
	int fd, r;

	fd = temp_file_create(store, path);
	if (fd < 0)
		return fd;

	r = write_all(fd, data, len);
	if (r == 0)
		r = reg_blobstore_commit(store, path, fd, digest);
	if (r < 0)
		unlink(path);
	close(fd);
	return r;
}
