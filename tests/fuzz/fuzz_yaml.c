/*
 * agent_yaml_to_json on a document, as the kubeconfig reader calls it.  A
 * successful result must be a tree jansson can serialize.
 */
#include "fuzz.h"

#include <errno.h>

#include "yaml_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root = NULL;
	char err[256];
	char *text;
	int r;

	if (size > AGENT_YAML_MAX + 1)
		return 0;
	/* An exact-size copy, so that ASan catches a read past the end. */
	text = malloc(size ? size : 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	r = agent_yaml_to_json(text, size, &root, err, sizeof(err));
	if (r == 0) {
		char *dump = json_dumps(root, JSON_ENCODE_ANY | JSON_COMPACT);

		free(dump);
		json_decref(root);
	} else if (r != -EINVAL && r != -EFBIG && r != -ENOMEM) {
		abort();
	}
	free(text);
	return 0;
}
