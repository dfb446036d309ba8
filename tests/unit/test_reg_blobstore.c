/* Unit tests of registry/blobstore.c: layout, digests, verification, commit. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobstore.h"
#include "unit.h"

#define HELLO_SHA256 "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
#define EMPTY_SHA256 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char root[] = "/tmp/test_reg_blobstore.XXXXXX";

static void blobstore_init_creates_layout(void)
{
	struct reg_blobstore store;
	char path[PATH_MAX];
	struct stat st;

	CHECK_INT(reg_blobstore_init(&store, root), 0);
	snprintf(path, sizeof(path), "%s/blobs/sha256", root);
	CHECK_INT(stat(path, &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "%s/uploads", root);
	CHECK_INT(stat(path, &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	reg_blobstore_release(&store);
	reg_blobstore_release(&store);
}

static void blobstore_digest_bytes(void)
{
	struct reg_digest digest;

	CHECK_INT(reg_blobstore_digest_bytes(REG_DIGEST_SHA256, "hello world", 11, &digest), 0);
	CHECK_STR(digest.text, HELLO_SHA256);
	CHECK_INT(reg_blobstore_digest_bytes(REG_DIGEST_SHA256, "", 0, &digest), 0);
	CHECK_STR(digest.text, EMPTY_SHA256);
	CHECK_INT(reg_blobstore_digest_bytes(REG_DIGEST_SHA512, "", 0, &digest), 0);
	CHECK(strncmp(digest.text, "sha512:cf83e135", 15) == 0);
	CHECK_INT(strlen(digest.text), 7 + 128);
}

static void blobstore_put_open_path(void)
{
	struct reg_blobstore store;
	struct reg_digest digest;
	char path[PATH_MAX], expected[PATH_MAX], buf[16] = "";
	uint64_t size = 0;
	int fd = -1;

	reg_blobstore_init(&store, root);
	CHECK_INT(reg_digest_parse(HELLO_SHA256, &digest), 0);
	CHECK_INT(reg_blobstore_exists(&store, &digest), -ENOENT);
	CHECK_INT(reg_blobstore_open(&store, &digest, &fd, &size), -ENOENT);

	CHECK_INT(reg_blobstore_put(&store, &digest, "hello world", 11), 0);
	CHECK_INT(reg_blobstore_exists(&store, &digest), 0);
	CHECK_INT(reg_blobstore_blob_path(&store, &digest, path), 0);
	snprintf(expected, sizeof(expected), "%s/blobs/sha256/b9/%s", root, HELLO_SHA256 + 7);
	CHECK_STR(path, expected);

	CHECK_INT(reg_blobstore_open(&store, &digest, &fd, &size), 0);
	CHECK_INT(size, 11);
	CHECK_INT(read(fd, buf, sizeof(buf) - 1), 11);
	CHECK_STR(buf, "hello world");
	close(fd);

	/* A second put of the same blob renames over the first. */
	CHECK_INT(reg_blobstore_put(&store, &digest, "hello world", 11), 0);
	reg_blobstore_release(&store);
}

static void blobstore_verify_and_commit(void)
{
	struct reg_blobstore store;
	struct reg_digest good, bad;
	char upload[PATH_MAX];
	int fd;

	reg_blobstore_init(&store, root);
	reg_digest_parse(EMPTY_SHA256, &good);
	reg_digest_parse(HELLO_SHA256, &bad);
	CHECK_INT(reg_blobstore_upload_path(&store, "0123456789abcdef0123456789abcdef", upload), 0);

	fd = open(upload, O_RDWR | O_CREAT | O_TRUNC, 0640);
	CHECK(fd >= 0);
	CHECK_INT(reg_blobstore_verify_fd(fd, &good), 1);
	CHECK_INT(reg_blobstore_verify_fd(fd, &bad), 0);
	CHECK_INT(write(fd, "x", 1), 1);
	CHECK_INT(reg_blobstore_verify_fd(fd, &good), 0);
	CHECK_INT(ftruncate(fd, 0), 0);

	CHECK_INT(reg_blobstore_commit(&store, upload, fd, &good), 0);
	CHECK(access(upload, F_OK) < 0);
	CHECK_INT(reg_blobstore_exists(&store, &good), 0);
	close(fd);
	reg_blobstore_release(&store);
}

static void blobstore_verify_large_file(void)
{
	struct reg_blobstore store;
	struct reg_digest expected;
	char upload[PATH_MAX];
	char *data;
	size_t len = 3 * 1024 * 1024 + 17;
	int fd;

	/* Larger than the hashing buffer, so several reads are combined. */
	data = malloc(len);
	CHECK(data != NULL);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 7);
	reg_blobstore_init(&store, root);
	reg_blobstore_digest_bytes(REG_DIGEST_SHA256, data, len, &expected);
	reg_blobstore_upload_path(&store, "ffffffffffffffffffffffffffffffff", upload);
	fd = open(upload, O_RDWR | O_CREAT | O_TRUNC, 0640);
	CHECK_INT(write(fd, data, len), (long long)len);
	CHECK_INT(reg_blobstore_verify_fd(fd, &expected), 1);
	close(fd);
	unlink(upload);
	free(data);
	reg_blobstore_release(&store);
}

int main(void)
{
	char command[PATH_MAX + 16];

	if (!mkdtemp(root))
		return 1;
	RUN(blobstore_init_creates_layout);
	RUN(blobstore_digest_bytes);
	RUN(blobstore_put_open_path);
	RUN(blobstore_verify_and_commit);
	RUN(blobstore_verify_large_file);
	snprintf(command, sizeof(command), "rm -rf %s", root);
	if (system(command) != 0)
		fprintf(stderr, "cannot remove %s\n", root);
	return UNIT_EXIT();
}
