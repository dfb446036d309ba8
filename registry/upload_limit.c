/*
 * Uploads in progress per client address; see upload_limit.h.
 *
 * Locking: one mutex over the entry array.  Pruning queries the metadata
 * database with the mutex held.  It runs only when an address reaches the
 * cap (its own entries, at most max_per_client queries) or when the array is
 * full (every entry), and the array grows only when that pruning freed less
 * than half of it.
 */
#include "upload_limit.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

/* An IPv6 address in text with a zone id fits, as in the login throttle. */
#define ADDRESS_MAX 64
#define INITIAL_CAPACITY 64

struct limit_entry {
	char address[ADDRESS_MAX];
	char id[REG_UPLOAD_ID_LEN + 1];  /* empty while reserved */
};

struct reg_upload_limit {
	pthread_mutex_t lock;
	unsigned max_per_client;

	/* Protected by lock. */
	struct limit_entry *entries;
	size_t n_entries, capacity;
};

int reg_upload_limit_new(unsigned max_per_client, struct reg_upload_limit **ret)
{
	struct reg_upload_limit *limit;
	int r;

	if (max_per_client == 0)
		return -EINVAL;
	limit = calloc(1, sizeof(*limit));
	if (!limit)
		return -ENOMEM;
	r = pthread_mutex_init(&limit->lock, NULL);
	if (r != 0) {
		free(limit);
		return -r;
	}
	limit->max_per_client = max_per_client;
	*ret = limit;
	return 0;
}

void reg_upload_limit_free(struct reg_upload_limit *limit)
{
	if (!limit)
		return;
	pthread_mutex_destroy(&limit->lock);
	free(limit->entries);
	free(limit);
}

static bool entry_is_of(const struct limit_entry *entry, const char *address)
{
	return strncmp(entry->address, address, ADDRESS_MAX - 1) == 0;
}

/* Replaces entry I with the last one.  Lock held. */
static void entry_remove(struct reg_upload_limit *limit, size_t i)
{
	limit->entries[i] = limit->entries[--limit->n_entries];
}

/* Returns true when ENTRY's upload is known to be gone.  A reservation, or a
 * database error, keeps the entry. */
static bool entry_is_stale(const struct limit_entry *entry, struct reg_meta *meta)
{
	return entry->id[0] != '\0' && reg_meta_upload_exists(meta, entry->id) == 0;
}

/* Drops the stale entries of ADDRESS, or of every address when ADDRESS is
 * NULL.  Lock held. */
static void prune(struct reg_upload_limit *limit, struct reg_meta *meta, const char *address)
{
	size_t i = 0;

	while (i < limit->n_entries) {
		struct limit_entry *entry = &limit->entries[i];

		if ((!address || entry_is_of(entry, address)) && entry_is_stale(entry, meta))
			entry_remove(limit, i);
		else
			i++;
	}
}

static unsigned count_locked(struct reg_upload_limit *limit, const char *address)
{
	unsigned n = 0;

	for (size_t i = 0; i < limit->n_entries; i++)
		if (entry_is_of(&limit->entries[i], address))
			n++;
	return n;
}

/* Makes room for one more entry, pruning before growing.  Lock held. */
static int reserve_room(struct reg_upload_limit *limit, struct reg_meta *meta)
{
	struct limit_entry *grown;
	size_t capacity;

	if (limit->n_entries < limit->capacity)
		return 0;
	prune(limit, meta, NULL);
	if (limit->n_entries < limit->capacity / 2)
		return 0;

	capacity = limit->capacity ? limit->capacity * 2 : INITIAL_CAPACITY;
	grown = realloc(limit->entries, capacity * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	limit->entries = grown;
	limit->capacity = capacity;
	return 0;
}

int reg_upload_limit_reserve(struct reg_upload_limit *limit, struct reg_meta *meta,
			     const char *address)
{
	struct limit_entry *entry;
	int r = 1;

	pthread_mutex_lock(&limit->lock);
	if (count_locked(limit, address) >= limit->max_per_client) {
		prune(limit, meta, address);
		if (count_locked(limit, address) >= limit->max_per_client) {
			r = 0;
			goto out;
		}
	}
	r = reserve_room(limit, meta);
	if (r < 0)
		goto out;

	entry = &limit->entries[limit->n_entries++];
	memset(entry, 0, sizeof(*entry));
	snprintf(entry->address, sizeof(entry->address), "%s", address);
	r = 1;
out:
	pthread_mutex_unlock(&limit->lock);
	return r;
}

/* Returns the index of a reservation of ADDRESS, or -1.  Lock held. */
static long reservation_find(struct reg_upload_limit *limit, const char *address)
{
	for (size_t i = 0; i < limit->n_entries; i++)
		if (limit->entries[i].id[0] == '\0' && entry_is_of(&limit->entries[i], address))
			return (long)i;
	return -1;
}

void reg_upload_limit_commit(struct reg_upload_limit *limit, const char *address,
			     const char *id)
{
	long i;

	pthread_mutex_lock(&limit->lock);
	i = reservation_find(limit, address);
	if (i >= 0)
		snprintf(limit->entries[i].id, sizeof(limit->entries[i].id), "%s", id);
	pthread_mutex_unlock(&limit->lock);
}

void reg_upload_limit_release(struct reg_upload_limit *limit, const char *address)
{
	long i;

	pthread_mutex_lock(&limit->lock);
	i = reservation_find(limit, address);
	if (i >= 0)
		entry_remove(limit, (size_t)i);
	pthread_mutex_unlock(&limit->lock);
}

unsigned reg_upload_limit_count(struct reg_upload_limit *limit, const char *address)
{
	unsigned n;

	pthread_mutex_lock(&limit->lock);
	n = count_locked(limit, address);
	pthread_mutex_unlock(&limit->lock);
	return n;
}
