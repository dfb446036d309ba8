/*
 * edgecr-cmdlet: the device cmdlets in one binary.  It runs the cmdlet named
 * by the name it was started under (Set-HcsKubernetesContainerRegistry and the
 * others are symlinks to it), or by its first argument:
 * "edgecr-cmdlet Get-HcsKubernetesContainerRegistryInfo -Json".
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmdlet_args.h"
#include "cmdlet_commands.h"
#include "i18n.h"
#include "nodump.h"

static void usage_print(FILE *out)
{
	fprintf(out, _("Usage: edgecr-cmdlet NAME [PARAMETERS]\n"
		       "NAME is one of:\n"));
	for (int kind = CMDLET_SET; kind <= CMDLET_REMOVE; kind++)
		fprintf(out, "  %s\n", cmdlet_kind_name((enum cmdlet_kind)kind));
	fprintf(out, _("Run edgecr-cmdlet NAME -? for the parameters of one cmdlet.\n"));
}

/*
 * Finds the cmdlet to run: the program's own name, else argv[1].  Sets
 * *ret_kind and *ret_first to the index of the first parameter.  Returns 0,
 * or -ENOENT after printing the usage.
 */
static int command_resolve(int argc, char **argv, enum cmdlet_kind *ret_kind, int *ret_first)
{
	/* GNU basename: never modifies its argument. */
	const char *self = argc > 0 ? basename(argv[0]) : "";

	if (cmdlet_kind_from_name(self, ret_kind) == 0) {
		*ret_first = 1;
		return 0;
	}
	if (argc > 1 && cmdlet_kind_from_name(argv[1], ret_kind) == 0) {
		*ret_first = 2;
		return 0;
	}

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0)) {
		usage_print(stdout);
		return -ECANCELED;
	}
	if (argc > 1)
		fprintf(stderr, _("edgecr-cmdlet: unknown cmdlet '%s'.\n"), argv[1]);
	usage_print(stderr);
	return -ENOENT;
}

int main(int argc, char **argv)
{
	struct cmdlet_args args;
	char err[1024];
	enum cmdlet_kind kind;
	int first, status, r;

	ecr_i18n_init();
	cmdlet_json_wipe_on_free();
	/* Get- and Set- receive the registry password from the agent.  prctl
	 * and setrlimit fail only on invalid arguments, so the result is not
	 * checked. */
	(void)ecr_disable_core_dumps();

	r = command_resolve(argc, argv, &kind, &first);
	if (r == -ECANCELED)
		return CMDLET_EXIT_OK;
	if (r < 0)
		return CMDLET_EXIT_USAGE;

	r = cmdlet_args_parse(kind, argc - first, argv + first, &args, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", cmdlet_kind_name(kind), err);
		return CMDLET_EXIT_USAGE;
	}

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "%s: %s\n", cmdlet_kind_name(kind), _("Cannot initialize libcurl."));
		return CMDLET_EXIT_FAILED;
	}
	status = cmdlet_run(&args);
	curl_global_cleanup();
	return status;
}
