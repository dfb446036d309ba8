/*
 * The registry's metadata in sqlite (ROOT/metadata.db, WAL): repositories,
 * which blobs each repository may read, manifests and what they reference,
 * tags, uploads in progress and referrers.
 *
 * Every change is one transaction, begun IMMEDIATE so that concurrent writers
 * wait for the write lock instead of failing on a lock upgrade, and the
 * database runs with synchronous=FULL: when a function returns 0 the change is
 * on disk, which is what lets a handler respond 201.  The writers of one
 * process wait for each other in arrival order, without a time limit.  A
 * write lock held by another process (edgecr-registry gc or fsck) is waited
 * for at most REG_META_BUSY_TIMEOUT_MS; after that the function returns
 * -ETIMEDOUT.
 *
 * Digests are passed as canonical text ("sha256:<hex>") that ref.h parsed,
 * repository names as validated names.  Functions return 0 or a negative
 * errno; -ENOENT means "not there" and the caller maps it to the spec's
 * *_UNKNOWN code.
 *
 * Thread safety: any thread may call any function.  A small pool hands each
 * call its own sqlite connection.
 */
#ifndef EDGECR_REG_META_H
#define EDGECR_REG_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "manifest.h"
#include "ref.h"
#include "route.h"

/* Maximum length of the media type stored with a manifest; the four accepted ones are shorter. */
#define REG_META_MEDIA_TYPE_MAX 127

/* Milliseconds a statement waits for another process's write lock. */
#define REG_META_BUSY_TIMEOUT_MS 30000

struct reg_meta;

/* Write transactions of one struct reg_meta since it was opened. */
struct reg_meta_write_stats {
	uint64_t writes;        /* transactions begun, or attempted */
	uint64_t lock_timeouts; /* of those, failed after the busy timeout */
	double queue_wait_max;  /* seconds, behind this process's writers */
	double lock_wait_max;   /* seconds, for sqlite's write lock after that */
};

/*
 * Opens (creating when missing) the database at PATH and brings its schema up
 * to date.  Returns 0 with a new *RET, or a negative errno with the reason in
 * ERR (for example a schema newer than this program).
 */
int reg_meta_open(const char *path, struct reg_meta **ret, char *err, size_t err_size);

/* Closes every connection and frees META; NULL is a no-op. */
void reg_meta_free(struct reg_meta *meta);

/* Returns a number that no other reg_meta opened by this process had, so a
 * cache can tell databases apart even when a freed handle's address is
 * reused. */
uint64_t reg_meta_serial(const struct reg_meta *meta);

/* Copies META's write statistics to *RET. */
void reg_meta_write_stats(struct reg_meta *meta, struct reg_meta_write_stats *ret);

/* Returns 1 when DIGEST was pushed or mounted into REPO (or is a manifest of
 * REPO), 0 when not, or a negative errno. */
int reg_meta_blob_readable(struct reg_meta *meta, const char *repo, const char *digest);

/* Records blob DIGEST of SIZE bytes as readable in REPO, creating REPO when new. */
int reg_meta_blob_link(struct reg_meta *meta, const char *repo, const char *digest,
		       uint64_t size);

/* Makes DIGEST unreadable in REPO.  Returns 0 or -ENOENT when it was not readable. */
int reg_meta_blob_unlink(struct reg_meta *meta, const char *repo, const char *digest);

/* Records the new upload ID into REPO, creating REPO when new. */
int reg_meta_upload_create(struct reg_meta *meta, const char *repo, const char *id);

/* Returns 0 when upload ID exists and belongs to REPO, else -ENOENT. */
int reg_meta_upload_find(struct reg_meta *meta, const char *repo, const char *id);

/* Returns 1 when upload ID exists in any repository, 0 when not, or a negative errno. */
int reg_meta_upload_exists(struct reg_meta *meta, const char *id);

/* Stores the number of uploads in progress (rows of the uploads table) in *RET. */
int reg_meta_upload_count(struct reg_meta *meta, uint64_t *ret);

/* Marks upload ID as used now, which defers its expiry. */
int reg_meta_upload_touch(struct reg_meta *meta, const char *id);

/* Deletes upload ID.  Returns 0 or -ENOENT. */
int reg_meta_upload_delete(struct reg_meta *meta, const char *id);

/* In one transaction, deletes upload ID and links blob DIGEST of SIZE bytes
 * into REPO.  Returns 0 or -ENOENT when the upload was already gone. */
int reg_meta_upload_complete(struct reg_meta *meta, const char *repo, const char *id,
			     const char *digest, uint64_t size);

/*
 * Writes into RET_IDS up to MAX ids of uploads last used before BEFORE (Unix
 * seconds) and their count into *RET_N.
 */
int reg_meta_uploads_expired(struct reg_meta *meta, int64_t before,
			     char (*ret_ids)[REG_UPLOAD_ID_LEN + 1], size_t max, size_t *ret_n);

