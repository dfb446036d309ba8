/* Unit tests for registry/header_timer.c: the deadline for a request's
 * headers, on Unix socket pairs with a fake TCP_INFO probe and chosen times. */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "header_timer.h"
#include "unit.h"

#define TIMEOUT_S 3

/* What the fake probe returns as the last receive time, for every socket. */
static int64_t fake_last_receive_ms;
static int fake_probe_calls;

static int fake_probe(int fd, int64_t now_ms, int64_t *ret_last_receive_ms)
{
	fake_probe_calls++;
	*ret_last_receive_ms = fake_last_receive_ms;
	return 0;
}

struct pair {
	int server, client;
	struct reg_header_conn conn;
};

static struct reg_header_timer *timer_new(void)
{
	struct reg_header_timer *timer = NULL;

	CHECK_INT(reg_header_timer_new(TIMEOUT_S, &timer), 0);
	if (timer)
		reg_header_timer_set_probe_for_test(timer, fake_probe);
	fake_probe_calls = 0;
	return timer;
}

/* Opens a socket pair and adds its server end to TIMER as started at NOW_MS. */
static bool pair_open(struct reg_header_timer *timer, struct pair *pair, int64_t now_ms)
{
	int fds[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) < 0) {
		CHECK(!"socketpair failed");
		return false;
	}
	pair->server = fds[0];
	pair->client = fds[1];
	reg_header_timer_add(timer, &pair->conn, pair->server, now_ms);
	return true;
}

static void pair_close(struct reg_header_timer *timer, struct pair *pair)
{
	reg_header_timer_remove(timer, &pair->conn);
	close(pair->server);
	close(pair->client);
}

/* Returns true when the client end reads end-of-file, so the server end was shut down. */
static bool pair_is_shut_down(const struct pair *pair)
{
	char byte;

	return recv(pair->client, &byte, 1, 0) == 0;
}

static void first_request_deadline(void)
{
	struct reg_header_timer *timer = timer_new();
	struct pair pair;

	if (!timer || !pair_open(timer, &pair, 1000)) {
		reg_header_timer_free(timer);
		return;
	}
	CHECK_INT(reg_header_timer_scan(timer, 3999), 0);
	CHECK(!pair_is_shut_down(&pair));
	CHECK_INT(reg_header_timer_scan(timer, 4000), 1);
	CHECK(pair_is_shut_down(&pair));
	/* A connection is shut down and counted once. */
	CHECK_INT(reg_header_timer_scan(timer, 5000), 0);
	/* Headers that complete after the shutdown do not revive it. */
	reg_header_timer_headers_done(timer, &pair.conn);
	CHECK_INT(pair.conn.phase, REG_HEADER_CLOSING);
	/* A request still waiting for headers costs no probe. */
	CHECK_INT(fake_probe_calls, 0);
	pair_close(timer, &pair);
	reg_header_timer_free(timer);
}

static void complete_headers_stop_deadline(void)
{
	struct reg_header_timer *timer = timer_new();
	struct pair pair;

	if (!timer || !pair_open(timer, &pair, 1000)) {
		reg_header_timer_free(timer);
		return;
	}
	reg_header_timer_headers_done(timer, &pair.conn);
	/* A long body upload is not cut. */
	CHECK_INT(reg_header_timer_scan(timer, 1000000), 0);
	CHECK(!pair_is_shut_down(&pair));
	CHECK_INT(fake_probe_calls, 0);
	pair_close(timer, &pair);
	reg_header_timer_free(timer);
}

static void kept_alive_idle_not_closed(void)
{
	struct reg_header_timer *timer = timer_new();
	struct pair pair;

	if (!timer || !pair_open(timer, &pair, 1000)) {
		reg_header_timer_free(timer);
		return;
	}
	reg_header_timer_headers_done(timer, &pair.conn);
	reg_header_timer_request_done(timer, &pair.conn, 2000);
	/* The last data is the previous request's, so the idle timeout of
	 * libmicrohttpd alone decides. */
	fake_last_receive_ms = 1990;
	CHECK_INT(reg_header_timer_scan(timer, 100000), 0);
	/* Data within the margin after the request's end is taken as its own. */
	fake_last_receive_ms = 2050;
	CHECK_INT(reg_header_timer_scan(timer, 200000), 0);
	CHECK(!pair_is_shut_down(&pair));
	CHECK_INT(fake_probe_calls, 2);
	pair_close(timer, &pair);
	reg_header_timer_free(timer);
}

