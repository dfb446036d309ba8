/* Unit tests of the storage check (registry/fsck.c, registry/meta_fsck.c)
 * against a real sqlite database and storage root. */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context.h"
#include "fsck.h"
#include "gc_meta.h"
#include "meta.h"
#include "unit.h"

static char dir[] = "/tmp/test_reg_fsck.XXXXXX";
static int root_serial;

struct store {
	struct reg_config config;
	struct reg_context ctx;
};

/* One pushed image: its blobs and manifest digests. */
struct image {
	struct reg_digest config, layer, manifest;
};

/* The output and report of one fsck run. */
struct result {
	struct reg_fsck_report report;
	char *output; /* owned */
};

static void store_open(struct store *s)
{
	char root[PATH_MAX], err[256] = "";

	snprintf(root, sizeof(root), "%s/root-%d", dir, ++root_serial);
	CHECK_INT(reg_config_init(&s->config), 0);
	free(s->config.root);
	s->config.root = strdup(root);
	memset(&s->ctx, 0, sizeof(s->ctx));
	CHECK_INT(reg_context_init(&s->ctx, &s->config, err, sizeof(err)), 0);
}

static void store_close(struct store *s)
{
	reg_context_release(&s->ctx);
	reg_config_release(&s->config);
}

/* Stores DATA as a blob file and links it into REPO. */
static void blob_push(struct store *s, const char *repo, const char *data, struct reg_digest *ret)
{
	size_t len = strlen(data);

	CHECK_INT(reg_blobstore_digest_bytes(REG_DIGEST_SHA256, data, len, ret), 0);
	CHECK_INT(reg_blobstore_put(&s->ctx.store, ret, data, len), 0);
	CHECK_INT(reg_meta_blob_link(s->ctx.meta, repo, ret->text, len), 0);
}

struct manifest_bytes {
	struct store *s;
	const struct reg_digest *digest;
	const char *text;
};

static int manifest_write(void *userdata)
{
	const struct manifest_bytes *b = userdata;

	return reg_blobstore_put(&b->s->ctx.store, b->digest, b->text, strlen(b->text));
}

/* Stores manifest M with bytes TEXT in REPO, tagged TAG. */
static void manifest_push(struct store *s, const char *repo, const char *tag,
			  const struct reg_manifest *m, const char *text, struct reg_digest *ret)
{
	struct reg_meta_manifest record = { .size = strlen(text) };
	char missing[REG_DIGEST_TEXT_MAX] = "";
	struct manifest_bytes bytes = { .s = s, .digest = ret, .text = text };

	CHECK_INT(reg_blobstore_digest_bytes(REG_DIGEST_SHA256, text, strlen(text), ret), 0);
	strcpy(record.digest, ret->text);
	strcpy(record.media_type, m->media_type);
	CHECK_INT(reg_meta_manifest_put(s->ctx.meta, repo, &record, m, tag, manifest_write, &bytes,
					missing), 0);
}

/* Pushes an image whose config and layer are made from NAME, tagged TAG. */
static void image_push(struct store *s, const char *repo, const char *tag, const char *name,
		       struct image *ret)
{
	struct reg_descriptor layer = { 0 };
	struct reg_manifest m = { 0 };
	char data[128], text[512];

	snprintf(data, sizeof(data), "{\"config of\":\"%s\"}", name);
	blob_push(s, repo, data, &ret->config);
	snprintf(data, sizeof(data), "layer of %s", name);
	blob_push(s, repo, data, &ret->layer);

	m.kind = REG_MANIFEST_IMAGE;
	m.media_type = "application/vnd.oci.image.manifest.v1+json";
	reg_digest_copy(&m.config.digest, &ret->config);
	reg_digest_copy(&layer.digest, &ret->layer);
	m.layers = &layer;
	m.n_layers = 1;
	snprintf(text, sizeof(text), "{\"schemaVersion\":2,\"config\":\"%s\",\"layer\":\"%s\"}",
		 ret->config.text, ret->layer.text);
	manifest_push(s, repo, tag, &m, text, &ret->manifest);
}

/* Pushes an index of REPO whose single child is CHILD, tagged TAG. */
static void index_push(struct store *s, const char *repo, const char *tag,
		       const struct reg_digest *child, struct reg_digest *ret)
{
	struct reg_descriptor child_descriptor = { 0 };
	struct reg_manifest m = { 0 };
	char text[256];

	m.kind = REG_MANIFEST_INDEX;
	m.media_type = "application/vnd.oci.image.index.v1+json";
	reg_digest_copy(&child_descriptor.digest, child);
	m.manifests = &child_descriptor;
	m.n_manifests = 1;
	snprintf(text, sizeof(text), "{\"schemaVersion\":2,\"manifests\":[\"%s\"]}", child->text);
	manifest_push(s, repo, tag, &m, text, ret);
}

