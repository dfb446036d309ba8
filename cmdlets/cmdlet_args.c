/* PowerShell-style parameter binding for the cmdlets; see cmdlet_args.h. */
#include "cmdlet_args.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "i18n.h"

#define KIND_BIT(kind) (1u << (kind))
#define ALL_KINDS (KIND_BIT(CMDLET_SET) | KIND_BIT(CMDLET_GET) | KIND_BIT(CMDLET_REMOVE))

/* One parameter: which cmdlets accept it and the field of struct cmdlet_args
 * it sets, a bool for a switch or a const char * for a value parameter. */
struct cmdlet_param {
	const char *name;
	unsigned kinds;
	bool takes_value;
	size_t offset;
};

static const struct cmdlet_param cmdlet_params[] = {
	{ "Help", ALL_KINDS, false, offsetof(struct cmdlet_args, help) },
	{ "RotatePassword", KIND_BIT(CMDLET_SET), false,
	  offsetof(struct cmdlet_args, rotate_password) },
	{ "ReissueCertificate", KIND_BIT(CMDLET_SET), false,
	  offsetof(struct cmdlet_args, reissue_certificate) },
	{ "CertificatePath", KIND_BIT(CMDLET_SET), true,
	  offsetof(struct cmdlet_args, certificate_path) },
	{ "KeyPath", KIND_BIT(CMDLET_SET), true, offsetof(struct cmdlet_args, key_path) },
	{ "Json", KIND_BIT(CMDLET_GET), false, offsetof(struct cmdlet_args, json) },
	{ "Purge", KIND_BIT(CMDLET_REMOVE), false, offsetof(struct cmdlet_args, purge) },
	{ "Confirm", KIND_BIT(CMDLET_REMOVE), false, offsetof(struct cmdlet_args, confirm) },
	{ "Force", KIND_BIT(CMDLET_REMOVE), false, offsetof(struct cmdlet_args, force) },
};

#define N_PARAMS (sizeof(cmdlet_params) / sizeof(cmdlet_params[0]))

static const char *const cmdlet_names[] = {
	[CMDLET_SET] = "Set-HcsKubernetesContainerRegistry",
	[CMDLET_GET] = "Get-HcsKubernetesContainerRegistryInfo",
	[CMDLET_REMOVE] = "Remove-HcsKubernetesContainerRegistry",
};

int cmdlet_kind_from_name(const char *name, enum cmdlet_kind *ret_kind)
{
	for (size_t i = 0; i < sizeof(cmdlet_names) / sizeof(cmdlet_names[0]); i++) {
		if (strcasecmp(name, cmdlet_names[i]) == 0) {
			*ret_kind = (enum cmdlet_kind)i;
			return 0;
		}
	}
	return -ENOENT;
}

const char *cmdlet_kind_name(enum cmdlet_kind kind)
{
	return cmdlet_names[kind];
}

static bool is_help_request(const char *arg)
{
	return strcmp(arg, "-?") == 0 || strcasecmp(arg, "--help") == 0 ||
	       strcasecmp(arg, "-Help") == 0;
}

/*
 * Finds the parameter of KIND named by the LEN bytes at NAME: an exact
 * case-insensitive match, or else the only parameter that NAME is a prefix of.
 */
static const struct cmdlet_param *param_find(enum cmdlet_kind kind, const char *name,
					     size_t len, char *err, size_t err_size)
{
	const struct cmdlet_param *found = NULL;
	const struct cmdlet_param *second = NULL;

	for (size_t i = 0; i < N_PARAMS; i++) {
		const struct cmdlet_param *p = &cmdlet_params[i];

		if (!(p->kinds & KIND_BIT(kind)) || strncasecmp(p->name, name, len) != 0)
			continue;
		if (p->name[len] == '\0')
			return p;
		if (found)
			second = p;
		else
			found = p;
	}

	if (second) {
		snprintf(err, err_size, _("Parameter -%.*s is ambiguous: it matches -%s and -%s."),
			 (int)len, name, found->name, second->name);
		return NULL;
	}
	if (!found)
		snprintf(err, err_size,
			 _("Unknown parameter -%.*s. Run %s -? for the list of parameters."),
			 (int)len, name, cmdlet_kind_name(kind));
	return found;
}

/* Parses the value of a switch written "-Name:VALUE", as PowerShell spells booleans. */
static int switch_value_parse(const struct cmdlet_param *p, const char *value, bool *ret,
			      char *err, size_t err_size)
{
	if (strcasecmp(value, "$true") == 0 || strcasecmp(value, "true") == 0 ||
	    strcmp(value, "1") == 0) {
		*ret = true;
		return 0;
	}
	if (strcasecmp(value, "$false") == 0 || strcasecmp(value, "false") == 0 ||
	    strcmp(value, "0") == 0) {
		*ret = false;
		return 0;
	}
	snprintf(err, err_size, _("Invalid value '%s' for switch -%s: use $true or $false."),
		 value, p->name);
	return -EINVAL;
}

