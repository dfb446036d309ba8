/*
 * The registry user's password and the credentials file; see
 * provision_private.h.
 *
 * The password is kept in a 0600 file because GET /v1/registry must return
 * it.  The registry only ever reads its PBKDF2 hash.
 */
#include "provision_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "passhash.h"
#include "i18n.h"

#define PASSWORD_FILE_MAX 64
#define CREDENTIALS_FILE_MAX 4096

int provision_read_password(const struct agent_paths *paths, char *ret_password)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	r = ecr_read_file(paths->password, PASSWORD_FILE_MAX, &data, &len);
	if (r == -EFBIG)
		return -EINVAL;
	if (r < 0)
		return r;

	data[strcspn(data, "\n")] = '\0';
	r = -EINVAL;
	if (agent_password_is_valid(data)) {
		memcpy(ret_password, data, AGENT_PASSWORD_LEN + 1);
		r = 0;
	}
	OPENSSL_cleanse(data, len);
	free(data);
	return r;
}

static int write_password(struct provision_run *run, const char *password)
{
	char line[AGENT_PASSWORD_LEN + 2];
	int r;

	snprintf(line, sizeof(line), "%s\n", password);
	r = ecr_write_file_atomic(run->paths->password, line, strlen(line), 0600);
	OPENSSL_cleanse(line, sizeof(line));
	if (r < 0)
		snprintf(run->err, run->err_size, _("failed to write %s: %s"),
			 run->paths->password, strerror(-r));
	return r;
}

int provision_ensure_password(struct provision_run *run, bool rotate)
{
	char password[AGENT_PASSWORD_LEN + 1];
	int stored;
	int r;

	stored = provision_read_password(run->paths, password);
	if (stored == 0 && !rotate) {
		agent_credentials_set(&run->credentials, password);
		r = 0;
		goto out;
	}

	r = agent_password_generate(password);
	if (r < 0) {
		snprintf(run->err, run->err_size, _("failed to generate a password: %s"), strerror(-r));
		goto out;
	}
	r = write_password(run, password);
	if (r < 0)
		goto out;
	agent_credentials_set(&run->credentials, password);

	if (rotate)
		provision_action(run, "rotated the password of %s", AGENT_USERNAME);
	else if (run->was_enabled)
		provision_action(run, "created a new password for %s because the stored one was %s",
				 AGENT_USERNAME, stored == -ENOENT ? "missing" : "invalid");
	else
		provision_action(run, "created user %s", AGENT_USERNAME);

out:
	OPENSSL_cleanse(password, sizeof(password));
	return r;
}

/* Returns 1 when the credentials file has a line for our user whose hash
 * matches the current password. */
static int credentials_file_is_current(struct provision_run *run)
{
	const struct agent_credentials *c = &run->credentials;
	size_t user_len = strlen(c->username);
	char *data = NULL, *save = NULL;
	size_t len;
	int match = 0;

	if (ecr_read_file(run->paths->credentials, CREDENTIALS_FILE_MAX, &data, &len) < 0)
		return 0;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, c->username, user_len) != 0 || line[user_len] != ':')
			continue;
		match = ecr_passhash_verify(c->password, strlen(c->password),
					    line + user_len + 1) == 1;
		break;
	}
	free(data);
	return match;
}

int provision_ensure_credentials_file(struct provision_run *run, bool rotate)
{
	const struct agent_credentials *c = &run->credentials;
	char hash[ECR_PASSHASH_ENCODED_MAX];
	char line[sizeof(c->username) + ECR_PASSHASH_ENCODED_MAX + 2];
	bool existed;
	int r;

	if (!rotate && credentials_file_is_current(run))
		return 0;
	existed = access(run->paths->credentials, F_OK) == 0;

	r = ecr_passhash_make(c->password, strlen(c->password), hash);
	if (r < 0) {
		snprintf(run->err, run->err_size, _("failed to hash the password: %s"), strerror(-r));
		return r;
	}
	snprintf(line, sizeof(line), "%s:%s\n", c->username, hash);
	r = ecr_write_file_atomic(run->paths->credentials, line, strlen(line), 0600);
	if (r < 0) {
		snprintf(run->err, run->err_size, _("failed to write %s: %s"),
			 run->paths->credentials, strerror(-r));
		return r;
	}

	run->need_reload = true;
	if (run->was_enabled && !rotate)
		provision_action(run, "rewrote the credentials file, which was %s",
				 existed ? "out of date" : "missing");
	return 0;
}
