/* Unit tests of the garbage-collection mark and sweep (registry/meta_gc.c,
 * registry/gc.c) against a real sqlite database and storage root. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "context.h"
#include "gc.h"
#include "gc_meta.h"
#include "meta.h"
#include "quota.h"
#include "unit.h"

static char dir[] = "/tmp/test_reg_gc.XXXXXX";
static int db_serial;

/* A cutoff after every row made by a test: everything is past its grace. */
#define CUTOFF_ALL ((int64_t)time(NULL) + 10)

/* Fills *D with a digest made of the hex code of C, repeated: each character
 * names a distinct blob or manifest. */
static void digest_make(struct reg_digest *d, char c)
{
	char text[7 + 64 + 1] = "sha256:";

	for (int i = 0; i < 32; i++)
		snprintf(text + 7 + 2 * i, 3, "%02x", (unsigned char)c);
	CHECK_INT(reg_digest_parse(text, d), 0);
}

static int store_nothing(void *userdata)
{
	return 0;
}

static struct reg_meta *meta_open_fresh(void)
{
	struct reg_meta *meta = NULL;
	char path[PATH_MAX], err[256] = "";

	snprintf(path, sizeof(path), "%s/meta-%d.db", dir, ++db_serial);
	CHECK_INT(reg_meta_open(path, &meta, err, sizeof(err)), 0);
	return meta;
}

/* Links the blobs of image manifest (config CONFIG, layers LAYERS) into REPO
 * and stores it as digest MANIFEST, tagged TAG unless NULL. */
static void image_put(struct reg_meta *meta, const char *repo, char manifest, char config,
		      const char *layers, const char *tag)
{
	struct reg_descriptor layer_descriptors[8];
	struct reg_meta_manifest record = { .size = 500 };
	char missing[REG_DIGEST_TEXT_MAX] = "";
	struct reg_manifest m = { 0 };
	struct reg_digest md;
	size_t n = strlen(layers);

	memset(layer_descriptors, 0, sizeof(layer_descriptors));
	m.kind = REG_MANIFEST_IMAGE;
	m.media_type = "application/vnd.oci.image.manifest.v1+json";
	digest_make(&m.config.digest, config);
	reg_meta_blob_link(meta, repo, m.config.digest.text, 100);
	for (size_t i = 0; i < n; i++) {
		digest_make(&layer_descriptors[i].digest, layers[i]);
		reg_meta_blob_link(meta, repo, layer_descriptors[i].digest.text, 1000);
	}
	m.layers = layer_descriptors;
	m.n_layers = n;
	digest_make(&md, manifest);
	strcpy(record.digest, md.text);
	strcpy(record.media_type, m.media_type);
	CHECK_INT(reg_meta_manifest_put(meta, repo, &record, &m, tag, store_nothing, NULL, missing), 0);
}

/* Stores an index DIGEST of REPO whose single child is CHILD, tagged TAG. */
static void index_put(struct reg_meta *meta, const char *repo, char digest, char child,
		      const char *tag)
{
	struct reg_meta_manifest record = { .size = 300 };
	char missing[REG_DIGEST_TEXT_MAX] = "";
	struct reg_descriptor child_descriptor = { 0 };
	struct reg_manifest m = { 0 };
	struct reg_digest md;

	m.kind = REG_MANIFEST_INDEX;
	m.media_type = "application/vnd.oci.image.index.v1+json";
	digest_make(&child_descriptor.digest, child);
	m.manifests = &child_descriptor;
	m.n_manifests = 1;
	digest_make(&md, digest);
	strcpy(record.digest, md.text);
	strcpy(record.media_type, m.media_type);
	CHECK_INT(reg_meta_manifest_put(meta, repo, &record, &m, tag, store_nothing, NULL, missing), 0);
}

static int readable(struct reg_meta *meta, const char *repo, char c)
{
	struct reg_digest d;

	digest_make(&d, c);
	return reg_meta_blob_readable(meta, repo, d.text);
}

static int known(struct reg_meta *meta, char c)
{
	struct reg_digest d;

	digest_make(&d, c);
	return reg_meta_gc_blob_known(meta, d.text);
}

