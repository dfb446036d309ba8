/* Tests of the cmdlets' PowerShell-style parameter parsing (cmdlet_args.c). */
#include <errno.h>

#include "cmdlet_args.h"
#include "unit.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char err[512];

static int parse(enum cmdlet_kind kind, int argc, char **argv, struct cmdlet_args *args)
{
	err[0] = '\0';
	return cmdlet_args_parse(kind, argc, argv, args, err, sizeof(err));
}

static void test_kind_names(void)
{
	enum cmdlet_kind kind = CMDLET_GET;

	CHECK_INT(cmdlet_kind_from_name("Set-HcsKubernetesContainerRegistry", &kind), 0);
	CHECK_INT(kind, CMDLET_SET);
	CHECK_INT(cmdlet_kind_from_name("get-hcskubernetescontainerregistryinfo", &kind), 0);
	CHECK_INT(kind, CMDLET_GET);
	CHECK_INT(cmdlet_kind_from_name("REMOVE-HCSKUBERNETESCONTAINERREGISTRY", &kind), 0);
	CHECK_INT(kind, CMDLET_REMOVE);
	CHECK_INT(cmdlet_kind_from_name("edgecr-cmdlet", &kind), -ENOENT);
	CHECK_INT(cmdlet_kind_from_name("Get-HcsKubernetesContainerRegistry", &kind), -ENOENT);
	CHECK_STR(cmdlet_kind_name(CMDLET_REMOVE), "Remove-HcsKubernetesContainerRegistry");
}

static void test_no_parameters(void)
{
	struct cmdlet_args args;

	CHECK_INT(parse(CMDLET_SET, 0, NULL, &args), 0);
	CHECK_INT(args.kind, CMDLET_SET);
	CHECK(!args.help);
	CHECK(!args.rotate_password);
	CHECK(!args.reissue_certificate);
	CHECK(args.certificate_path == NULL);
	CHECK(args.key_path == NULL);
}

static void test_switches_case_insensitive(void)
{
	char *argv[] = { "-rotatepassword", "-REISSUECERTIFICATE" };
	char *get_argv[] = { "-jSoN" };
	struct cmdlet_args args;

	CHECK_INT(parse(CMDLET_SET, ARGC(argv), argv, &args), 0);
	CHECK(args.rotate_password);
	CHECK(args.reissue_certificate);

	CHECK_INT(parse(CMDLET_GET, ARGC(get_argv), get_argv, &args), 0);
	CHECK(args.json);
}

static void test_unique_prefix(void)
{
	char *argv[] = { "-Rot" };
	char *ambiguous[] = { "-R" };
	struct cmdlet_args args;

	CHECK_INT(parse(CMDLET_SET, ARGC(argv), argv, &args), 0);
	CHECK(args.rotate_password);
	CHECK(!args.reissue_certificate);

	CHECK_INT(parse(CMDLET_SET, ARGC(ambiguous), ambiguous, &args), -EINVAL);
	CHECK(strstr(err, "-R") != NULL);
	CHECK(strstr(err, "-RotatePassword") != NULL);
	CHECK(strstr(err, "-ReissueCertificate") != NULL);
}

static void test_value_parameters(void)
{
	char *separate[] = { "-CertificatePath", "chain.pem", "-keypath", "key.pem" };
	char *inline_value[] = { "-certificatepath:chain.pem", "-KeyPath:key.pem" };
	struct cmdlet_args args;

	CHECK_INT(parse(CMDLET_SET, ARGC(separate), separate, &args), 0);
	CHECK_STR(args.certificate_path, "chain.pem");
	CHECK_STR(args.key_path, "key.pem");

	CHECK_INT(parse(CMDLET_SET, ARGC(inline_value), inline_value, &args), 0);
	CHECK_STR(args.certificate_path, "chain.pem");
	CHECK_STR(args.key_path, "key.pem");
}

static void test_missing_value(void)
{
	char *at_end[] = { "-KeyPath", "key.pem", "-CertificatePath" };
	char *empty_inline[] = { "-CertificatePath:", "-KeyPath", "key.pem" };
	struct cmdlet_args args;

	CHECK_INT(parse(CMDLET_SET, ARGC(at_end), at_end, &args), -EINVAL);
	CHECK(strstr(err, "-CertificatePath") != NULL);
	CHECK_INT(parse(CMDLET_SET, ARGC(empty_inline), empty_inline, &args), -EINVAL);
	CHECK(strstr(err, "-CertificatePath") != NULL);
}

static void test_certificate_needs_key(void)
{
	char *only_cert[] = { "-CertificatePath", "chain.pem" };
	char *only_key[] = { "-KeyPath", "key.pem" };
	char *with_reissue[] = { "-CertificatePath", "c.pem", "-KeyPath", "k.pem",
				 "-ReissueCertificate" };
	struct cmdlet_args args;

	CHECK_INT(parse(CMDLET_SET, ARGC(only_cert), only_cert, &args), -EINVAL);
	CHECK(strstr(err, "-KeyPath") != NULL);
	CHECK_INT(parse(CMDLET_SET, ARGC(only_key), only_key, &args), -EINVAL);
	CHECK(strstr(err, "-CertificatePath") != NULL);
	CHECK_INT(parse(CMDLET_SET, ARGC(with_reissue), with_reissue, &args), -EINVAL);
	CHECK(strstr(err, "-ReissueCertificate") != NULL);
}