static void kept_alive_first_byte_starts_deadline(void)
{
	struct reg_header_timer *timer = timer_new();
	struct pair pair;

	if (!timer || !pair_open(timer, &pair, 1000)) {
		reg_header_timer_free(timer);
		return;
	}
	reg_header_timer_headers_done(timer, &pair.conn);
	reg_header_timer_request_done(timer, &pair.conn, 2000);
	fake_last_receive_ms = 5000;
	/* The deadline is 5000 + 3000, not 2000 + 3000. */
	CHECK_INT(reg_header_timer_scan(timer, 5500), 0);
	CHECK_INT(reg_header_timer_scan(timer, 7999), 0);
	/* Later bytes do not move the deadline, and need no more probes. */
	fake_last_receive_ms = 7900;
	CHECK_INT(reg_header_timer_scan(timer, 8000), 1);
	CHECK(pair_is_shut_down(&pair));
	CHECK_INT(fake_probe_calls, 1);
	pair_close(timer, &pair);
	reg_header_timer_free(timer);
}

static void next_request_rearms(void)
{
	struct reg_header_timer *timer = timer_new();
	struct pair pair;

	if (!timer || !pair_open(timer, &pair, 1000)) {
		reg_header_timer_free(timer);
		return;
	}
	reg_header_timer_headers_done(timer, &pair.conn);
	reg_header_timer_request_done(timer, &pair.conn, 2000);
	fake_last_receive_ms = 2500;
	CHECK_INT(reg_header_timer_scan(timer, 2600), 0);
	/* The second request's headers complete in time, and it ends. */
	reg_header_timer_headers_done(timer, &pair.conn);
	reg_header_timer_request_done(timer, &pair.conn, 9000);
	/* The old deadline (5500) is gone; the probe reads no new data. */
	fake_last_receive_ms = 8990;
	CHECK_INT(reg_header_timer_scan(timer, 20000), 0);
	CHECK(!pair_is_shut_down(&pair));
	pair_close(timer, &pair);
	reg_header_timer_free(timer);
}

static void removed_not_shut_down(void)
{
	struct reg_header_timer *timer = timer_new();
	struct pair first, second, third;

	if (!timer || !pair_open(timer, &first, 1000) || !pair_open(timer, &second, 1000) ||
	    !pair_open(timer, &third, 1000)) {
		reg_header_timer_free(timer);
		return;
	}
	/* Removal from the middle, the head and the tail of the list. */
	reg_header_timer_remove(timer, &second.conn);
	CHECK_INT(reg_header_timer_scan(timer, 4000), 2);
	CHECK(pair_is_shut_down(&first));
	CHECK(!pair_is_shut_down(&second));
	CHECK(pair_is_shut_down(&third));
	reg_header_timer_remove(timer, &third.conn);
	reg_header_timer_remove(timer, &first.conn);
	CHECK_INT(reg_header_timer_scan(timer, 9000), 0);
	close(first.server);
	close(first.client);
	close(second.server);
	close(second.client);
	close(third.server);
	close(third.client);
	reg_header_timer_free(timer);
}

static void thread_starts_and_stops(void)
{
	struct reg_header_timer *timer = NULL;

	CHECK_INT(reg_header_timer_new(0, &timer), -EINVAL);
	CHECK_INT(reg_header_timer_new(TIMEOUT_S, &timer), 0);
	if (!timer)
		return;
	CHECK_INT(reg_header_timer_start(timer), 0);
	/* Stopping does not wait for the one-second scan interval. */
	reg_header_timer_free(timer);
	reg_header_timer_free(NULL);
}

int main(void)
{
	RUN(first_request_deadline);
	RUN(complete_headers_stop_deadline);
	RUN(kept_alive_idle_not_closed);
	RUN(kept_alive_first_byte_starts_deadline);
	RUN(next_request_rearms);
	RUN(removed_not_shut_down);
	RUN(thread_starts_and_stops);
	return UNIT_EXIT();
}
