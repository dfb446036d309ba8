/*
 * GET /v2/<name>/referrers/<digest>: the OCI 1.1 referrers list, an image
 * index of the manifests whose subject is <digest>.  A subject that is not
 * pushed (yet) has an empty list, never 404, as OCI 1.1 requires.
 */
#include "handlers.h"

#include <errno.h>

#include "manifest.h"

void reg_h_referrers(struct reg_request *req)
{
	const char *artifact_type = reg_request_query(req, "artifactType");
	json_t *manifests, *index;
	int r;

	if (artifact_type && !*artifact_type)
		artifact_type = NULL;
	manifests = json_array();
	if (!manifests) {
		reg_respond_internal(req, "referrers listing", -ENOMEM);
		return;
	}

	r = reg_meta_referrers(req->ctx->meta, req->route.name, req->route.digest.text,
			       artifact_type, manifests);
	if (r < 0) {
		json_decref(manifests);
		reg_respond_internal(req, "referrers listing", r);
		return;
	}

	index = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", REG_MT_OCI_INDEX,
			  "manifests", manifests);
	reg_respond_json(req, MHD_HTTP_OK, index, REG_MT_OCI_INDEX,
			 artifact_type ? "OCI-Filters-Applied" : NULL, "artifactType");
}
