/*
 * Command-line parameters of the device cmdlets, parsed the way PowerShell
 * binds switch and value parameters.
 *
 * Parameter names are matched case-insensitively, and a unique prefix of a
 * name is accepted ("-rot" is -RotatePassword), as PowerShell does.  A value
 * follows its parameter as the next argument or after a colon
 * ("-CertificatePath:chain.pem"), and a switch may be written "-Force:$false".
 * "--help", "-Help" and "-?" ask for help.  Positional arguments are rejected
 * because none of the cmdlets takes one.
 */
#ifndef EDGECR_CMDLET_ARGS_H
#define EDGECR_CMDLET_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cmdlet_kind {
	CMDLET_SET,
	CMDLET_GET,
	CMDLET_REMOVE,
};

/* Parsed parameters.  The path strings point into argv and are not owned. */
struct cmdlet_args {
	enum cmdlet_kind kind;
	bool help;

	/* Set-HcsKubernetesContainerRegistry */
	bool rotate_password;
	bool reissue_certificate;
	const char *certificate_path; /* PEM chain, server certificate first */
	const char *key_path;         /* PEM private key of that certificate */

	/* Get-HcsKubernetesContainerRegistryInfo */
	bool json;

	/* Remove-HcsKubernetesContainerRegistry */
	bool purge;
	bool confirm;
	bool force;
};

/* Exit statuses of every cmdlet. */
#define CMDLET_EXIT_OK 0
#define CMDLET_EXIT_FAILED 1 /* the agent or the system refused or failed */
#define CMDLET_EXIT_USAGE 2  /* invalid parameters; nothing was sent */

/*
 * Looks NAME up among the cmdlet names (case-insensitively, as PowerShell
 * resolves commands).  Returns 0 and sets *ret_kind, or -ENOENT.
 */
int cmdlet_kind_from_name(const char *name, enum cmdlet_kind *ret_kind);

/* Returns the PowerShell name of KIND, e.g. "Set-HcsKubernetesContainerRegistry". */
const char *cmdlet_kind_name(enum cmdlet_kind kind);

/*
 * Parses ARGC arguments of ARGV (the parameters only, without the command
 * name) for KIND into *ret_args, which is written only on success.  Returns 0,
 * or -EINVAL with one translated sentence naming the offending argument in ERR.
 * A request for help always succeeds, with ret_args->help set, so that
 * "-Purge -?" shows the help instead of an error.
 */
int cmdlet_args_parse(enum cmdlet_kind kind, int argc, char **argv,
		      struct cmdlet_args *ret_args, char *err, size_t err_size);

/* Writes the translated help of KIND to OUT. */
void cmdlet_args_print_help(enum cmdlet_kind kind, FILE *out);

#endif
