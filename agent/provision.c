/*
 * Set, Remove and upkeep of the registry; see provision.h.
 *
 * A Set runs the same steps whether it is the first call or a later one.  Each
 * step checks its piece and creates or repairs it.  Later calls therefore keep
 * the password and certificate that still pass, and replace only what is
 * missing or broken.  The run ends with a check through the endpoint, as a client
 * would connect, pinned to the installed server key.
 */
#include "provision_private.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "probe.h"
#include "i18n.h"

#define STATE_ENABLED "enabled"
#define STATE_SOURCE "certificate_source"
#define REGISTRY_STOP_WAIT_MS 15000

void provision_action(struct provision_run *run, const char *format, ...)
{
	char text[AGENT_ACTION_LEN];
	va_list ap;

	va_start(ap, format);
	vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);

	ecr_log(LOG_NOTICE, "registry provisioning: %s", text);
	if (run->actions->n < AGENT_ACTIONS_MAX)
		memcpy(run->actions->items[run->actions->n++], text, sizeof(text));
}

static bool state_is_enabled(struct agent *agent)
{
	char *value = NULL;
	bool enabled;

	if (agent_state_get(agent->state, STATE_ENABLED, &value) < 0)
		return false;
	enabled = strcmp(value, "true") == 0;
	free(value);
	return enabled;
}

static void read_source(struct agent *agent, char *ret_source, size_t size)
{
	char *value = NULL;

	if (agent_state_get(agent->state, STATE_SOURCE, &value) == 0 &&
	    strcmp(value, "provided") == 0)
		snprintf(ret_source, size, "provided");
	else
		snprintf(ret_source, size, "issued");
	free(value);
}

static int make_dirs(struct provision_run *run)
{
	const char *dirs[] = { run->paths->ca_dir, run->paths->registry_dir, run->paths->storage };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int r = ecr_mkdir_p(dirs[i], 0700);

		if (r < 0) {
			snprintf(run->err, run->err_size, _("failed to create %s: %s"), dirs[i], strerror(-r));
			return r;
		}
	}
	return 0;
}

static void registry_owner(const struct agent_config *config, uid_t *ret_uid, gid_t *ret_gid)
{
	*ret_uid = config->registry_user ? config->registry_uid : getuid();
	*ret_gid = config->registry_user ? config->registry_gid : getgid();
}

/* Gives PATH to UID:GID when it belongs to someone else; the mode stays.
 * Returns 1 when it changed, 0 when not, or a negative errno. */
static int give_to(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	if (st.st_uid == uid && st.st_gid == gid)
		return 0;
	return lchown(path, uid, gid) < 0 ? -errno : 1;
}

static uid_t storage_uid;
static gid_t storage_gid;

static int give_tree_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (st->st_uid == storage_uid && st->st_gid == storage_gid)
		return 0;
	return lchown(path, storage_uid, storage_gid) < 0 ? -1 : 0;
}

/* Makes the storage folder the registry user's.  A folder that belonged to
 * another user, such as root before registry_user was set, is handed over
 * with its whole content.  Caller holds provision_lock, which guards the
 * storage_uid and storage_gid that nftw's callback reads. */
static int give_storage(struct provision_run *run, uid_t uid, gid_t gid)
{
	const char *dir = run->paths->storage;
	struct stat st;

	if (lstat(dir, &st) < 0)
		return -errno;
	if (st.st_uid == uid && st.st_gid == gid)
		return 0;
	storage_uid = uid;
	storage_gid = gid;
	errno = 0;
	if (nftw(dir, give_tree_entry, 16, FTW_PHYS) < 0)
		return errno ? -errno : -EIO;
	provision_action(run, "gave the storage folder %s to uid %u", dir, (unsigned)uid);
	return 0;
}

/*
 * Gives the registry what it reads and writes when it runs as registry_user:
 * its configuration, credentials, certificate and key (0600, now its own), the
 * storage folder and the notify socket.  The state folder and STATE/registry
 * stay root's but become 0711 so that it reaches those paths without listing
 * them.  The password file, the CA key and agent.db stay root's 0600, and
 * STATE/registry stays root's so that the registry cannot replace the
 * password file.  Without registry_user everything belongs to the agent's user
 * and both folders go back from 0711 to 0700.  A registry.conf that changed
 * owner means the registry must restart as the new user.
 */
