/*
 * The request headers the registry reads besides Authorization: Range against
 * a blob size taken from the first 8 bytes, Content-Range of an upload chunk,
 * and Accept.  A range that parses must lie inside the blob.
 */
#include "fuzz.h"

#include "httpparse.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t blob_size = 0, first, last;
	char *header;

	if (size < sizeof(blob_size))
		return 0;
	memcpy(&blob_size, data, sizeof(blob_size));
	/* Small sizes are the interesting ones; keep a few huge ones too. */
	if (data[0] & 1)
		blob_size &= 0xffff;
	header = fuzz_strndup(data + sizeof(blob_size), size - sizeof(blob_size));

	if (reg_range_parse(header, blob_size, &first, &last) == 0) {
		if (first > last || last >= blob_size)
			abort();
	}
	if (reg_content_range_parse(header, &first, &last) == 0) {
		if (first > last)
			abort();
	}
	(void)reg_accept_lists(header, REG_MT_OCI_MANIFEST);
	(void)reg_accept_lists(header, REG_MT_DOCKER_LIST);
	free(header);
	return 0;
}
