/*
 * Running digests of uploads; see upload_hash.h for the rules and locking.
 */
#include "upload_hash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

struct reg_upload_hash_slot {
	char id[REG_UPLOAD_ID_LEN + 1]; /* empty: the slot is free */
	EVP_MD_CTX *md;                 /* kept across uses of the slot */
	uint64_t offset;                /* bytes [0, offset) are hashed */
	uint64_t last_used;
	bool busy;                      /* a writer is hashing into md */
	bool stale;                     /* drop when the writer is done */
};

int reg_upload_hashes_init(struct reg_upload_hashes *table, size_t capacity)
{
	if (capacity == 0)
		capacity = 1;
	table->slots = calloc(capacity, sizeof(*table->slots));
	if (!table->slots)
		return -ENOMEM;
	if (pthread_mutex_init(&table->lock, NULL) != 0) {
		free(table->slots);
		table->slots = NULL;
		return -ENOMEM;
	}
	table->capacity = capacity;
	table->clock = 0;
	return 0;
}

void reg_upload_hashes_release(struct reg_upload_hashes *table)
{
	if (!table->slots)
		return;
	for (size_t i = 0; i < table->capacity; i++)
		EVP_MD_CTX_free(table->slots[i].md);
	free(table->slots);
	table->slots = NULL;
	pthread_mutex_destroy(&table->lock);
}

/* Returns ID's slot or NULL.  Called with the lock held. */
static struct reg_upload_hash_slot *slot_find(struct reg_upload_hashes *table, const char *id)
{
	if (!id[0])
		return NULL;
	for (size_t i = 0; i < table->capacity; i++) {
		struct reg_upload_hash_slot *slot = &table->slots[i];

		if (slot->id[0] == id[0] && strcmp(slot->id, id) == 0)
			return slot;
	}
	return NULL;
}

/* Returns a free slot, or else the idle slot used longest ago, or NULL when
 * every slot is busy.  Called with the lock held. */
static struct reg_upload_hash_slot *slot_claim(struct reg_upload_hashes *table)
{
	struct reg_upload_hash_slot *oldest = NULL;

	for (size_t i = 0; i < table->capacity; i++) {
		struct reg_upload_hash_slot *slot = &table->slots[i];

		if (!slot->id[0])
			return slot;
		if (!slot->busy && (!oldest || slot->last_used < oldest->last_used))
			oldest = slot;
	}
	return oldest;
}

/* Frees SLOT for another upload; its md is kept for reuse.  Called with the
 * lock held. */
static void slot_clear(struct reg_upload_hash_slot *slot)
{
	slot->id[0] = '\0';
	slot->offset = 0;
	slot->busy = false;
	slot->stale = false;
}

/*
 * Finds or creates the slot that a write at OFFSET of ID extends and marks
 * it busy.  Returns NULL when the write cannot be hashed in order, after
 * dropping whatever state ID had.  Sets *RET_FRESH when the slot's digest
 * must be initialised first.  Called with the lock held.
 */
static struct reg_upload_hash_slot *slot_begin(struct reg_upload_hashes *table, const char *id,
					       uint64_t offset, bool *ret_fresh)
{
	struct reg_upload_hash_slot *slot = slot_find(table, id);

	if (slot && slot->busy) {
		/* Another writer of this upload is hashing right now: neither
		 * order of the two writes can be trusted. */
		slot->stale = true;
		return NULL;
	}
	if (slot && slot->offset == offset) {
		*ret_fresh = false;
		slot->busy = true;
		return slot;
	}
	if (slot) {
		/* Out of order, or a second write at offset 0 without a
		 * truncation in between: two writers, or a bug. */
		slot_clear(slot);
		return NULL;
	}
	if (offset != 0)
		return NULL;

	slot = slot_claim(table);
	if (!slot)
		return NULL;
	slot_clear(slot);
	memcpy(slot->id, id, sizeof(slot->id));
	slot->busy = true;
	*ret_fresh = true;
	return slot;
}

void reg_upload_hashes_update(struct reg_upload_hashes *table, const char *id, uint64_t offset,
			      const void *data, size_t len)
{
	struct reg_upload_hash_slot *slot;
	bool fresh = false, ok = true;

	/* An empty write changes nothing, and skipping it keeps every stored
	 * state at an offset above 0. */
	if (len == 0 || strlen(id) != REG_UPLOAD_ID_LEN)
		return;

	pthread_mutex_lock(&table->lock);
	slot = slot_begin(table, id, offset, &fresh);
	pthread_mutex_unlock(&table->lock);
	if (!slot)
		return;

	/* Only this thread touches slot->md while the slot is busy. */
	if (fresh && !slot->md)
		slot->md = EVP_MD_CTX_new();
	if (fresh)
		ok = slot->md && EVP_DigestInit_ex(slot->md, EVP_sha256(), NULL) == 1;
	if (ok)
		ok = EVP_DigestUpdate(slot->md, data, len) == 1;

	pthread_mutex_lock(&table->lock);
	if (!ok || slot->stale) {
		slot_clear(slot);
	} else {
		slot->offset += len;
		slot->last_used = ++table->clock;
		slot->busy = false;
	}
	pthread_mutex_unlock(&table->lock);
}

/* Formats HASH (SHA-256, 32 bytes) as a digest into *RET.  Returns 0 or a
 * negative errno. */
static int digest_from_hash(const unsigned char *hash, unsigned hash_len, struct reg_digest *ret)
{
	char text[REG_DIGEST_TEXT_MAX];
	size_t off = strlen("sha256:");

	if (hash_len != 32)
		return -EIO;
	memcpy(text, "sha256:", off);
	for (unsigned i = 0; i < hash_len; i++)
		snprintf(text + off + 2 * i, 3, "%02x", hash[i]);
	return reg_digest_parse(text, ret);
}

int reg_upload_hashes_take(struct reg_upload_hashes *table, const char *id, uint64_t size,
			   enum reg_digest_algorithm algorithm, struct reg_digest *ret)
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	struct reg_upload_hash_slot *slot;
	unsigned hash_len = 0;
	bool usable;
	int r;

	pthread_mutex_lock(&table->lock);
	slot = slot_find(table, id);
	if (!slot) {
		pthread_mutex_unlock(&table->lock);
		return -ENOENT;
	}
	if (slot->busy) {
		slot->stale = true;
		pthread_mutex_unlock(&table->lock);
		return -ENOENT;
	}
	usable = slot->offset == size && algorithm == REG_DIGEST_SHA256 &&
		 EVP_DigestFinal_ex(slot->md, hash, &hash_len) == 1;
	slot_clear(slot);
	pthread_mutex_unlock(&table->lock);

	if (!usable)
		return -ENOENT;
	r = digest_from_hash(hash, hash_len, ret);
	return r < 0 ? -ENOENT : 0;
}

void reg_upload_hashes_drop(struct reg_upload_hashes *table, const char *id)
{
	struct reg_upload_hash_slot *slot;

	pthread_mutex_lock(&table->lock);
	slot = slot_find(table, id);
	if (slot && slot->busy)
		slot->stale = true;
	else if (slot)
		slot_clear(slot);
	pthread_mutex_unlock(&table->lock);
}

size_t reg_upload_hashes_count(struct reg_upload_hashes *table)
{
	size_t n = 0;

	pthread_mutex_lock(&table->lock);
	for (size_t i = 0; i < table->capacity; i++)
		n += table->slots[i].id[0] != '\0';
	pthread_mutex_unlock(&table->lock);
	return n;
}
