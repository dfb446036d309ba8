/* Unit tests for common/fileio.c: atomic writes, bounded reads, mkdir -p. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "unit.h"

static char dir[64];

static void path_in_dir(char *path, size_t size, const char *name)
{
	snprintf(path, size, "%s/%s", dir, name);
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static void atomic_write_mode_ignores_umask(void)
{
	char path[PATH_MAX];
	mode_t old_umask;

	path_in_dir(path, sizeof(path), "secret");
	old_umask = umask(077);
	CHECK_INT(ecr_write_file_atomic(path, "x", 1, 0644), 0);
	CHECK_INT(file_mode(path), 0644);

	/* The mode is also applied when the file is replaced. */
	umask(0);
	CHECK_INT(ecr_write_file_atomic(path, "y", 1, 0600), 0);
	CHECK_INT(file_mode(path), 0600);
	umask(old_umask);
}

static void atomic_write_replaces_content(void)
{
	char path[PATH_MAX], tmp[PATH_MAX + 32];
	char *data = NULL;
	size_t len = 0;

	path_in_dir(path, sizeof(path), "content");
	CHECK_INT(ecr_write_file_atomic(path, "a longer first version\n", 23, 0600), 0);
	CHECK_INT(ecr_write_file_atomic(path, "short", 5, 0600), 0);

	CHECK_INT(ecr_read_file(path, 100, &data, &len), 0);
	CHECK_INT(len, 5);
	CHECK_STR(data, "short");
	free(data);

	/* No temporary file is left behind. */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	CHECK(access(tmp, F_OK) < 0);

	/* Empty content is a valid file. */
	CHECK_INT(ecr_write_file_atomic(path, "", 0, 0600), 0);
	CHECK_INT(ecr_read_file(path, 100, &data, &len), 0);
	CHECK_INT(len, 0);
	CHECK_STR(data, "");
	free(data);
}

static void atomic_write_failure_leaves_nothing(void)
{
	char path[PATH_MAX];

	path_in_dir(path, sizeof(path), "missing-dir/file");
	CHECK_INT(ecr_write_file_atomic(path, "x", 1, 0600), -ENOENT);
	CHECK(access(path, F_OK) < 0);
}

static void read_file_max(void)
{
	char path[PATH_MAX];
	char *data = (char *)"untouched";
	size_t len = 99;

	path_in_dir(path, sizeof(path), "ten");
	CHECK_INT(ecr_write_file_atomic(path, "0123456789", 10, 0600), 0);

	CHECK_INT(ecr_read_file(path, 9, &data, &len), -EFBIG);
	CHECK_STR(data, "untouched");
	CHECK_INT(len, 99);

	CHECK_INT(ecr_read_file(path, 10, &data, &len), 0);
	CHECK_INT(len, 10);
	CHECK_STR(data, "0123456789");
	free(data);
}

static void read_file_binary_and_missing(void)
{
	char path[PATH_MAX];
	char *data = NULL;
	size_t len = 0;

	path_in_dir(path, sizeof(path), "binary");
	CHECK_INT(ecr_write_file_atomic(path, "a\0b", 3, 0600), 0);
	CHECK_INT(ecr_read_file(path, 3, &data, &len), 0);
	CHECK_INT(len, 3);
	CHECK(data != NULL);
	if (data)
		CHECK(memcmp(data, "a\0b", 4) == 0);
	free(data);

	path_in_dir(path, sizeof(path), "nonexistent");
	CHECK_INT(ecr_read_file(path, 10, &data, &len), -ENOENT);
}

static void mkdir_p_creates_parents(void)
{
	char path[PATH_MAX];
	struct stat st;

	path_in_dir(path, sizeof(path), "a/b/c");
	CHECK_INT(ecr_mkdir_p(path, 0750), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	/* Existing directories are fine. */
	CHECK_INT(ecr_mkdir_p(path, 0750), 0);
	CHECK_INT(ecr_mkdir_p("", 0750), -EINVAL);

	/* A file in the way is an error. */
	path_in_dir(path, sizeof(path), "ten/sub");
	CHECK(ecr_mkdir_p(path, 0750) < 0);
}

static void fsync_parent_dir(void)
{
	char path[PATH_MAX];

	path_in_dir(path, sizeof(path), "ten");
	CHECK_INT(ecr_fsync_parent_dir(path), 0);
	CHECK_INT(ecr_fsync_parent_dir("/nonexistent/dir/file"), -ENOENT);
}

int main(void)
{
	char command[128];
	int status;

	snprintf(dir, sizeof(dir), "/tmp/edgecr-test-fileio-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}

	RUN(atomic_write_mode_ignores_umask);
	RUN(atomic_write_replaces_content);
	RUN(atomic_write_failure_leaves_nothing);
	RUN(read_file_max);
	RUN(read_file_binary_and_missing);
	RUN(mkdir_p_creates_parents);
	RUN(fsync_parent_dir);

	/* DIR is a fresh mkdtemp name, so removing it touches nothing else. */
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	status = system(command);
	if (status != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
	return UNIT_EXIT();
}
