/*
 * Configuration of edgecr-agent: the device identity, where the agent keeps its
 * state and API socket, and how it supervises the registry.
 *
 * A configuration starts from the embedded defaults (agent_config_new), takes
 * the keys of a file (agent_config_load) and the command-line overrides, and is
 * then completed once (agent_config_finish), which derives the values that
 * depend on others.  Every error message names the key and the bad value.
 * docs/agent.md lists the keys with their defaults.
 */
#ifndef EDGECR_AGENT_CONFIG_H
#define EDGECR_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define AGENT_DEFAULT_STATE_DIR "/var/lib/edgecr"
#define AGENT_DEFAULT_SOCKET "/run/edgecr/agent.sock"
#define AGENT_DEFAULT_ADMIN_GROUP "edgecr-admin"
#define AGENT_DEFAULT_REGISTRY_IP "127.0.0.1"
#define AGENT_DEFAULT_REGISTRY_PORT 31001
#define AGENT_DEFAULT_DNS_DOMAIN "local"
#define AGENT_DEFAULT_KUBE_SKIP_NAMESPACES "kube-system,kube-public,kube-node-lease"
#define AGENT_DEFAULT_TRUST_CONTAINERD_DIR "/etc/containerd/certs.d"
#define AGENT_DEFAULT_TRUST_DOCKER_DIR "/etc/docker/certs.d"
#define AGENT_DEFAULT_HOSTS_FILE "/etc/hosts"
#define AGENT_DEFAULT_SERVICEACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* The Makefile passes its UIDIR, so the default follows the install prefix. */
#ifdef EDGECR_UIDIR
#define AGENT_DEFAULT_UI_DIR EDGECR_UIDIR
#else
#define AGENT_DEFAULT_UI_DIR "/usr/share/edgecr/ui"
#endif

/* The value of key kubeconfig that selects the pod's service-account files. */
#define AGENT_KUBECONFIG_IN_CLUSTER "in-cluster"

/* Size of a buffer for any endpoint name or "name:port", NUL included. */
#define AGENT_ENDPOINT_MAX 300

struct agent_config {
	char *device_name;        /* one DNS label, lowercase */
	char *dns_domain;         /* lowercase DNS name */
	char *registry_ip;        /* IPv4 or IPv6 literal clients connect to */
	unsigned registry_port;
	char *registry_listen;    /* ADDR:PORT the registry binds */
	char *state_dir;
	char *socket_path;        /* API socket */
	mode_t socket_mode;
	char *admin_group;
	char *registry_binary;
	char *registry_user;      /* user the registry runs as, or NULL: the agent's */
	uid_t registry_uid;       /* of registry_user, looked up when it was set */
	gid_t registry_gid;
	char *ca_cert;            /* existing device CA to issue from, or NULL */
	char *ca_key;
	unsigned certificate_validity_days;
	unsigned renew_before_days;
	unsigned registry_watchdog_sec;
	unsigned registry_start_timeout_sec;
	int log_level;            /* syslog priority */
	char *kubeconfig;         /* path, AGENT_KUBECONFIG_IN_CLUSTER, or NULL: no Kubernetes */
	char *kube_skip_namespaces;  /* comma-separated names; "" skips none */
	char *kube_serviceaccount_dir;  /* token and ca.crt of the in-cluster mode */
	bool node_trust;          /* write the trust files and the hosts line */
	char *trust_containerd_dir;
	char *trust_docker_dir;
	char *hosts_file;
	char *ui_listen;           /* loopback ADDR:PORT of the web UI, or NULL: off */
	char *ui_dir;              /* the web page's static files */
	/* Storage settings passed to the registry's configuration as they were
	 * written, after the same checks the registry makes. */
	char *registry_gc_schedule;    /* HH:MM (UTC) of the daily gc, or NULL: none */
	char *registry_storage_limit;  /* a size such as 20G; "0": no limit */
	char *registry_min_free_space; /* a size or a percent such as 5% */
};

/* Allocates a configuration holding the embedded defaults.  The device name
 * comes from the host name.  Returns 0 or -ENOMEM. */
int agent_config_new(struct agent_config **ret_config);

/* Frees CONFIG; NULL is a no-op. */
void agent_config_free(struct agent_config *config);

/* Applies the keys of the file at PATH.  Returns 0 or a negative errno with a
 * message naming the file, line, key and value in err. */
int agent_config_load(struct agent_config *config, const char *path,
		      char *err, size_t err_size);

/* Sets one key, as a line "KEY = VALUE" of the file would.  Returns 0, or
 * -EINVAL with a message naming the key and the value in err. */
int agent_config_set(struct agent_config *config, const char *key, const char *value,
		     char *err, size_t err_size);

/* Derives registry_listen and registry_binary when they were not set, and
 * checks the keys that must be set together.  Returns 0 or -EINVAL with err. */
int agent_config_finish(struct agent_config *config, char *err, size_t err_size);

/* Writes "ecr.<device_name>.<dns_domain>" into ret_name (AGENT_ENDPOINT_MAX
 * bytes).  Returns 0 or -ENAMETOOLONG. */
int agent_endpoint_name(const struct agent_config *config, char *ret_name);

/* Writes "ecr.<device_name>.<dns_domain>:<port>" into ret_endpoint
 * (AGENT_ENDPOINT_MAX bytes).  Returns 0 or -ENAMETOOLONG. */
int agent_endpoint_format(const struct agent_config *config, char *ret_endpoint);

/* Returns true when NS is one of the comma-separated names of LIST, such as
 * kube_skip_namespaces. */
bool agent_namespace_in_list(const char *list, const char *ns);

/* Returns 1 when NAME is a DNS label: 1-63 of [a-z0-9-], no hyphen at either end. */
int agent_dns_label_is_valid(const char *name, size_t len);

#endif
