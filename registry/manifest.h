/*
 * Parsing and validation of pushed manifests: OCI image manifest, OCI image
 * index, Docker v2 schema 2 manifest and Docker manifest list.  The bytes a
 * client pushed are stored and served unchanged.  This module only reads them
 * to learn the media type and which blobs and manifests they reference.
 */
#ifndef EDGECR_REG_MANIFEST_H
#define EDGECR_REG_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "ref.h"

/* Manifests larger than this are rejected with MANIFEST_INVALID and 413. */
#define REG_MANIFEST_MAX (4 * 1024 * 1024)

#define REG_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define REG_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define REG_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define REG_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

enum reg_manifest_kind {
	REG_MANIFEST_IMAGE, /* OCI image manifest or Docker schema 2: config + layers */
	REG_MANIFEST_INDEX, /* OCI index or Docker manifest list: child manifests */
};

struct reg_descriptor {
	char *media_type;
	struct reg_digest digest;
	int64_t size;
	char *artifact_type; /* NULL unless the descriptor has one */
};

struct reg_manifest {
	enum reg_manifest_kind kind;
	char *media_type;     /* the manifest's own media type (see reg_manifest_parse) */
	/* For referrers: artifactType, else config.mediaType for an image manifest; may be NULL. */
	char *artifact_type;
	char *annotations_json; /* compact JSON object, or NULL when there are none */

	/* IMAGE: config and layers are blobs that must be in the repository. */
	struct reg_descriptor config;
	struct reg_descriptor *layers;
	size_t n_layers;

	/* INDEX: child manifests that must be in the repository. */
	struct reg_descriptor *manifests;
	size_t n_manifests;

	bool has_subject;
	struct reg_descriptor subject;
};

/*
 * Parses BODY (LEN bytes) pushed with the Content-Type CONTENT_TYPE (may be NULL).
 *
 * The media type is the body's "mediaType" field; when that is absent, the
 * Content-Type; when both are present they must agree.  It must be one of the
 * four REG_MT_ types.  Returns 0 and fills *ret (release with
 * reg_manifest_release), or -EINVAL with a one-line reason in ERR for
 * MANIFEST_INVALID: not JSON, not an object, schemaVersion other than 2
 * (schema 1 included), an unknown media type, a descriptor without a valid
 * mediaType, digest or non-negative size, a field of the wrong type, or a
 * duplicate key.  CONTENT_TYPE is compared without its parameters.
 * Returns -EFBIG, also with a reason in ERR, when LEN is above REG_MANIFEST_MAX,
 * so that the caller can send 413 with MANIFEST_INVALID.
 * Returns -ENOMEM when allocation fails.
 */
int reg_manifest_parse(const char *content_type, const void *body, size_t len,
		       struct reg_manifest *ret, char *err, size_t err_size);

/* Frees what *M owns and zeroes it; a zeroed struct may be released again. */
void reg_manifest_release(struct reg_manifest *m);

#endif
