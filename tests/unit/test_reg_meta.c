/* Unit tests of registry/meta*.c against a real sqlite database. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>

#include "meta.h"
#include "unit.h"

static char dir[] = "/tmp/test_reg_meta.XXXXXX";
static char db_path[PATH_MAX];
static int store_calls;

/* Fills *D with "sha256:" and 64 times C, a lowercase hex digit. */
static void digest_make(struct reg_digest *d, char c)
{
	char text[7 + 64 + 1] = "sha256:";

	memset(text + 7, c, 64);
	text[71] = '\0';
	CHECK_INT(reg_digest_parse(text, d), 0);
}

static int store_count(void *userdata)
{
	store_calls++;
	return 0;
}

static struct reg_meta *meta_open(void)
{
	struct reg_meta *meta = NULL;
	char err[256] = "";

	CHECK_INT(reg_meta_open(db_path, &meta, err, sizeof(err)), 0);
	return meta;
}

static void meta_schema_version_recorded(void)
{
	struct reg_meta *meta = meta_open();
	sqlite3_stmt *stmt;
	sqlite3 *db;

	reg_meta_free(meta);
	/* Reopening an up-to-date database is a no-op. */
	meta = meta_open();
	reg_meta_free(meta);

	CHECK_INT(sqlite3_open(db_path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(stmt), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(stmt, 0), 3);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

/* A database of version 1 gets the table of the last gc run and the tag
 * generation with its triggers on open. */
static void meta_schema_upgraded_from_1(void)
{
	struct reg_meta *meta = meta_open();
	sqlite3_stmt *stmt;
	sqlite3 *db;

	reg_meta_free(meta);
	CHECK_INT(sqlite3_open(db_path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "DROP TABLE gc_last_run; DROP TRIGGER tags_inserted;"
			       "DROP TRIGGER tags_updated; DROP TRIGGER tags_deleted;"
			       "DROP TRIGGER repositories_inserted; DROP TRIGGER repositories_deleted;"
			       "DROP TABLE tag_generation; UPDATE schema_version SET version = 1",
			       NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	meta = meta_open();
	reg_meta_free(meta);
	CHECK_INT(sqlite3_open(db_path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM gc_last_run", -1, &stmt, NULL),
		  SQLITE_OK);
	CHECK_INT(sqlite3_step(stmt), SQLITE_ROW);
	sqlite3_finalize(stmt);
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'",
				     -1, &stmt, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(stmt), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(stmt, 0), 5);
	sqlite3_finalize(stmt);
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT value FROM tag_generation", -1, &stmt, NULL),
		  SQLITE_OK);
	CHECK_INT(sqlite3_step(stmt), SQLITE_ROW);
	sqlite3_finalize(stmt);
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt, NULL),
		  SQLITE_OK);
	CHECK_INT(sqlite3_step(stmt), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(stmt, 0), 3);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

static void meta_newer_schema_refused(void)
{
	char path[PATH_MAX + 8], err[256] = "";
	struct reg_meta *meta = NULL;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/new.db", dir);
	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
		     "INSERT INTO schema_version VALUES (99)", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK(reg_meta_open(path, &meta, err, sizeof(err)) < 0);
	CHECK(strstr(err, "99") != NULL);
	CHECK(meta == NULL);
}

static void meta_uploads(void)
{
	struct reg_meta *meta = meta_open();
	char ids[4][REG_UPLOAD_ID_LEN + 1];
	const char *id = "0123456789abcdef0123456789abcdef";
	struct reg_digest d;
	size_t n = 9;

	digest_make(&d, 'a');
	CHECK_INT(reg_meta_upload_create(meta, "lib/app", id), 0);
	CHECK_INT(reg_meta_upload_find(meta, "lib/app", id), 0);
	CHECK_INT(reg_meta_upload_find(meta, "lib/other", id), -ENOENT);
	CHECK_INT(reg_meta_upload_touch(meta, id), 0);
	CHECK_INT(reg_meta_blob_readable(meta, "lib/app", d.text), 0);

	CHECK_INT(reg_meta_uploads_expired(meta, 0, ids, 4, &n), 0);
	CHECK_INT(n, 0);
	CHECK_INT(reg_meta_uploads_expired(meta, INT64_MAX, ids, 4, &n), 0);
	CHECK_INT(n, 1);
	CHECK_STR(ids[0], id);

	CHECK_INT(reg_meta_upload_complete(meta, "lib/app", id, d.text, 10), 0);
	CHECK_INT(reg_meta_blob_readable(meta, "lib/app", d.text), 1);
	CHECK_INT(reg_meta_blob_readable(meta, "lib/other", d.text), 0);
	CHECK_INT(reg_meta_upload_find(meta, "lib/app", id), -ENOENT);
	CHECK_INT(reg_meta_upload_complete(meta, "lib/app", id, d.text, 10), -ENOENT);
	CHECK_INT(reg_meta_upload_delete(meta, id), -ENOENT);

	CHECK_INT(reg_meta_blob_unlink(meta, "lib/app", d.text), 0);
	CHECK_INT(reg_meta_blob_unlink(meta, "lib/app", d.text), -ENOENT);
	CHECK_INT(reg_meta_blob_readable(meta, "lib/app", d.text), 0);
	reg_meta_free(meta);
}

static void manifest_image(struct reg_manifest *m, struct reg_descriptor *layer, char config,
			   char layer_char)
{
	memset(m, 0, sizeof(*m));
	memset(layer, 0, sizeof(*layer));
	m->kind = REG_MANIFEST_IMAGE;
	m->media_type = "application/vnd.oci.image.manifest.v1+json";
	digest_make(&m->config.digest, config);
	digest_make(&layer->digest, layer_char);
	m->layers = layer;
	m->n_layers = 1;
}

static void meta_manifest_references_checked(void)
{
	struct reg_meta *meta = meta_open();
	struct reg_meta_manifest record = { .size = 100 }, found;
	char missing[REG_DIGEST_TEXT_MAX] = "";
	struct reg_descriptor layer;
	struct reg_manifest m;
	struct reg_digest md;

	manifest_image(&m, &layer, 'c', 'b');
	digest_make(&md, 'd');
	strcpy(record.digest, md.text);
	strcpy(record.media_type, m.media_type);

	store_calls = 0;
	reg_meta_blob_link(meta, "ref/app", m.config.digest.text, 2);
	CHECK_INT(reg_meta_manifest_put(meta, "ref/app", &record, &m, "v1", store_count, NULL,
					missing), -ENOENT);
	CHECK_STR(missing, layer.digest.text);
	CHECK_INT(store_calls, 0);
	CHECK_INT(reg_meta_manifest_get(meta, "ref/app", "v1", false, &found), -ENOENT);

	reg_meta_blob_link(meta, "ref/app", layer.digest.text, 5);
	CHECK_INT(reg_meta_manifest_put(meta, "ref/app", &record, &m, "v1", store_count, NULL,
					missing), 0);
	CHECK_INT(store_calls, 1);
	CHECK_INT(reg_meta_manifest_get(meta, "ref/app", "v1", false, &found), 0);
	CHECK_STR(found.digest, md.text);
	CHECK_STR(found.media_type, m.media_type);
	CHECK_INT(found.size, 100);
	CHECK_INT(reg_meta_manifest_get(meta, "ref/app", md.text, true, &found), 0);
	CHECK_INT(reg_meta_blob_readable(meta, "ref/app", md.text), 1);
	reg_meta_free(meta);
}

/* Puts the image manifest M under digest DIGEST_CHAR with tag TAG in REPO. */
static void manifest_put_tagged(struct reg_meta *meta, const char *repo, struct reg_manifest *m,
				char digest_char, const char *tag)
{
	struct reg_meta_manifest record = { .size = 100 };
	char missing[REG_DIGEST_TEXT_MAX] = "";
	struct reg_digest md;

	digest_make(&md, digest_char);
	strcpy(record.digest, md.text);
	strcpy(record.media_type, m->media_type);
	CHECK_INT(reg_meta_manifest_put(meta, repo, &record, m, tag, store_count, NULL, missing), 0);
}

/* The lookups reuse statements kept on the pooled connection: a reused
 * statement must see later commits and must not pin a read snapshot. */
static void meta_cached_lookup_sees_changes(void)
{
	char path[PATH_MAX + 16], err[256] = "";
	struct reg_meta *meta = NULL;
	struct reg_meta_manifest found;
	struct reg_descriptor layer;
	struct reg_manifest m;
	struct reg_digest first, second;
	sqlite3_stmt *stmt;
	sqlite3 *db;

	/* A database of its own keeps the other tests' listings unchanged. */
	snprintf(path, sizeof(path), "%s/cache.db", dir);
	CHECK_INT(reg_meta_open(path, &meta, err, sizeof(err)), 0);
	manifest_image(&m, &layer, 'c', 'b');
	digest_make(&first, '1');
	digest_make(&second, '2');
	reg_meta_blob_link(meta, "cache/app", m.config.digest.text, 2);
	reg_meta_blob_link(meta, "cache/app", layer.digest.text, 5);

	manifest_put_tagged(meta, "cache/app", &m, '1', "v1");
	CHECK_INT(reg_meta_manifest_get(meta, "cache/app", "v1", false, &found), 0);
	CHECK_STR(found.digest, first.text);
	CHECK_INT(reg_meta_manifest_get(meta, "cache/app", "v2", false, &found), -ENOENT);
	CHECK_INT(reg_meta_blob_readable(meta, "cache/app", layer.digest.text), 1);

	manifest_put_tagged(meta, "cache/app", &m, '2', "v1");
	CHECK_INT(reg_meta_manifest_get(meta, "cache/app", "v1", false, &found), 0);
	CHECK_STR(found.digest, second.text);
	CHECK_INT(reg_meta_blob_unlink(meta, "cache/app", layer.digest.text), 0);
	CHECK_INT(reg_meta_blob_readable(meta, "cache/app", layer.digest.text), 0);

	/* A statement left open would hold a read snapshot, and a truncating
	 * checkpoint from another connection would then report busy. */
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &stmt, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(stmt), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(stmt, 0), 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	reg_meta_free(meta);
}

static void meta_index_children_must_be_manifests(void)
{
	struct reg_meta *meta = meta_open();
	struct reg_meta_manifest record = { .size = 50 };
	char missing[REG_DIGEST_TEXT_MAX] = "";
	struct reg_descriptor child = { 0 };
	struct reg_manifest index = { 0 };
	struct reg_digest d;

	index.kind = REG_MANIFEST_INDEX;
	index.media_type = "application/vnd.oci.image.index.v1+json";
	index.manifests = &child;
	index.n_manifests = 1;
	digest_make(&d, 'f');
	strcpy(record.digest, d.text);
	strcpy(record.media_type, index.media_type);

	/* A blob with the child's digest is not enough: it must be a manifest. */
	digest_make(&child.digest, 'b');
	reg_meta_blob_link(meta, "idx/app", child.digest.text, 5);
	CHECK_INT(reg_meta_manifest_put(meta, "idx/app", &record, &index, "all", store_count, NULL,
					missing), -ENOENT);
	CHECK_STR(missing, child.digest.text);

	digest_make(&child.digest, 'd');
	CHECK_INT(reg_meta_manifest_put(meta, "idx/app", &record, &index, "all", store_count, NULL,
					missing), -ENOENT);
	CHECK_INT(reg_meta_manifest_put(meta, "ref/app", &record, &index, "all", store_count, NULL,
					missing), 0);
	reg_meta_free(meta);
}

/* The reg_meta_name_fn of the listing tests: appends NAME to a JSON array. */
static int name_append(void *userdata, const char *name, size_t len)
{
	CHECK_INT(strlen(name), len);
	return json_array_append_new(userdata, json_string(name)) < 0 ? -ENOMEM : 0;
}

static void meta_tags_pages_and_deletes(void)
{
	struct reg_meta *meta = meta_open();
	struct reg_meta_manifest found;
	struct reg_digest md;
	json_t *page = json_array();
	int64_t listed = -1, generation = -1, before;
	bool more = false;

	digest_make(&md, 'd');
	CHECK_INT(reg_meta_tags_list(meta, "ref/app", NULL, 1, name_append, page, &more, &listed),
		  0);
	CHECK_INT(reg_meta_tags_generation(meta, &generation), 0);
	CHECK_INT(generation, listed);
	CHECK(generation > 0);
	CHECK_INT(json_array_size(page), 1);
	CHECK_STR(json_string_value(json_array_get(page, 0)), "all");
	CHECK(more);
	json_array_clear(page);
	CHECK_INT(reg_meta_tags_list(meta, "ref/app", "all", 10, name_append, page, &more, NULL), 0);
	CHECK_INT(json_array_size(page), 1);
	CHECK_STR(json_string_value(json_array_get(page, 0)), "v1");
	CHECK(!more);
	CHECK_INT(reg_meta_tags_list(meta, "no/such", NULL, 10, name_append, page, &more, NULL), -ENOENT);

	json_array_clear(page);
	CHECK_INT(reg_meta_catalog(meta, NULL, 100, name_append, page, &more), 0);
	/* lib/app lost its only blob in meta_uploads, so it is not listed. */
	CHECK_INT(json_array_size(page), 2);
	CHECK_STR(json_string_value(json_array_get(page, 0)), "idx/app");
	CHECK_STR(json_string_value(json_array_get(page, 1)), "ref/app");

	/* Every change to a tag raises the generation, and nothing else does. */
	CHECK_INT(reg_meta_tags_generation(meta, &before), 0);
	CHECK_INT(before, generation);
	CHECK_INT(reg_meta_tag_delete(meta, "ref/app", "v1"), 0);
	CHECK_INT(reg_meta_tags_generation(meta, &generation), 0);
	CHECK(generation > before);
	before = generation;
	CHECK_INT(reg_meta_tag_delete(meta, "ref/app", "v1"), -ENOENT);
	CHECK_INT(reg_meta_manifest_get(meta, "ref/app", md.text, true, &found), 0);
	CHECK_INT(reg_meta_tags_generation(meta, &generation), 0);
	CHECK_INT(generation, before);
	CHECK_INT(reg_meta_manifest_delete(meta, "ref/app", md.text), 0);
	CHECK_INT(reg_meta_manifest_get(meta, "ref/app", md.text, true, &found), -ENOENT);
	CHECK_INT(reg_meta_manifest_delete(meta, "ref/app", md.text), -ENOENT);
	CHECK_INT(reg_meta_repo_exists(meta, "ref/app"), 1);
	CHECK_INT(reg_meta_repo_exists(meta, "no/such"), 0);
	json_decref(page);
	reg_meta_free(meta);
}

static void meta_referrers_filter(void)
{
	struct reg_meta *meta = meta_open();
	struct reg_meta_manifest record = { .size = 300 };
	char missing[REG_DIGEST_TEXT_MAX] = "";
	struct reg_descriptor layer;
	struct reg_manifest m;
	json_t *list = json_array();

	/* Config and layer of the signature are linked into "sig/app" first. */
	manifest_image(&m, &layer, 'e', 'e');
	reg_meta_blob_link(meta, "sig/app", m.config.digest.text, 2);
	m.has_subject = true;
	digest_make(&m.subject.digest, '5');
	m.artifact_type = "application/vnd.example.sig";
	m.annotations_json = "{\"note\":\"x\"}";
	digest_make(&layer.digest, 'e');
	strcpy(record.media_type, m.media_type);
	strcpy(record.digest, "sha256:6666666666666666666666666666666666666666666666666666666666666666");
	CHECK_INT(reg_meta_manifest_put(meta, "sig/app", &record, &m, NULL, store_count, NULL,
					missing), 0);

	CHECK_INT(reg_meta_referrers(meta, "sig/app", m.subject.digest.text, NULL, list), 0);
	CHECK_INT(json_array_size(list), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "artifactType")),
		  "application/vnd.example.sig");
	CHECK_STR(json_string_value(json_object_get(json_object_get(json_array_get(list, 0),
								   "annotations"), "note")), "x");
	json_array_clear(list);
	CHECK_INT(reg_meta_referrers(meta, "sig/app", m.subject.digest.text, "other/type", list), 0);
	CHECK_INT(json_array_size(list), 0);

	/* Deleting the referrer removes its entry. */
	CHECK_INT(reg_meta_manifest_delete(meta, "sig/app", record.digest), 0);
	CHECK_INT(reg_meta_referrers(meta, "sig/app", m.subject.digest.text, NULL, list), 0);
	CHECK_INT(json_array_size(list), 0);
	json_decref(list);
	reg_meta_free(meta);
}

