/*
 * Parsing of pushed manifests with jansson; see manifest.h.
 *
 * The parser is strict wherever a lax reading could let two readers see two
 * different manifests in the same bytes.  So duplicate keys are rejected, every
 * descriptor field must have its exact type, and the declared mediaType must
 * agree with the Content-Type.  Fields this registry does not use (urls,
 * platform, data) are left unchecked, because they are served back unchanged.
 */
#include "manifest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

static const struct {
	const char *media_type;
	enum reg_manifest_kind kind;
} known_types[] = {
	{ REG_MT_OCI_MANIFEST, REG_MANIFEST_IMAGE },
	{ REG_MT_DOCKER_MANIFEST, REG_MANIFEST_IMAGE },
	{ REG_MT_OCI_INDEX, REG_MANIFEST_INDEX },
	{ REG_MT_DOCKER_LIST, REG_MANIFEST_INDEX },
};

__attribute__((format(printf, 3, 4)))
static int invalid(char *err, size_t err_size, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	vsnprintf(err, err_size, format, args);
	va_end(args);
	return -EINVAL;
}

/* Copies VALUE into a new string in *SLOT.  Returns 0 or -ENOMEM. */
static int dup_string(const char *value, char **slot)
{
	*slot = strdup(value);
	return *slot ? 0 : -ENOMEM;
}

/*
 * Reads the optional string member KEY of OBJECT into *ret (NULL when absent).
 * Returns 0, -EINVAL when it is not a string, or -ENOMEM.
 */
static int get_optional_string(json_t *object, const char *key, const char *where,
			       char **ret, char *err, size_t err_size)
{
	json_t *value = json_object_get(object, key);

	if (!value)
		return 0;
	if (!json_is_string(value))
		return invalid(err, err_size, "%s%s must be a string", where, key);
	return dup_string(json_string_value(value), ret);
}

/* Moves *SRC into *DST, keeping the digest's hex pointer inside DST. */
static void descriptor_move(struct reg_descriptor *dst, struct reg_descriptor *src)
{
	*dst = *src;
	reg_digest_copy(&dst->digest, &src->digest);
	memset(src, 0, sizeof(*src));
}

static void descriptor_release(struct reg_descriptor *d)
{
	free(d->media_type);
	free(d->artifact_type);
	memset(d, 0, sizeof(*d));
}

/* Checks that the optional "annotations" of OBJECT map strings to strings. */
static int check_annotations(json_t *object, const char *where, char *err, size_t err_size)
{
	json_t *annotations = json_object_get(object, "annotations");
	const char *key;
	json_t *value;

	if (!annotations)
		return 0;
	if (!json_is_object(annotations))
		return invalid(err, err_size, "%sannotations must be an object", where);
	json_object_foreach(annotations, key, value) {
		if (!json_is_string(value))
			return invalid(err, err_size, "%sannotations: value of \"%.64s\" must be a string",
				       where, key);
	}
	return 0;
}

/*
 * Parses the descriptor JSON into *ret.  WHERE prefixes error messages, e.g.
 * "layers[2]: ".  On failure *ret owns nothing.
 */
static int parse_descriptor(json_t *json, const char *where, struct reg_descriptor *ret,
			    char *err, size_t err_size)
{
	struct reg_descriptor d = { 0 };
	json_t *media_type, *digest, *size;
	int r;

	if (!json_is_object(json))
		return invalid(err, err_size, "%smust be an object", where);
	media_type = json_object_get(json, "mediaType");
	digest = json_object_get(json, "digest");
	size = json_object_get(json, "size");

	if (!json_is_string(media_type) || json_string_length(media_type) == 0)
		return invalid(err, err_size, "%smediaType must be a non-empty string", where);
	if (!json_is_string(digest) || reg_digest_parse(json_string_value(digest), &d.digest) < 0)
		return invalid(err, err_size, "%sdigest is missing or invalid", where);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return invalid(err, err_size, "%ssize must be a non-negative integer", where);
	d.size = json_integer_value(size);
	r = check_annotations(json, where, err, err_size);
	if (r < 0)
		return r;

	r = dup_string(json_string_value(media_type), &d.media_type);
	if (r < 0)
		goto out;
	r = get_optional_string(json, "artifactType", where, &d.artifact_type, err, err_size);
	if (r < 0)
		goto out;

	descriptor_move(ret, &d);
	return 0;

out:
	descriptor_release(&d);
	return r;
}

