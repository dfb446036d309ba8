/*
 * Shared by the Kubernetes secrets thread (kube_secrets.c) and its
 * reconciliation (kube_sync.c, kube_watch.c); see kube_secrets.h.
 */
#ifndef EDGECR_AGENT_KUBE_PRIVATE_H
#define EDGECR_AGENT_KUBE_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kube_client.h"
#include "kube_secrets.h"

/* The latest request from provisioning.  The thread works on a copy. */
struct kube_desired {
	uint64_t generation;       /* raised by each agent_kube_set_* */
	bool configured;           /* a kubeconfig is set */
	bool present;              /* registry enabled: secrets wanted */
	char *kubeconfig;
	char *serviceaccount_dir;
	char *skip_namespaces;
	char endpoint[AGENT_ENDPOINT_MAX];
	struct agent_credentials credentials;
};

enum kube_state { KUBE_DISABLED, KUBE_PENDING, KUBE_SYNCED };

struct agent_kube {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	atomic_bool stopping;      /* set with stop, read by requests in progress */
	/* Guarded by lock: */
	bool stop;
	struct kube_desired desired;
	CURLM *multi;              /* the watch in progress, for curl_multi_wakeup */
	enum kube_state state;
	size_t namespaces;
	char last_error[512];
	json_t *conflicts;         /* array of namespace names */
};

enum ns_state { NS_PENDING, NS_SYNCED, NS_CONFLICT };

struct ns_entry {
	char name[64];             /* a DNS label */
	enum ns_state state;
};

/* The thread's own working state; no lock. */
struct kube_sync {
	struct agent_kube *kube;
	struct kube_desired want;
	struct agent_kube_client *client;
	json_t *dockerconfig;      /* the decoded .dockerconfigjson wanted */
	char *dockerconfig_b64;
	struct ns_entry *ns;
	size_t n_ns, cap_ns;
	char ns_version[64];       /* resourceVersion to resume each watch from */
	char secret_version[64];
	bool failed;               /* an operation failed since the last publish */
	bool change_failed;        /* a secret could not be made right: relist to retry */
	char err[512];
};

/* Returns true when the thread must drop its work: a stop or a new request. */
bool kube_interrupted(struct kube_sync *s);

/* Sleeps MS or until kube_interrupted.  Returns false when interrupted. */
bool kube_sleep(struct kube_sync *s, unsigned ms);

/* Publishes the state of S to the status API. */
void kube_publish(struct kube_sync *s, enum kube_state state);

/* Records a failure in s->err (printf FORMAT) and logs it when it differs
 * from the last one. */
void kube_fail(struct kube_sync *s, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* kube_sync.c */
int kube_build_secret_data(struct kube_sync *s);
int kube_full_sync(struct kube_sync *s);
int kube_remove_all(struct kube_sync *s);
struct ns_entry *kube_ns_find(struct kube_sync *s, const char *name);
int kube_ns_add(struct kube_sync *s, const char *name);
void kube_ns_remove(struct kube_sync *s, const char *name);
/* Makes the secret in NS right.  EXISTING is the secret as last seen, json
 * null when it is known to be absent, or NULL to fetch it. */
int kube_ensure_secret(struct kube_sync *s, const char *ns, json_t *existing);

/* kube_watch.c: watches namespaces and secrets until an interruption or the
 * end of a stream (1 when both streams had connected, else 0), an expired
 * resourceVersion (-ESTALE) or an error. */
int kube_watch(struct kube_sync *s);

#endif
