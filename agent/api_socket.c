/*
 * The API's Unix socket; see api.h.
 *
 * The socket file's mode and group are the first gate, because connect needs
 * write permission.  The SO_PEERCRED check in api.c is the second.  A socket
 * made wider for a test therefore still rejects other users.
 */
#include "api.h"

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fileio.h"

#define LISTEN_BACKLOG 16

static int prepare_path(const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	int r;

	snprintf(dir, sizeof(dir), "%s", path);
	r = ecr_mkdir_p(dirname(dir), 0755);
	if (r < 0)
		return r;

	/* Replace only a socket left by an earlier run, never another file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (unlink(path) < 0)
			return -errno;
	}
	return 0;
}

static gid_t lookup_group(const char *name)
{
	struct group *group = getgrnam(name);

	return group ? group->gr_gid : (gid_t)-1;
}

int agent_api_socket_open(const char *path, mode_t mode, const char *admin_group,
			  int *ret_fd, gid_t *ret_admin_gid)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	gid_t gid = lookup_group(admin_group);
	mode_t old_umask;
	int fd, r;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	r = prepare_path(path);
	if (r < 0)
		return r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;

	/* Until chmod below the socket must be reachable by no one but root. */
	old_umask = umask(0177);
	r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_umask);
	if (r < 0 || chown(path, 0, gid == (gid_t)-1 ? 0 : gid) < 0 ||
	    chmod(path, mode) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		r = -errno;
		close(fd);
		return r;
	}

	*ret_fd = fd;
	*ret_admin_gid = gid;
	return 0;
}