struct reg_meta_manifest {
	char digest[REG_DIGEST_TEXT_MAX];
	char media_type[REG_META_MEDIA_TYPE_MAX + 1];
	uint64_t size;
};

/* Writes a manifest's bytes; see reg_meta_manifest_put.  Returns 0 or a negative errno. */
typedef int (*reg_meta_store_fn)(void *userdata);

/*
 * Stores manifest RECORD, parsed as M, in REPO and points TAG at it when TAG
 * is not NULL.  Checks in the same transaction that every blob M references is
 * readable in REPO and every child manifest is a manifest of REPO; when one is
 * not, returns -ENOENT with its digest in RET_MISSING (REG_DIGEST_TEXT_MAX
 * bytes) and changes nothing.  Once the checks pass, STORE(USERDATA) writes the
 * manifest's bytes while the write lock is held, so the rows are committed only
 * after the bytes are on disk and a refused manifest leaves no file behind.
 * Also records REPO's referrer entry when M has a subject.
 */
int reg_meta_manifest_put(struct reg_meta *meta, const char *repo,
			  const struct reg_meta_manifest *record, const struct reg_manifest *m,
			  const char *tag, reg_meta_store_fn store, void *userdata,
			  char *ret_missing);

/* Looks up REFERENCE (a tag, or a digest when IS_DIGEST) in REPO.
 * Returns 0 with *RET, or -ENOENT. */
int reg_meta_manifest_get(struct reg_meta *meta, const char *repo, const char *reference,
			  bool is_digest, struct reg_meta_manifest *ret);

/* Removes manifest DIGEST from REPO with its tags, references and referrer
 * entry.  Returns 0 or -ENOENT. */
int reg_meta_manifest_delete(struct reg_meta *meta, const char *repo, const char *digest);

/* Removes TAG from REPO; the manifest stays.  Returns 0 or -ENOENT. */
int reg_meta_tag_delete(struct reg_meta *meta, const char *repo, const char *tag);

/* Returns 1 when REPO exists, 0 when not, or a negative errno. */
int reg_meta_repo_exists(struct reg_meta *meta, const char *repo);

/* Receives one name of a listing: NAME is NUL-terminated and LEN bytes long,
 * and is valid only during the call.  A negative return stops the listing,
 * which then returns it. */
typedef int (*reg_meta_name_fn)(void *userdata, const char *name, size_t len);

/*
 * Calls FN for up to LIMIT tags of REPO that sort after LAST (NULL: from the
 * start), in byte order.  *RET_MORE is set when more follow, and
 * *RET_GENERATION, when not NULL, to the tag generation (see
 * reg_meta_tags_generation) of the same snapshot.  Returns 0, -ENOENT when
 * REPO does not exist, or a negative errno.
 */
int reg_meta_tags_list(struct reg_meta *meta, const char *repo, const char *last,
		       unsigned limit, reg_meta_name_fn fn, void *userdata, bool *ret_more,
		       int64_t *ret_generation);

/*
 * Reads the tag generation into *RET: a number that every committed change
 * to a tag or to the set of repositories raises, made by any process that
 * uses the database.  While it stays the same, every tags/list page stays
 * the same.  Returns 0 or a negative errno.
 */
int reg_meta_tags_generation(struct reg_meta *meta, int64_t *ret);

/* Like reg_meta_tags_list for the names of repositories that hold a blob or
 * a manifest. */
int reg_meta_catalog(struct reg_meta *meta, const char *last, unsigned limit,
		     reg_meta_name_fn fn, void *userdata, bool *ret_more);

/*
 * Appends to ARRAY one descriptor object (mediaType, digest, size, and
 * artifactType and annotations when present) per manifest of REPO whose
 * subject is SUBJECT, limited to ARTIFACT_TYPE when not NULL.
 */
int reg_meta_referrers(struct reg_meta *meta, const char *repo, const char *subject,
		       const char *artifact_type, json_t *array);

/*
 * Appends to ARRAY one object per tag of REPO, in byte order, at most LIMIT:
 * {"tag", "digest", "mediaType", "sizeBytes", "pushedAt"}.  sizeBytes adds
 * the stored sizes of the manifest and of every blob and child manifest it
 * reaches in REPO, each counted once.  pushedAt is the UTC time
 * ("2026-12-04T20:26:23Z") of the last PUT of the manifest.  *RET_MORE is
 * set when more tags follow.  Returns 0, -ENOENT when REPO does not exist,
 * or a negative errno.
 */
/* Returns SECONDS (Unix time) as a JSON string "2026-12-04T20:26:23Z" (UTC),
 * JSON null when it cannot be formatted, or NULL on OOM. */
json_t *reg_meta_time_json(int64_t seconds);

int reg_meta_repository_tags(struct reg_meta *meta, const char *repo, unsigned limit,
			     json_t *array, bool *ret_more);

#endif
