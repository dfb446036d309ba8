/* Unit tests for registry/manifest.c: the four manifest types and every rejection. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "unit.h"

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEX_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define HEX_D "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static const char oci_image[] =
	"{\n"
	"  \"schemaVersion\": 2,\n"
	"  \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n"
	"  \"config\": {\n"
	"    \"mediaType\": \"application/vnd.oci.image.config.v1+json\",\n"
	"    \"digest\": \"sha256:" HEX_A "\",\n"
	"    \"size\": 1470\n"
	"  },\n"
	"  \"layers\": [\n"
	"    {\n"
	"      \"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\",\n"
	"      \"digest\": \"sha256:" HEX_B "\",\n"
	"      \"size\": 3623807,\n"
	"      \"annotations\": { \"org.opencontainers.image.title\": \"rootfs.tar.gz\" }\n"
	"    },\n"
	"    {\n"
	"      \"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\",\n"
	"      \"digest\": \"sha256:" HEX_C "\",\n"
	"      \"size\": 0\n"
	"    }\n"
	"  ],\n"
	"  \"annotations\": {\n"
	"    \"org.opencontainers.image.version\": \"1.2.3\",\n"
	"    \"org.opencontainers.image.created\": \"2024-01-02T03:04:05Z\"\n"
	"  }\n"
	"}\n";

static const char oci_index[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
	"\"manifests\":["
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" HEX_A "\","
	"\"size\":1024,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha512:" HEX_B HEX_B "\","
	"\"size\":1025,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}"
	"]}";

static const char docker_manifest[] =
	"{\n"
	"   \"schemaVersion\": 2,\n"
	"   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
	"   \"config\": {\n"
	"      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
	"      \"size\": 7023,\n"
	"      \"digest\": \"sha256:" HEX_A "\"\n"
	"   },\n"
	"   \"layers\": [\n"
	"      {\n"
	"         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
	"         \"size\": 32654,\n"
	"         \"digest\": \"sha256:" HEX_B "\"\n"
	"      }\n"
	"   ]\n"
	"}";

static const char docker_list[] =
	"{\n"
	"  \"schemaVersion\": 2,\n"
	"  \"mediaType\": \"application/vnd.docker.distribution.manifest.list.v2+json\",\n"
	"  \"manifests\": [\n"
	"    {\n"
	"      \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
	"      \"size\": 7143,\n"
	"      \"digest\": \"sha256:" HEX_C "\",\n"
	"      \"platform\": { \"architecture\": \"ppc64le\", \"os\": \"linux\" }\n"
	"    }\n"
	"  ]\n"
	"}";

/* An artifact (a signature) that refers to another manifest, as OCI 1.1 pushes it. */
static const char oci_artifact[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	"\"artifactType\":\"application/vnd.example.signature.v1\","
	"\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"sha256:" HEX_D "\","
	"\"size\":2,\"data\":\"e30=\"},"
	"\"layers\":[],"
	"\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	"\"digest\":\"sha256:" HEX_A "\",\"size\":1024,\"artifactType\":\"application/x-subject\"},"
	"\"annotations\":{\"b\":\"2\",\"a\":\"1\"}}";

/* Parses BODY with CONTENT_TYPE, expecting success. */
static int parse_ok(const char *content_type, const char *body, struct reg_manifest *m)
{
	char err[256] = "";
	int r = reg_manifest_parse(content_type, body, strlen(body), m, err, sizeof(err));

	if (r != 0)
		fprintf(stderr, "  parse returned %d: %s\n", r, err);
	return r;
}

/* Parses BODY, expecting EXPECTED with a message that contains FRAGMENT. */
static void check_rejected(const char *content_type, const char *body, int expected,
			   const char *fragment)
{
	struct reg_manifest m;
	char err[256] = "";
	int r;

	memset(&m, 0x5a, sizeof(m));
	r = reg_manifest_parse(content_type, body, strlen(body), &m, err, sizeof(err));
	if (r != expected || !strstr(err, fragment))
		fprintf(stderr, "  returned %d with \"%s\", expected %d with \"%s\"\n  body: %.200s\n",
			r, err, expected, fragment, body);
	CHECK_INT(r, expected);
	CHECK(strstr(err, fragment) != NULL);
	CHECK_INT((unsigned char)((char *)&m)[0], 0x5a);
}

static void oci_image_parses(void)
{
	struct reg_manifest m = { 0 };

	CHECK_INT(parse_ok(REG_MT_OCI_MANIFEST, oci_image, &m), 0);
	CHECK_INT(m.kind, REG_MANIFEST_IMAGE);
	CHECK_STR(m.media_type, REG_MT_OCI_MANIFEST);
	CHECK_STR(m.config.media_type, "application/vnd.oci.image.config.v1+json");
	CHECK_STR(m.config.digest.text, "sha256:" HEX_A);
	CHECK_STR(m.config.digest.hex, HEX_A);
	CHECK_INT(m.config.size, 1470);
	CHECK(m.config.artifact_type == NULL);
	CHECK_INT(m.n_layers, 2);
	CHECK_STR(m.layers[0].digest.text, "sha256:" HEX_B);
	CHECK_STR(m.layers[0].digest.hex, HEX_B);
	CHECK_INT(m.layers[0].size, 3623807);
	CHECK_STR(m.layers[1].digest.text, "sha256:" HEX_C);
	CHECK_INT(m.layers[1].size, 0);
	CHECK_INT(m.n_manifests, 0);
	CHECK(!m.has_subject);
	/* Without its own artifactType an image reports its config's media type. */
	CHECK_STR(m.artifact_type, "application/vnd.oci.image.config.v1+json");
	CHECK_STR(m.annotations_json, "{\"org.opencontainers.image.created\":\"2024-01-02T03:04:05Z\","
		  "\"org.opencontainers.image.version\":\"1.2.3\"}");

	reg_manifest_release(&m);
	CHECK(m.media_type == NULL);
	CHECK(m.layers == NULL);
	reg_manifest_release(&m);
}

static void oci_index_parses(void)
{
	struct reg_manifest m = { 0 };

	CHECK_INT(parse_ok(REG_MT_OCI_INDEX, oci_index, &m), 0);
	CHECK_INT(m.kind, REG_MANIFEST_INDEX);
	CHECK_STR(m.media_type, REG_MT_OCI_INDEX);
	CHECK_INT(m.n_manifests, 2);
	CHECK_STR(m.manifests[0].digest.text, "sha256:" HEX_A);
	CHECK_STR(m.manifests[1].digest.text, "sha512:" HEX_B HEX_B);
	CHECK_STR(m.manifests[1].digest.hex, HEX_B HEX_B);
	CHECK_INT(m.manifests[1].digest.algorithm, REG_DIGEST_SHA512);
	CHECK_INT(m.manifests[1].size, 1025);
	CHECK_INT(m.n_layers, 0);
	CHECK(m.artifact_type == NULL);
	CHECK(m.annotations_json == NULL);
	reg_manifest_release(&m);
}

static void docker_manifest_parses(void)
{
	struct reg_manifest m = { 0 };

	CHECK_INT(parse_ok(REG_MT_DOCKER_MANIFEST, docker_manifest, &m), 0);
	CHECK_INT(m.kind, REG_MANIFEST_IMAGE);
	CHECK_STR(m.media_type, REG_MT_DOCKER_MANIFEST);
	CHECK_STR(m.config.digest.text, "sha256:" HEX_A);
	CHECK_INT(m.n_layers, 1);
	CHECK_INT(m.layers[0].size, 32654);
	CHECK_STR(m.artifact_type, "application/vnd.docker.container.image.v1+json");
	reg_manifest_release(&m);
}

static void docker_list_parses(void)
{
	struct reg_manifest m = { 0 };

	CHECK_INT(parse_ok(REG_MT_DOCKER_LIST, docker_list, &m), 0);
	CHECK_INT(m.kind, REG_MANIFEST_INDEX);
	CHECK_STR(m.media_type, REG_MT_DOCKER_LIST);
	CHECK_INT(m.n_manifests, 1);
	CHECK_STR(m.manifests[0].media_type, REG_MT_DOCKER_MANIFEST);
	reg_manifest_release(&m);
}

static void artifact_with_subject(void)
{
	struct reg_manifest m = { 0 };

	CHECK_INT(parse_ok(REG_MT_OCI_MANIFEST, oci_artifact, &m), 0);
	CHECK_INT(m.n_layers, 0);
	CHECK(m.layers == NULL);
	CHECK_STR(m.artifact_type, "application/vnd.example.signature.v1");
	CHECK(m.has_subject);
	CHECK_STR(m.subject.digest.text, "sha256:" HEX_A);
	CHECK_STR(m.subject.digest.hex, HEX_A);
	CHECK_STR(m.subject.artifact_type, "application/x-subject");
	CHECK_INT(m.subject.size, 1024);
	CHECK_STR(m.annotations_json, "{\"a\":\"1\",\"b\":\"2\"}");
	reg_manifest_release(&m);
}

static void empty_artifact_type_falls_back(void)
{
	struct reg_manifest m = { 0 };

	CHECK_INT(parse_ok(REG_MT_OCI_MANIFEST,
			   "{\"schemaVersion\":2,\"artifactType\":\"\",\"config\":{\"mediaType\":"
			   "\"application/vnd.example.config\",\"digest\":\"sha256:" HEX_A "\",\"size\":2},"
			   "\"layers\":[]}", &m), 0);
	CHECK_STR(m.artifact_type, "application/vnd.example.config");
	reg_manifest_release(&m);

	CHECK_INT(parse_ok(REG_MT_OCI_INDEX,
			   "{\"schemaVersion\":2,\"artifactType\":\"\",\"manifests\":[]}", &m), 0);
	CHECK(m.artifact_type == NULL);
	reg_manifest_release(&m);

	CHECK_INT(parse_ok(REG_MT_OCI_INDEX,
			   "{\"schemaVersion\":2,\"artifactType\":\"application/x-sbom\",\"manifests\":[]}",
			   &m), 0);
	CHECK_STR(m.artifact_type, "application/x-sbom");
	reg_manifest_release(&m);
}

static void content_type_forms(void)
{
	struct reg_manifest m = { 0 };

	/* No Content-Type: the body's mediaType decides. */
	CHECK_INT(parse_ok(NULL, oci_image, &m), 0);
	reg_manifest_release(&m);

	/* Parameters and case do not matter. */
	CHECK_INT(parse_ok("application/vnd.oci.image.manifest.v1+json; charset=utf-8", oci_image, &m), 0);
	reg_manifest_release(&m);
	CHECK_INT(parse_ok("Application/VND.OCI.Image.Manifest.v1+json", oci_image, &m), 0);
	CHECK_STR(m.media_type, REG_MT_OCI_MANIFEST);
	reg_manifest_release(&m);

	/* No mediaType in the body: the Content-Type decides. */
	CHECK_INT(parse_ok(REG_MT_OCI_INDEX, "{\"schemaVersion\":2,\"manifests\":[]}", &m), 0);
	CHECK_INT(m.kind, REG_MANIFEST_INDEX);
	CHECK_STR(m.media_type, REG_MT_OCI_INDEX);
	reg_manifest_release(&m);
}

static void schema1_rejected(void)
{
	check_rejected(NULL, "{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"latest\",\"fsLayers\":[]}",
		       -EINVAL, "schema 1");
	check_rejected("application/vnd.docker.distribution.manifest.v1+json",
		       "{\"schemaVersion\":2}", -EINVAL, "schema 1");
	check_rejected("application/vnd.docker.distribution.manifest.v1+prettyjws; charset=utf-8",
		       docker_manifest, -EINVAL, "schema 1");
}

static void not_json_rejected(void)
{
	check_rejected(REG_MT_OCI_MANIFEST, "", -EINVAL, "invalid JSON");
	check_rejected(REG_MT_OCI_MANIFEST, "{", -EINVAL, "invalid JSON");
	check_rejected(REG_MT_OCI_MANIFEST, "{\"schemaVersion\":2,}", -EINVAL, "invalid JSON");
	check_rejected(REG_MT_OCI_MANIFEST, "[]", -EINVAL, "object");
	check_rejected(REG_MT_OCI_MANIFEST, "[{\"schemaVersion\":2}]", -EINVAL, "object");
	check_rejected(REG_MT_OCI_MANIFEST, "\"x\"", -EINVAL, "");
	check_rejected(REG_MT_OCI_MANIFEST, "{\"schemaVersion\":2}{}", -EINVAL, "invalid JSON");
}

static void duplicate_keys_rejected(void)
{
	check_rejected(REG_MT_OCI_INDEX,
		       "{\"schemaVersion\":2,\"manifests\":[],\"manifests\":[]}", -EINVAL, "invalid JSON");
	check_rejected(REG_MT_OCI_MANIFEST,
		       "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:" HEX_A
		       "\",\"digest\":\"sha256:" HEX_B "\",\"size\":1},\"layers\":[]}",
		       -EINVAL, "duplicate");
}

static void schema_version_rejected(void)
{
	check_rejected(REG_MT_OCI_INDEX, "{\"manifests\":[]}", -EINVAL, "schemaVersion");
	check_rejected(REG_MT_OCI_INDEX, "{\"schemaVersion\":3,\"manifests\":[]}", -EINVAL, "schemaVersion");
	check_rejected(REG_MT_OCI_INDEX, "{\"schemaVersion\":\"2\",\"manifests\":[]}", -EINVAL, "schemaVersion");
	check_rejected(REG_MT_OCI_INDEX, "{\"schemaVersion\":2.0,\"manifests\":[]}", -EINVAL, "schemaVersion");
}

static void media_type_rejected(void)
{
	check_rejected(REG_MT_OCI_INDEX, oci_image, -EINVAL, "does not match");
	check_rejected("application/json", oci_image, -EINVAL, "does not match");
	check_rejected(NULL, "{\"schemaVersion\":2,\"manifests\":[]}", -EINVAL, "no mediaType");
	check_rejected("; charset=utf-8", "{\"schemaVersion\":2,\"manifests\":[]}", -EINVAL, "no mediaType");
	check_rejected("application/json", "{\"schemaVersion\":2,\"manifests\":[]}", -EINVAL, "unsupported");
	check_rejected(NULL, "{\"schemaVersion\":2,\"mediaType\":\"text/plain\",\"manifests\":[]}",
		       -EINVAL, "unsupported");
	check_rejected(NULL, "{\"schemaVersion\":2,\"mediaType\":7,\"manifests\":[]}", -EINVAL, "mediaType");
}

static void missing_parts_rejected(void)
{
	const char *config = "\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:" HEX_A "\",\"size\":1}";
	char body[512];

	check_rejected(REG_MT_OCI_MANIFEST, "{\"schemaVersion\":2,\"layers\":[]}", -EINVAL, "config");
	snprintf(body, sizeof(body), "{\"schemaVersion\":2,%s}", config);
	check_rejected(REG_MT_OCI_MANIFEST, body, -EINVAL, "layers must be an array");
	snprintf(body, sizeof(body), "{\"schemaVersion\":2,%s,\"layers\":{}}", config);
	check_rejected(REG_MT_OCI_MANIFEST, body, -EINVAL, "layers must be an array");
	check_rejected(REG_MT_OCI_MANIFEST, "{\"schemaVersion\":2,\"config\":[],\"layers\":[]}",
		       -EINVAL, "config: must be an object");
	check_rejected(REG_MT_OCI_INDEX, "{\"schemaVersion\":2}", -EINVAL, "manifests must be an array");
	check_rejected(REG_MT_OCI_INDEX, "{\"schemaVersion\":2,\"manifests\":null}", -EINVAL,
		       "manifests must be an array");
}

/* Builds an index whose one child has the descriptor members MEMBERS. */
static void check_bad_descriptor(const char *members, const char *fragment)
{
	char body[1024];

	snprintf(body, sizeof(body), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\","
		 "\"digest\":\"sha256:" HEX_A "\",\"size\":1},{%s}]}", members);
	check_rejected(REG_MT_OCI_INDEX, body, -EINVAL, fragment);
}

static void descriptors_rejected(void)
{
	const char *digest = "\"digest\":\"sha256:" HEX_A "\"";
	char members[512];

	snprintf(members, sizeof(members), "%s,\"size\":1", digest);
	check_bad_descriptor(members, "manifests[1]: mediaType");
	snprintf(members, sizeof(members), "\"mediaType\":\"\",%s,\"size\":1", digest);
	check_bad_descriptor(members, "mediaType");
	snprintf(members, sizeof(members), "\"mediaType\":5,%s,\"size\":1", digest);
	check_bad_descriptor(members, "mediaType");
	check_bad_descriptor("\"mediaType\":\"a/b\",\"size\":1", "manifests[1]: digest");
	check_bad_descriptor("\"mediaType\":\"a/b\",\"digest\":\"sha256:abc\",\"size\":1", "digest");
	check_bad_descriptor("\"mediaType\":\"a/b\",\"digest\":\"md5:d41d8cd98f00b204e9800998ecf8427e\","
			     "\"size\":1", "digest");
	check_bad_descriptor("\"mediaType\":\"a/b\",\"digest\":\"sha256:" HEX_A "0\",\"size\":1", "digest");
	snprintf(members, sizeof(members), "\"mediaType\":\"a/b\",%s", digest);
	check_bad_descriptor(members, "size");
	snprintf(members, sizeof(members), "\"mediaType\":\"a/b\",%s,\"size\":-1", digest);
	check_bad_descriptor(members, "size");
	snprintf(members, sizeof(members), "\"mediaType\":\"a/b\",%s,\"size\":1.5", digest);
	check_bad_descriptor(members, "size");
	snprintf(members, sizeof(members), "\"mediaType\":\"a/b\",%s,\"size\":\"1\"", digest);
	check_bad_descriptor(members, "size");
	snprintf(members, sizeof(members), "\"mediaType\":\"a/b\",%s,\"size\":1,\"artifactType\":1", digest);
	check_bad_descriptor(members, "artifactType");
	snprintf(members, sizeof(members), "\"mediaType\":\"a/b\",%s,\"size\":1,\"annotations\":[]", digest);
	check_bad_descriptor(members, "annotations");
	check_bad_descriptor("", "mediaType");
	check_rejected(REG_MT_OCI_INDEX, "{\"schemaVersion\":2,\"manifests\":[1]}", -EINVAL,
		       "manifests[0]: must be an object");
}

static void manifest_fields_rejected(void)
{
	char body[1024];

	snprintf(body, sizeof(body), "{\"schemaVersion\":2,\"manifests\":[],\"subject\":\"sha256:%s\"}", HEX_A);
	check_rejected(REG_MT_OCI_INDEX, body, -EINVAL, "subject: must be an object");
	check_rejected(REG_MT_OCI_INDEX, "{\"schemaVersion\":2,\"manifests\":[],\"subject\":{\"size\":1}}",
		       -EINVAL, "subject: mediaType");
	check_rejected(REG_MT_OCI_INDEX, "{\"schemaVersion\":2,\"manifests\":[],\"artifactType\":[]}",
		       -EINVAL, "artifactType must be a string");
	check_rejected(REG_MT_OCI_INDEX, "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":\"x\"}",
		       -EINVAL, "annotations must be an object");
	check_rejected(REG_MT_OCI_INDEX, "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"k\":1}}",
		       -EINVAL, "\"k\" must be a string");
}

static void empty_annotations_are_null(void)
{
	struct reg_manifest m = { 0 };

	CHECK_INT(parse_ok(REG_MT_OCI_INDEX, "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{}}", &m), 0);
	CHECK(m.annotations_json == NULL);
	reg_manifest_release(&m);
}

static void oversized_rejected(void)
{
	size_t len = REG_MANIFEST_MAX + 1;
	char *body = malloc(len);
	struct reg_manifest m;
	char err[128] = "";

	CHECK(body != NULL);
	if (!body)
		return;
	memset(body, ' ', len);
	CHECK_INT(reg_manifest_parse(REG_MT_OCI_MANIFEST, body, len, &m, err, sizeof(err)), -EFBIG);
	CHECK(strstr(err, "larger") != NULL);

	/* At exactly the limit the body is parsed, and here fails as JSON. */
	CHECK_INT(reg_manifest_parse(REG_MT_OCI_MANIFEST, body, len - 1, &m, err, sizeof(err)), -EINVAL);
	free(body);
}

static void embedded_nul_rejected(void)
{
	static const char body[] = "{\"schemaVersion\":2,\"manifests\":[]}\0{}";
	struct reg_manifest m;
	char err[128] = "";

	CHECK_INT(reg_manifest_parse(REG_MT_OCI_INDEX, body, sizeof(body) - 1, &m, err, sizeof(err)),
		  -EINVAL);
	check_rejected(REG_MT_OCI_INDEX,
		       "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"k\":\"a\\u0000b\"}}",
		       -EINVAL, "invalid JSON");
}

int main(void)
{
	RUN(oci_image_parses);
	RUN(oci_index_parses);
	RUN(docker_manifest_parses);
	RUN(docker_list_parses);
	RUN(artifact_with_subject);
	RUN(empty_artifact_type_falls_back);
	RUN(content_type_forms);
	RUN(schema1_rejected);
	RUN(not_json_rejected);
	RUN(duplicate_keys_rejected);
	RUN(schema_version_rejected);
	RUN(media_type_rejected);
	RUN(missing_parts_rejected);
	RUN(descriptors_rejected);
	RUN(manifest_fields_rejected);
	RUN(empty_annotations_are_null);
	RUN(oversized_rejected);
	RUN(embedded_nul_rejected);
	return UNIT_EXIT();
}
