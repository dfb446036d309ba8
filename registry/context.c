/*
 * Set-up and tear-down of the state shared by all requests; see context.h.
 */
#include "context.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static int auth_open(struct reg_context *ctx, const char *path, char *err, size_t err_size)
{
	int r;

	r = reg_auth_new(path, &ctx->auth, err, err_size);
	if (r < 0)
		return r;
	r = reg_throttle_new(REG_THROTTLE_FAILURES, REG_THROTTLE_WINDOW, &ctx->throttle);
	if (r < 0)
		snprintf(err, err_size, "cannot create the login throttle: %s", strerror(-r));
	return r;
}

int reg_context_init(struct reg_context *ctx, const struct reg_config *config,
		     char *err, size_t err_size)
{
	char path[PATH_MAX];
	int r;

	memset(ctx, 0, sizeof(*ctx));
	ctx->config = config;

	r = reg_blobstore_init(&ctx->store, config->root);
	if (r < 0) {
		snprintf(err, err_size, "root: cannot create the storage folders under \"%s\": %s",
			 config->root, strerror(-r));
		goto out;
	}

	if (snprintf(path, sizeof(path), "%s/metadata.db", config->root) >= (int)sizeof(path)) {
		r = -ENAMETOOLONG;
		snprintf(err, err_size, "root: path \"%s\" is too long", config->root);
		goto out;
	}
	r = reg_meta_open(path, &ctx->meta, err, err_size);
	if (r < 0)
		goto out;
	r = reg_upload_limit_new(config->max_uploads_per_client, &ctx->upload_limit);
	if (r < 0) {
		snprintf(err, err_size, "cannot create the upload limit: %s", strerror(-r));
		goto out;
	}

	if (config->auth_file)
		r = auth_open(ctx, config->auth_file, err, err_size);
out:
	if (r < 0)
		reg_context_release(ctx);
	return r;
}

void reg_context_release(struct reg_context *ctx)
{
	reg_upload_limit_free(ctx->upload_limit);
	ctx->upload_limit = NULL;
	reg_throttle_free(ctx->throttle);
	ctx->throttle = NULL;
	reg_auth_free(ctx->auth);
	ctx->auth = NULL;
	reg_meta_free(ctx->meta);
	ctx->meta = NULL;
	reg_blobstore_release(&ctx->store);
}
