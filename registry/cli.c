/*
 * Command-line parsing; see cli.h.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "config.h"
#include "i18n.h"

enum { OPT_CONFIG = 256, OPT_LISTEN, OPT_ROOT, OPT_TLS_CERT, OPT_TLS_KEY, OPT_AUTH_FILE,
       OPT_LOG_LEVEL, OPT_HELP, OPT_VERSION, OPT_DRY_RUN, OPT_REPAIR,
       OPT_READ_ONLY };

static const struct option options[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "auth-file", required_argument, NULL, OPT_AUTH_FILE },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "repair", no_argument, NULL, OPT_REPAIR },
	{ "read-only", no_argument, NULL, OPT_READ_ONLY },
	{ NULL, 0, NULL, 0 },
};

/* Config key each overriding option sets, indexed by option - OPT_LISTEN. */
static const char *const option_keys[] = {
	"listen", "root", "tls_cert", "tls_key", "auth_file", "log_level",
};

void reg_cli_usage(FILE *out)
{
	fputs(_("Usage: edgecr-registry [OPTION]...\n"
		"       edgecr-registry passwd USER --auth-file FILE [--read-only]\n"
		"       edgecr-registry gc [--dry-run] [--config FILE] [--root DIR]\n"
		"       edgecr-registry fsck [--repair] [--config FILE] [--root DIR]\n"
		"Serve the OCI Distribution (Docker Registry v2) API.\n"
		"\n"
		"  --config FILE       read settings from FILE (default: built-in defaults)\n"
		"  --listen ADDR:PORT  address and TCP port to listen on (default 0.0.0.0:31001)\n"
		"  --root DIR          storage root for blobs, uploads and metadata.db\n"
		"  --tls-cert FILE     PEM certificate chain; serve HTTPS (needs --tls-key)\n"
		"  --tls-key FILE      PEM private key of the certificate\n"
		"  --auth-file FILE    credentials file; require HTTP Basic authentication\n"
		"  --log-level LEVEL   debug, info, notice, warning or err (default info)\n"
		"  --help              show this help and exit\n"
		"  --version           show the version and exit\n"
		"\n"
		"Options override the keys of the same name in the configuration file.\n"
		"\n"
		"passwd USER --auth-file FILE [--read-only]\n"
		"  Add USER to FILE or replace its password.  The password is read from\n"
		"  standard input up to its end; one trailing newline is dropped.\n"
		"  --read-only lets USER pull only; without it USER may also push and\n"
		"  delete.\n"
		"\n"
		"gc [--dry-run]\n"
		"  Remove manifests, blobs and uploads nothing references, with the same\n"
		"  --config and --root as the server; safe while the server runs.\n"
		"  --dry-run prints what would be removed and changes nothing.\n"
		"\n"
		"fsck [--repair]\n"
		"  Check every blob file's size and digest, the references between\n"
		"  manifests, tags and blobs, and the database; safe while the server\n"
		"  runs.  Exits 1 when it found problems.  --repair removes bad blobs,\n"
		"  their rows and the manifests and tags left dangling.\n"
		"\n"
		"Signals: SIGHUP reloads the credentials file and the TLS certificate;\n"
		"SIGTERM and SIGINT stop the server after in-flight requests finish.\n"), out);
}

static int parse_passwd(int argc, char **argv, struct reg_cli *cli, char *err, size_t err_size)
{
	int c;

	cli->action = REG_CLI_PASSWD;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == OPT_READ_ONLY) {
			cli->passwd_read_only = true;
			continue;
		}
		if (c != OPT_AUTH_FILE) {
			snprintf(err, err_size, _("passwd accepts only --auth-file FILE and --read-only"));
			return -EINVAL;
		}
		cli->auth_file = optarg;
	}
	if (optind != argc - 1 || !cli->auth_file) {
		snprintf(err, err_size,
			 _("usage: edgecr-registry passwd USER --auth-file FILE [--read-only]"));
		return -EINVAL;
	}
	cli->passwd_user = argv[optind];
	return 0;
}

static int parse_option(int c, struct reg_cli *cli, char *err, size_t err_size)
{
	switch (c) {
	case OPT_CONFIG:
		cli->config_path = optarg;
		return 0;
	case OPT_HELP:
		cli->action = REG_CLI_HELP;
		return 0;
	case OPT_VERSION:
		cli->action = REG_CLI_VERSION;
		return 0;
	case OPT_DRY_RUN:
		if (cli->action != REG_CLI_GC) {
			snprintf(err, err_size, _("--dry-run is an option of the gc command"));
			return -EINVAL;
		}
		cli->gc_dry_run = true;
		return 0;
	case OPT_REPAIR:
		if (cli->action != REG_CLI_FSCK) {
			snprintf(err, err_size, _("--repair is an option of the fsck command"));
			return -EINVAL;
		}
		cli->fsck_repair = true;
		return 0;
	case OPT_LISTEN ... OPT_LOG_LEVEL:
		cli->keys[cli->n_overrides] = option_keys[c - OPT_LISTEN];
		cli->values[cli->n_overrides++] = optarg;
		return 0;
	case OPT_READ_ONLY:
		snprintf(err, err_size, _("--read-only is an option of the passwd command"));
		return -EINVAL;
	default:
		/* getopt has already printed what was wrong. */
		snprintf(err, err_size, _("invalid command line"));
		return -EINVAL;
	}
}

static bool takes_server_options(enum reg_cli_action action)
{
	return action == REG_CLI_SERVE || action == REG_CLI_GC || action == REG_CLI_FSCK;
}

int reg_cli_parse(int argc, char **argv, struct reg_cli *ret, char *err, size_t err_size)
{
	struct reg_cli cli = { .action = REG_CLI_SERVE };
	int c, r = 0;

	if (argc > 1 && strcmp(argv[1], "passwd") == 0) {
		r = parse_passwd(argc - 1, argv + 1, &cli, err, err_size);
	} else if (argc > 1 && (strcmp(argv[1], "gc") == 0 || strcmp(argv[1], "fsck") == 0)) {
		/* The gc and fsck commands take the server's options after their name. */
		cli.action = strcmp(argv[1], "gc") == 0 ? REG_CLI_GC : REG_CLI_FSCK;
		argc--;
		argv++;
	}
	optind = 1;
	while (r == 0 && takes_server_options(cli.action) &&
	       (c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (cli.n_overrides == REG_CLI_OVERRIDES_MAX) {
			snprintf(err, err_size, _("too many options"));
			return -EINVAL;
		}
		r = parse_option(c, &cli, err, err_size);
	}
	if (r == 0 && takes_server_options(cli.action) && optind < argc) {
		snprintf(err, err_size, _("unexpected argument \"%s\""), argv[optind]);
		r = -EINVAL;
	}
	if (r < 0)
		return r;
	*ret = cli;
	return 0;
}
