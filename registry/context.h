/*
 * The state every request handler shares: settings, blob store, metadata, and the
 * authentication state.  Made once by main before the server starts and
 * freed after it stopped; handlers only read the pointers.
 */
#ifndef EDGECR_REG_CONTEXT_H
#define EDGECR_REG_CONTEXT_H

#include "auth.h"
#include "blobstore.h"
#include "config.h"
#include "meta.h"
#include "upload_limit.h"

struct reg_context {
	const struct reg_config *config;
	struct reg_blobstore store;
	struct reg_meta *meta;
	struct reg_auth *auth;         /* NULL when auth_file is not set */
	struct reg_throttle *throttle; /* NULL when auth_file is not set */
	struct reg_upload_limit *upload_limit; /* uploads in progress per client address */
};

/*
 * Opens the storage root, the metadata and the credentials file named by
 * CONFIG into *CTX.  Returns 0, or a negative errno with the reason in ERR.
 */
int reg_context_init(struct reg_context *ctx, const struct reg_config *config,
		     char *err, size_t err_size);

/* Frees what *CTX owns; a released context may be released again. */
void reg_context_release(struct reg_context *ctx);

#endif
