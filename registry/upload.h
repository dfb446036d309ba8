/*
 * Blob uploads in progress: a file ROOT/uploads/<id> plus a row in the
 * metadata that ties it to its repository.
 *
 * The upload's size is the size of its file, so its state survives a restart
 * without anything else to persist.  The SHA-256 digest is computed while
 * the data is written, in a process-wide table of running digests
 * (upload_hash.h).  When the upload is finished and that digest does not
 * cover the whole file (after a restart, an eviction, a sha512 digest), the
 * file is read again instead.  The file becomes a blob only when the digest
 * matches.
 *
 * Writes start the kernel's writeback every REG_UPLOAD_WRITEBACK_STEP bytes,
 * so the fsync before the blob is committed has little left to write.
 *
 * Concurrency: a request that writes an upload holds an exclusive flock on
 * its file, so two PATCH requests to one upload cannot interleave.
 */
#ifndef EDGECR_REG_UPLOAD_H
#define EDGECR_REG_UPLOAD_H

#include <stdint.h>
#include <sys/types.h>

#include "context.h"
#include "route.h"

/* Creates an upload into REPO and writes its id into RET_ID
 * (REG_UPLOAD_ID_LEN + 1 bytes).  Returns 0 or a negative errno. */
int reg_upload_create(const struct reg_context *ctx, const char *repo, char *ret_id);

/*
 * Opens upload ID of REPO for writing and locks it.  Returns 0 with the
 * descriptor and the current size, -ENOENT when there is no such upload in
 * REPO, -EBUSY when another request is writing it, or a negative errno.
 */
int reg_upload_open(const struct reg_context *ctx, const char *repo, const char *id,
		    int *ret_fd, uint64_t *ret_size);

/* Returns 0 with the current size of upload ID of REPO, or -ENOENT. */
int reg_upload_size(const struct reg_context *ctx, const char *repo, const char *id,
		    uint64_t *ret_size);

/* Bytes of an upload after which its writeback is started.  Small enough that
 * the final fsync waits for at most this much plus what the disk has not
 * caught up with, large enough that the disk gets long sequential writes. */
#define REG_UPLOAD_WRITEBACK_STEP (8u << 20)

/*
 * Writes LEN bytes of DATA at OFFSET of FD, the open file of upload ID, adds
 * them to the upload's running digest and starts writeback of each whole
 * REG_UPLOAD_WRITEBACK_STEP passed.  OFFSET must be the file's size: on
 * failure the file is cut back to OFFSET, so no part of DATA stays.
 * Returns 0 or a negative errno.
 */
int reg_upload_write(const char *id, int fd, uint64_t offset, const char *data, size_t len);

/* Truncates upload ID, open as FD, to SIZE bytes and drops its running
 * digest.  Returns 0 or a negative errno. */
int reg_upload_truncate(const char *id, int fd, uint64_t size);

/*
 * Finishes upload ID of REPO, open as FD: checks that its content has DIGEST,
 * moves it into the blob store and links it into REPO.  Returns 0 with the
 * blob's size, or a negative errno.  -EBADMSG means the digest does not
 * match, and the upload is then removed.  -ENOENT means the upload vanished.
 */
int reg_upload_finish(const struct reg_context *ctx, const char *repo, const char *id, int fd,
		      const struct reg_digest *digest, uint64_t *ret_size);

/* Removes upload ID (its row, file and running digest).  Returns 0 or -ENOENT. */
int reg_upload_cancel(const struct reg_context *ctx, const char *id);

/* Removes uploads untouched for IDLE_SECONDS, and files under uploads/ that
 * no upload owns and that are as old.  Returns the number removed or a
 * negative errno. */
int reg_upload_expire(const struct reg_context *ctx, unsigned idle_seconds);

#endif
