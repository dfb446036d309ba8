/*
 * Content-addressed blob files under the storage root.
 *
 *   ROOT/blobs/<algorithm>/<first two hex digits>/<hex>   immutable blob
 *   ROOT/uploads/<upload id>                             data of an upload
 *   ROOT/uploads/tmp-<random>                            manifest being written
 *
 * Invariant: a file under blobs/ always contains exactly the bytes its name is
 * the digest of.  Data is written elsewhere under the root, fsync'd, and only
 * renamed into blobs/ after its digest was checked, so no reader can see a
 * partial or wrong blob.  Renaming over an existing blob is harmless because
 * both hold the same bytes; this is what lets two pushes of one layer race.
 *
 * Paths are built only from parsed digests and registry-made upload ids, so
 * no client text reaches the filesystem.  All functions are thread safe.
 */
#ifndef EDGECR_REG_BLOBSTORE_H
#define EDGECR_REG_BLOBSTORE_H

#include <limits.h>
#include <stdint.h>

#include "ref.h"

struct reg_blobstore {
	char *root;
};

/* Creates ROOT's folders when missing and fills *STORE (copying ROOT).
 * Returns 0 or a negative errno. */
int reg_blobstore_init(struct reg_blobstore *store, const char *root);

void reg_blobstore_release(struct reg_blobstore *store);

/* Writes the path of blob DIGEST into BUF (PATH_MAX bytes).  Returns 0 or -ENAMETOOLONG. */
int reg_blobstore_blob_path(const struct reg_blobstore *store, const struct reg_digest *digest,
			    char *buf);

/* Writes the path of the upload file ID into BUF (PATH_MAX bytes). */
int reg_blobstore_upload_path(const struct reg_blobstore *store, const char *id, char *buf);

/*
 * Opens blob DIGEST for reading.  Returns 0 with the descriptor (the caller
 * closes it) and the size, -ENOENT when the blob file does not exist, or
 * another negative errno.
 */
int reg_blobstore_open(const struct reg_blobstore *store, const struct reg_digest *digest,
		       int *ret_fd, uint64_t *ret_size);

/* Returns 0 when blob DIGEST exists, -ENOENT when not. */
int reg_blobstore_exists(const struct reg_blobstore *store, const struct reg_digest *digest);

/*
 * Computes the digest of all of FD's content (read from offset 0 with pread,
 * so the file position is untouched) with DIGEST's algorithm and compares it
 * with DIGEST.  Returns 1 on a match, 0 on a mismatch, or a negative errno.
 * Memory use is one fixed buffer, whatever the file size.
 */
int reg_blobstore_verify_fd(int fd, const struct reg_digest *digest);

/*
 * Computes the sha256 or sha512 digest of DATA (LEN bytes) into *RET.
 * Returns 0 or -EIO.
 */
int reg_blobstore_digest_bytes(enum reg_digest_algorithm algorithm, const void *data,
			       size_t len, struct reg_digest *ret);

/*
 * Makes the file at PATH (open as FD) the blob DIGEST: fsyncs it, renames it
 * into blobs/ and fsyncs the folder.  The caller has already verified the
 * content.  Returns 0 or a negative errno; on failure PATH is left in place.
 */
int reg_blobstore_commit(const struct reg_blobstore *store, const char *path, int fd,
			 const struct reg_digest *digest);

/*
 * Stores DATA (LEN bytes) as blob DIGEST, which the caller computed from DATA:
 * writes a temporary file, fsyncs and renames it.  Returns 0 or a negative errno.
 */
int reg_blobstore_put(const struct reg_blobstore *store, const struct reg_digest *digest,
		      const void *data, size_t len);

#endif
