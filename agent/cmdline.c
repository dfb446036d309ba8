/*
 * Command line of edgecr-agent; see cmdline.h.
 */
#include "cmdline.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"

int agent_cmdline_parse(int argc, char **argv, struct agent_cmdline *ret_cmdline,
			char *err, size_t err_size)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_cmdline c = { 0 };
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': c.config_path = optarg; break;
		case 's': c.state_dir = optarg; break;
		case 'S': c.socket_path = optarg; break;
		case 'k': c.kubeconfig = optarg; break;
		case 'h': c.help = true; break;
		case 'V': c.version = true; break;
		default:
			snprintf(err, err_size, _("invalid option \"%s\"; see --help"),
				 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, err_size, _("unexpected argument \"%s\"; see --help"), argv[optind]);
		return -EINVAL;
	}
	*ret_cmdline = c;
	return 0;
}

void agent_cmdline_usage(void)
{
	fputs(_("Usage: edgecr-agent [--config FILE] [--state-dir DIR] [--socket PATH]\n"
		"                    [--kubeconfig PATH]\n"
		"\n"
		"Runs the device management daemon of edgecr: it provisions the container\n"
		"registry (user, password, certificates), supervises it, and serves the\n"
		"management API on a Unix socket for root and the admin group.\n"
		"\n"
		"  -c, --config FILE    read settings from FILE (\"key = value\" lines);\n"
		"                       without it the embedded defaults apply\n"
		"      --state-dir DIR  keep state in DIR (overrides state_dir)\n"
		"      --socket PATH    serve the API on PATH (overrides socket)\n"
		"      --kubeconfig PATH  keep image-pull secrets in the Kubernetes\n"
		"                       cluster of PATH (overrides kubeconfig)\n"
		"  -h, --help           print this text and exit\n"
		"      --version        print the version and exit\n"
		"\n"
		"The settings are described in docs/agent.md.\n"), stdout);
}

int agent_cmdline_load_config(const struct agent_cmdline *cmdline,
			      struct agent_config **ret_config, char *err, size_t err_size)
{
	struct agent_config *config = NULL;
	int r;

	r = agent_config_new(&config);
	if (r < 0) {
		snprintf(err, err_size, "%s", strerror(-r));
		goto out;
	}
	if (cmdline->config_path)
		r = agent_config_load(config, cmdline->config_path, err, err_size);
	if (r == 0 && cmdline->state_dir)
		r = agent_config_set(config, "state_dir", cmdline->state_dir, err, err_size);
	if (r == 0 && cmdline->socket_path)
		r = agent_config_set(config, "socket", cmdline->socket_path, err, err_size);
	if (r == 0 && cmdline->kubeconfig)
		r = agent_config_set(config, "kubeconfig", cmdline->kubeconfig, err, err_size);
	if (r == 0)
		r = agent_config_finish(config, err, err_size);
	if (r < 0)
		goto out;

	*ret_config = config;
	config = NULL;

out:
	agent_config_free(config);
	return r;
}
