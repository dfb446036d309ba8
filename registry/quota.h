/*
 * Storage quota: the storage_limit on the bytes of all blobs (manifests
 * included, each counted once however many repositories link it) and the
 * min_free_space floor of the file system of the storage root.
 *
 * Used bytes come from the metadata and are cached for
 * REG_QUOTA_USAGE_CACHE_SECONDS or until this process adds a blob, so checking
 * every chunk of an upload costs one statvfs and rarely a query.  Blobs that
 * another process removed are seen within that time.  Uploads in progress are
 * not counted, so concurrent uploads may together pass the limit by up to
 * their own sizes.  Each one alone is still checked against it.
 */
#ifndef EDGECR_REG_QUOTA_H
#define EDGECR_REG_QUOTA_H

#include <stddef.h>
#include <stdint.h>

#include "context.h"

#define REG_QUOTA_USAGE_CACHE_SECONDS 1

/*
 * Checks that an upload which will hold UPLOAD_SIZE bytes, of which WRITING
 * are about to be written now, stays under storage_limit and leaves
 * min_free_space free.  Returns 0, or -EDQUOT with a message for the client
 * in MSG that states used and limit in binary units.
 */
int reg_quota_check(const struct reg_context *ctx, uint64_t upload_size, uint64_t writing,
		    char *msg, size_t msg_size);

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
