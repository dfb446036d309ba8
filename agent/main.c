/*
 * edgecr-agent: the device management daemon.  main() only sequences the
 * steps: command line, configuration, then the daemon (daemon.c).
 */
#include <stdio.h>
#include <string.h>

#include "cmdline.h"
#include "daemon.h"
#include "i18n.h"
#include "log.h"
#include "nodump.h"

int main(int argc, char **argv)
{
	struct agent_cmdline cmdline;
	struct agent_config *config = NULL;
	char err[1024];
	int r;

	ecr_i18n_init();
	ecr_log_init("edgecr-agent");
	/* The agent's memory contains the registry password and the CA and server keys. */
	r = ecr_disable_core_dumps();
	if (r < 0)
		ecr_log(LOG_WARNING, "cannot disable core dumps: %s; ignoring", strerror(-r));

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