static int manifest_present(struct reg_meta *meta, const char *repo, char c)
{
	struct reg_meta_manifest found;
	struct reg_digest d;

	digest_make(&d, c);
	return reg_meta_manifest_get(meta, repo, d.text, true, &found) == 0;
}

static void gc_deleted_image_shared_layer_kept(void)
{
	struct reg_meta *meta = meta_open_fresh();
	struct reg_meta_gc_counts mark, sweep;
	struct reg_digest b;

	image_put(meta, "app", 'A', '1', "s", "a");
	image_put(meta, "app", 'B', '2', "su", "b");
	digest_make(&b, 'B');
	CHECK_INT(reg_meta_manifest_delete(meta, "app", b.text), 0);

	CHECK_INT(reg_meta_gc_mark(meta, CUTOFF_ALL, true, &mark), 0);
	CHECK_INT(mark.manifests, 0);
	CHECK_INT(mark.links, 2);  /* config 2 and layer u */
	CHECK_INT(mark.blobs, 3);  /* those two and the deleted manifest B */
	CHECK_INT(mark.bytes, 100 + 1000 + 500);
	CHECK_INT(reg_meta_gc_sweep(meta, CUTOFF_ALL, true, &sweep), 0);
	CHECK_INT(sweep.manifests, mark.manifests);
	CHECK_INT(sweep.links, mark.links);
	CHECK_INT(sweep.blobs, mark.blobs);
	CHECK_INT(sweep.bytes, mark.bytes);

	CHECK_INT(readable(meta, "app", 's'), 1);
	CHECK_INT(readable(meta, "app", '1'), 1);
	CHECK_INT(readable(meta, "app", 'u'), 0);
	CHECK_INT(known(meta, 'u'), 0);
	CHECK_INT(known(meta, '2'), 0);
	CHECK_INT(known(meta, 'B'), 0);
	CHECK_INT(known(meta, 's'), 1);
	CHECK(manifest_present(meta, "app", 'A'));

	CHECK_INT(reg_meta_gc_sweep(meta, CUTOFF_ALL, true, &sweep), 0);
	CHECK_INT(sweep.manifests + sweep.links + sweep.blobs, 0);
	reg_meta_free(meta);
}

static void gc_untagged_manifest_by_setting(void)
{
	struct reg_meta *meta = meta_open_fresh();
	struct reg_meta_gc_counts counts;

	image_put(meta, "app", 'A', '1', "s", "a");
	image_put(meta, "app", 'C', '3', "v", NULL);

	CHECK_INT(reg_meta_gc_sweep(meta, CUTOFF_ALL, true, &counts), 0);
	CHECK_INT(counts.manifests, 0);
	CHECK(manifest_present(meta, "app", 'C'));

	/* Within the grace period an untagged manifest stays either way. */
	CHECK_INT(reg_meta_gc_sweep(meta, (int64_t)time(NULL) - 3600, false, &counts), 0);
	CHECK_INT(counts.manifests, 0);
	CHECK(manifest_present(meta, "app", 'C'));

	CHECK_INT(reg_meta_gc_sweep(meta, CUTOFF_ALL, false, &counts), 0);
	CHECK_INT(counts.manifests, 1);
	CHECK(!manifest_present(meta, "app", 'C'));
	CHECK(manifest_present(meta, "app", 'A'));
	CHECK_INT(readable(meta, "app", 'v'), 0);
	CHECK_INT(readable(meta, "app", '3'), 0);
	CHECK_INT(readable(meta, "app", 's'), 1);
	reg_meta_free(meta);
}

static void gc_index_children_live(void)
{
	struct reg_meta *meta = meta_open_fresh();
	struct reg_meta_gc_counts counts;

	image_put(meta, "multi", 'P', '4', "p", NULL);
	image_put(meta, "multi", 'Q', '5', "q", NULL);
	index_put(meta, "multi", 'I', 'P', "latest");

	CHECK_INT(reg_meta_gc_sweep(meta, CUTOFF_ALL, false, &counts), 0);
	CHECK_INT(counts.manifests, 1);
	CHECK(manifest_present(meta, "multi", 'I'));
	CHECK(manifest_present(meta, "multi", 'P'));
	CHECK(!manifest_present(meta, "multi", 'Q'));
	CHECK_INT(readable(meta, "multi", 'p'), 1);
	CHECK_INT(readable(meta, "multi", 'q'), 0);
	reg_meta_free(meta);
}