/*
 * Parses the array member KEY of OBJECT as descriptors into a new array in
 * *ret_array with *ret_count entries.  An empty array is valid.
 */
static int parse_descriptor_array(json_t *object, const char *key,
				  struct reg_descriptor **ret_array, size_t *ret_count,
				  char *err, size_t err_size)
{
	json_t *array = json_object_get(object, key);
	struct reg_descriptor *descriptors = NULL;
	size_t count, i = 0;
	int r = 0;

	if (!json_is_array(array))
		return invalid(err, err_size, "%s must be an array", key);
	count = json_array_size(array);
	if (count > 0) {
		descriptors = calloc(count, sizeof(*descriptors));
		if (!descriptors)
			return -ENOMEM;
	}

	for (i = 0; i < count; i++) {
		char where[64];

		snprintf(where, sizeof(where), "%s[%zu]: ", key, i);
		r = parse_descriptor(json_array_get(array, i), where, &descriptors[i], err, err_size);
		if (r < 0)
			goto out;
	}
	*ret_array = descriptors;
	*ret_count = count;
	descriptors = NULL;

out:
	/* Entries from i on were never filled, so only those before it are released. */
	while (descriptors && i > 0)
		descriptor_release(&descriptors[--i]);
	free(descriptors);
	return r;
}

/*
 * Decides the manifest's media type from the body's "mediaType" (MEMBER, may
 * be NULL) and the Content-Type without parameters (CONTENT_TYPE, may be
 * NULL), and sets *ret_index to its entry in known_types.
 */
static int resolve_media_type(json_t *member, const char *content_type, size_t *ret_index,
			      char *err, size_t err_size)
{
	const char *declared;

	if (member && !json_is_string(member))
		return invalid(err, err_size, "mediaType must be a string");
	declared = member ? json_string_value(member) : content_type;
	if (!declared)
		return invalid(err, err_size, "no mediaType in the manifest and no Content-Type");

	/* Media types compare case-insensitively (RFC 9110 section 8.3.1). */
	if (member && content_type && strcasecmp(declared, content_type) != 0)
		return invalid(err, err_size, "mediaType \"%.128s\" does not match Content-Type \"%.128s\"",
			       declared, content_type);

	for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]); i++) {
		if (strcasecmp(declared, known_types[i].media_type) == 0) {
			*ret_index = i;
			return 0;
		}
	}
	return invalid(err, err_size, "unsupported manifest media type \"%.128s\"", declared);
}

/* Rejects anything but "schemaVersion": 2, naming schema 1 when it is that. */
static int check_schema_version(json_t *root, char *err, size_t err_size)
{
	json_t *version = json_object_get(root, "schemaVersion");

	if (json_is_integer(version) && json_integer_value(version) == 1)
		return invalid(err, err_size, "schema 1 manifests are not supported; push schema 2");
	if (!json_is_integer(version) || json_integer_value(version) != 2)
		return invalid(err, err_size, "schemaVersion must be 2");
	return 0;
}

/* Fills the IMAGE fields of *m from ROOT. */
static int parse_image(json_t *root, struct reg_manifest *m, char *err, size_t err_size)
{
	int r;

	if (!json_object_get(root, "config"))
		return invalid(err, err_size, "config is missing");
	r = parse_descriptor(json_object_get(root, "config"), "config: ", &m->config, err, err_size);
	if (r < 0)
		return r;
	return parse_descriptor_array(root, "layers", &m->layers, &m->n_layers, err, err_size);
}

/*
 * Fills artifact_type and annotations_json, the fields the referrers API
 * lists.  The OCI distribution-spec v1.1 referrers listing treats an empty
 * artifactType as missing, and then reports an image manifest's
 * config.mediaType and nothing for an index.
 */
