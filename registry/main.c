/*
 * edgecr-registry: parses the command line, loads the settings, opens the
 * storage, starts the server and runs the signal and watchdog loop.
 *
 * SIGHUP, SIGTERM and SIGINT are blocked in every thread and taken with
 * sigtimedwait by the main thread only, so no handler runs inside a request.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "context.h"
#include "fsck.h"
#include "gc.h"
#include "i18n.h"
#include "log.h"
#include "meta.h"
#include "metrics_listen.h"
#include "nodump.h"
#include "notify.h"
#include "passwd.h"
#include "server.h"
#include "upload.h"

/* How often stale uploads are looked for. */
#define EXPIRE_INTERVAL_SECONDS 600
/*
 * malloc arenas shared by all threads.  glibc's default of up to 8 per CPU
 * spread 64 connection threads over 15 arenas on 2 CPUs, and each arena kept
 * about 1.2 MiB resident after the connections ended (18 MiB in all).
 */
#define MALLOC_ARENAS 2

/*
 * Writes why a gc or fsck run failed with R into BUF, translated when
 * TRANSLATE.  The metadata functions return -ETIMEDOUT only when another
 * process (most often the server, busy with pushes) kept sqlite's write
 * lock for the whole busy timeout.
 */
static const char *failure_reason(int r, bool translate, char *buf, size_t size)
{
	const char *format = "another process held the write lock of metadata.db for more "
			     "than %d s; try again";

	if (r != -ETIMEDOUT)
		snprintf(buf, size, "%s", strerror(-r));
	else if (translate)
		snprintf(buf, size, _("another process held the write lock of metadata.db for more "
				      "than %d s; try again"), REG_META_BUSY_TIMEOUT_MS / 1000);
	else
		snprintf(buf, size, format, REG_META_BUSY_TIMEOUT_MS / 1000);
	return buf;
}

static int config_build(const struct reg_cli *cli, struct reg_config *config)
{
	char err[1024];
	int r;

	r = reg_config_init(config);
	if (r == 0 && cli->config_path)
		r = reg_config_load(config, cli->config_path, err, sizeof(err));
	else if (r < 0)
		snprintf(err, sizeof(err), "%s", strerror(-r));
	for (size_t i = 0; r == 0 && i < cli->n_overrides; i++)
		r = reg_config_set(config, cli->keys[i], cli->values[i], err, sizeof(err));
	if (r == 0)
		r = reg_config_validate(config, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, _("edgecr-registry: invalid configuration: %s\n"), err);
	return r;
}

static void reload(struct reg_server *server, const struct reg_context *ctx)
{
	char err[1024];
	int failed = 0;

	if (ctx->auth && reg_auth_reload(ctx->auth, err, sizeof(err)) < 0) {
		ecr_log(LOG_ERR, "credentials reload failed, keeping the previous users: %s", err);
		failed = 1;
	}
	if (reg_server_reload_tls(server, err, sizeof(err)) < 0) {
		ecr_log(LOG_ERR, "certificate reload failed, keeping the previous certificate: %s", err);
		failed = 1;
	}
	ecr_log(LOG_NOTICE, "reload %s", failed ? "partly failed" : "done");
	reg_notify_status(failed ? "Serving; last reload failed" : "Serving; reloaded");
}

static struct timespec loop_period(uint64_t watchdog_usec)
{
	struct timespec period = { 1, 0 };

	if (watchdog_usec > 0 && watchdog_usec < 1000000)
		period = (struct timespec){ 0, (long)watchdog_usec * 1000 };
	return period;
}

/* Serves until SIGTERM or SIGINT. */
static void run(struct reg_server *server, const struct reg_context *ctx, const sigset_t *signals,
		struct reg_gc_scheduler *gc)
{
	uint64_t watchdog_usec = reg_notify_watchdog_interval_usec();
	struct timespec period = loop_period(watchdog_usec);
	time_t next_expiry = 0;
	int sig;

	for (;;) {
		sig = sigtimedwait(signals, NULL, &period);
		if (sig == SIGTERM || sig == SIGINT) {
			ecr_log(LOG_NOTICE, "received %s, stopping", strsignal(sig));
			return;
		}
		if (sig == SIGHUP)
			reload(server, ctx);

		if (watchdog_usec > 0)
			reg_notify_watchdog();
		reg_server_tick(server);
		reg_gc_scheduler_tick(gc, ctx);
		if (time(NULL) >= next_expiry) {
			int removed = reg_upload_expire(ctx, ctx->config->upload_idle_timeout);

			if (removed > 0)
				ecr_log(LOG_INFO, "removed %d uploads idle for %u s", removed,
					ctx->config->upload_idle_timeout);
			next_expiry = time(NULL) + EXPIRE_INTERVAL_SECONDS;
		}
	}
}

/* Blocks the signals the main loop takes into *SIGNALS; called before any
 * thread starts, so every thread inherits the mask. */
