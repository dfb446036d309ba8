/* Unit tests for registry/upload_limit.c: the cap on uploads in progress per
 * client address, against a real metadata database. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "upload.h"
#include "upload_limit.h"
#include "unit.h"

static char root[] = "/tmp/test_reg_upload_limit.XXXXXX";
static struct reg_config config;
static struct reg_context ctx;

/* Reserves and commits a new upload of ADDRESS; returns 1, 0 or -errno as reserve. */
static int start_upload(struct reg_upload_limit *limit, const char *address, char *ret_id)
{
	int r = reg_upload_limit_reserve(limit, ctx.meta, address);

	if (r != 1)
		return r;
	CHECK_INT(reg_upload_create(&ctx, "lib/app", ret_id), 0);
	reg_upload_limit_commit(limit, address, ret_id);
	return 1;
}

static void cap_per_address(void)
{
	struct reg_upload_limit *limit = NULL;
	char ids[3][REG_UPLOAD_ID_LEN + 1], other[REG_UPLOAD_ID_LEN + 1];

	CHECK_INT(reg_upload_limit_new(3, &limit), 0);
	if (!limit)
		return;
	for (int i = 0; i < 3; i++)
		CHECK_INT(start_upload(limit, "192.0.2.1", ids[i]), 1);
	CHECK_INT(reg_upload_limit_count(limit, "192.0.2.1"), 3);
	CHECK_INT(reg_upload_limit_reserve(limit, ctx.meta, "192.0.2.1"), 0);
	/* Another address has a cap of its own. */
	CHECK_INT(start_upload(limit, "192.0.2.2", other), 1);

	/* A cancelled upload frees its place at the next reservation. */
	CHECK_INT(reg_upload_cancel(&ctx, ids[1]), 0);
	CHECK_INT(start_upload(limit, "192.0.2.1", ids[1]), 1);
	CHECK_INT(reg_upload_limit_reserve(limit, ctx.meta, "192.0.2.1"), 0);
	reg_upload_limit_free(limit);
}

static void reservations_count(void)
{
	struct reg_upload_limit *limit = NULL;

	CHECK_INT(reg_upload_limit_new(2, &limit), 0);
	if (!limit)
		return;
	/* Reservations are never pruned, so two parallel POSTs fill a cap of 2. */
	CHECK_INT(reg_upload_limit_reserve(limit, ctx.meta, "198.51.100.1"), 1);
	CHECK_INT(reg_upload_limit_reserve(limit, ctx.meta, "198.51.100.1"), 1);
	CHECK_INT(reg_upload_limit_reserve(limit, ctx.meta, "198.51.100.1"), 0);
	/* A released reservation (a mount, or an error) frees its place. */
	reg_upload_limit_release(limit, "198.51.100.1");
	CHECK_INT(reg_upload_limit_count(limit, "198.51.100.1"), 1);
	CHECK_INT(reg_upload_limit_reserve(limit, ctx.meta, "198.51.100.1"), 1);
	/* Releasing for an address without a reservation changes nothing. */
	reg_upload_limit_release(limit, "198.51.100.9");
	CHECK_INT(reg_upload_limit_count(limit, "198.51.100.1"), 2);
	reg_upload_limit_free(limit);
}

/* Many addresses with finished uploads: the table prunes before it grows,
 * so it keeps working and counts only what still exists. */
static void stale_entries_pruned(void)
{
	struct reg_upload_limit *limit = NULL;
	char id[REG_UPLOAD_ID_LEN + 1], address[32];

	CHECK_INT(reg_upload_limit_new(1, &limit), 0);
	if (!limit)
		return;
	for (int i = 0; i < 300; i++) {
		snprintf(address, sizeof(address), "203.0.113.%d", i % 250);
		CHECK_INT(start_upload(limit, address, id), 1);
		CHECK_INT(reg_upload_cancel(&ctx, id), 0);
	}
	CHECK_INT(start_upload(limit, "203.0.113.1", id), 1);
	CHECK_INT(reg_upload_limit_reserve(limit, ctx.meta, "203.0.113.1"), 0);
	CHECK_INT(reg_upload_limit_count(limit, "203.0.113.1"), 1);
	reg_upload_limit_free(limit);
}

static void zero_cap_rejected(void)
{
	struct reg_upload_limit *limit = NULL;

	CHECK_INT(reg_upload_limit_new(0, &limit), -EINVAL);
	CHECK(limit == NULL);
	reg_upload_limit_free(NULL);
}

int main(void)
{
	char command[PATH_MAX + 16], err[256] = "";

	if (!mkdtemp(root))
		return 1;
	reg_config_init(&config);
	reg_config_set(&config, "root", root, err, sizeof(err));
	if (reg_context_init(&ctx, &config, err, sizeof(err)) < 0) {
		fprintf(stderr, "context: %s\n", err);
		return 1;
	}
	RUN(cap_per_address);
	RUN(reservations_count);
	RUN(stale_entries_pruned);
	RUN(zero_cap_rejected);
	reg_context_release(&ctx);
	reg_config_release(&config);
	snprintf(command, sizeof(command), "rm -rf %s", root);
	if (system(command) != 0)
		fprintf(stderr, "cannot remove %s\n", root);
	return UNIT_EXIT();
}
