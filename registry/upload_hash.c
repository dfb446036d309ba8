/*
 * Running digests of uploads; see upload_hash.h for the rules and locking.
 */
#include "upload_hash.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "hash_pipe.h"

/* An upload's hashing moves to a thread of its own (hash_pipe.h) once this
 * many bytes were hashed inline: small blobs, most of a push's requests, do
 * not pay for a thread. */
#define PIPE_START (4u << 20)
/* Uploads hashed on threads of their own at once.  Each holds two
 * REG_HASH_PIPE_BUFFER buffers; the others are hashed inline. */
#define PIPES_MAX 4

static atomic_uint pipes_running;

struct reg_upload_hash_slot {
	char id[REG_UPLOAD_ID_LEN + 1]; /* empty: the slot is free */
	EVP_MD_CTX *md;                 /* kept across uses of the slot */
	uint64_t offset;                /* bytes [0, offset) are hashed, or queued in pipe */
	struct reg_hash_pipe *pipe;     /* NULL: hashed inline into md */
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

/* Stops SLOT's hashing thread, if any, once it hashed every byte queued.
 * Returns 0, or -EIO when hashing failed. */
static int slot_pipe_stop(struct reg_upload_hash_slot *slot)
{
	int r;

	if (!slot->pipe)
		return 0;
	r = reg_hash_pipe_finish(slot->pipe);
	slot->pipe = NULL;
	atomic_fetch_sub(&pipes_running, 1);
	return r;
}

void reg_upload_hashes_release(struct reg_upload_hashes *table)
{
	if (!table->slots)
		return;
	for (size_t i = 0; i < table->capacity; i++) {
		slot_pipe_stop(&table->slots[i]);
		EVP_MD_CTX_free(table->slots[i].md);
	}
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
 * lock held, or by the writer that marked the slot busy.  A hashing thread
 * is joined here, which waits for at most one buffer's hashing. */
static void slot_clear(struct reg_upload_hash_slot *slot)
{
	slot_pipe_stop(slot);
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

/* Moves the hashing of SLOT to a thread of its own, unless PIPES_MAX threads
 * run already or one cannot be started.  Called by the busy slot's writer. */
static void slot_pipe_start(struct reg_upload_hash_slot *slot)
{
	if (atomic_fetch_add(&pipes_running, 1) >= PIPES_MAX ||
	    reg_hash_pipe_new(slot->md, &slot->pipe) < 0) {
		slot->pipe = NULL;
		atomic_fetch_sub(&pipes_running, 1);
	}
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

	/* Only this thread touches slot->md and slot->pipe while the slot is
	 * busy. */
	if (fresh && !slot->md)
		slot->md = EVP_MD_CTX_new();
	if (fresh)
		ok = slot->md && EVP_DigestInit_ex(slot->md, EVP_sha256(), NULL) == 1;
	if (ok && slot->pipe)
		ok = reg_hash_pipe_write(slot->pipe, data, len) == 0;
	else if (ok)
		ok = EVP_DigestUpdate(slot->md, data, len) == 1;
	if (ok && !slot->pipe && slot->offset + len >= PIPE_START)
		slot_pipe_start(slot);

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
	/* Busy keeps writers and eviction away while the hashing thread
	 * finishes, outside the lock. */
	slot->busy = true;
	pthread_mutex_unlock(&table->lock);

	usable = slot_pipe_stop(slot) == 0 && slot->offset == size &&
		 algorithm == REG_DIGEST_SHA256 && EVP_DigestFinal_ex(slot->md, hash, &hash_len) == 1;

	pthread_mutex_lock(&table->lock);
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