static void signals_block(sigset_t *signals)
{
	sigemptyset(signals);
	sigaddset(signals, SIGTERM);
	sigaddset(signals, SIGINT);
	sigaddset(signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, signals, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int serve(const struct reg_cli *cli)
{
	struct reg_config config;
	struct reg_context ctx = { 0 };
	struct reg_server *server = NULL;
	struct reg_metrics_listener *metrics = NULL;
	struct reg_gc_scheduler gc = { .last_day = -1 };
	char err[1024], status[256];
	sigset_t signals;
	int r;

	r = config_build(cli, &config);
	if (r < 0)
		goto out;
	ecr_log_set_max_priority(config.log_priority);

	signals_block(&signals);
	/* Before any thread starts, so no thread has made an arena of its own. */
	mallopt(M_ARENA_MAX, MALLOC_ARENAS);

	r = reg_context_init(&ctx, &config, err, sizeof(err));
	if (r == 0)
		r = reg_server_new(&ctx, &server, err, sizeof(err));
	if (r == 0 && config.metrics_listen)
		r = reg_metrics_listener_start(&ctx, &metrics, err, sizeof(err));
	if (r < 0) {
		reg_server_stop(server, 0);
		ecr_log(LOG_ERR, "start-up failed: %s", err);
		fprintf(stderr, _("edgecr-registry: %s\n"), err);
		goto out;
	}

	snprintf(status, sizeof(status), "Serving on %s (%s, %s)", config.listen,
		 config.tls_cert ? "TLS" : "plain HTTP", config.auth_file ? "Basic auth" : "no auth");
	ecr_log(LOG_NOTICE, "%s, storage root %s", status, config.root);
	reg_notify_ready(status);

	run(server, &ctx, &signals, &gc);

	reg_notify_stopping("Stopping: finishing in-flight requests");
	reg_server_stop(server, config.shutdown_timeout);
	reg_metrics_listener_stop(metrics);
	reg_gc_scheduler_stop(&gc);
	ecr_log(LOG_NOTICE, "stopped");
out:
	reg_context_release(&ctx);
	reg_config_release(&config);
	return r < 0 ? 1 : 0;
}

/* Opens the storage for a maintenance command (COMMAND is "gc" or "fsck"),
 * which needs no credentials: the credentials file may not be readable by
 * whoever runs it. */
static int maintenance_open(const struct reg_cli *cli, const char *command,
			    struct reg_config *config, struct reg_context *ctx)
{
	char err[1024];
	int r;

	r = config_build(cli, config);
	if (r < 0)
		return r;
	ecr_log_set_max_priority(config->log_priority);
	free(config->auth_file);
	config->auth_file = NULL;

	r = reg_context_init(ctx, config, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "edgecr-registry %s: %s\n", command, err);
	return r;
}

/* Runs "edgecr-registry gc": one collection next to a running server, which
 * sqlite's locking (WAL, busy timeout) makes safe. */
static int gc_command(const struct reg_cli *cli)
{
	struct reg_config config;
	struct reg_context ctx = { 0 };
	struct reg_gc_report report;
	char line[512], reason[256];
	int r;

	r = maintenance_open(cli, "gc", &config, &ctx);
	if (r < 0)
		goto out;
	r = reg_gc_run(&ctx, cli->gc_dry_run, &report);
	if (r < 0) {
		ecr_log(LOG_ERR, "gc failed: %s", failure_reason(r, false, reason, sizeof(reason)));
		fprintf(stderr, _("edgecr-registry gc: failed: %s\n"),
			failure_reason(r, true, reason, sizeof(reason)));
		goto out;
	}
	reg_gc_report_format(&report, cli->gc_dry_run, line, sizeof(line));
	ecr_log(LOG_NOTICE, "%s", line);
	printf("%s\n", line);
	r = reg_gc_usage_print(&ctx, stdout);
	if (r < 0)
		fprintf(stderr, _("edgecr-registry gc: cannot read the usage: %s\n"), strerror(-r));
out:
	reg_context_release(&ctx);
	reg_config_release(&config);
	return r < 0 ? 1 : 0;
}

/* Runs "edgecr-registry fsck": exits 0 when the storage is consistent, 1
 * when problems were found (repaired or not) or the check failed. */
static int fsck_command(const struct reg_cli *cli)
{
	struct reg_config config;
	struct reg_context ctx = { 0 };
	struct reg_fsck_report report;
	char line[512], reason[256];
	int r;

	r = maintenance_open(cli, "fsck", &config, &ctx);
	if (r < 0)
		goto out;
	r = reg_fsck_run(&ctx, cli->fsck_repair, stdout, &report);
	if (r < 0) {
		ecr_log(LOG_ERR, "fsck failed: %s", failure_reason(r, false, reason, sizeof(reason)));
		fprintf(stderr, _("edgecr-registry fsck: failed: %s\n"),
			failure_reason(r, true, reason, sizeof(reason)));
		goto out;
	}
	reg_fsck_report_format(&report, cli->fsck_repair, line, sizeof(line));
	ecr_log(report.problems ? LOG_WARNING : LOG_NOTICE, "%s", line);
	printf("%s\n", line);
	if (report.problems)
		r = -EUCLEAN;
out:
	reg_context_release(&ctx);
	reg_config_release(&config);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct reg_cli cli;
	char err[1024];
	int r;

	ecr_i18n_init();
	ecr_log_init("edgecr-registry");
	/* The server keeps the TLS key and cached logins in memory, and passwd a password. */
	r = ecr_disable_core_dumps();
	if (r < 0)
		ecr_log(LOG_WARNING, "cannot disable core dumps: %s; ignoring", strerror(-r));

	if (reg_cli_parse(argc, argv, &cli, err, sizeof(err)) < 0) {
		fprintf(stderr, _("edgecr-registry: %s\nTry \"edgecr-registry --help\".\n"), err);
		return 2;
	}

	switch (cli.action) {
	case REG_CLI_HELP:
		reg_cli_usage(stdout);
		return 0;
	case REG_CLI_VERSION:
		printf("edgecr-registry %s\n", EDGECR_VERSION);
		return 0;
	case REG_CLI_PASSWD:
		if (reg_passwd_run(cli.passwd_user, cli.auth_file, stdin, cli.passwd_read_only,
				   err, sizeof(err)) < 0) {
			fprintf(stderr, _("edgecr-registry passwd: %s\n"), err);
			return 1;
		}
		return 0;
	case REG_CLI_GC:
		return gc_command(&cli);
	case REG_CLI_FSCK:
		return fsck_command(&cli);
	default:
		return serve(&cli);
	}
}
