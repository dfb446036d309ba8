/*
 * Consistency check of the storage root ("edgecr-registry fsck"): every blob
 * file's size and digest against its row, every reference between the
 * metadata tables, files under blobs/ that have no row, and sqlite's own
 * integrity_check.
 *
 * The check reads the metadata in read transactions only, so it runs next to
 * a serving registry (WAL, busy timeout).  Findings that a running server
 * explains are checked again before they count.  A blob row whose file is
 * missing counts only when the row is still there after the file was found
 * missing, because gc deletes the row first and the file after its commit.
 * Files in blobs/ without a row are orphans, not problems: an upload renames
 * its file before it commits the row, and gc removes the ones left behind.
 *
 * With repair, each bad blob is removed in one write transaction, and the
 * reference repair runs in one more:
 *   - a blob whose file is missing, has the wrong size or the wrong digest:
 *     its blob row and repository links go, then the file;
 *   - a manifest left without its own blob row, a referenced blob row or a
 *     child manifest: its row, tags, references, referrer entry and its
 *     repository link go.  This repeats until no manifest dangles, so an
 *     index whose child was removed goes next;
 *   - tags without their manifest, repository links without a blob row and
 *     reference rows without their manifest go.
 * Orphan files are left to gc, and a failed integrity_check is not repaired.
 */
#ifndef EDGECR_REG_FSCK_H
#define EDGECR_REG_FSCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "context.h"

struct reg_fsck_report {
	uint64_t blobs;      /* blob rows checked */
	uint64_t bytes;      /* bytes hashed */
	uint64_t problems;   /* problems found (repaired ones included) */
	uint64_t repaired;   /* removals printed by the repair */
	uint64_t unrepaired; /* problems the repair could not fix */
	uint64_t orphans;    /* files under blobs/ without a blob row */
	double seconds;      /* duration of the run */
};

/*
 * Checks the storage of CTX and prints one line per problem, orphan and
 * repair to OUT.  With REPAIR, fixes what it can (see above).  Returns 0 with
 * *RET, or a negative errno when the check itself failed (for example the
 * database could not be read); problems found are not a failure.
 */
int reg_fsck_run(const struct reg_context *ctx, bool repair, FILE *out,
		 struct reg_fsck_report *ret);

/* Formats REPORT as the summary line of the fsck command into BUF. */
void reg_fsck_report_format(const struct reg_fsck_report *report, bool repair, char *buf,
			    size_t size);

/*
 * The metadata half, in meta_fsck.c.  Listing functions call FN once per row,
 * and a negative return of FN stops the listing and is returned.  They
 * return the number of rows listed or a negative errno.
 */

/* Called with one line of text: a problem, or what a repair removed. */
typedef int (*reg_meta_fsck_line_fn)(void *userdata, const char *line);

/* Called with each blob row's digest and size. */
typedef int (*reg_meta_fsck_blob_fn)(void *userdata, const char *digest, uint64_t size);

/* Runs PRAGMA integrity_check in a read transaction and calls FN with each
 * line other than "ok". */
int reg_meta_fsck_integrity(struct reg_meta *meta, reg_meta_fsck_line_fn fn, void *userdata);

/* Calls FN with every blob row, in digest order.  Rows are read in batches,
 * each in a read transaction of its own, and FN runs outside them, so rows
 * added or removed during the listing may be missed or seen. */
int reg_meta_fsck_blobs(struct reg_meta *meta, reg_meta_fsck_blob_fn fn, void *userdata);

/*
 * Calls FN, in one read transaction, with one line per broken reference.
 * One kind is a manifest without its blob row, a reference to a blob without
 * a row, or a reference to a child that is not a manifest of the repository.
 * The other is a reference row, tag or repository blob link whose target is
 * missing.
 */
int reg_meta_fsck_references(struct reg_meta *meta, reg_meta_fsck_line_fn fn, void *userdata);

/* Deletes the blob row of DIGEST and every repository's link to it in one
 * write transaction.  Returns the number of rows deleted or a negative errno. */
int reg_meta_fsck_blob_remove(struct reg_meta *meta, const char *digest);

/*
 * Removes in one write transaction what reg_meta_fsck_references reports:
 * dangling manifests with their tags, references, referrer entries and
 * repository links (again until none dangles), then tags, reference rows and
 * links left without their target.  Calls FN with one line per removed
 * manifest, tag, reference or link.  Returns the number of lines or a
 * negative errno and nothing changed.
 */
int reg_meta_fsck_references_repair(struct reg_meta *meta, reg_meta_fsck_line_fn fn,
				    void *userdata);

#endif
