/*
 * The name, tag and digest grammars of ref.h on one string.  A digest that
 * parses must come back unchanged in canonical form, with hex pointing into
 * the parsed text and surviving reg_digest_copy.
 */
#include "fuzz.h"

#include "ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);
	struct reg_digest digest, copy;

	(void)reg_name_is_valid(text);
	(void)reg_tag_is_valid(text);
	(void)reg_reference_is_digest(text);
	if (reg_digest_parse(text, &digest) == 0) {
		if (strcmp(digest.text, text) != 0)
			abort();
		if (strlen(digest.hex) != 2 * reg_digest_algorithm_size(digest.algorithm))
			abort();
		reg_digest_copy(&copy, &digest);
		if (copy.hex < copy.text || copy.hex >= copy.text + sizeof(copy.text))
			abort();
		if (strcmp(copy.hex, digest.hex) != 0)
			abort();
	}
	free(text);
	return 0;
}
