/*
 * edgecr-agent: the device management daemon.  main() only sequences the
 * steps: command line, configuration, then the daemon (daemon.c).
 */
#include <stdio.h>

#include "cmdline.h"
#include "daemon.h"
#include "i18n.h"
#include "log.h"

int main(int argc, char **argv)
{
	struct agent_cmdline cmdline;
	struct agent_config *config = NULL;
	char err[1024];

	ecr_i18n_init();
	ecr_log_init("edgecr-agent");

	if (agent_cmdline_parse(argc, argv, &cmdline, err, sizeof(err)) < 0) {
		fprintf(stderr, "edgecr-agent: %s\n", err);
		return 2;
	}
	if (cmdline.help) {
		agent_cmdline_usage();
		return 0;
	}
	if (cmdline.version) {
		printf("edgecr-agent %s\n", EDGECR_VERSION);
		return 0;
	}

	if (agent_cmdline_load_config(&cmdline, &config, err, sizeof(err)) < 0) {
		fprintf(stderr, "edgecr-agent: %s: %s\n", _("invalid configuration"), err);
		return 1;
	}
	ecr_log_set_max_priority(config->log_level);

	return agent_daemon_run(config, &cmdline);
}
