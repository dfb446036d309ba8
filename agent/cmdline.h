/*
 * Command line of edgecr-agent and the configuration it selects.
 */
#ifndef EDGECR_AGENT_CMDLINE_H
#define EDGECR_AGENT_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct agent_cmdline {
	const char *config_path;   /* NULL: embedded defaults only */
	const char *state_dir;     /* overrides the config's state_dir */
	const char *socket_path;   /* overrides the config's socket */
	const char *kubeconfig;    /* overrides the config's kubeconfig */
	bool help;
	bool version;
};

/* Parses ARGV; the strings point into it.  Returns 0, or -EINVAL with a
 * message in err. */
int agent_cmdline_parse(int argc, char **argv, struct agent_cmdline *ret_cmdline,
			char *err, size_t err_size);

/* Prints the usage text to stdout. */
void agent_cmdline_usage(void);

/* Builds the complete configuration: defaults, the file, the overrides of
 * CMDLINE, derived values.  Returns 0 or a negative errno with a message
 * naming the key and value in err. */
int agent_cmdline_load_config(const struct agent_cmdline *cmdline,
			      struct agent_config **ret_config, char *err, size_t err_size);

#endif
