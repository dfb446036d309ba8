/*
 * The nightly garbage collection of the server; see gc.h.  The run logs its
 * result itself, since nothing waits for it.
 */
#include "gc.h"

#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"

struct run_args {
	const struct reg_context *ctx;
	struct reg_gc_scheduler *scheduler;
};

static struct run_args run_args;

static void *gc_thread(void *userdata)
{
	const struct run_args *args = userdata;
	struct reg_gc_report report;
	char line[512];
	int r;

	r = reg_gc_run(args->ctx, false, &report);
	reg_metrics_gc_done(r, &report);
	if (r < 0) {
		ecr_log(LOG_ERR, "scheduled gc failed: %s", strerror(-r));
	} else {
		reg_gc_report_format(&report, false, line, sizeof(line));
		ecr_log(LOG_NOTICE, "%s", line);
	}
	atomic_store(&args->scheduler->finished, true);
	return NULL;
}

void reg_gc_scheduler_tick(struct reg_gc_scheduler *scheduler, const struct reg_context *ctx)
{
	time_t now = time(NULL);
	long day = (long)(now / 86400);
	int minute = (int)(now % 86400 / 60);

	if (scheduler->started && atomic_load(&scheduler->finished)) {
		pthread_join(scheduler->thread, NULL);
		scheduler->started = false;
	}
	if (ctx->config->gc_schedule_minute < 0 || scheduler->started ||
	    minute != ctx->config->gc_schedule_minute || day == scheduler->last_day)
		return;

	scheduler->last_day = day;
	atomic_store(&scheduler->finished, false);
	run_args = (struct run_args){ ctx, scheduler };
	if (pthread_create(&scheduler->thread, NULL, gc_thread, &run_args) != 0) {
		ecr_log(LOG_ERR, "scheduled gc not started: cannot create a thread");
		return;
	}
	ecr_log(LOG_INFO, "scheduled gc started");
	scheduler->started = true;
}

void reg_gc_scheduler_stop(struct reg_gc_scheduler *scheduler)
{
	if (!scheduler->started)
		return;
	pthread_join(scheduler->thread, NULL);
	scheduler->started = false;
}
