/*
 * The receiving end of the sd_notify protocol for a child process: an AF_UNIX
 * datagram socket whose path the child gets in $NOTIFY_SOCKET.  The kernel
 * attaches the sender's credentials to each datagram (SO_PASSCRED), so the
 * caller can drop messages that do not come from its child.
 */
#ifndef EDGECR_AGENT_NOTIFY_H
#define EDGECR_AGENT_NOTIFY_H

#include <stddef.h>
#include <sys/types.h>

/* Largest datagram read; longer ones are truncated and dropped. */
#define AGENT_NOTIFY_MESSAGE_MAX 4096

/* Binds a non-blocking datagram socket at PATH (replacing a stale one) with
 * mode 0600 and SO_PASSCRED.  Returns 0 or a negative errno. */
int agent_notify_socket_open(const char *path, int *ret_fd);

/*
 * Reads one datagram into ret_message (NUL-terminated, SIZE bytes) and the
 * sender's pid into *ret_pid.  Returns 0, -EAGAIN when none is queued,
 * -EBADMSG for a truncated message or one without credentials, or another
 * negative errno.
 */
int agent_notify_receive(int fd, char *ret_message, size_t size, pid_t *ret_pid);

#endif
