/*
 * The metadata half of garbage collection: which manifests, repository blob
 * links and blob rows nothing live references, and their removal.
 *
 * Reachability is per repository.  A manifest is live when it is tagged, was
 * stored at or after the cutoff (the grace period), is a child of a live
 * index, or is a referrer whose subject is live.  With keep_untagged every
 * other manifest is live too, unless its subject is no longer a manifest of
 * the repository.  A repository blob link is live when it was made at or after the
 * cutoff, is a live manifest, or is referenced by a live manifest.  A blob row
 * is dead when it is older than the cutoff and no live link names it.
 *
 * Implemented in meta_gc.c on the connection pool of meta.c.
 */
#ifndef EDGECR_REG_GC_META_H
#define EDGECR_REG_GC_META_H

#include <stdbool.h>
#include <stdint.h>

#include "meta.h"

struct reg_meta_gc_counts {
	uint64_t manifests; /* manifest rows, with their tags, references and referrer rows */
	uint64_t links;     /* repository blob links, manifest links included */
	uint64_t blobs;     /* blob rows */
	uint64_t bytes;     /* sum of the sizes of those blob rows */
};

/*
 * Counts what a sweep with CUTOFF (Unix seconds) and KEEP_UNTAGGED would
 * remove, inside one read transaction, so writers go on.  Returns 0 with
 * *RET, or a negative errno.
 */
int reg_meta_gc_mark(struct reg_meta *meta, int64_t cutoff, bool keep_untagged,
		     struct reg_meta_gc_counts *ret);

/*
 * Removes the dead rows in one write transaction that computes liveness
 * again, so a tag, manifest or link committed after the mark is seen and
 * kept.  A manifest PUT checks its blob links in its own write transaction.
 * Because sqlite serializes writers, a PUT either commits first and keeps its
 * blobs live, or finds them gone and fails.  Also drops repositories left
 * with no manifest, link, tag or upload.  Returns 0 with *RET, or a negative
 * errno and nothing changed.
 */
int reg_meta_gc_sweep(struct reg_meta *meta, int64_t cutoff, bool keep_untagged,
		      struct reg_meta_gc_counts *ret);

/* Returns 1 when blob DIGEST has a row, 0 when not, or a negative errno. */
int reg_meta_gc_blob_known(struct reg_meta *meta, const char *digest);

/*
 * Links blob DIGEST into REPO when it is readable in FROM, checked in the
 * same write transaction, so a mount cannot revive a blob that a sweep has
 * just removed.  Returns 0, -ENOENT when DIGEST is not readable in FROM, or
 * a negative errno.
 */
int reg_meta_gc_blob_mount(struct reg_meta *meta, const char *from, const char *repo,
			   const char *digest);

/*
 * Sets the time of REPO's link to DIGEST to now when the link exists, so a
 * blob pushed again starts a new grace period: a link is made with INSERT OR
 * IGNORE, which keeps the time of the first push.  Called before the upload
 * commits.  Returns 0 or a negative errno.
 */
int reg_meta_gc_link_refresh(struct reg_meta *meta, const char *repo, const char *digest);

/* Writes into *RET the bytes of all blob rows (manifests included), each
 * counted once. */
int reg_meta_gc_usage(struct reg_meta *meta, uint64_t *ret);

/* Called once per repository with the bytes of the blobs it links; a
 * blob linked by several repositories counts in each.  A negative return
 * stops the listing and is returned. */
typedef int (*reg_meta_usage_fn)(void *userdata, const char *repo, uint64_t bytes);

/* Calls FN for every repository that links a blob, in name order. */
int reg_meta_gc_usage_by_repository(struct reg_meta *meta, reg_meta_usage_fn fn, void *userdata);

/* The result of one collection as the metadata keeps it (table gc_last_run). */
struct reg_meta_gc_result {
	int64_t started;        /* Unix seconds */
	double seconds;         /* duration */
	uint64_t manifests;
	uint64_t links;
	uint64_t blobs;         /* blob files removed */
	uint64_t bytes;         /* bytes of those files */
	uint64_t uploads;       /* idle uploads removed */
	uint64_t files_pending; /* unreferenced files left for a later run */
};

/* Replaces the stored result of the last collection with RESULT.  Returns 0
 * or a negative errno. */
int reg_meta_gc_result_save(struct reg_meta *meta, const struct reg_meta_gc_result *result);

/* Reads the stored result of the last collection.  Returns 0 with *RET,
 * -ENOENT when no collection was recorded yet, or a negative errno. */
int reg_meta_gc_result_load(struct reg_meta *meta, struct reg_meta_gc_result *ret);

#endif
