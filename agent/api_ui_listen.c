/*
 * The web UI's TCP socket; see api.h.  config.c accepts only loopback
 * addresses for ui_listen, because the page speaks plain HTTP and sends the
 * registry password with each request.
 */
#include "api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 16

/* Fills ret_addr from "ADDR:PORT" or "[ADDR]:PORT".  Returns 0 or -EINVAL. */
static int parse_listen(const char *listen, struct sockaddr_storage *ret_addr,
			socklen_t *ret_len)
{
	const char *colon = strrchr(listen, ':');
	struct sockaddr_in *v4 = (struct sockaddr_in *)ret_addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ret_addr;
	char addr[INET6_ADDRSTRLEN + 2];
	size_t len;
	long port;

	if (!colon)
		return -EINVAL;
	port = strtol(colon + 1, NULL, 10);
	len = (size_t)(colon - listen);
	if (port < 1 || port > 65535 || len < 2 || len >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, listen, len);
	addr[len] = '\0';

	memset(ret_addr, 0, sizeof(*ret_addr));
	if (addr[0] == '[' && addr[len - 1] == ']') {
		addr[len - 1] = '\0';
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(*v6);
		return inet_pton(AF_INET6, addr + 1, &v6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	v4->sin_family = AF_INET;
	v4->sin_port = htons((uint16_t)port);
	*ret_len = sizeof(*v4);
	return inet_pton(AF_INET, addr, &v4->sin_addr) == 1 ? 0 : -EINVAL;
}

int agent_api_tcp_open(const char *listen_addr, int *ret_fd)
{
	struct sockaddr_storage addr;
	socklen_t len;
	int fd, one = 1, r;

	r = parse_listen(listen_addr, &addr, &len);
	if (r < 0)
		return r;
	fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&addr, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}