static void test_unknown_parameter(void)
{
	char *argv[] = { "-Verbose" };
	char *other_cmdlet[] = { "-Purge" };
	char *double_dash[] = { "--json" };
	struct cmdlet_args args;

	CHECK_INT(parse(CMDLET_GET, ARGC(argv), argv, &args), -EINVAL);
	CHECK(strstr(err, "-Verbose") != NULL);
	CHECK(strstr(err, "Get-HcsKubernetesContainerRegistryInfo -?") != NULL);

	/* A parameter of another cmdlet is unknown here. */
	CHECK_INT(parse(CMDLET_GET, ARGC(other_cmdlet), other_cmdlet, &args), -EINVAL);
	CHECK(strstr(err, "-Purge") != NULL);

	CHECK_INT(parse(CMDLET_GET, ARGC(double_dash), double_dash, &args), -EINVAL);
}

static void test_positional_rejected(void)
{
	char *argv[] = { "-Json", "extra" };
	char *lone_dash[] = { "-" };
	struct cmdlet_args args;

	CHECK_INT(parse(CMDLET_GET, ARGC(argv), argv, &args), -EINVAL);
	CHECK(strstr(err, "'extra'") != NULL);
	CHECK_INT(parse(CMDLET_GET, ARGC(lone_dash), lone_dash, &args), -EINVAL);
}

static void test_duplicate_parameter(void)
{
	char *argv[] = { "-Json", "-json" };
	struct cmdlet_args args;

	CHECK_INT(parse(CMDLET_GET, ARGC(argv), argv, &args), -EINVAL);
	CHECK(strstr(err, "-Json") != NULL);
}

static void test_purge_needs_confirmation(void)
{
	char *bare[] = { "-Purge" };
	char *confirmed[] = { "-purge", "-confirm" };
	char *forced[] = { "-PURGE", "-Force" };
	char *forced_false[] = { "-Purge", "-Force:$false" };
	struct cmdlet_args args;

	CHECK_INT(parse(CMDLET_REMOVE, ARGC(bare), bare, &args), -EINVAL);
	CHECK(strstr(err, "-Confirm") != NULL);
	CHECK(strstr(err, "-Force") != NULL);

	CHECK_INT(parse(CMDLET_REMOVE, ARGC(confirmed), confirmed, &args), 0);
	CHECK(args.purge);
	CHECK(args.confirm);
	CHECK_INT(parse(CMDLET_REMOVE, ARGC(forced), forced, &args), 0);
	CHECK(args.purge);
	CHECK(args.force);

	CHECK_INT(parse(CMDLET_REMOVE, ARGC(forced_false), forced_false, &args), -EINVAL);
}

static void test_remove_without_purge(void)
{
	struct cmdlet_args args;

	CHECK_INT(parse(CMDLET_REMOVE, 0, NULL, &args), 0);
	CHECK(!args.purge);
}

static void test_switch_values(void)
{
	char *on[] = { "-Json:$true" };
	char *off[] = { "-Json:$FALSE" };
	char *bad[] = { "-Json:maybe" };
	struct cmdlet_args args;

	CHECK_INT(parse(CMDLET_GET, ARGC(on), on, &args), 0);
	CHECK(args.json);
	CHECK_INT(parse(CMDLET_GET, ARGC(off), off, &args), 0);
	CHECK(!args.json);
	CHECK_INT(parse(CMDLET_GET, ARGC(bad), bad, &args), -EINVAL);
	CHECK(strstr(err, "maybe") != NULL);
}

static void test_help_forms(void)
{
	char *forms[][2] = {
		{ "--help", NULL }, { "-Help", NULL }, { "-?", NULL }, { "-HELP", NULL },
		{ "-Purge", "-?" }, { "-Bogus", "--help" },
	};
	struct cmdlet_args args;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		int argc = forms[i][1] ? 2 : 1;

		CHECK_INT(parse(CMDLET_REMOVE, argc, forms[i], &args), 0);
		CHECK(args.help);
		CHECK(!args.purge);
	}
}

int main(void)
{
	RUN(test_kind_names);
	RUN(test_no_parameters);
	RUN(test_switches_case_insensitive);
	RUN(test_unique_prefix);
	RUN(test_value_parameters);
	RUN(test_missing_value);
	RUN(test_certificate_needs_key);
	RUN(test_unknown_parameter);
	RUN(test_positional_rejected);
	RUN(test_duplicate_parameter);
	RUN(test_purge_needs_confirmation);
	RUN(test_remove_without_purge);
	RUN(test_switch_values);
	RUN(test_help_forms);
	return UNIT_EXIT();
}
