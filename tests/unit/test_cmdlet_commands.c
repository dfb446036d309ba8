/* Tests of the cmdlets' request bodies and output (cmdlet_commands.c), without
 * an agent: they call the pure parts that the cmdlets use. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmdlet_commands.h"
#include "unit.h"

static char err[1024];

static json_t *reply_enabled(void)
{
	return json_pack("{s:b, s:s, s:s, s:s, s:s, s:{s:s}}", "enabled", 1,
			 "endpoint", "ecr.dbe-hw6h1t2.microsoftdatabox.com:31001",
			 "ipAddress", "10.128.44.41", "username", "ase-ecr-user",
			 "password", "i3eTsU4zGYyIgxV", "registry", "state", "running");
}

static void test_info_table(void)
{
	json_t *reply = reply_enabled();
	char *text = NULL;

	CHECK_INT(cmdlet_info_format(reply, false, &text), 0);
	CHECK_STR(text,
		  "\n"
		  "Endpoint                                   IPAddress    Username     Password\n"
		  "--------                                   ---------    --------     --------\n"
		  "ecr.dbe-hw6h1t2.microsoftdatabox.com:31001 10.128.44.41 ase-ecr-user i3eTsU4zGYyIgxV\n"
		  "\n");
	cmdlet_secret_free(text);
	json_decref(reply);
}

static void test_info_json(void)
{
	json_t *reply = reply_enabled();
	char *text = NULL;

	CHECK_INT(cmdlet_info_format(reply, true, &text), 0);
	CHECK_STR(text,
		  "{\"Endpoint\":\"ecr.dbe-hw6h1t2.microsoftdatabox.com:31001\","
		  "\"IPAddress\":\"10.128.44.41\",\"Username\":\"ase-ecr-user\","
		  "\"Password\":\"i3eTsU4zGYyIgxV\"}\n");
	cmdlet_secret_free(text);
	json_decref(reply);
}

static void test_info_not_enabled(void)
{
	json_t *reply = json_pack("{s:b}", "enabled", 0);
	char *text = NULL;

	CHECK_INT(cmdlet_info_format(reply, false, &text), -ENODATA);
	CHECK_INT(cmdlet_info_format(reply, true, &text), -ENODATA);
	CHECK(text == NULL);
	json_decref(reply);
}

static void test_info_malformed(void)
{
	json_t *no_enabled = json_pack("{s:s}", "endpoint", "x:1");
	json_t *no_password = json_pack("{s:b, s:s, s:s, s:s}", "enabled", 1, "endpoint", "x:1",
					"ipAddress", "127.0.0.1", "username", "u");
	json_t *enabled_string = json_pack("{s:s}", "enabled", "yes");
	char *text = NULL;

	CHECK_INT(cmdlet_info_format(no_enabled, false, &text), -EBADMSG);
	CHECK_INT(cmdlet_info_format(no_password, false, &text), -EBADMSG);
	CHECK_INT(cmdlet_info_format(enabled_string, true, &text), -EBADMSG);
	CHECK(text == NULL);
	json_decref(no_enabled);
	json_decref(no_password);
	json_decref(enabled_string);
}

static void test_set_body_switches(void)
{
	struct cmdlet_args args = { .kind = CMDLET_SET, .rotate_password = true };
	char *body = NULL;

	CHECK_INT(cmdlet_set_body_build(&args, &body, err, sizeof(err)), 0);
	CHECK_STR(body, "{\"rotatePassword\":true,\"reissueCertificate\":false}\n");
	cmdlet_secret_free(body);
}

/* Writes TEXT to a new temporary file and returns its path in PATH. */
static void temp_file_write(char *path, const char *text)
{
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK_INT(write(fd, text, strlen(text)), (long long)strlen(text));
	close(fd);
}

static void test_set_body_certificate(void)
{
	char chain[] = "/tmp/test_cmdlet_chain.XXXXXX";
	char key[] = "/tmp/test_cmdlet_key.XXXXXX";
	struct cmdlet_args args = { .kind = CMDLET_SET, .certificate_path = chain,
				    .key_path = key };
	json_t *parsed;
	char *body = NULL;

	temp_file_write(chain, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	temp_file_write(key, "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");

	CHECK_INT(cmdlet_set_body_build(&args, &body, err, sizeof(err)), 0);
	parsed = body ? json_loads(body, 0, NULL) : NULL;
	CHECK(parsed != NULL);
	CHECK_STR(json_string_value(json_object_get(parsed, "certificateChainPem")),
		  "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	CHECK_STR(json_string_value(json_object_get(parsed, "privateKeyPem")),
		  "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
	CHECK(json_is_false(json_object_get(parsed, "rotatePassword")));

	json_decref(parsed);
	cmdlet_secret_free(body);
	unlink(chain);
	unlink(key);
}

static void test_set_body_bad_files(void)
{
	char not_pem[] = "/tmp/test_cmdlet_notpem.XXXXXX";
	char key[] = "/tmp/test_cmdlet_key.XXXXXX";
	struct cmdlet_args swapped = { .kind = CMDLET_SET, .certificate_path = key,
				       .key_path = key };
	struct cmdlet_args text_file = { .kind = CMDLET_SET, .certificate_path = not_pem,
					 .key_path = key };
	struct cmdlet_args missing = { .kind = CMDLET_SET,
				       .certificate_path = "/nonexistent/chain.pem",
				       .key_path = key };
	char *body = NULL;

	temp_file_write(not_pem, "hello\n");
	temp_file_write(key, "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n");

	CHECK_INT(cmdlet_set_body_build(&swapped, &body, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "-CertificatePath") != NULL);
	CHECK_INT(cmdlet_set_body_build(&text_file, &body, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, not_pem) != NULL);
	CHECK_INT(cmdlet_set_body_build(&missing, &body, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "/nonexistent/chain.pem") != NULL);
	CHECK(body == NULL);

	unlink(not_pem);
	unlink(key);
}

int main(void)
{
	cmdlet_json_wipe_on_free();

	RUN(test_info_table);
	RUN(test_info_json);
	RUN(test_info_not_enabled);
	RUN(test_info_malformed);
	RUN(test_set_body_switches);
	RUN(test_set_body_certificate);
	RUN(test_set_body_bad_files);
	return UNIT_EXIT();
}
