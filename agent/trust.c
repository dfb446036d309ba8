/*
 * Node trust files and the hosts line; see trust.h.
 */
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "i18n.h"

/* The hosts file is small; a larger one is not the system's hosts file. */
#define HOSTS_FILE_MAX (4 * 1024 * 1024)
#define TRUST_FILE_MAX (1024 * 1024)

static bool line_is_owned(const char *line, size_t len)
{
	size_t mark_len = strlen(AGENT_TRUST_HOSTS_MARK);

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	return len >= mark_len && memcmp(line + len - mark_len, AGENT_TRUST_HOSTS_MARK, mark_len) == 0;
}

char *agent_trust_hosts_edit(const char *text, const char *line)
{
	size_t text_len = strlen(text), line_len = line ? strlen(line) : 0, n = 0;
	char *out = malloc(text_len + line_len + 3);
	const char *p = text;

	if (!out)
		return NULL;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (!line_is_owned(p, len)) {
			memcpy(out + n, p, len);
			n += len;
			out[n++] = '\n';
		}
		p += len + (nl ? 1 : 0);
	}
	if (line) {
		memcpy(out + n, line, line_len);
		n += line_len;
		out[n++] = '\n';
	}
	out[n] = '\0';
	return out;
}

/* Replaces PATH with DATA unless it already contains exactly that. */
static int write_if_changed(const char *path, const char *data, size_t len, mode_t mode,
			    bool *changed)
{
	char *old = NULL;
	size_t old_len = 0;
	int r;

	r = ecr_read_file(path, TRUST_FILE_MAX, &old, &old_len);
	if (r == 0 && old_len == len && memcmp(old, data, len) == 0) {
		free(old);
		return 0;
	}
	free(old);
	r = ecr_write_file_atomic(path, data, len, mode);
	if (r == 0)
		*changed = true;
	return r;
}

/* Overwrites PATH in place.  Readers may see a partial file meanwhile, so
 * this is only the fallback for a file that cannot be renamed over. */
static int rewrite_in_place(const char *path, const char *data, size_t len)
{
	size_t done = 0;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (done < len && r == 0) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (r == 0 && (ftruncate(fd, (off_t)len) < 0 || fsync(fd) < 0))
		r = -errno;
	close(fd);
	return r;
}

/* Replaces the hosts file with TEXT when it differs.  A hosts file that is a
 * bind mount of one file, as systemd's ReadWritePaths= makes /etc/hosts,
 * cannot be renamed over (EBUSY), so it is rewritten in place. */
static int replace_hosts(const char *hosts_file, const char *text, mode_t mode, bool *changed)
{
	int r = write_if_changed(hosts_file, text, strlen(text), mode, changed);

	if (r == -EBUSY) {
		r = rewrite_in_place(hosts_file, text, strlen(text));
		if (r == 0)
			*changed = true;
	}
	return r;
}

static int write_hosts_line(const char *hosts_file, const struct agent_trust_target *t,
			    bool *changed)
{
	char line[AGENT_ENDPOINT_MAX + 128];
	char *text = NULL, *edited = NULL;
	mode_t mode = 0644;
	struct stat st;
	size_t len = 0;
	int r;

	r = ecr_read_file(hosts_file, HOSTS_FILE_MAX, &text, &len);
	if (r == -ENOENT)
		text = strdup("");
	else if (r < 0)
		return r;
	if (!text)
		return -ENOMEM;
	if (stat(hosts_file, &st) == 0)
		mode = st.st_mode & 07777;

	snprintf(line, sizeof(line), "%s %s %s", t->ip, t->name, AGENT_TRUST_HOSTS_MARK);
	edited = agent_trust_hosts_edit(text, line);
	free(text);
	if (!edited)
		return -ENOMEM;
	r = replace_hosts(hosts_file, edited, mode, changed);
	free(edited);
	return r;
}

