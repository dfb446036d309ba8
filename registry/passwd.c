/*
 * Credentials file maintenance; see passwd.h.  The file is rewritten whole
 * through ecr_write_file_atomic, so the running registry (which re-reads it
 * on SIGHUP) never reads a half-written file.
 */
#include "passwd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "fileio.h"
#include "httpparse.h"
#include "i18n.h"
#include "passhash.h"

static bool user_is_valid(const char *user)
{
	size_t len = strlen(user);

	if (len == 0 || len > REG_AUTH_USER_MAX || user[0] == '#')
		return false;
	/* The file format splits at ':' and trims blanks; Basic auth splits at ':'. */
	for (size_t i = 0; i < len; i++)
		if (user[i] == ':' || (unsigned char)user[i] <= ' ' || user[i] == 0x7f)
			return false;
	return true;
}

/* Reads IN to EOF into PASSWORD (REG_AUTH_PASSWORD_MAX + 2 bytes). */
static int password_read(FILE *in, char *password, size_t *ret_len, char *err, size_t err_size)
{
	size_t len = fread(password, 1, REG_AUTH_PASSWORD_MAX + 1, in);

	if (ferror(in)) {
		snprintf(err, err_size, _("cannot read the password from standard input"));
		return -EIO;
	}
	if (len > 0 && password[len - 1] == '\n')
		len--;
	if (len > REG_AUTH_PASSWORD_MAX || (!feof(in) && fgetc(in) != EOF)) {
		snprintf(err, err_size, _("the password is longer than %d bytes"), REG_AUTH_PASSWORD_MAX);
		return -EINVAL;
	}
	if (len == 0 || memchr(password, '\0', len)) {
		snprintf(err, err_size, _("the password must not be empty or contain a NUL byte"));
		return -EINVAL;
	}
	password[len] = '\0';
	*ret_len = len;
	return 0;
}

/* Returns true when LINE (LEN bytes) is the entry of USER. */
static bool line_is_user(const char *line, size_t len, const char *user)
{
	size_t user_len = strlen(user);

	while (len > 0 && (*line == ' ' || *line == '\t'))
		line++, len--;
	return len > user_len && memcmp(line, user, user_len) == 0 && line[user_len] == ':';
}

/* Writes OLD (LEN bytes) into OUT without USER's lines, then USER's new line. */
static void content_build(FILE *out, const char *old, size_t len, const char *user,
			  const char *hash, bool read_only)
{
	const char *line = old, *end = old + len;

	while (line < end) {
		const char *newline = memchr(line, '\n', (size_t)(end - line));
		size_t line_len = newline ? (size_t)(newline - line) : (size_t)(end - line);

		if (!line_is_user(line, line_len, user))
			fprintf(out, "%.*s\n", (int)line_len, line);
		line += line_len + 1;
	}
	/* A user with every right keeps the two-field line, which registries
	 * without the rights field read too. */
	fprintf(out, "%s:%s%s\n", user, hash, read_only ? ":pull" : "");
}

static int file_update(const char *user, const char *file, const char *hash, bool read_only,
		       char *err, size_t err_size)
{
	char *old = NULL, *content = NULL;
	size_t old_len = 0, len = 0;
	FILE *out;
	int r;

	r = ecr_read_file(file, REG_PASSWD_FILE_MAX, &old, &old_len);
	if (r < 0 && r != -ENOENT) {
		snprintf(err, err_size, _("cannot read %s: %s"), file, strerror(-r));
		return r;
	}

	out = open_memstream(&content, &len);
	if (!out) {
		free(old);
		snprintf(err, err_size, _("out of memory"));
		return -ENOMEM;
	}
	content_build(out, old ? old : "", old_len, user, hash, read_only);
	fclose(out);

	r = ecr_write_file_atomic(file, content, len, 0600);
	if (r < 0)
		snprintf(err, err_size, _("cannot write %s: %s"), file, strerror(-r));
	free(old);
	free(content);
	return r;
}

int reg_passwd_run(const char *user, const char *file, FILE *in, bool read_only, char *err,
		   size_t err_size)
{
	char password[REG_AUTH_PASSWORD_MAX + 2];
	char hash[ECR_PASSHASH_ENCODED_MAX];
	size_t len = 0;
	int r;

	if (!user_is_valid(user)) {
		snprintf(err, err_size, _("invalid user name \"%s\": use 1 to %d printable characters "
					  "without ':', blanks or a leading '#'"), user, REG_AUTH_USER_MAX);
		return -EINVAL;
	}

	r = password_read(in, password, &len, err, err_size);
	if (r == 0) {
		r = ecr_passhash_make(password, len, hash);
		if (r < 0)
			snprintf(err, err_size, _("password hashing failed"));
	}
	OPENSSL_cleanse(password, sizeof(password));
	if (r < 0)
		return r;

	r = file_update(user, file, hash, read_only, err, err_size);
	OPENSSL_cleanse(hash, sizeof(hash));
	return r;
}