/* Stores a referrer DIGEST (image with config CONFIG) of SUBJECT in REPO. */
static void referrer_put(struct reg_meta *meta, const char *repo, char digest, char config,
			 char subject)
{
	struct reg_meta_manifest record = { .size = 200 };
	char missing[REG_DIGEST_TEXT_MAX] = "";
	struct reg_manifest m = { 0 };
	struct reg_digest md;

	m.kind = REG_MANIFEST_IMAGE;
	m.media_type = "application/vnd.oci.image.manifest.v1+json";
	m.artifact_type = "application/example";
	digest_make(&m.config.digest, config);
	reg_meta_blob_link(meta, repo, m.config.digest.text, 10);
	m.has_subject = true;
	digest_make(&m.subject.digest, subject);
	digest_make(&md, digest);
	strcpy(record.digest, md.text);
	strcpy(record.media_type, m.media_type);
	CHECK_INT(reg_meta_manifest_put(meta, repo, &record, &m, NULL, store_nothing, NULL, missing), 0);
}

static void gc_referrers_follow_subject(void)
{
	struct reg_meta *meta = meta_open_fresh();
	struct reg_meta_gc_counts counts;
	struct reg_digest subject;
	json_t *list = json_array();

	image_put(meta, "sig", 'A', '1', "s", "a");
	image_put(meta, "sig", 'B', '2', "t", "b");
	referrer_put(meta, "sig", 'X', '7', 'A');
	referrer_put(meta, "sig", 'Y', '8', 'B');
	digest_make(&subject, 'B');
	CHECK_INT(reg_meta_manifest_delete(meta, "sig", subject.text), 0);

	/* Kept untagged manifests still lose the referrer whose subject is gone. */
	CHECK_INT(reg_meta_gc_sweep(meta, CUTOFF_ALL, true, &counts), 0);
	CHECK_INT(counts.manifests, 1);
	CHECK(manifest_present(meta, "sig", 'X'));
	CHECK(!manifest_present(meta, "sig", 'Y'));
	CHECK_INT(readable(meta, "sig", '8'), 0);

	/* Without keep_untagged the referrer of a tagged subject is live. */
	CHECK_INT(reg_meta_gc_sweep(meta, CUTOFF_ALL, false, &counts), 0);
	CHECK_INT(counts.manifests, 0);
	CHECK(manifest_present(meta, "sig", 'X'));
	CHECK_INT(reg_meta_referrers(meta, "sig", subject.text, NULL, list), 0);
	CHECK_INT(json_array_size(list), 0);
	json_decref(list);
	reg_meta_free(meta);
}

static void gc_grace_keeps_new_links(void)
{
	struct reg_meta *meta = meta_open_fresh();
	struct reg_meta_gc_counts counts;
	struct reg_digest d;

	digest_make(&d, 'n');
	CHECK_INT(reg_meta_blob_link(meta, "push", d.text, 42), 0);
	CHECK_INT(reg_meta_gc_sweep(meta, (int64_t)time(NULL) - 3600, true, &counts), 0);
	CHECK_INT(counts.links + counts.blobs, 0);
	CHECK_INT(readable(meta, "push", 'n'), 1);

	CHECK_INT(reg_meta_gc_sweep(meta, CUTOFF_ALL, true, &counts), 0);
	CHECK_INT(counts.links, 1);
	CHECK_INT(counts.blobs, 1);
	CHECK_INT(counts.bytes, 42);
	CHECK_INT(readable(meta, "push", 'n'), 0);
	reg_meta_free(meta);
}