static int give_to_registry_user(struct provision_run *run)
{
	const struct agent_paths *p = run->paths;
	const char *files[] = { p->registry_conf, p->credentials, p->server_cert, p->server_key,
				p->notify_socket };
	const char *dirs[] = { p->state_dir, p->registry_dir };
	const char *failed = NULL;
	struct stat st;
	uid_t uid;
	gid_t gid;
	int r = 0;

	registry_owner(run->config, &uid, &gid);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && r == 0; i++) {
		/* Without registry_user only a 0711 of an earlier registry_user is
		 * undone, so a mode chosen by the administrator stays. */
		if (stat(dirs[i], &st) < 0) {
			r = -errno;
		} else if (run->config->registry_user && (st.st_mode & 07777) != 0711) {
			r = chmod(dirs[i], 0711) < 0 ? -errno : 0;
		} else if (!run->config->registry_user && (st.st_mode & 07777) == 0711) {
			r = chmod(dirs[i], 0700) < 0 ? -errno : 0;
		}
		if (r < 0)
			failed = dirs[i];
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && r >= 0; i++) {
		r = give_to(files[i], uid, gid);
		if (r < 0)
			failed = files[i];
		else if (r == 1 && files[i] == p->registry_conf)
			run->need_restart = true;
	}
	if (r >= 0) {
		r = give_storage(run, uid, gid);
		if (r < 0)
			failed = p->storage;
	}
	if (r < 0) {
		snprintf(run->err, run->err_size, _("failed to set owner or mode of %s for the registry user (uid %u): %s"),
			 failed, (unsigned)uid, strerror(-r));
		return r;
	}
	return 0;
}

static int save_state(struct provision_run *run)
{
	struct agent_state *state = run->agent->state;
	int r;

	r = agent_state_set(state, STATE_SOURCE, run->certificate_source);
	if (r == 0)
		r = agent_state_set(state, STATE_ENABLED, "true");
	if (r < 0)
		snprintf(run->err, run->err_size, _("failed to save the agent state: %s"), strerror(-r));
	return r;
}

static void configure_supervisor(struct provision_run *run)
{
	struct agent_supervisor_settings s = { 0 };

	snprintf(s.binary, sizeof(s.binary), "%s", run->config->registry_binary);
	snprintf(s.config_path, sizeof(s.config_path), "%s", run->paths->registry_conf);
	s.watchdog_sec = run->config->registry_watchdog_sec;
	s.start_timeout_sec = run->config->registry_start_timeout_sec;
	s.has_user = run->config->registry_user != NULL;
	registry_owner(run->config, &s.user.uid, &s.user.gid);
	agent_supervisor_configure(run->agent->supervisor, &s);
}

/* Starts, restarts or reloads the registry so that it serves the files just
 * checked. */
static int apply_to_registry(struct provision_run *run)
{
	struct agent_supervisor *sup = run->agent->supervisor;
	struct agent_registry_status status;
	int r = 0;

	if (access(run->config->registry_binary, X_OK) < 0) {
		r = -errno;
		snprintf(run->err, run->err_size, _("registry_binary %s cannot be executed: %s"),
			 run->config->registry_binary, strerror(-r));
		return r;
	}
	configure_supervisor(run);
	agent_supervisor_status(sup, &status);

	if (status.pid > 0 && (run->need_restart ||
			       (run->need_reload && status.state == AGENT_REGISTRY_STARTING))) {
		r = agent_supervisor_disable(sup, REGISTRY_STOP_WAIT_MS);
		agent_supervisor_enable(sup);
		provision_action(run, "restarted the registry to apply its new configuration");
	} else if (status.state == AGENT_REGISTRY_STOPPED || status.state == AGENT_REGISTRY_STOPPING) {
		agent_supervisor_enable(sup);
		provision_action(run, "started the registry");
	} else if (status.state == AGENT_REGISTRY_BACKOFF) {
		agent_supervisor_enable(sup);
	} else if (run->need_reload) {
		r = agent_supervisor_reload(sup);
		provision_action(run, "reloaded the registry's credentials and certificate");
	}
	if (r < 0 && r != -ESRCH)
		snprintf(run->err, run->err_size, _("failed to restart the registry: %s"), strerror(-r));
	return r == -ESRCH ? 0 : r;
}

static int wait_for_endpoint(struct provision_run *run)
{
	char name[AGENT_ENDPOINT_MAX], last_error[256];
	struct agent_probe_target target = {
		.endpoint_name = name,
		.ip = run->config->registry_ip,
		.port = run->config->registry_port,
		.ca_file = run->paths->trust_ca,
		.pinned_key = run->pinned_key,
		.credentials = &run->credentials,
	};
	int r;

	r = agent_endpoint_name(run->config, name);
	if (r < 0)
		return r;
	r = agent_probe_wait(&target, 200, run->config->registry_start_timeout_sec * 1000,
			     &run->agent->stopping, last_error, sizeof(last_error));
	if (r == -ETIMEDOUT) {
		struct agent_registry_status status;

		agent_supervisor_status(run->agent->supervisor, &status);
		snprintf(run->err, run->err_size, _("the registry did not respond on https://%s:%u/v2/ within %u s: %s; registry state %s, last exit: %s. The registry stays enabled and the agent keeps restarting it: Get-HcsKubernetesContainerRegistryInfo shows when it answers, Remove-HcsKubernetesContainerRegistry turns it off"),
			 name, run->config->registry_port, run->config->registry_start_timeout_sec,
			 last_error, agent_registry_state_name(status.state),
			 status.last_exit[0] ? status.last_exit : "none");
	} else if (r == -ECANCELED) {
		snprintf(run->err, run->err_size, _("the agent is stopping"));
	}
	return r;
}

