/*
 * reg_route_parse on a request path, as the router passes it: already
 * percent-decoded, without the query.  A parsed route must hold only names,
 * references and digests that pass the checks of ref.h again.
 */
#include "fuzz.h"

#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_strndup(data, size);
	struct reg_route route;
	enum reg_error error;
	struct reg_digest digest;

	if (reg_route_parse(path, &route, &error) == 0) {
		if (route.name[0] && !reg_name_is_valid(route.name))
			abort();
		if (route.kind == REG_ROUTE_MANIFEST && !route.is_digest &&
		    !reg_tag_is_valid(route.reference))
			abort();
		if ((route.kind == REG_ROUTE_BLOB || route.kind == REG_ROUTE_REFERRERS ||
		     (route.kind == REG_ROUTE_MANIFEST && route.is_digest)) &&
		    reg_digest_parse(route.digest.text, &digest) != 0)
			abort();
	}
	free(path);
	return 0;
}
