/*
 * The agent's lifetime: open its resources, serve until SIGTERM, stop the
 * registry and release everything.
 */
#ifndef EDGECR_AGENT_DAEMON_H
#define EDGECR_AGENT_DAEMON_H

#include "cmdline.h"
#include "config.h"

/* Runs the agent with CONFIG (taking ownership).  Returns the process exit
 * status: 0 after SIGTERM or SIGINT, 1 when start-up failed (logged). */
int agent_daemon_run(struct agent_config *config, const struct agent_cmdline *cmdline);

#endif
