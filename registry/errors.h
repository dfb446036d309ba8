/*
 * The registry's error codes, as the OCI Distribution Specification v1.1 names
 * them, with the HTTP status each is sent with.  Handlers return a reg_error and
 * the HTTP layer turns it into {"errors":[{"code","message","detail"}]}.
 */
#ifndef EDGECR_REG_ERRORS_H
#define EDGECR_REG_ERRORS_H

enum reg_error {
	REG_OK = 0,
	REG_E_BLOB_UNKNOWN,           /* 404 */
	REG_E_BLOB_UPLOAD_INVALID,    /* 400; 416 for an out-of-order chunk, see the handler */
	REG_E_BLOB_UPLOAD_UNKNOWN,    /* 404 */
	REG_E_DIGEST_INVALID,         /* 400 */
	REG_E_MANIFEST_BLOB_UNKNOWN,  /* 400 */
	REG_E_MANIFEST_INVALID,       /* 400; 413 when too large, see the handler */
	REG_E_MANIFEST_UNKNOWN,       /* 404 */
	REG_E_NAME_INVALID,           /* 400 */
	REG_E_NAME_UNKNOWN,           /* 404 */
	REG_E_SIZE_INVALID,           /* 400 */
	REG_E_UNAUTHORIZED,           /* 401 */
	REG_E_DENIED,                 /* 403 */
	REG_E_UNSUPPORTED,            /* 405 */
	REG_E_TOOMANYREQUESTS,        /* 429 */
	REG_E_INTERNAL,               /* 500, code "UNKNOWN": storage or database failure */
};

/* Returns the spec's code string, e.g. "BLOB_UNKNOWN". */
const char *reg_error_code(enum reg_error error);

/* Returns the HTTP status usually sent with ERROR. */
unsigned reg_error_status(enum reg_error error);

/* Returns the spec's default message for ERROR, e.g. "blob unknown to registry". */
const char *reg_error_message(enum reg_error error);

#endif
