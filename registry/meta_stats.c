/*
 * Counts of the metadata for the metrics endpoint; see meta.h.
 */
#include <errno.h>

#include "meta_internal.h"

int reg_meta_upload_count(struct reg_meta *meta, uint64_t *ret)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;
	int r;

	r = meta_acquire(meta, &db);
	if (r < 0)
		return r;
	r = meta_prepare(db, "SELECT count(*) FROM uploads", NULL, 0, &stmt);
	if (r == 0)
		r = meta_step_row(stmt);
	if (r == 1) {
		*ret = (uint64_t)sqlite3_column_int64(stmt, 0);
		r = 0;
	} else if (r == 0) {
		r = -EIO;
	}
	sqlite3_finalize(stmt);
	meta_release(meta, db);
	return r;
}
