/*
 * The running agent: what the main loop, the API threads and the maintenance
 * thread share.
 *
 * Locking: provision_lock serializes every change of the registry's files and
 * settings (Set, Remove, renewal, config reload).  Holding it, or config_lock,
 * keeps config from being replaced; the replacement takes both, provision_lock
 * first.  Readers that must not wait for a Set (the GET handlers) take only
 * config_lock, briefly, and otherwise read files that are replaced atomically.
 * The supervisor has a lock of its own (see supervise.h) and may be called
 * with either lock held, never the other way round.
 */
#ifndef EDGECR_AGENT_AGENT_H
#define EDGECR_AGENT_AGENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "kube_secrets.h"
#include "paths.h"
#include "state.h"
#include "supervise.h"

struct agent {
	pthread_mutex_t provision_lock;
	pthread_mutex_t config_lock;
	struct agent_config *config;          /* see the locking rules above */
	struct agent_paths paths;             /* fixed after start */
	struct agent_state *state;
	struct agent_supervisor *supervisor;
	struct agent_kube *kube;              /* image-pull secrets thread; NULL in unit tests */
	atomic_bool stopping;                 /* set once, at SIGTERM */
	uint64_t started_ms;                  /* CLOCK_MONOTONIC */
};

#endif
