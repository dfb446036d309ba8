/*
 * Cap on the uploads in progress that one client address may hold.
 *
 * An upload started with POST stays until it is finished, cancelled or
 * removed by upload_idle_timeout, and each one is a metadata row and a file.
 * Without a cap a client could start uploads without end.  The table records
 * which address started which upload.  An entry whose upload row is gone
 * (finished, cancelled, expired, collected) is dropped when that address
 * reaches the cap, and all such entries are dropped before the table grows,
 * so memory follows the uploads that still exist.
 *
 * A start is reserved before the POST handler runs and then committed with
 * the new upload's id or released, so that parallel POSTs of one address
 * cannot pass the cap together.
 *
 * Thread safety: every function may be called from any request thread.
 */
#ifndef EDGECR_REG_UPLOAD_LIMIT_H
#define EDGECR_REG_UPLOAD_LIMIT_H

#include "meta.h"

struct reg_upload_limit;

/* Creates a table allowing MAX_PER_CLIENT uploads per address (at least 1).
 * Returns 0 or a negative errno. */
int reg_upload_limit_new(unsigned max_per_client, struct reg_upload_limit **ret);

/* Frees LIMIT; NULL is a no-op. */
void reg_upload_limit_free(struct reg_upload_limit *limit);

/*
 * Reserves a start for ADDRESS.  Returns 1 when reserved (the caller must
 * then call commit or release once), 0 when ADDRESS holds the maximum of
 * uploads that still exist in META, or a negative errno.
 */
int reg_upload_limit_reserve(struct reg_upload_limit *limit, struct reg_meta *meta,
			     const char *address);

/* Turns a reservation of ADDRESS into the upload ID it started. */
void reg_upload_limit_commit(struct reg_upload_limit *limit, const char *address,
			     const char *id);

/* Gives a reservation of ADDRESS back, because no upload stayed open. */
void reg_upload_limit_release(struct reg_upload_limit *limit, const char *address);

/* Returns the uploads counted for ADDRESS, reservations included. */
unsigned reg_upload_limit_count(struct reg_upload_limit *limit, const char *address);

#endif
