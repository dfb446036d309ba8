/*
 * Storage quota: the storage_limit on the bytes of all blobs (manifests
 * included, each counted once however many repositories link it) and the
 * min_free_space floor of the file system of the storage root.
 *
 * Used bytes are the blobs in the metadata plus the files of the other
 * uploads under uploads/, in progress or abandoned.  The upload being checked
 * counts with its whole size.  The blob bytes are cached for
 * REG_QUOTA_USAGE_CACHE_SECONDS or until this process adds a blob, and each
 * request reads the other uploads' files at most that often, so checking every
 * chunk of an upload costs one statvfs and rarely a query and a folder read.
 * Changes by other requests or processes are seen within that time, so
 * concurrent uploads may together pass the limit by what they wrote in it.
 */
#ifndef EDGECR_REG_QUOTA_H
#define EDGECR_REG_QUOTA_H

#include <stddef.h>
#include <stdint.h>

#include "context.h"

#define REG_QUOTA_USAGE_CACHE_SECONDS 1

/* The state one request keeps between the checks of its chunks; starts zeroed. */
struct reg_quota_upload {
	int64_t others_read_at; /* Unix seconds of the last read; 0: never */
	uint64_t others_bytes;  /* bytes of the other uploads' files then */
};

/*
 * Checks that upload UPLOAD_ID, which will hold UPLOAD_SIZE bytes of which
 * WRITING are about to be written now, stays under storage_limit and leaves
 * min_free_space free.  STATE belongs to the calling request.  Returns 0, or
 * -EDQUOT with a message for the client in MSG that states used and limit in
 * binary units.
 */
int reg_quota_check(const struct reg_context *ctx, const char *upload_id,
		    struct reg_quota_upload *state, uint64_t upload_size, uint64_t writing,
		    char *msg, size_t msg_size);

/* Adds up the sizes of the files under ROOT/uploads/ into *RET.  Returns 0
 * or a negative errno. */
int reg_quota_upload_bytes(const char *root, uint64_t *ret);

/* Makes the next check read the used bytes again; called when this process
 * added a blob. */
void reg_quota_usage_changed(void);

/* The file system of the storage root, in bytes. */
struct reg_quota_filesystem {
	uint64_t total;     /* size */
	uint64_t available; /* free for an unprivileged user */
	uint64_t floor;     /* min_free_space in bytes; 0 when the check is off */
};

/* Reads the file system of CONFIG->root into *RET.  Returns 0 or a negative
 * errno from statvfs. */
int reg_quota_filesystem(const struct reg_config *config, struct reg_quota_filesystem *ret);

/* Writes BYTES as "512 B" or "1.5 MiB" into BUF. */
void reg_quota_format_size(uint64_t bytes, char *buf, size_t size);

#endif
