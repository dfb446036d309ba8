/*
 * Blob uploads in progress: a file ROOT/uploads/<id> plus a row in the
 * metadata that ties it to its repository.
 *
 * The upload's size is the size of its file, so its state survives a restart
 * without anything else to persist.  The digest is computed by re-reading the
 * file when the upload is finished (an OpenSSL digest context cannot be saved
 * between requests), and the file becomes a blob only when it matches.
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

/* Writes LEN bytes of DATA at OFFSET of FD.  Returns 0 or a negative errno. */
int reg_upload_write(int fd, uint64_t offset, const char *data, size_t len);

/*
 * Finishes upload ID of REPO, open as FD: checks that its content has DIGEST,
 * moves it into the blob store and links it into REPO.  Returns 0 with the
 * blob's size, or a negative errno.  -EBADMSG means the digest does not
 * match, and the upload is then removed.  -ENOENT means the upload vanished.
 */
int reg_upload_finish(const struct reg_context *ctx, const char *repo, const char *id, int fd,
		      const struct reg_digest *digest, uint64_t *ret_size);

/* Removes upload ID (its row and file).  Returns 0 or -ENOENT. */
int reg_upload_cancel(const struct reg_context *ctx, const char *id);

/* Removes uploads untouched for IDLE_SECONDS, and files under uploads/ that
 * no upload owns and that are as old.  Returns the number removed or a
 * negative errno. */
int reg_upload_expire(const struct reg_context *ctx, unsigned idle_seconds);

#endif
