/* Set-, Get- and Remove-HcsKubernetesContainerRegistry; see cmdlet_commands.h. */
#include "cmdlet_commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdlet_agent.h"
#include "cmdlet_table.h"
#include "fileio.h"
#include "i18n.h"

/* Size of the error buffers.  Agent messages are one sentence. */
#define CMDLET_ERR_MAX 1024

/* Prefix of each jansson block, which records its size for wipe_free. */
union wipe_header {
	size_t size;
	max_align_t align;
};

static void *wipe_malloc(size_t size)
{
	union wipe_header *header = malloc(sizeof(*header) + size);

	if (!header)
		return NULL;
	header->size = size;
	return header + 1;
}

static void wipe_free(void *block)
{
	union wipe_header *header;

	if (!block)
		return;
	header = (union wipe_header *)block - 1;
	explicit_bzero(block, header->size);
	free(header);
}

void cmdlet_json_wipe_on_free(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}

void cmdlet_secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Serializes JSON compactly as one line, keeping key order, into a malloc'd
 * string (not
 * jansson's allocator, so that cmdlet_secret_free applies to it). */
static int json_text(const json_t *json, char **ret_text)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int r = 0;

	if (!out)
		return -ENOMEM;
	if (json_dumpf(json, out, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0 || fputc('\n', out) == EOF)
		r = -ENOMEM;
	if (fclose(out) != 0)
		r = -ENOMEM;
	if (r < 0) {
		cmdlet_secret_free(text);
		return r;
	}
	*ret_text = text;
	return 0;
}

/* Prints "NAME: MESSAGE" on stderr, the one line of every failure. */
static void error_print(enum cmdlet_kind kind, const char *message)
{
	fprintf(stderr, "%s: %s\n", cmdlet_kind_name(kind), message);
}

/* Writes TEXT to stdout.  Returns the exit status: a full disk or a closed
 * pipe must not look like success. */
static int output_print(enum cmdlet_kind kind, const char *text)
{
	if (fputs(text, stdout) == EOF || fflush(stdout) == EOF) {
		error_print(kind, _("Cannot write the output."));
		return CMDLET_EXIT_FAILED;
	}
	return CMDLET_EXIT_OK;
}

/* Returns whether DATA is ASCII text, as every PEM file is. */
static bool is_ascii_text(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c >= 0x7F || (c < 0x20 && c != '\n' && c != '\r' && c != '\t'))
			return false;
	}
	return true;
}

/* Reads the PEM file PATH given to -PARAM and checks that it contains MARKER.
 * *ret_pem is a new string for cmdlet_secret_free. */
static int pem_file_read(const char *path, const char *param, const char *marker,
			 char **ret_pem, char *err, size_t err_size)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	r = ecr_read_file(path, CMDLET_PEM_MAX, &data, &len);
	if (r == -EFBIG) {
		snprintf(err, err_size, _("%s (-%s) is larger than %d bytes: it is not a PEM file."),
			 path, param, CMDLET_PEM_MAX);
		return r;
	}
	if (r < 0) {
		snprintf(err, err_size, _("Cannot read %s (-%s): %s."), path, param, strerror(-r));
		return r;
	}

	if (!is_ascii_text(data, len) || !strstr(data, marker)) {
		snprintf(err, err_size, _("%s (-%s) is not a PEM file: it has no \"%s\" line."),
			 path, param, marker);
		cmdlet_secret_free(data);
		return -EINVAL;
	}
	*ret_pem = data;
	return 0;
}

/* Adds the provided certificate chain and key to the PUT body JSON. */
static int body_add_certificate(json_t *json, const struct cmdlet_args *args,
				char *err, size_t err_size)
{
	char *chain = NULL, *key = NULL;
	int r;

	r = pem_file_read(args->certificate_path, "CertificatePath",
			  "-----BEGIN CERTIFICATE-----", &chain, err, err_size);
	if (r < 0)
		goto out;
	r = pem_file_read(args->key_path, "KeyPath", "PRIVATE KEY-----", &key, err, err_size);
	if (r < 0)
		goto out;

	if (json_object_set_new(json, "certificateChainPem", json_string(chain)) < 0 ||
	    json_object_set_new(json, "privateKeyPem", json_string(key)) < 0) {
		snprintf(err, err_size, _("Out of memory."));
		r = -ENOMEM;
	}
out:
	cmdlet_secret_free(chain);
	cmdlet_secret_free(key);
	return r;
}

int cmdlet_set_body_build(const struct cmdlet_args *args, char **ret_body,
			  char *err, size_t err_size)
{
	json_t *json;
	int r;

	json = json_pack("{s:b, s:b}", "rotatePassword", args->rotate_password,
			 "reissueCertificate", args->reissue_certificate);
	if (!json) {
		snprintf(err, err_size, _("Out of memory."));
		return -ENOMEM;
	}

	if (args->certificate_path) {
		r = body_add_certificate(json, args, err, err_size);
		if (r < 0)
			goto out;
	}

	r = json_text(json, ret_body);
	if (r < 0)
		snprintf(err, err_size, _("Out of memory."));
out:
	json_decref(json);
	return r;
}