static void gc_mount_after_sweep_fails(void)
{
	struct reg_meta *meta = meta_open_fresh();
	struct reg_meta_gc_counts counts;
	struct reg_digest d;

	digest_make(&d, 'm');
	CHECK_INT(reg_meta_blob_link(meta, "from", d.text, 7), 0);
	CHECK_INT(reg_meta_gc_blob_mount(meta, "from", "to", d.text), 0);
	CHECK_INT(readable(meta, "to", 'm'), 1);
	CHECK_INT(reg_meta_gc_sweep(meta, CUTOFF_ALL, true, &counts), 0);
	CHECK_INT(counts.links, 2);
	CHECK_INT(reg_meta_gc_blob_mount(meta, "from", "again", d.text), -ENOENT);
	CHECK_INT(readable(meta, "again", 'm'), 0);
	reg_meta_free(meta);
}

/* The reg_meta_name_fn of the catalog check: appends NAME to a JSON array. */
static int name_append(void *userdata, const char *name, size_t len)
{
	(void)len;
	return json_array_append_new(userdata, json_string(name)) < 0 ? -ENOMEM : 0;
}

static void gc_empty_repository_leaves_catalog(void)
{
	struct reg_meta *meta = meta_open_fresh();
	struct reg_meta_gc_counts counts;
	struct reg_digest d;
	json_t *list = json_array();
	bool more;

	image_put(meta, "gone", 'G', '9', "g", "v1");
	image_put(meta, "stay", 'S', '1', "s", "v1");
	digest_make(&d, 'G');
	CHECK_INT(reg_meta_manifest_delete(meta, "gone", d.text), 0);
	CHECK_INT(reg_meta_gc_sweep(meta, CUTOFF_ALL, true, &counts), 0);
	CHECK_INT(reg_meta_catalog(meta, NULL, 100, name_append, list, &more), 0);
	CHECK_INT(json_array_size(list), 1);
	CHECK_STR(json_string_value(json_array_get(list, 0)), "stay");
	CHECK_INT(reg_meta_repo_exists(meta, "gone"), 0);
	json_decref(list);
	reg_meta_free(meta);
}

/* A blob file with no row is left while it is younger than the settle time. */
static void gc_run_leaves_young_files(void)
{
	struct reg_config config;
	struct reg_context ctx;
	struct reg_gc_report report;
	char root[PATH_MAX], err[256] = "";
	struct reg_digest d;

	snprintf(root, sizeof(root), "%s/root", dir);
	CHECK_INT(reg_config_init(&config), 0);
	free(config.root);
	config.root = strdup(root);
	config.gc_grace_period = 0;
	CHECK_INT(reg_context_init(&ctx, &config, err, sizeof(err)), 0);
	CHECK_INT(reg_blobstore_digest_bytes(REG_DIGEST_SHA256, "orphan", 6, &d), 0);
	CHECK_INT(reg_blobstore_put(&ctx.store, &d, "orphan", 6), 0);

	CHECK_INT(reg_gc_run(&ctx, false, &report), 0);
	CHECK_INT(report.blobs, 0);
	CHECK_INT(report.files_pending, 1);
	CHECK_INT(reg_blobstore_exists(&ctx.store, &d), 0);
	reg_context_release(&ctx);
	reg_config_release(&config);
}

static void gc_result_recorded_by_run(void)
{
	struct reg_config config;
	struct reg_context ctx;
	struct reg_gc_report report;
	struct reg_meta_gc_result stored;
	char root[PATH_MAX], err[256] = "";

	snprintf(root, sizeof(root), "%s/result-root", dir);
	CHECK_INT(reg_config_init(&config), 0);
	free(config.root);
	config.root = strdup(root);
	config.gc_grace_period = 0;
	CHECK_INT(reg_context_init(&ctx, &config, err, sizeof(err)), 0);
	CHECK_INT(reg_meta_gc_result_load(ctx.meta, &stored), -ENOENT);

	CHECK_INT(reg_gc_run(&ctx, true, &report), 0);
	CHECK_INT(reg_meta_gc_result_load(ctx.meta, &stored), -ENOENT);

	image_put(ctx.meta, "app", 'm', 'c', "l", NULL);
	CHECK_INT(reg_gc_run(&ctx, false, &report), 0);
	CHECK_INT(reg_meta_gc_result_load(ctx.meta, &stored), 0);
	CHECK_INT(stored.started, report.started);
	CHECK_INT(stored.manifests, report.manifests);
	CHECK_INT(stored.links, report.links);
	CHECK_INT(stored.blobs, report.blobs);
	CHECK_INT(stored.bytes, report.bytes);
	CHECK_INT(stored.uploads, report.uploads);
	CHECK(stored.started > 0);
	reg_context_release(&ctx);
	reg_config_release(&config);
}

