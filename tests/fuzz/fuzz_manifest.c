/*
 * reg_manifest_parse on a pushed manifest body.  The first byte picks the
 * Content-Type the client sent: none, one of the four accepted media types,
 * or an unknown one; the rest is the body.
 */
#include "fuzz.h"

#include "manifest.h"

static const char *const content_types[] = {
	NULL,
	REG_MT_OCI_MANIFEST,
	REG_MT_OCI_INDEX,
	REG_MT_DOCKER_MANIFEST,
	REG_MT_DOCKER_LIST,
	REG_MT_OCI_MANIFEST "; charset=utf-8",
	"application/json",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n_types = sizeof(content_types) / sizeof(content_types[0]);
	struct reg_manifest manifest;
	char err[256];
	const char *content_type;

	if (size < 1)
		return 0;
	content_type = content_types[data[0] % n_types];

	/* The body is copied so that ASan catches a read past its end. */
	uint8_t *body = malloc(size - 1 ? size - 1 : 1);
	if (!body)
		abort();
	memcpy(body, data + 1, size - 1);
	if (reg_manifest_parse(content_type, body, size - 1, &manifest, err, sizeof(err)) == 0) {
		if (manifest.kind == REG_MANIFEST_IMAGE && !manifest.config.media_type)
			abort();
		reg_manifest_release(&manifest);
		reg_manifest_release(&manifest);
	}
	free(body);
	return 0;
}