static void result_free(struct result *result)
{
	free(result->output);
	result->output = NULL;
}

static void fsck(struct store *s, bool repair, struct result *ret)
{
	size_t size = 0;
	FILE *out;

	memset(ret, 0, sizeof(*ret));
	out = open_memstream(&ret->output, &size);
	CHECK(out != NULL);
	if (!out)
		return;
	CHECK_INT(reg_fsck_run(&s->ctx, repair, out, &ret->report), 0);
	fclose(out);
}

static bool output_has(const struct result *result, const char *text)
{
	bool found = result->output && strstr(result->output, text);

	if (!found)
		fprintf(stderr, "  output lacks \"%s\":\n%s", text,
			result->output ? result->output : "");
	return found;
}

static void blob_file_path(struct store *s, const struct reg_digest *d, char *path)
{
	CHECK_INT(reg_blobstore_blob_path(&s->ctx.store, d, path), 0);
}

static void file_write(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(data, f);
	fclose(f);
}

/* Runs SQL on the store's database through a connection of its own. */
static void sql_run(struct store *s, const char *sql)
{
	char path[PATH_MAX];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/metadata.db", s->config.root);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int manifest_present(struct store *s, const char *repo, const char *reference,
			    bool is_digest)
{
	struct reg_meta_manifest found;

	return reg_meta_manifest_get(s->ctx.meta, repo, reference, is_digest, &found);
}

static void fsck_clean_store(void)
{
	struct store s;
	struct result result;
	struct image image;
	struct reg_digest index;

	store_open(&s);
	image_push(&s, "app", "v1", "one", &image);
	index_push(&s, "app", "multi", &image.manifest, &index);

	fsck(&s, false, &result);
	CHECK_INT(result.report.blobs, 4);
	CHECK_INT(result.report.problems, 0);
	CHECK_INT(result.report.orphans, 0);
	CHECK_INT(result.report.unrepaired, 0);
	CHECK(result.output != NULL);
	CHECK(!strstr(result.output ? result.output : "", "problem:"));
	result_free(&result);
	store_close(&s);
}

static void fsck_corrupt_blob_reported(void)
{
	char path[PATH_MAX], line[512];
	struct store s;
	struct result result;
	struct image image;

	store_open(&s);
	image_push(&s, "app", "v1", "one", &image);
	blob_file_path(&s, &image.layer, path);
	file_write(path, "LAYER OF ONE"); /* same size, other bytes */

	fsck(&s, false, &result);
	CHECK_INT(result.report.problems, 1);
	CHECK_INT(result.report.unrepaired, 1);
	snprintf(line, sizeof(line), "problem: blob %s: content does not match the digest",
		 image.layer.text);
	CHECK(output_has(&result, line));
	/* Without --repair nothing changes. */
	CHECK_INT(access(path, F_OK), 0);
	CHECK_INT(manifest_present(&s, "app", "v1", false), 0);
	result_free(&result);
	store_close(&s);
}

static void fsck_size_mismatch_reported(void)
{
	char path[PATH_MAX], line[512];
	struct store s;
	struct result result;
	struct image image;

	store_open(&s);
	image_push(&s, "app", "v1", "one", &image);
	blob_file_path(&s, &image.layer, path);
	file_write(path, "layer of one, and more");

	fsck(&s, false, &result);
	CHECK_INT(result.report.problems, 1);
	snprintf(line, sizeof(line), "problem: blob %s: file has 22 bytes, the row says 12",
		 image.layer.text);
	CHECK(output_has(&result, line));
	result_free(&result);
	store_close(&s);
}

