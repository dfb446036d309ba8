/*
 * The maintenance thread; see maintain.h.
 */
#include "maintain.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "provision.h"

struct agent_maintenance {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;                         /* guarded by lock */
	struct agent_config *pending;      /* guarded by lock */
	struct agent *agent;
};

/* Swaps CONFIG in under provision_lock and config_lock, keeping the values
 * that only a restart can change. */
static void apply_config(struct agent *agent, struct agent_config *config)
{
	struct agent_config *old;

	pthread_mutex_lock(&agent->provision_lock);
	old = agent->config;
	if (strcmp(old->state_dir, config->state_dir) != 0 ||
	    strcmp(old->socket_path, config->socket_path) != 0)
		ecr_log(LOG_WARNING, "state_dir and socket change only at restart; ignoring their new values");
	free(config->state_dir);
	free(config->socket_path);
	config->state_dir = old->state_dir;
	config->socket_path = old->socket_path;
	old->state_dir = NULL;
	old->socket_path = NULL;
	pthread_mutex_lock(&agent->config_lock);
	agent->config = config;
	pthread_mutex_unlock(&agent->config_lock);
	ecr_log_set_max_priority(config->log_level);
	pthread_mutex_unlock(&agent->provision_lock);

	agent_config_free(old);
	ecr_log(LOG_NOTICE, "configuration re-read");
}

/* Waits for a reload, a stop or the interval.  Returns false on stop. */
static bool wait_for_work(struct agent_maintenance *m, struct agent_config **ret_config)
{
	struct timespec deadline;
	bool go_on;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += AGENT_MAINTAIN_INTERVAL_SEC;

	pthread_mutex_lock(&m->lock);
	while (!m->stop && !m->pending && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&m->wake, &m->lock, &deadline);
	*ret_config = m->pending;
	m->pending = NULL;
	go_on = !m->stop;
	pthread_mutex_unlock(&m->lock);
	return go_on;
}

static void *maintenance_main(void *userdata)
{
	struct agent_maintenance *m = userdata;
	struct agent_config *config = NULL;

	agent_provision_maintain(m->agent, "start-up");
	while (wait_for_work(m, &config)) {
		if (config) {
			apply_config(m->agent, config);
			agent_provision_maintain(m->agent, "configuration reload");
		} else {
			agent_provision_maintain(m->agent, "periodic");
		}
		config = NULL;
	}
	agent_config_free(config);
	return NULL;
}

int agent_maintenance_start(struct agent *agent, struct agent_maintenance **ret_maintenance)
{
	struct agent_maintenance *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->agent = agent;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->wake, NULL);

	r = pthread_create(&m->thread, NULL, maintenance_main, m);
	if (r != 0) {
		pthread_cond_destroy(&m->wake);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return -r;
	}
	*ret_maintenance = m;
	return 0;
}

void agent_maintenance_reload(struct agent_maintenance *m, struct agent_config *config)
{
	pthread_mutex_lock(&m->lock);
	agent_config_free(m->pending);
	m->pending = config;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
}

void agent_maintenance_stop(struct agent_maintenance *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);

	pthread_join(m->thread, NULL);
	agent_config_free(m->pending);
	pthread_cond_destroy(&m->wake);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