static void repository_tags_size_and_time(void)
{
	struct reg_meta *meta = meta_open_fresh();
	json_t *tags = json_array(), *image, *index;
	bool more = true;

	/* Manifest 500, config 100, two layers of 1000; the index is 300 more,
	 * and its child's blobs count once. */
	image_put(meta, "app", 'm', 'c', "ab", "v1");
	index_put(meta, "app", 'i', 'm', "multi");
	CHECK_INT(reg_meta_repository_tags(meta, "app", 10, tags, &more), 0);
	CHECK(!more);
	CHECK_INT(json_array_size(tags), 2);
	index = json_array_get(tags, 0);
	image = json_array_get(tags, 1);
	CHECK_STR(json_string_value(json_object_get(index, "tag")), "multi");
	CHECK_INT(json_integer_value(json_object_get(index, "sizeBytes")), 2900);
	CHECK_STR(json_string_value(json_object_get(image, "tag")), "v1");
	CHECK_INT(json_integer_value(json_object_get(image, "sizeBytes")), 2600);
	CHECK_INT(strlen(json_string_value(json_object_get(image, "pushedAt"))), 20);

	json_array_clear(tags);
	CHECK_INT(reg_meta_repository_tags(meta, "app", 1, tags, &more), 0);
	CHECK(more);
	CHECK_INT(json_array_size(tags), 1);
	CHECK_INT(reg_meta_repository_tags(meta, "none", 10, tags, &more), -ENOENT);
	json_decref(tags);
	reg_meta_free(meta);
}

static void gc_config_keys_parsed(void)
{
	struct reg_config config;
	char err[256] = "";

	CHECK_INT(reg_config_init(&config), 0);
	CHECK(config.gc_keep_untagged);
	CHECK_INT(config.gc_grace_period, 3600);
	CHECK_INT(config.gc_schedule_minute, -1);
	CHECK_INT(config.storage_limit, 0);
	CHECK_INT(config.min_free_bytes, 1ull << 30);

	CHECK_INT(reg_config_set(&config, "gc_keep_untagged", "false", err, sizeof(err)), 0);
	CHECK(!config.gc_keep_untagged);
	CHECK_INT(reg_config_set(&config, "gc_keep_untagged", "maybe", err, sizeof(err)), -EINVAL);
	CHECK_INT(reg_config_set(&config, "gc_schedule", "03:30", err, sizeof(err)), 0);
	CHECK_INT(config.gc_schedule_minute, 210);
	CHECK_INT(reg_config_set(&config, "gc_schedule", "24:00", err, sizeof(err)), -EINVAL);
	CHECK_INT(reg_config_set(&config, "gc_schedule", "3:00", err, sizeof(err)), -EINVAL);
	CHECK_INT(reg_config_set(&config, "gc_schedule", "", err, sizeof(err)), 0);
	CHECK_INT(config.gc_schedule_minute, -1);

	CHECK_INT(reg_config_set(&config, "storage_limit", "500M", err, sizeof(err)), 0);
	CHECK_INT(config.storage_limit, 500ull << 20);
	CHECK_INT(reg_config_set(&config, "storage_limit", "2GiB", err, sizeof(err)), 0);
	CHECK_INT(config.storage_limit, 2ull << 30);
	CHECK_INT(reg_config_set(&config, "storage_limit", "12345", err, sizeof(err)), 0);
	CHECK_INT(config.storage_limit, 12345);
	CHECK_INT(reg_config_set(&config, "storage_limit", "10X", err, sizeof(err)), -EINVAL);
	CHECK_INT(reg_config_set(&config, "storage_limit", "-1", err, sizeof(err)), -EINVAL);
	CHECK_INT(reg_config_set(&config, "storage_limit", "99999999T", err, sizeof(err)), -EINVAL);

	CHECK_INT(reg_config_set(&config, "min_free_space", "5%", err, sizeof(err)), 0);
	CHECK_INT(config.min_free_percent, 5);
	CHECK_INT(config.min_free_bytes, 0);
	CHECK_INT(reg_config_set(&config, "min_free_space", "95%", err, sizeof(err)), -EINVAL);
	CHECK_INT(reg_config_set(&config, "min_free_space", "0", err, sizeof(err)), 0);
	CHECK_INT(config.min_free_percent, 0);
	CHECK_INT(config.min_free_bytes, 0);
	reg_config_release(&config);
}

