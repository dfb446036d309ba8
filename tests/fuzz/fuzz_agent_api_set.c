/*
 * The body of PUT /v1/registry: jansson's json_loadb as api_registry_put calls
 * it, then parse_set_options.  That function is static, so this file includes
 * api_registry.c and needs no change to it.  The handlers that file also
 * defines are never called here.  A body that passes must satisfy the rules
 * parse_set_options enforces.
 */
#include "fuzz.h"

#include "../../agent/api_registry.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_set_options options;
	json_error_t json_err;
	char err[1024];
	json_t *root;

	root = size ? json_loadb((const char *)data, size, 0, &json_err) : json_object();
	if (!root)
		return 0;
	if (parse_set_options(root, &options, err, sizeof(err)) == 0) {
		if (!options.chain_pem != !options.key_pem)
			abort();
		if (options.chain_pem && options.reissue_certificate)
			abort();
		if (options.chain_pem && strlen(options.chain_pem) > options.chain_len)
			abort();
	}
	json_decref(root);
	return 0;
}