/* Returns the permission bits of PATH, or -1 when it does not exist. */
static int file_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void meta_file_mode(void)
{
	char path[PATH_MAX], wal[PATH_MAX + 8], shm[PATH_MAX + 8], err[256] = "";
	struct reg_meta *meta = NULL;
	mode_t old_umask = umask(022);

	snprintf(path, sizeof(path), "%s/mode.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(shm, sizeof(shm), "%s-shm", path);

	/* The pooled connection keeps the -wal and -shm files while META is open. */
	CHECK_INT(reg_meta_open(path, &meta, err, sizeof(err)), 0);
	CHECK_INT(file_mode(path), 0640);
	CHECK_INT(file_mode(wal), 0640);
	CHECK_INT(file_mode(shm), 0640);
	reg_meta_free(meta);

	/* A database created by an older version with 0644 loses the read bit for others. */
	CHECK_INT(chmod(path, 0644), 0);
	CHECK_INT(reg_meta_open(path, &meta, err, sizeof(err)), 0);
	CHECK_INT(file_mode(path), 0640);
	reg_meta_free(meta);
	umask(old_umask);
}

int main(void)
{
	char command[PATH_MAX + 16];

	if (!mkdtemp(dir))
		return 1;
	snprintf(db_path, sizeof(db_path), "%s/metadata.db", dir);
	RUN(meta_schema_version_recorded);
	RUN(meta_schema_upgraded_from_1);
	RUN(meta_newer_schema_refused);
	RUN(meta_uploads);
	RUN(meta_manifest_references_checked);
	RUN(meta_cached_lookup_sees_changes);
	RUN(meta_index_children_must_be_manifests);
	RUN(meta_tags_pages_and_deletes);
	RUN(meta_referrers_filter);
	RUN(meta_file_mode);
	snprintf(command, sizeof(command), "rm -rf %s", dir);
	if (system(command) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return UNIT_EXIT();
}