/* Writes the one-line JSON object of Get -Json, properties in table order. */
static int info_json(const char *const *names, const char *const *values, size_t n,
		     char **ret_text)
{
	json_t *json = json_object();
	int r = -ENOMEM;

	if (!json)
		return r;
	for (size_t i = 0; i < n; i++)
		if (json_object_set_new(json, names[i], json_string(values[i])) < 0)
			goto out;
	r = json_text(json, ret_text);
out:
	json_decref(json);
	return r;
}

int cmdlet_info_format(json_t *reply, bool as_json, char **ret_text)
{
	/* PowerShell property names: never translated, scripts depend on them. */
	static const char *const names[] = { "Endpoint", "IPAddress", "Username", "Password" };
	static const char *const keys[] = { "endpoint", "ipAddress", "username", "password" };
	const char *values[4];
	json_t *enabled = json_object_get(reply, "enabled");

	if (!json_is_boolean(enabled))
		return -EBADMSG;
	if (!json_is_true(enabled))
		return -ENODATA;

	for (size_t i = 0; i < 4; i++) {
		values[i] = json_string_value(json_object_get(reply, keys[i]));
		if (!values[i] || !*values[i])
			return -EBADMSG;
	}

	if (as_json)
		return info_json(names, values, 4, ret_text);
	return cmdlet_table_format(names, 4, values, 1, ret_text);
}

static int set_run(const struct cmdlet_args *args)
{
	char err[CMDLET_ERR_MAX];
	char line[CMDLET_ERR_MAX];
	json_t *reply = NULL;
	char *body = NULL;
	int status = CMDLET_EXIT_FAILED;
	int r;

	r = cmdlet_set_body_build(args, &body, err, sizeof(err));
	if (r < 0) {
		error_print(args->kind, err);
		goto out;
	}

	r = cmdlet_agent_call("PUT", "/v1/registry", body, CMDLET_SET_TIMEOUT, &reply,
			      err, sizeof(err));
	if (r < 0) {
		error_print(args->kind, err);
		goto out;
	}

	/* The cmdlet name stays out of the msgid so no translation can change it. */
	snprintf(line, sizeof(line), _("Operation completed successfully. Use %s for credentials"),
		 cmdlet_kind_name(CMDLET_GET));
	status = output_print(args->kind, line);
	if (status == CMDLET_EXIT_OK)
		status = output_print(args->kind, "\n");
out:
	json_decref(reply);
	cmdlet_secret_free(body);
	return status;
}

/* Prints why the registry information could not be formatted (R < 0). */
static void info_error_print(enum cmdlet_kind kind, int r)
{
	char err[CMDLET_ERR_MAX];

	if (r == -ENODATA)
		snprintf(err, sizeof(err),
			 _("The container registry is not enabled. Run %s to enable it."),
			 cmdlet_kind_name(CMDLET_SET));
	else if (r == -EBADMSG)
		snprintf(err, sizeof(err),
			 _("edgecr-agent sent registry information without an endpoint, "
			   "IP address, user name or password."));
	else
		snprintf(err, sizeof(err), _("Out of memory."));
	error_print(kind, err);
}

static int get_run(const struct cmdlet_args *args)
{
	char err[CMDLET_ERR_MAX];
	json_t *reply = NULL;
	char *text = NULL;
	int status = CMDLET_EXIT_FAILED;
	int r;

	r = cmdlet_agent_call("GET", "/v1/registry", NULL, CMDLET_GET_TIMEOUT, &reply,
			      err, sizeof(err));
	if (r < 0) {
		error_print(args->kind, err);
		goto out;
	}

	r = cmdlet_info_format(reply, args->json, &text);
	if (r < 0) {
		info_error_print(args->kind, r);
		goto out;
	}

	status = output_print(args->kind, text);
out:
	json_decref(reply);
	cmdlet_secret_free(text);
	return status;
}

static int remove_run(const struct cmdlet_args *args)
{
	const char *path = args->purge ? "/v1/registry?purge=true" : "/v1/registry";
	char err[CMDLET_ERR_MAX];
	json_t *reply = NULL;
	const char *message;
	int status = CMDLET_EXIT_FAILED;
	int r;

	r = cmdlet_agent_call("DELETE", path, NULL, CMDLET_REMOVE_TIMEOUT, &reply,
			      err, sizeof(err));
	if (r < 0) {
		error_print(args->kind, err);
		goto out;
	}

	/* Report what the agent did, not what was requested. */
	if (json_is_true(json_object_get(reply, "purged")))
		message = _("Operation completed successfully. The registry is stopped and "
			    "disabled, and its stored images are deleted.\n");
	else
		message = _("Operation completed successfully. The registry is stopped and "
			    "disabled, and its stored images are kept.\n");
	status = output_print(args->kind, message);
out:
	json_decref(reply);
	return status;
}

int cmdlet_run(const struct cmdlet_args *args)
{
	if (args->help) {
		cmdlet_args_print_help(args->kind, stdout);
		return CMDLET_EXIT_OK;
	}

	switch (args->kind) {
	case CMDLET_SET:
		return set_run(args);
	case CMDLET_GET:
		return get_run(args);
	case CMDLET_REMOVE:
		return remove_run(args);
	}
	return CMDLET_EXIT_FAILED;
}
