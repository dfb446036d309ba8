/*
 * The deadline for a request's headers; see header_timer.h.
 *
 * The scan walks every open connection once a second with the mutex held.
 * It makes one getsockopt call for each connection waiting between requests
 * and none for the others, so a request itself costs two uncontended
 * mutex operations and one read of the clock (a vDSO call, no syscall).
 */
#include "header_timer.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"

#define SCAN_INTERVAL_MS 1000
/*
 * Data received less than this after the end of a request does not start
 * the next request's deadline.  tcpi_last_data_recv counts in jiffies (4 ms
 * at HZ=250, 10 ms at HZ=100), so the last byte of the previous request can
 * appear a few milliseconds later than it arrived.  A client whose next
 * request starts within this margin gets its deadline from its next byte.
 */
#define KEPT_ALIVE_MARGIN_MS 100

struct reg_header_timer {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int64_t timeout_ms;
	reg_header_probe_fn probe;
	pthread_t thread;
	bool started;

	/* Protected by lock. */
	bool stopping;
	struct reg_header_conn *head;
};

/* Reads the time since FD last received data from the kernel. */
static int probe_tcp_info(int fd, int64_t now_ms, int64_t *ret_last_receive_ms)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
		return -errno;
	*ret_last_receive_ms = now_ms - (int64_t)info.tcpi_last_data_recv;
	return 0;
}

int64_t reg_header_timer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int reg_header_timer_new(unsigned timeout_seconds, struct reg_header_timer **ret)
{
	struct reg_header_timer *timer;
	pthread_condattr_t attr;
	int r;

	if (timeout_seconds == 0)
		return -EINVAL;
	timer = calloc(1, sizeof(*timer));
	if (!timer)
		return -ENOMEM;
	r = pthread_mutex_init(&timer->lock, NULL);
	if (r != 0) {
		free(timer);
		return -r;
	}
	/* The scan waits on CLOCK_MONOTONIC, so a step of the wall clock
	 * neither stalls nor hurries it. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	r = pthread_cond_init(&timer->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (r != 0) {
		pthread_mutex_destroy(&timer->lock);
		free(timer);
		return -r;
	}
	timer->timeout_ms = (int64_t)timeout_seconds * 1000;
	timer->probe = probe_tcp_info;
	*ret = timer;
	return 0;
}

/* Waits one scan interval, unless the timer is stopping.  Lock held. */
static void scan_wait(struct reg_header_timer *timer)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += SCAN_INTERVAL_MS / 1000;
	while (!timer->stopping && pthread_cond_timedwait(&timer->wake, &timer->lock, &until) == EINTR)
		;
}

static unsigned scan_locked(struct reg_header_timer *timer, int64_t now_ms);

static void *scan_thread(void *userdata)
{
	struct reg_header_timer *timer = userdata;
	unsigned closed;

	pthread_mutex_lock(&timer->lock);
	for (;;) {
		scan_wait(timer);
		if (timer->stopping)
			break;
		closed = scan_locked(timer, reg_header_timer_now_ms());
		if (closed == 0)
			continue;
		/* One line per scan at most, however many clients misbehave. */
		pthread_mutex_unlock(&timer->lock);
		ecr_log(LOG_INFO, "closed %u connections without complete request headers "
			"after %lld s (header_timeout)", closed, (long long)timer->timeout_ms / 1000);
		pthread_mutex_lock(&timer->lock);
	}
	pthread_mutex_unlock(&timer->lock);
	return NULL;
}

int reg_header_timer_start(struct reg_header_timer *timer)
{
	int r = pthread_create(&timer->thread, NULL, scan_thread, timer);

	if (r != 0)
		return -r;
	timer->started = true;
	return 0;
}

void reg_header_timer_free(struct reg_header_timer *timer)
{
	if (!timer)
		return;
	if (timer->started) {
		pthread_mutex_lock(&timer->lock);
		timer->stopping = true;
		pthread_cond_signal(&timer->wake);
		pthread_mutex_unlock(&timer->lock);
		pthread_join(timer->thread, NULL);
	}
	pthread_cond_destroy(&timer->wake);
	pthread_mutex_destroy(&timer->lock);
	free(timer);
}

void reg_header_timer_add(struct reg_header_timer *timer, struct reg_header_conn *conn, int fd,
			  int64_t now_ms)
{
	pthread_mutex_lock(&timer->lock);
	conn->fd = fd;
	conn->phase = REG_HEADER_WAITING;
	conn->deadline_ms = now_ms + timer->timeout_ms;
	conn->prev = NULL;
	conn->next = timer->head;
	if (timer->head)
		timer->head->prev = conn;
	timer->head = conn;
	pthread_mutex_unlock(&timer->lock);
}

void reg_header_timer_remove(struct reg_header_timer *timer, struct reg_header_conn *conn)
{
	pthread_mutex_lock(&timer->lock);
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		timer->head = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	conn->prev = conn->next = NULL;
	pthread_mutex_unlock(&timer->lock);
}

void reg_header_timer_headers_done(struct reg_header_timer *timer, struct reg_header_conn *conn)
{
	pthread_mutex_lock(&timer->lock);
	if (conn->phase != REG_HEADER_CLOSING)
		conn->phase = REG_HEADER_IN_REQUEST;
	pthread_mutex_unlock(&timer->lock);
}

void reg_header_timer_request_done(struct reg_header_timer *timer, struct reg_header_conn *conn,
				   int64_t now_ms)
{
	pthread_mutex_lock(&timer->lock);
	if (conn->phase != REG_HEADER_CLOSING) {
		conn->phase = REG_HEADER_KEPT_ALIVE;
		conn->idle_since_ms = now_ms;
	}
	pthread_mutex_unlock(&timer->lock);
}

/* Starts CONN's deadline when its next request sent a byte.  Lock held. */
static void kept_alive_check(struct reg_header_timer *timer, struct reg_header_conn *conn,
			     int64_t now_ms)
{
	int64_t last_receive_ms;

	/* A failed probe means the socket is going away; the connection's
	 * thread closes it without help. */
	if (timer->probe(conn->fd, now_ms, &last_receive_ms) < 0)
		return;
	if (last_receive_ms <= conn->idle_since_ms + KEPT_ALIVE_MARGIN_MS)
		return;
	conn->phase = REG_HEADER_WAITING;
	conn->deadline_ms = last_receive_ms + timer->timeout_ms;
}

static unsigned scan_locked(struct reg_header_timer *timer, int64_t now_ms)
{
	unsigned closed = 0;

	for (struct reg_header_conn *conn = timer->head; conn; conn = conn->next) {
		if (conn->phase == REG_HEADER_KEPT_ALIVE)
			kept_alive_check(timer, conn, now_ms);
		if (conn->phase != REG_HEADER_WAITING || now_ms < conn->deadline_ms)
			continue;
		/* The descriptor is still open: it is closed only after
		 * reg_header_timer_remove, which waits for this lock. */
		shutdown(conn->fd, SHUT_RDWR);
		conn->phase = REG_HEADER_CLOSING;
		closed++;
	}
	return closed;
}

unsigned reg_header_timer_scan(struct reg_header_timer *timer, int64_t now_ms)
{
	unsigned closed;

	pthread_mutex_lock(&timer->lock);
	closed = scan_locked(timer, now_ms);
	pthread_mutex_unlock(&timer->lock);
	return closed;
}

void reg_header_timer_set_probe_for_test(struct reg_header_timer *timer, reg_header_probe_fn probe)
{
	pthread_mutex_lock(&timer->lock);
	timer->probe = probe ? probe : probe_tcp_info;
	pthread_mutex_unlock(&timer->lock);
}