/* The steps of a Set; caller holds provision_lock. */
static int provision_run_set(struct provision_run *run, const struct agent_set_options *o)
{
	int r;

	if (o->chain_pem) {
		r = provision_check_provided(run, o);
		if (r < 0)
			return r;
	}

	r = make_dirs(run);
	if (r == 0)
		r = provision_ensure_password(run, o->rotate_password);
	if (r == 0)
		r = provision_ensure_credentials_file(run, o->rotate_password);
	if (r == 0)
		r = provision_ensure_certificate(run, o);
	if (r == 0)
		r = provision_ensure_registry_conf(run);
	if (r == 0)
		r = give_to_registry_user(run);
	if (r == 0)
		r = save_state(run);
	if (r == 0)
		r = apply_to_registry(run);
	if (r == 0)
		r = wait_for_endpoint(run);
	if (r == 0)
		r = provision_ensure_node_trust(run);
	return r;
}

int agent_provision_set(struct agent *agent, const struct agent_set_options *options,
			struct agent_actions *ret_actions, char *err, size_t err_size)
{
	struct agent_actions actions = { .n = 0 };
	struct provision_run run = {
		.agent = agent, .paths = &agent->paths, .actions = &actions,
		.err = err, .err_size = err_size,
	};
	int r;

	pthread_mutex_lock(&agent->provision_lock);
	run.config = agent->config;
	run.was_enabled = state_is_enabled(agent);
	read_source(agent, run.certificate_source, sizeof(run.certificate_source));

	r = provision_run_set(&run, options);
	if (r == 0)
		provision_request_secrets(&run);
	pthread_mutex_unlock(&agent->provision_lock);

	agent_credentials_clear(&run.credentials);
	if (r == 0)
		*ret_actions = actions;
	return r;
}

static int remove_tree_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static int remove_files(struct agent *agent, bool purge, char *err, size_t err_size)
{
	const struct agent_paths *p = &agent->paths;
	const char *files[] = { p->credentials, p->server_cert, p->server_key, p->trust_ca,
				p->password, p->registry_conf };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (unlink(files[i]) < 0 && errno != ENOENT) {
			snprintf(err, err_size, _("failed to remove %s: %s"), files[i], strerror(errno));
			return -errno;
		}
	}
	if (purge && nftw(p->storage, remove_tree_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 &&
	    errno != ENOENT) {
		snprintf(err, err_size, _("failed to remove the stored images in %s: %s"),
			 p->storage, strerror(errno));
		return -errno;
	}
	return 0;
}

int agent_provision_remove(struct agent *agent, bool purge, char *err, size_t err_size)
{
	int r;

	pthread_mutex_lock(&agent->provision_lock);
	r = agent_supervisor_disable(agent->supervisor, REGISTRY_STOP_WAIT_MS);
	if (r < 0) {
		snprintf(err, err_size, _("the registry did not stop within %d ms"), REGISTRY_STOP_WAIT_MS);
		goto out;
	}

	/* Disabled first, so a crash between the steps leaves no half-enabled
	 * registry for the next start to restore. */
	r = agent_state_delete(agent->state, STATE_ENABLED);
	if (r == 0)
		r = agent_state_delete(agent->state, STATE_SOURCE);
	if (r < 0) {
		snprintf(err, err_size, _("failed to save the agent state: %s"), strerror(-r));
		goto out;
	}
	r = remove_files(agent, purge, err, err_size);
	if (r == 0)
		r = provision_take_back(agent, err, err_size);
	if (r == 0)
		ecr_log(LOG_NOTICE, "registry removed%s", purge ? ", stored images deleted" : "");

out:
	pthread_mutex_unlock(&agent->provision_lock);
	return r;
}

void agent_provision_maintain(struct agent *agent, const char *why)
{
	struct agent_set_options none = { 0 };
	struct agent_actions actions;
	char err[1024] = "";
	bool enabled;
	int r;

	pthread_mutex_lock(&agent->provision_lock);
	enabled = state_is_enabled(agent);
	/* Secrets left by a Remove while the API server was unreachable and the
	 * agent then stopped are deleted now. */
	if (!enabled)
		agent_kube_set_removed(agent->kube, agent->config);
	pthread_mutex_unlock(&agent->provision_lock);
	if (!enabled)
		return;

	r = agent_provision_set(agent, &none, &actions, err, sizeof(err));
	if (r < 0 && r != -ECANCELED)
		ecr_log(LOG_ERR, "registry check (%s) failed: %s", why, err);
	else if (r == 0)
		ecr_log(LOG_INFO, "registry check (%s): %zu actions, registry answering", why,
			actions.n);
}