static void fsck_missing_file_repaired(void)
{
	char path[PATH_MAX], line[512];
	struct store s;
	struct result result;
	struct image image, other;

	store_open(&s);
	image_push(&s, "app", "v1", "one", &image);
	image_push(&s, "app", "v2", "two", &other);
	blob_file_path(&s, &image.config, path);
	CHECK_INT(unlink(path), 0);

	fsck(&s, true, &result);
	snprintf(line, sizeof(line), "problem: blob %s: file missing", image.config.text);
	CHECK(output_has(&result, line));
	snprintf(line, sizeof(line), "repaired: removed dangling manifest app@%s",
		 image.manifest.text);
	CHECK(output_has(&result, line));
	CHECK(output_has(&result, "repaired: removed tag app:v1 of that manifest"));
	CHECK(!strstr(result.output, "app:v2"));
	CHECK_INT(result.report.problems, 1);
	CHECK_INT(result.report.unrepaired, 0);
	CHECK(result.report.repaired >= 2);
	result_free(&result);

	CHECK_INT(reg_meta_gc_blob_known(s.ctx.meta, image.config.text), 0);
	CHECK_INT(manifest_present(&s, "app", image.manifest.text, true), -ENOENT);
	CHECK_INT(manifest_present(&s, "app", "v1", false), -ENOENT);
	CHECK_INT(manifest_present(&s, "app", "v2", false), 0);

	/* The layer and manifest files of the removed image are orphans now. */
	fsck(&s, false, &result);
	CHECK_INT(result.report.problems, 0);
	CHECK_INT(result.report.orphans, 0); /* rows stay until gc: no orphan yet */
	result_free(&result);
	store_close(&s);
}

static void fsck_dangling_manifest_reported(void)
{
	char sql[256], line[512];
	struct store s;
	struct result result;
	struct image image;

	store_open(&s);
	image_push(&s, "app", "v1", "one", &image);
	snprintf(sql, sizeof(sql), "DELETE FROM blobs WHERE digest = '%s'", image.layer.text);
	sql_run(&s, sql);

	fsck(&s, false, &result);
	snprintf(line, sizeof(line), "problem: manifest app@%s: references blob %s, which has no "
		 "blob row", image.manifest.text, image.layer.text);
	CHECK(output_has(&result, line));
	snprintf(line, sizeof(line), "problem: blob link app -> %s: no blob row", image.layer.text);
	CHECK(output_has(&result, line));
	snprintf(line, sizeof(line), "orphan: %s has a file but no blob row", image.layer.text);
	CHECK(output_has(&result, line));
	CHECK_INT(result.report.problems, 2);
	CHECK_INT(result.report.orphans, 1);
	CHECK_INT(manifest_present(&s, "app", "v1", false), 0);
	result_free(&result);
	store_close(&s);
}

static void fsck_dangling_manifest_repaired(void)
{
	char sql[256], line[512];
	struct store s;
	struct result result;
	struct image image;
	struct reg_digest index;

	store_open(&s);
	image_push(&s, "app", "v1", "one", &image);
	index_push(&s, "app", "multi", &image.manifest, &index);
	snprintf(sql, sizeof(sql), "DELETE FROM blobs WHERE digest = '%s'", image.layer.text);
	sql_run(&s, sql);

	fsck(&s, true, &result);
	snprintf(line, sizeof(line), "repaired: removed dangling manifest app@%s",
		 image.manifest.text);
	CHECK(output_has(&result, line));
	/* The index lost its child, so it goes next. */
	snprintf(line, sizeof(line), "repaired: removed dangling manifest app@%s", index.text);
	CHECK(output_has(&result, line));
	snprintf(line, sizeof(line), "repaired: removed blob link app -> %s", image.layer.text);
	CHECK(output_has(&result, line));
	CHECK_INT(result.report.unrepaired, 0);
	result_free(&result);

	CHECK_INT(manifest_present(&s, "app", "v1", false), -ENOENT);
	CHECK_INT(manifest_present(&s, "app", "multi", false), -ENOENT);
	CHECK_INT(reg_meta_blob_readable(s.ctx.meta, "app", image.config.text), 1);

	fsck(&s, false, &result);
	CHECK_INT(result.report.problems, 0);
	CHECK_INT(result.report.orphans, 1); /* the layer file, left to gc */
	result_free(&result);
	store_close(&s);
}

static void fsck_corrupt_blob_repaired(void)
{
	char path[PATH_MAX], line[512];
	struct store s;
	struct result result;
	struct image image, other;

	store_open(&s);
	image_push(&s, "app", "v1", "one", &image);
	image_push(&s, "other", "v1", "two", &other);
	blob_file_path(&s, &image.layer, path);
	file_write(path, "LAYER OF ONE");

	fsck(&s, true, &result);
	snprintf(line, sizeof(line), "repaired: removed file of blob %s", image.layer.text);
	CHECK(output_has(&result, line));
	snprintf(line, sizeof(line), "repaired: removed dangling manifest app@%s",
		 image.manifest.text);
	CHECK(output_has(&result, line));
	CHECK_INT(result.report.problems, 1);
	CHECK_INT(result.report.unrepaired, 0);
	result_free(&result);

	CHECK(access(path, F_OK) < 0);
	CHECK_INT(reg_meta_gc_blob_known(s.ctx.meta, image.layer.text), 0);
	CHECK_INT(reg_meta_blob_readable(s.ctx.meta, "app", image.layer.text), 0);
	CHECK_INT(manifest_present(&s, "app", "v1", false), -ENOENT);
	CHECK_INT(manifest_present(&s, "other", "v1", false), 0);

	fsck(&s, false, &result);
	CHECK_INT(result.report.problems, 0);
	result_free(&result);
	store_close(&s);
}

