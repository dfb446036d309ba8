/*
 * The three device cmdlets: each sends one request to edgecr-agent and prints
 * the result for a person (or, with Get -Json, for a script).
 *
 * Output goes to stdout, failures to stderr as one line that starts with the
 * cmdlet's name.  The functions return an exit status (CMDLET_EXIT_*).
 */
#ifndef EDGECR_CMDLET_COMMANDS_H
#define EDGECR_CMDLET_COMMANDS_H

#include <jansson.h>
#include <stddef.h>

#include "cmdlet_args.h"

/* Largest certificate chain or key file that Set reads, in bytes. */
#define CMDLET_PEM_MAX (256 * 1024)

/* Seconds each cmdlet waits for the agent.  The agent replies to Set only once
 * the registry serves GET /v2/, after key generation and the registry's start-up. */
#define CMDLET_SET_TIMEOUT 180L
#define CMDLET_GET_TIMEOUT 30L
#define CMDLET_REMOVE_TIMEOUT 600L

/* Runs the cmdlet that ARGS names and returns its exit status. */
int cmdlet_run(const struct cmdlet_args *args);

/*
 * Builds the JSON body of PUT /v1/registry from ARGS, reading the PEM files
 * of -CertificatePath and -KeyPath.  On success *ret_body is a new string
 * that the caller wipes and frees with cmdlet_secret_free.  Returns 0, or a
 * negative errno with one translated sentence in ERR.
 */
int cmdlet_set_body_build(const struct cmdlet_args *args, char **ret_body,
			  char *err, size_t err_size);

/*
 * Formats the reply of GET /v1/registry as Get- prints it: the Format-Table
 * table, or with AS_JSON one line holding the object
 * {"Endpoint":..,"IPAddress":..,"Username":..,"Password":..}.  *ret_text is
 * a new string for the caller to free with cmdlet_secret_free.  Returns 0,
 * -ENODATA when the registry is not enabled, -EBADMSG when a field is missing,
 * or -ENOMEM.
 */
int cmdlet_info_format(json_t *reply, bool as_json, char **ret_text);

/* Wipes the string S, which may hold a password or a key, and frees it.
 * NULL is a no-op. */
void cmdlet_secret_free(char *s);

/* Makes jansson wipe every block it frees, because its strings hold the
 * registry password and private keys.  Call before any other jansson call. */
void cmdlet_json_wipe_on_free(void);

#endif