static int parse_referrer_fields(json_t *root, struct reg_manifest *m, char *err,
				 size_t err_size)
{
	json_t *annotations = json_object_get(root, "annotations");
	int r;

	r = get_optional_string(root, "artifactType", "", &m->artifact_type, err, err_size);
	if (r < 0)
		return r;
	if (m->artifact_type && m->artifact_type[0] == '\0') {
		free(m->artifact_type);
		m->artifact_type = NULL;
	}
	if (!m->artifact_type && m->kind == REG_MANIFEST_IMAGE) {
		r = dup_string(m->config.media_type, &m->artifact_type);
		if (r < 0)
			return r;
	}

	r = check_annotations(root, "", err, err_size);
	if (r < 0)
		return r;
	if (annotations && json_object_size(annotations) > 0) {
		m->annotations_json = json_dumps(annotations, JSON_COMPACT | JSON_SORT_KEYS);
		if (!m->annotations_json)
			return -ENOMEM;
	}
	return 0;
}

/* Fills *m from the parsed object ROOT, given the Content-Type without parameters. */
static int parse_root(json_t *root, const char *content_type, struct reg_manifest *m,
		      char *err, size_t err_size)
{
	json_t *subject = json_object_get(root, "subject");
	size_t type_index = 0;
	int r;

	r = check_schema_version(root, err, err_size);
	if (r < 0)
		return r;
	r = resolve_media_type(json_object_get(root, "mediaType"), content_type, &type_index,
			       err, err_size);
	if (r < 0)
		return r;
	m->kind = known_types[type_index].kind;
	r = dup_string(known_types[type_index].media_type, &m->media_type);
	if (r < 0)
		return r;

	if (m->kind == REG_MANIFEST_IMAGE)
		r = parse_image(root, m, err, err_size);
	else
		r = parse_descriptor_array(root, "manifests", &m->manifests, &m->n_manifests,
					   err, err_size);
	if (r < 0)
		return r;

	if (subject) {
		r = parse_descriptor(subject, "subject: ", &m->subject, err, err_size);
		if (r < 0)
			return r;
		m->has_subject = true;
	}
	return parse_referrer_fields(root, m, err, err_size);
}

/*
 * Copies CONTENT_TYPE without parameters or surrounding blanks into BUF.
 * Returns BUF, or NULL when CONTENT_TYPE is NULL or has no media type.
 */
static const char *strip_content_type(const char *content_type, char *buf, size_t size)
{
	size_t len;

	if (!content_type)
		return NULL;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	len = strcspn(content_type, ";");
	while (len > 0 && (content_type[len - 1] == ' ' || content_type[len - 1] == '\t'))
		len--;
	if (len == 0)
		return NULL;

	snprintf(buf, size, "%.*s", (int)len, content_type);
	return buf;
}

int reg_manifest_parse(const char *content_type, const void *body, size_t len,
		       struct reg_manifest *ret, char *err, size_t err_size)
{
	struct reg_manifest m = { 0 };
	char type_buf[256];
	const char *type;
	json_error_t json_error;
	json_t *root = NULL;
	int r;

	if (len > REG_MANIFEST_MAX) {
		snprintf(err, err_size, "manifest is larger than %d bytes", REG_MANIFEST_MAX);
		return -EFBIG;
	}
	type = strip_content_type(content_type, type_buf, sizeof(type_buf));
	if (type && (strcasecmp(type, MT_DOCKER_SCHEMA1) == 0 ||
		     strcasecmp(type, MT_DOCKER_SCHEMA1_SIGNED) == 0))
		return invalid(err, err_size, "schema 1 manifests are not supported; push schema 2");

	/* Duplicate keys make a manifest ambiguous: another reader may take the other value. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &json_error);
	if (!root)
		return invalid(err, err_size, "invalid JSON at line %d: %s", json_error.line,
			       json_error.text);
	if (!json_is_object(root)) {
		r = invalid(err, err_size, "manifest must be a JSON object");
		goto out;
	}

	r = parse_root(root, type, &m, err, err_size);
	if (r < 0)
		goto out;
	*ret = m;
	descriptor_move(&ret->config, &m.config);
	descriptor_move(&ret->subject, &m.subject);
	memset(&m, 0, sizeof(m));

out:
	reg_manifest_release(&m);
	json_decref(root);
	return r;
}

void reg_manifest_release(struct reg_manifest *m)
{
	free(m->media_type);
	free(m->artifact_type);
	free(m->annotations_json);
	descriptor_release(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		descriptor_release(&m->layers[i]);
	free(m->layers);
	for (size_t i = 0; i < m->n_manifests; i++)
		descriptor_release(&m->manifests[i]);
	free(m->manifests);
	descriptor_release(&m->subject);
	memset(m, 0, sizeof(m[0]));
}
