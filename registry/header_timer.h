/*
 * A deadline for a request's headers, so that a client trickling its
 * headers (slowloris) cannot hold a connection and its thread for ever.
 *
 * libmicrohttpd 0.9.75 has only an idle timeout, which every received byte
 * restarts.  The timer keeps a list of open connections and closes each one
 * that has not completed a request's headers within the timeout:
 *   - counted from the connection's start, so a TLS handshake is included;
 *   - on a kept-alive connection, counted from the first byte of the next
 *     request, so a connection idle between requests is left to the idle
 *     timeout (connection_timeout) as before.
 *
 * The first byte of a kept-alive connection's next request is not visible
 * to the application, because libmicrohttpd reads it.  The scan therefore
 * reads the kernel's time since the last received data (TCP_INFO,
 * tcpi_last_data_recv) of each connection waiting between requests, once a
 * second.  A byte received after the end of the previous request starts the
 * deadline, at most one scan late.
 *
 * A connection is closed by shutdown(SHUT_RDWR) on its socket: the
 * connection's own thread then reads end-of-file and closes it the normal
 * way, as libmicrohttpd does itself when a daemon stops.
 *
 * Locking: one mutex protects the list and every connection's fields.  A
 * connection takes it when it opens and closes and twice per request
 * (headers complete, request done); the scan keeps it locked while it walks
 * the list.  reg_header_timer_remove must run before the socket is closed:
 * libmicrohttpd 0.9.75 calls MHD_CONNECTION_NOTIFY_CLOSED before close()
 * (MHD_cleanup_connections in daemon.c), so a socket is never shut down
 * after its descriptor was reused.
 */
#ifndef EDGECR_REG_HEADER_TIMER_H
#define EDGECR_REG_HEADER_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct reg_header_timer;

enum reg_header_phase {
	REG_HEADER_WAITING,   /* headers due by deadline_ms */
	REG_HEADER_KEPT_ALIVE, /* between requests: waiting for a first byte */
	REG_HEADER_IN_REQUEST, /* headers complete; no deadline */
	REG_HEADER_CLOSING,   /* shut down by the scan */
};

/* One connection.  Embed it in the connection's state; the fields belong to
 * the timer and are protected by its mutex. */
struct reg_header_conn {
	struct reg_header_conn *prev, *next;
	int fd;
	enum reg_header_phase phase;
	int64_t idle_since_ms; /* KEPT_ALIVE: end of the previous request */
	int64_t deadline_ms;   /* WAITING: when the connection is shut down */
};

/*
 * Reads when FD last received data, in milliseconds of CLOCK_MONOTONIC,
 * given the scan's time NOW_MS.  Returns 0 or a negative errno.
 */
typedef int (*reg_header_probe_fn)(int fd, int64_t now_ms, int64_t *ret_last_receive_ms);

/* Creates a timer closing connections after TIMEOUT_SECONDS (at least 1)
 * without complete headers.  No thread runs yet.  Returns 0 or -errno. */
int reg_header_timer_new(unsigned timeout_seconds, struct reg_header_timer **ret);

/* Starts the thread that scans once a second.  Returns 0 or -errno. */
int reg_header_timer_start(struct reg_header_timer *timer);

/* Stops the thread and frees TIMER; NULL is a no-op.  Every connection must
 * have been removed. */
void reg_header_timer_free(struct reg_header_timer *timer);

/* Returns the current time of CLOCK_MONOTONIC in milliseconds. */
int64_t reg_header_timer_now_ms(void);

/* Adds a connection on socket FD that has just opened at NOW_MS. */
void reg_header_timer_add(struct reg_header_timer *timer, struct reg_header_conn *conn, int fd,
			  int64_t now_ms);

/* Removes CONN.  Call it before its socket is closed. */
void reg_header_timer_remove(struct reg_header_timer *timer, struct reg_header_conn *conn);

/* Records that CONN's request headers are complete. */
void reg_header_timer_headers_done(struct reg_header_timer *timer, struct reg_header_conn *conn);

/* Records that CONN's request ended at NOW_MS; the connection may be kept alive. */
void reg_header_timer_request_done(struct reg_header_timer *timer, struct reg_header_conn *conn,
				   int64_t now_ms);

/*
 * Shuts down the connections past their deadline at NOW_MS and starts the
 * deadline of kept-alive ones whose next request began.  Returns how many
 * it shut down.  The scan thread calls it; tests call it with a chosen time.
 */
unsigned reg_header_timer_scan(struct reg_header_timer *timer, int64_t now_ms);

/* Replaces the TCP_INFO probe, so that tests can use other sockets.  NULL
 * restores the default. */
void reg_header_timer_set_probe_for_test(struct reg_header_timer *timer, reg_header_probe_fn probe);

#endif
