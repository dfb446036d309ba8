/*
 * Durable file writes shared by the agent and the registry.
 */
#ifndef EDGECR_FILEIO_H
#define EDGECR_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Replaces PATH with DATA (LEN bytes) so that readers see either the old file
 * or the whole new one, never a mix.  It writes "PATH.tmp.PID" with MODE,
 * fsyncs it, renames it over PATH and fsyncs the directory, so the new content
 * survives a crash once this returns.  Returns 0 or a negative errno; on failure
 * PATH is unchanged and the temporary file removed.
 */
int ecr_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Reads all of PATH (at most MAX bytes) into a new NUL-terminated buffer that
 * the caller frees.  Returns 0, -EFBIG when the file is larger than MAX, or a
 * negative errno.
 */
int ecr_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len);

/* fsyncs the directory that contains PATH.  Returns 0 or a negative errno. */
int ecr_fsync_parent_dir(const char *path);

/* Creates DIR and its missing parents with MODE.  Returns 0 or a negative errno. */
int ecr_mkdir_p(const char *dir, mode_t mode);

#endif