/*
 * Binds the parameter at argv[*index] into ARGS.  A value parameter without
 * an inline ":VALUE" consumes the next argument, so *index may advance by one.
 */
static int param_bind(enum cmdlet_kind kind, int argc, char **argv, int *index,
		      struct cmdlet_args *args, bool *seen, char *err, size_t err_size)
{
	const char *arg = argv[*index];
	const char *name = arg + 1;
	const char *colon = strchr(name, ':');
	size_t len = colon ? (size_t)(colon - name) : strlen(name);
	const struct cmdlet_param *p;
	char *field;

	p = param_find(kind, name, len, err, err_size);
	if (!p)
		return -EINVAL;

	if (seen[p - cmdlet_params]) {
		snprintf(err, err_size, _("Parameter -%s is given more than once."), p->name);
		return -EINVAL;
	}
	seen[p - cmdlet_params] = true;
	field = (char *)args + p->offset;

	if (!p->takes_value) {
		*(bool *)field = true;
		return colon ? switch_value_parse(p, colon + 1, (bool *)field, err, err_size) : 0;
	}

	if (colon) {
		*(const char **)field = colon + 1;
	} else if (*index + 1 < argc) {
		*index += 1;
		*(const char **)field = argv[*index];
	}
	if (!*(const char **)field || !**(const char **)field) {
		snprintf(err, err_size, _("Missing value for -%s: give a file path."), p->name);
		return -EINVAL;
	}
	return 0;
}

/* Rejects combinations of parameters that cannot be carried out together. */
static int args_check(const struct cmdlet_args *args, char *err, size_t err_size)
{
	if (!args->certificate_path != !args->key_path) {
		snprintf(err, err_size,
			 _("-CertificatePath and -KeyPath must be given together."));
		return -EINVAL;
	}
	if (args->certificate_path && args->reissue_certificate) {
		snprintf(err, err_size,
			 _("-ReissueCertificate cannot be combined with -CertificatePath, "
			   "which provides the certificate."));
		return -EINVAL;
	}
	if (args->purge && !args->confirm && !args->force) {
		snprintf(err, err_size,
			 _("-Purge deletes every stored image: add -Confirm or -Force to go ahead."));
		return -EINVAL;
	}
	return 0;
}

int cmdlet_args_parse(enum cmdlet_kind kind, int argc, char **argv,
		      struct cmdlet_args *ret_args, char *err, size_t err_size)
{
	struct cmdlet_args args = { .kind = kind };
	bool seen[N_PARAMS] = { false };
	int r;

	for (int i = 0; i < argc; i++) {
		if (is_help_request(argv[i])) {
			*ret_args = (struct cmdlet_args){ .kind = kind, .help = true };
			return 0;
		}
	}

	for (int i = 0; i < argc; i++) {
		if (argv[i][0] != '-' || argv[i][1] == '\0') {
			snprintf(err, err_size,
				 _("Unexpected argument '%s': %s takes no positional arguments."),
				 argv[i], cmdlet_kind_name(kind));
			return -EINVAL;
		}
		r = param_bind(kind, argc, argv, &i, &args, seen, err, err_size);
		if (r < 0)
			return r;
	}

	r = args_check(&args, err, err_size);
	if (r < 0)
		return r;

	*ret_args = args;
	return 0;
}

void cmdlet_args_print_help(enum cmdlet_kind kind, FILE *out)
{
	const char *name = cmdlet_kind_name(kind);

	switch (kind) {
	case CMDLET_SET:
		fprintf(out, _("Usage: %s [-RotatePassword] [-ReissueCertificate]\n"
			       "       [-CertificatePath FILE -KeyPath FILE]\n"
			       "\n"
			       "Enables the container registry of this device, or repairs it, and waits\n"
			       "until it answers.  Running it again keeps the credentials.\n"
			       "\n"
			       "  -RotatePassword      replace the registry password\n"
			       "  -ReissueCertificate  issue a new certificate from the device CA\n"
			       "  -CertificatePath     PEM file with the server certificate and its chain\n"
			       "  -KeyPath             PEM file with the private key of that certificate\n"),
			name);
		break;
	case CMDLET_GET:
		fprintf(out, _("Usage: %s [-Json]\n"
			       "\n"
			       "Shows the endpoint, IP address and credentials of the container registry.\n"
			       "\n"
			       "  -Json  print one JSON object instead of a table\n"),
			name);
		break;
	case CMDLET_REMOVE:
		fprintf(out, _("Usage: %s [-Purge (-Confirm | -Force)]\n"
			       "\n"
			       "Stops the container registry and disables it.  Stored images are kept\n"
			       "unless -Purge is given.\n"
			       "\n"
			       "  -Purge    also delete every stored image\n"
			       "  -Confirm  confirm -Purge\n"
			       "  -Force    confirm -Purge (same as -Confirm)\n"),
			name);
		break;
	}
	fprintf(out, _("\nParameter names are case-insensitive and may be abbreviated.\n"));
}