static int join_path(char *ret, const char *dir, const char *endpoint, const char *file)
{
	int n = snprintf(ret, PATH_MAX, file ? "%s/%s/%s" : "%s/%s", dir, endpoint, file);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Returns true when the folder that contains DIR exists (/etc/containerd for
 * /etc/containerd/certs.d): a runtime that is not installed gets no files. */
static bool runtime_present(const char *dir)
{
	char copy[PATH_MAX];
	struct stat st;

	snprintf(copy, sizeof(copy), "%s", dir);
	return stat(dirname(copy), &st) == 0 && S_ISDIR(st.st_mode);
}

static int write_containerd(const char *dir, const struct agent_trust_target *t, bool *changed,
			    char *ret_path)
{
	char ca_path[PATH_MAX], toml[PATH_MAX + 2 * AGENT_ENDPOINT_MAX + 256];
	int n, r;

	if (!runtime_present(dir))
		return 0;
	r = join_path(ret_path, dir, t->endpoint, NULL);
	if (r == 0)
		r = ecr_mkdir_p(ret_path, 0755);
	if (r == 0)
		r = join_path(ca_path, dir, t->endpoint, "ca.crt");
	if (r == 0)
		r = write_if_changed(ca_path, t->ca_pem, t->ca_len, 0644, changed);
	if (r < 0)
		return r;

	n = snprintf(toml, sizeof(toml),
		     "# Written by edgecr-agent; it replaces this file on each Set.\n"
		     "server = \"https://%s\"\n\n"
		     "[host.\"https://%s\"]\n"
		     "  capabilities = [\"pull\", \"resolve\"]\n"
		     "  ca = \"%s\"\n", t->endpoint, t->endpoint, ca_path);
	if (n < 0 || (size_t)n >= sizeof(toml))
		return -ENAMETOOLONG;
	r = join_path(ret_path, dir, t->endpoint, "hosts.toml");
	if (r == 0)
		r = write_if_changed(ret_path, toml, (size_t)n, 0644, changed);
	return r;
}

static int write_docker(const char *dir, const struct agent_trust_target *t, bool *changed,
			char *ret_path)
{
	int r;

	if (!runtime_present(dir))
		return 0;
	r = join_path(ret_path, dir, t->endpoint, NULL);
	if (r == 0)
		r = ecr_mkdir_p(ret_path, 0755);
	if (r == 0)
		r = join_path(ret_path, dir, t->endpoint, "ca.crt");
	if (r == 0)
		r = write_if_changed(ret_path, t->ca_pem, t->ca_len, 0644, changed);
	return r;
}

int agent_trust_write(const struct agent_config *config, const struct agent_trust_target *target,
		      bool *ret_changed, char *err, size_t err_size)
{
	char path[PATH_MAX];
	bool changed = false;
	int r;

	r = write_containerd(config->trust_containerd_dir, target, &changed, path);
	if (r == 0)
		r = write_docker(config->trust_docker_dir, target, &changed, path);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s", config->hosts_file);
		r = write_hosts_line(config->hosts_file, target, &changed);
	}
	if (r < 0) {
		snprintf(err, err_size, _("failed to write %s: %s"), path, strerror(-r));
		return r;
	}
	*ret_changed = changed;
	return 0;
}

/* Removes DIR/ENDPOINT/{hosts.toml,ca.crt} and the folder when it is then
 * empty; files that others put there stay. */
static int remove_endpoint_dir(const char *dir, const char *endpoint, char *ret_path)
{
	static const char *const files[] = { "hosts.toml", "ca.crt" };
	int r;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		r = join_path(ret_path, dir, endpoint, files[i]);
		if (r < 0)
			return r;
		if (unlink(ret_path) < 0 && errno != ENOENT)
			return -errno;
	}
	r = join_path(ret_path, dir, endpoint, NULL);
	if (r < 0)
		return r;
	if (rmdir(ret_path) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		return -errno;
	return 0;
}

static int remove_hosts_line(const char *hosts_file)
{
	char *text = NULL, *edited = NULL;
	bool changed = false;
	struct stat st;
	size_t len = 0;
	int r;

	r = ecr_read_file(hosts_file, HOSTS_FILE_MAX, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	edited = agent_trust_hosts_edit(text, NULL);
	if (!edited) {
		free(text);
		return -ENOMEM;
	}
	if (strcmp(edited, text) != 0 && stat(hosts_file, &st) == 0)
		r = replace_hosts(hosts_file, edited, st.st_mode & 07777, &changed);
	free(text);
	free(edited);
	return r;
}

int agent_trust_remove(const struct agent_config *config, const char *endpoint,
		       char *err, size_t err_size)
{
	char path[PATH_MAX];
	int r;

	r = remove_endpoint_dir(config->trust_containerd_dir, endpoint, path);
	if (r == 0)
		r = remove_endpoint_dir(config->trust_docker_dir, endpoint, path);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s", config->hosts_file);
		r = remove_hosts_line(config->hosts_file);
	}
	if (r < 0)
		snprintf(err, err_size, _("failed to remove %s: %s"), path, strerror(-r));
	return r;
}
