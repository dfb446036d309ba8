/*
 * Online garbage collection of the storage root: removes manifests, blob
 * links and blob files that nothing live references (see gc_meta.h for what
 * is live), and uploads left idle past upload_idle_timeout.
 *
 * Runs while the server serves pushes and pulls, in the server process or in
 * "edgecr-registry gc" next to it.  The metadata is changed in one sqlite
 * write transaction.  Blob files are removed only after that commit, and only
 * when they have no blob row.  A file renamed into blobs/ within the
 * last REG_GC_FILE_SETTLE_SECONDS is left for a later run, because an upload
 * renames its file before it commits the row, and that commit may wait on the
 * busy timeout (30 s).
 */
#ifndef EDGECR_REG_GC_H
#define EDGECR_REG_GC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "context.h"
#include "gc_meta.h"

/* Seconds a blob file must have been in place before a sweep may remove it;
 * more than the metadata busy timeout. */
#define REG_GC_FILE_SETTLE_SECONDS 60

struct reg_gc_report {
	uint64_t manifests;     /* manifest rows removed (would be, in a dry run) */
	uint64_t links;         /* repository blob links removed */
	uint64_t blobs;         /* blob files removed */
	uint64_t bytes;         /* bytes of those files */
	uint64_t files_pending; /* unreferenced files younger than the settle time, left */
	uint64_t uploads;       /* idle uploads removed; 0 in a dry run */
	double seconds;         /* duration of the run */
	int64_t started;        /* Unix seconds at the start of the run */
};

/*
 * Runs one collection with the gc_* settings of CTX->config.  With DRY_RUN
 * nothing is changed and the report counts what would be removed.  A run that
 * is not a dry run stores its report in the metadata as the last collection
 * (reg_meta_gc_result_load reads it).  Runs of one process take turns, runs
 * of different processes may overlap.  Returns 0 with *RET, or a negative
 * errno; a failure after the metadata sweep leaves files that the next run
 * removes.
 */
int reg_gc_run(const struct reg_context *ctx, bool dry_run, struct reg_gc_report *ret);

/* Copies REPORT into the form the metadata stores. */
void reg_gc_report_result(const struct reg_gc_report *report, struct reg_meta_gc_result *ret);

/* Formats REPORT as one line for the log and the gc command into BUF. */
void reg_gc_report_format(const struct reg_gc_report *report, bool dry_run, char *buf,
			  size_t size);

/*
 * Prints the storage usage to OUT: "usage: all blobs N bytes (HUMAN)", each
 * blob counted once, then "usage: repository NAME N bytes (HUMAN)" per
 * repository, counting every blob it links.  Returns 0 or a negative errno.
 */
int reg_gc_usage_print(const struct reg_context *ctx, FILE *out);

/* The nightly run of the server (gc_schedule), on a thread of its own so
 * the main loop keeps handling signals and the watchdog. */
struct reg_gc_scheduler {
	pthread_t thread;
	bool started;          /* thread was created and not yet joined */
	atomic_bool finished;  /* set by the thread when its run is over */
	long last_day;         /* day number (UTC) of the last scheduled run */
};

/* Starts a run when the configured minute of the day has come and no run
 * was started today; joins a finished run.  Called by the main loop. */
void reg_gc_scheduler_tick(struct reg_gc_scheduler *scheduler, const struct reg_context *ctx);

/* Waits for a run in progress to end. */
void reg_gc_scheduler_stop(struct reg_gc_scheduler *scheduler);

#endif
