/*
 * The command line of edgecr-registry:
 *
 *   edgecr-registry [--config FILE] [--listen ADDR:PORT] [--root DIR]
 *                   [--tls-cert FILE --tls-key FILE] [--auth-file FILE]
 *                   [--log-level LEVEL]
 *   edgecr-registry passwd USER --auth-file FILE [--read-only]
 *   edgecr-registry gc [--dry-run] [--config FILE] [--root DIR] [--log-level LEVEL]
 *   edgecr-registry fsck [--repair] [--config FILE] [--root DIR] [--log-level LEVEL]
 *   edgecr-registry --help | --version
 *
 * Options override the keys of the same name in the configuration file.
 */
#ifndef EDGECR_REG_CLI_H
#define EDGECR_REG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define REG_CLI_OVERRIDES_MAX 16

enum reg_cli_action { REG_CLI_SERVE, REG_CLI_PASSWD, REG_CLI_GC, REG_CLI_FSCK, REG_CLI_HELP,
		      REG_CLI_VERSION };

struct reg_cli {
	enum reg_cli_action action;
	const char *config_path;  /* NULL: embedded defaults only */
	const char *passwd_user;
	const char *auth_file;    /* for passwd */
	bool passwd_read_only;    /* passwd: the user may only pull */
	bool gc_dry_run;          /* gc: report only */
	bool fsck_repair;         /* fsck: fix what can be fixed */
	/* Config keys set on the command line, applied after the file. */
	const char *keys[REG_CLI_OVERRIDES_MAX];
	const char *values[REG_CLI_OVERRIDES_MAX];
	size_t n_overrides;
};

/* Parses ARGV into *RET (which points into ARGV).  Returns 0, or -EINVAL with
 * a translated message in ERR. */
int reg_cli_parse(int argc, char **argv, struct reg_cli *ret, char *err, size_t err_size);

/* Prints the translated help text to OUT. */
void reg_cli_usage(FILE *out);

#endif
