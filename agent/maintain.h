/*
 * The maintenance thread: it restores the registry at start, checks and
 * renews its certificate every hour, and applies a re-read configuration.  It
 * runs the same Set as the API (agent_provision_maintain), off the main loop,
 * because a Set waits for the registry that the main loop starts.
 */
#ifndef EDGECR_AGENT_MAINTAIN_H
#define EDGECR_AGENT_MAINTAIN_H

#include "agent.h"

/* Interval of the periodic check, which renews a certificate near expiry. */
#define AGENT_MAINTAIN_INTERVAL_SEC 3600

struct agent_maintenance;

/* Starts the thread; its first run is the start-up restore.  Returns 0 or a
 * negative errno. */
int agent_maintenance_start(struct agent *agent, struct agent_maintenance **ret_maintenance);

/* Hands CONFIG (taking ownership) to the thread, which swaps it in and runs a
 * check.  The state directory and socket keep their values until a restart. */
void agent_maintenance_reload(struct agent_maintenance *m, struct agent_config *config);

/* Stops and joins the thread; NULL is a no-op.  Set agent->stopping first so
 * a check in progress returns early. */
void agent_maintenance_stop(struct agent_maintenance *m);

#endif
