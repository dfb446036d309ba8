#include "errors.h"

#include <stddef.h>

static const struct {
	const char *code;
	unsigned status;
	const char *message;
} errors[] = {
	[REG_OK] = { "OK", 200, "ok" },
	[REG_E_BLOB_UNKNOWN] = { "BLOB_UNKNOWN", 404, "blob unknown to registry" },
	[REG_E_BLOB_UPLOAD_INVALID] = { "BLOB_UPLOAD_INVALID", 400, "blob upload invalid" },
	[REG_E_BLOB_UPLOAD_UNKNOWN] = { "BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry" },
	[REG_E_DIGEST_INVALID] = { "DIGEST_INVALID", 400, "provided digest did not match uploaded content" },
	[REG_E_MANIFEST_BLOB_UNKNOWN] = { "MANIFEST_BLOB_UNKNOWN", 400, "manifest references a blob or manifest unknown to the repository" },
	[REG_E_MANIFEST_INVALID] = { "MANIFEST_INVALID", 400, "manifest invalid" },
	[REG_E_MANIFEST_UNKNOWN] = { "MANIFEST_UNKNOWN", 404, "manifest unknown to registry" },
	[REG_E_NAME_INVALID] = { "NAME_INVALID", 400, "invalid repository name" },
	[REG_E_NAME_UNKNOWN] = { "NAME_UNKNOWN", 404, "repository name not known to registry" },
	[REG_E_SIZE_INVALID] = { "SIZE_INVALID", 400, "provided length did not match content length" },
	[REG_E_UNAUTHORIZED] = { "UNAUTHORIZED", 401, "authentication required" },
	[REG_E_DENIED] = { "DENIED", 403, "requested access to the resource is denied" },
	[REG_E_UNSUPPORTED] = { "UNSUPPORTED", 405, "the operation is unsupported" },
	[REG_E_TOOMANYREQUESTS] = { "TOOMANYREQUESTS", 429, "too many requests" },
	[REG_E_INTERNAL] = { "UNKNOWN", 500, "internal server error" },
};

#define N_ERRORS (sizeof(errors) / sizeof(errors[0]))

const char *reg_error_code(enum reg_error error)
{
	return (size_t)error < N_ERRORS ? errors[error].code : errors[REG_E_INTERNAL].code;
}

unsigned reg_error_status(enum reg_error error)
{
	return (size_t)error < N_ERRORS ? errors[error].status : 500;
}

const char *reg_error_message(enum reg_error error)
{
	return (size_t)error < N_ERRORS ? errors[error].message : errors[REG_E_INTERNAL].message;
}
