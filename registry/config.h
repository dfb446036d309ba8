/*
 * The registry's settings: embedded defaults, then the configuration file,
 * then command-line options, each overriding the one before.
 *
 * Every key is documented with its default in docs/registry.md.  A bad value
 * is reported as "KEY: invalid value \"VALUE\": reason" before anything
 * listens, so the operator sees which line to fix.
 */
#ifndef EDGECR_REG_CONFIG_H
#define EDGECR_REG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define REG_CONFIG_DEFAULT_LISTEN "0.0.0.0:31001"
#define REG_CONFIG_DEFAULT_ROOT "/var/lib/edgecr/registry"
#define REG_CONFIG_DEFAULT_REALM "edgecr"

struct reg_config {
	char *listen;             /* ADDR:PORT, "[V6ADDR]:PORT" for IPv6 */
	char *root;               /* storage root */
	char *tls_cert;           /* PEM certificate chain; TLS when set */
	char *tls_key;            /* PEM private key, set together with tls_cert */
	char *auth_file;          /* credentials file; Basic auth when set */
	char *realm;              /* realm of the WWW-Authenticate challenge */
	char *endpoint;           /* "https://host:port" prefix for Location, or NULL */
	int log_priority;         /* LOG_ERR..LOG_DEBUG */
	bool anonymous_pull;      /* clients without credentials may pull */
	unsigned max_connections; /* concurrent client connections */
	unsigned max_connections_per_address; /* concurrent connections of one client IP */
	unsigned max_uploads_per_client;      /* uploads in progress of one client IP */
	unsigned connection_timeout;  /* seconds a connection may stay idle */
	unsigned header_timeout;      /* seconds to complete a request's headers */
	unsigned upload_idle_timeout; /* seconds before an untouched upload is removed */
	unsigned shutdown_timeout;    /* seconds in-flight requests get on SIGTERM */
	bool gc_keep_untagged;        /* garbage collection keeps untagged manifests */
	unsigned gc_grace_period;     /* seconds new manifests and blob links are kept */
	int gc_schedule_minute;       /* minute of the day (UTC) gc runs, -1: never */
	uint64_t storage_limit;       /* bytes all blobs may take, 0: no limit */
	uint64_t min_free_bytes;      /* free bytes uploads must leave, unless a percent is set */
	unsigned min_free_percent;    /* free percent of the file system, 0: use min_free_bytes */
	char *metrics_listen;         /* loopback ADDR:PORT serving /metrics without auth, or NULL */

	/* Parsed form of listen, filled by reg_config_validate. */
	struct sockaddr_storage listen_addr;
	socklen_t listen_addr_len;
	/* Parsed form of metrics_listen when set, filled by reg_config_validate. */
	struct sockaddr_storage metrics_listen_addr;
	socklen_t metrics_listen_addr_len;
};

/* Fills *CONFIG with the embedded defaults.  Returns 0 or -ENOMEM. */
int reg_config_init(struct reg_config *config);

/* Frees what *CONFIG owns; a released config may be released again. */
void reg_config_release(struct reg_config *config);

/*
 * Sets KEY to VALUE.  Returns 0; -EINVAL with "KEY: ..." in ERR for an unknown
 * key or a bad value; -ENOMEM.  Used for the file and for the options.
 */
int reg_config_set(struct reg_config *config, const char *key, const char *value,
		   char *err, size_t err_size);

/* Reads the configuration file PATH into CONFIG.  Returns 0 or a negative
 * errno with "PATH:LINE: ..." in ERR. */
int reg_config_load(struct reg_config *config, const char *path, char *err, size_t err_size);

/*
 * Checks the settings as a whole (tls_cert and tls_key together, listen
 * parseable, metrics_listen on loopback) and fills listen_addr and
 * metrics_listen_addr.  Returns 0 or -EINVAL with a reason in ERR.
 */
int reg_config_validate(struct reg_config *config, char *err, size_t err_size);

/*
 * Parses "ADDR:PORT" or "[V6ADDR]:PORT" with a numeric address into *RET and
 * *RET_LEN.  Returns 0 or -EINVAL.
 */
int reg_config_parse_listen(const char *text, struct sockaddr_storage *ret, socklen_t *ret_len);

#endif
