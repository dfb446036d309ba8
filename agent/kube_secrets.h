/*
 * Kubernetes image-pull secrets: a secret AGENT_KUBE_SECRET_NAME of type
 * kubernetes.io/dockerconfigjson in every namespace, holding the registry's
 * endpoint and credentials, so that pods can name it in imagePullSecrets.
 *
 * A thread of its own keeps the cluster in the state of provisioning's latest
 * request.  The API and the supervision only hand it requests and read its
 * status under a short lock, so they never wait for the API server:
 *
 * - registry enabled: the secret exists in every namespace but those of
 *   kube_skip_namespaces and those being deleted.  The thread lists the
 *   namespaces and the secrets of that name, then watches both.  A watch that
 *   ends or fails resumes from its last resourceVersion.  The thread lists
 *   again after 410 Gone, after a change that failed, and when a watch ends
 *   AGENT_KUBE_RESYNC_SEC after the last list.  A new namespace gets the
 *   secret when its event arrives, and a managed secret that was deleted or
 *   altered is put back when its event arrives.  A managed secret in a
 *   skipped namespace is deleted at the next list.
 * - registry removed: every secret of that name with the label
 *   AGENT_KUBE_LABEL_KEY=AGENT_KUBE_LABEL_VALUE is deleted.
 *
 * A secret of that name without the label belongs to someone else: it is left
 * alone and listed in unmanagedConflicts.  Errors are retried with a backoff
 * from 0.5 s doubling to AGENT_KUBE_BACKOFF_MAX_MS; meanwhile the status is
 * "pending" with the last error.  Without a kubeconfig nothing runs and the
 * status is "disabled".
 *
 * Locking: the functions below take the module's own lock, briefly, and never
 * another.  Callers may hold provision_lock or config_lock.
 */
#ifndef EDGECR_AGENT_KUBE_SECRETS_H
#define EDGECR_AGENT_KUBE_SECRETS_H

#include <jansson.h>

#include "config.h"
#include "password.h"

#define AGENT_KUBE_SECRET_NAME "ase-ecr-credentials"
#define AGENT_KUBE_LABEL_KEY "app.kubernetes.io/managed-by"
#define AGENT_KUBE_LABEL_VALUE "edgecr"
#define AGENT_KUBE_RESYNC_SEC 300
#define AGENT_KUBE_BACKOFF_MAX_MS 10000

struct agent_kube;

/* Starts the thread, idle until the first agent_kube_set_*.  Returns 0 or a
 * negative errno. */
int agent_kube_start(struct agent_kube **ret_kube);

/* Stops and joins the thread and frees KUBE; NULL is a no-op. */
void agent_kube_stop(struct agent_kube *kube);

/* Asks for the secret in every namespace with ENDPOINT ("name:port") and
 * CREDENTIALS (copied), using the kubeconfig settings of CONFIG.  Returns at
 * once; NULL KUBE is a no-op. */
void agent_kube_set_registry(struct agent_kube *kube, const struct agent_config *config,
			     const char *endpoint, const struct agent_credentials *credentials);

/* Asks for every managed secret to be deleted, using the kubeconfig settings
 * of CONFIG.  Returns at once; NULL KUBE is a no-op. */
void agent_kube_set_removed(struct agent_kube *kube, const struct agent_config *config);

/* Returns a new object for the API, or a "disabled" one when KUBE is NULL:
 * {"state":"synced"|"pending"|"disabled","namespaces":N,"lastError":...,
 *  "unmanagedConflicts":[...]} */
json_t *agent_kube_status_json(struct agent_kube *kube);

#endif