static void fsck_dangling_tag_repaired(void)
{
	char sql[256];
	struct store s;
	struct result result;
	struct image image;

	store_open(&s);
	image_push(&s, "app", "v1", "one", &image);
	snprintf(sql, sizeof(sql), "DELETE FROM manifests WHERE digest = '%s'",
		 image.manifest.text);
	sql_run(&s, sql);

	fsck(&s, false, &result);
	CHECK(output_has(&result, "problem: tag app:v1: points to missing manifest"));
	CHECK(output_has(&result, "problem: reference row app@"));
	CHECK_INT(result.report.problems, 3); /* the tag and two reference rows */
	result_free(&result);

	fsck(&s, true, &result);
	CHECK(output_has(&result, "repaired: removed tag app:v1"));
	CHECK_INT(result.report.unrepaired, 0);
	result_free(&result);

	fsck(&s, false, &result);
	CHECK_INT(result.report.problems, 0);
	result_free(&result);
	store_close(&s);
}

/* More rows than one batch of reg_meta_fsck_blobs reads, none with a file. */
static void fsck_blob_rows_paged(void)
{
	struct store s;
	struct result result;

	store_open(&s);
	sql_run(&s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600) "
		"INSERT INTO blobs(digest, size, created) "
		"SELECT printf('sha256:%064x', i), 1, 0 FROM n");

	fsck(&s, false, &result);
	CHECK_INT(result.report.blobs, 600);
	CHECK_INT(result.report.problems, 600);
	CHECK(output_has(&result, "problem: blob sha256:"
			 "0000000000000000000000000000000000000000000000000000000000000001: "
			 "file missing"));
	CHECK(output_has(&result, "problem: blob sha256:"
			 "0000000000000000000000000000000000000000000000000000000000000258: "
			 "file missing"));
	result_free(&result);

	fsck(&s, true, &result);
	CHECK_INT(result.report.unrepaired, 0);
	result_free(&result);
	fsck(&s, false, &result);
	CHECK_INT(result.report.blobs, 0);
	CHECK_INT(result.report.problems, 0);
	result_free(&result);
	store_close(&s);
}

static void fsck_orphan_file_not_problem(void)
{
	struct store s;
	struct result result;
	struct reg_digest d;

	store_open(&s);
	CHECK_INT(reg_blobstore_digest_bytes(REG_DIGEST_SHA256, "orphan", 6, &d), 0);
	CHECK_INT(reg_blobstore_put(&s.ctx.store, &d, "orphan", 6), 0);

	fsck(&s, true, &result);
	CHECK_INT(result.report.problems, 0);
	CHECK_INT(result.report.orphans, 1);
	CHECK_INT(result.report.repaired, 0);
	CHECK(output_has(&result, "orphan: "));
	result_free(&result);
	CHECK_INT(reg_blobstore_exists(&s.ctx.store, &d), 0);
	store_close(&s);
}

static void fsck_report_format(void)
{
	struct reg_fsck_report report = { .blobs = 3, .bytes = 42, .problems = 2, .repaired = 4,
					  .unrepaired = 1, .orphans = 5, .seconds = 0.5 };
	char buf[256];

	reg_fsck_report_format(&report, false, buf, sizeof(buf));
	CHECK_STR(buf, "fsck: 3 blobs (42 bytes) checked in 0.500 s: 2 problems, 5 orphan files");
	reg_fsck_report_format(&report, true, buf, sizeof(buf));
	CHECK_STR(buf, "fsck: 3 blobs (42 bytes) checked in 0.500 s: 2 problems, 5 orphan files; "
		  "4 removals, 1 not repaired");
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(fsck_clean_store);
	RUN(fsck_corrupt_blob_reported);
	RUN(fsck_size_mismatch_reported);
	RUN(fsck_missing_file_repaired);
	RUN(fsck_dangling_manifest_reported);
	RUN(fsck_dangling_manifest_repaired);
	RUN(fsck_corrupt_blob_repaired);
	RUN(fsck_dangling_tag_repaired);
	RUN(fsck_blob_rows_paged);
	RUN(fsck_orphan_file_not_problem);
	RUN(fsck_report_format);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return UNIT_EXIT();
}
