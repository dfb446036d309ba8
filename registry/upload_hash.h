/*
 * Running SHA-256 states of uploads in progress, so that finishing an upload
 * does not read its whole file again.
 *
 * Each state belongs to one upload id and covers the bytes [0, offset) of
 * the upload's file, hashed in the order they were written.  A state is
 * created only by a write at offset 0 of an upload that has none, and
 * advanced only by a write that starts exactly at its offset.  Any other
 * write drops the state: a chunk after one the table missed (the registry
 * restarted, or the state was evicted), or a second write at offset 0.  The
 * caller then finds no state when it finishes and hashes the file from disk,
 * so a missing or dropped state costs time, never correctness.  A caller that
 * cuts an upload's file shorter must drop its state first.
 *
 * Memory: at most the capacity given to reg_upload_hashes_init states exist.
 * When the table is full, a new upload evicts the state that was idle
 * longest.  A state that a writer is hashing into is never evicted.
 *
 * Locking: one mutex guards the table.  Hashing runs outside it: the writer
 * marks its state busy, hashes, and then stores the new offset.  The caller
 * must serialize the writes of one upload, each file write together with its
 * update (upload.c holds an exclusive flock on the file), because the table
 * cannot see the order in which two writers' bytes reached the file.  As a
 * second line of defence, a write that meets its upload's state busy marks
 * it stale, and it is dropped when the first writer is done.  Two writers
 * that both start at offset 0 therefore always end without a state.
 */
#ifndef EDGECR_REG_UPLOAD_HASH_H
#define EDGECR_REG_UPLOAD_HASH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ref.h"
#include "route.h"

/* States the registry keeps at once.  Each is a slot of under 100 bytes plus,
 * once used, one SHA-256 EVP_MD_CTX (an estimate: a few hundred bytes in
 * OpenSSL 3.0).  An upload beyond this many at once is hashed from its file
 * when it finishes. */
#define REG_UPLOAD_HASHES_MAX 256

struct reg_upload_hash_slot;

struct reg_upload_hashes {
	pthread_mutex_t lock;
	struct reg_upload_hash_slot *slots; /* CAPACITY entries, owned */
	size_t capacity;
	uint64_t clock;                     /* last-use counter for eviction */
};

/* Fills *TABLE with room for CAPACITY states (at least 1).  Returns 0 or
 * -ENOMEM. */
int reg_upload_hashes_init(struct reg_upload_hashes *table, size_t capacity);

/* Frees every state.  No writer may be inside the table. */
void reg_upload_hashes_release(struct reg_upload_hashes *table);

/*
 * Adds LEN bytes of DATA, just written at OFFSET of upload ID's file, to the
 * upload's state: creates the state when OFFSET is 0, advances it when
 * OFFSET is where it ends, and drops it otherwise.  Reports no error: when
 * the table is full of busy states or OpenSSL fails, the upload is left
 * without a state.
 */
void reg_upload_hashes_update(struct reg_upload_hashes *table, const char *id, uint64_t offset,
			      const void *data, size_t len);

/*
 * Removes upload ID's state and, when it covers exactly SIZE bytes and
 * ALGORITHM is SHA-256, writes the digest of those bytes into *RET.
 * Returns 0 with the digest, or -ENOENT when there is no usable state (the
 * caller then hashes the file).
 */
int reg_upload_hashes_take(struct reg_upload_hashes *table, const char *id, uint64_t size,
			   enum reg_digest_algorithm algorithm, struct reg_digest *ret);

/* Removes upload ID's state, if any (cancel, expiry, truncation). */
void reg_upload_hashes_drop(struct reg_upload_hashes *table, const char *id);

/* Returns the number of states held, for tests. */
size_t reg_upload_hashes_count(struct reg_upload_hashes *table);

#endif