/* Writes SIZE zero bytes to ROOT/uploads/NAME. */
static void upload_file_write(const char *root, const char *name, size_t size)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/uploads/%s", root, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	for (size_t i = 0; i < size; i++)
		fputc(0, f);
	fclose(f);
}

static void gc_quota_limit_message(void)
{
	struct reg_config config;
	struct reg_context ctx;
	char root[PATH_MAX], err[256] = "", msg[192] = "";
	struct reg_digest d;

	snprintf(root, sizeof(root), "%s/quota", dir);
	CHECK_INT(reg_config_init(&config), 0);
	free(config.root);
	config.root = strdup(root);
	config.storage_limit = 1 << 20;
	config.min_free_bytes = 0;
	CHECK_INT(reg_context_init(&ctx, &config, err, sizeof(err)), 0);
	digest_make(&d, 'q');
	CHECK_INT(reg_meta_blob_link(ctx.meta, "q", d.text, 600 * 1024), 0);
	reg_quota_usage_changed();

	CHECK_INT(reg_quota_check(&ctx, "mine", &(struct reg_quota_upload){ 0 }, 400 * 1024, 1024,
				  msg, sizeof(msg)), 0);
	CHECK_INT(reg_quota_check(&ctx, "mine", &(struct reg_quota_upload){ 0 }, 500 * 1024, 1024,
				  msg, sizeof(msg)), -EDQUOT);
	CHECK_STR(msg, "storage limit reached: 600.0 KiB used of 1.0 MiB (storage_limit), "
		  "the upload needs 500.0 KiB");

	/* Another upload's file counts as used, the checked upload's own file
	 * only with the size it is checked with. */
	upload_file_write(root, "other", 300 * 1024);
	upload_file_write(root, "mine", 100 * 1024);
	CHECK_INT(reg_quota_check(&ctx, "mine", &(struct reg_quota_upload){ 0 }, 100 * 1024,
				  100 * 1024, msg, sizeof(msg)), 0);
	CHECK_INT(reg_quota_check(&ctx, "mine", &(struct reg_quota_upload){ 0 }, 200 * 1024,
				  100 * 1024, msg, sizeof(msg)), -EDQUOT);
	CHECK_STR(msg, "storage limit reached: 900.0 KiB used of 1.0 MiB (storage_limit), "
		  "the upload needs 200.0 KiB");

	/* A floor larger than any disk refuses every write. */
	config.storage_limit = 0;
	config.min_free_bytes = UINT64_MAX / 2;
	CHECK_INT(reg_quota_check(&ctx, "mine", &(struct reg_quota_upload){ 0 }, 1, 1, msg,
				  sizeof(msg)), -EDQUOT);
	CHECK(strstr(msg, "min_free_space") != NULL);
	reg_context_release(&ctx);
	reg_config_release(&config);
}

int main(void)
{
	char command[PATH_MAX + 16];

	if (!mkdtemp(dir))
		return 1;
	RUN(gc_deleted_image_shared_layer_kept);
	RUN(gc_untagged_manifest_by_setting);
	RUN(gc_index_children_live);
	RUN(gc_referrers_follow_subject);
	RUN(gc_grace_keeps_new_links);
	RUN(gc_mount_after_sweep_fails);
	RUN(gc_empty_repository_leaves_catalog);
	RUN(gc_run_leaves_young_files);
	RUN(gc_result_recorded_by_run);
	RUN(repository_tags_size_and_time);
	RUN(gc_config_keys_parsed);
	RUN(gc_quota_limit_message);
	snprintf(command, sizeof(command), "rm -rf %s", dir);
	if (system(command) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return UNIT_EXIT();
}
