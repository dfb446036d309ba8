/*
 * Basic authentication against the credentials file, with a cache of recent
 * successes, and a throttle of failed attempts per client address; see auth.h.
 *
 * Locking: struct reg_auth has one mutex over the user table, the cache and
 * the reload generation.  It is never held across a password hash, which
 * takes hundreds of milliseconds: a check copies the stored hash out, unlocks,
 * verifies, and locks again only to add the success to the cache.  The
 * generation counter, bumped by each reload, keeps a check that started
 * before a reload from caching a password the new file may no longer accept.
 * struct reg_throttle has its own mutex over its table.
 *
 * Checks of the same user and password that miss the cache at the same time
 * (a client opening many connections at once) hash only once: the first
 * claims a flight slot for the cache key, and the others wait on flight_done
 * under the lock, then read the cache.  Without that, 256 connections
 * starting together cost 256 PBKDF2 runs, which kept the soak test's first
 * requests waiting for minutes on 2 CPUs.
 */
#include "auth.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fileio.h"
#include "passhash.h"

/* Maximum size of the credentials file: about 10,000 users at some 100 bytes a line. */
#define AUTH_FILE_MAX (1024 * 1024)
#define CACHE_ENTRIES 64
/* A cached success is trusted this long before the password is hashed again. */
#define CACHE_TTL_SECONDS 600
#define CACHE_KEY_LEN 32
/* Different credentials being hashed at once that get a flight slot; more
 * checks hash without one. */
#define FLIGHT_SLOTS 16
#define HASH_PREFIX "$pbkdf2-sha256$i="

#define STRINGIFY_VALUE(x) STRINGIFY(x)
#define STRINGIFY(x) #x
/* Hash checked for unknown users when the file has no user to borrow one from:
 * a zero salt and hash at the work factor of new hashes, which no password matches
 * except by a SHA-256 collision. */
#define FALLBACK_HASH HASH_PREFIX STRINGIFY_VALUE(ECR_PASSHASH_ITERATIONS) \
	"$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

struct auth_user {
	char *name;
	char *hash;
	enum reg_auth_rights rights;
};

struct auth_table {
	struct auth_user *users;
	size_t n_users;
};

struct cache_entry {
	bool used;
	time_t added;
	enum reg_auth_rights rights;
	unsigned char key[CACHE_KEY_LEN];
};

struct flight {
	bool used;
	unsigned char key[CACHE_KEY_LEN];
};

struct reg_auth {
	pthread_mutex_t lock;
	pthread_cond_t flight_done;   /* broadcast when a flight slot is freed */
	char *path;
	EVP_MAC *hmac;
	unsigned char cache_secret[32];

	/* Protected by lock. */
	struct auth_table table;
	unsigned long generation;
	struct cache_entry cache[CACHE_ENTRIES];
	size_t cache_next; /* the oldest entry, replaced next */
	unsigned long cache_hits;
	struct flight flights[FLIGHT_SLOTS];
};

static time_t monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void table_free(struct auth_table *table)
{
	for (size_t i = 0; i < table->n_users; i++) {
		free(table->users[i].name);
		free(table->users[i].hash);
	}
	free(table->users);
	table->users = NULL;
	table->n_users = 0;
}

static const struct auth_user *table_find(const struct auth_table *table, const char *user)
{
	for (size_t i = 0; i < table->n_users; i++)
		if (strcmp(table->users[i].name, user) == 0)
			return &table->users[i];
	return NULL;
}

/* Returns true when the LEN bytes at S are standard base64 digits, no padding. */
static bool is_base64_digits(const char *s, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i++)
		if (!s[i] || !memchr(alphabet, s[i], sizeof(alphabet) - 1))
			return false;
	return true;
}

/*
 * Checks HASH against the encoding that passhash.h documents, without running
 * PBKDF2, so loading a file costs no hashing: the salt is 16 bytes (22 digits
 * and "=="), the hash 32 bytes (43 digits and "=").
 */
static bool hash_format_is_valid(const char *hash)
{
	const char *p = hash + strlen(HASH_PREFIX);
	unsigned long iterations;
	char *end;

	if (strlen(hash) >= ECR_PASSHASH_ENCODED_MAX ||
	    strncmp(hash, HASH_PREFIX, strlen(HASH_PREFIX)) != 0 || *p < '1' || *p > '9')
		return false;
	errno = 0;
	iterations = strtoul(p, &end, 10);
	if (errno || iterations > ECR_PASSHASH_ITERATIONS_MAX || *end != '$')
		return false;

	p = end + 1;
	if (!is_base64_digits(p, 22) || strncmp(p + 22, "==$", 3) != 0)
		return false;
	p += 25;
	return is_base64_digits(p, 43) && strcmp(p + 43, "=") == 0;
}

static int table_add(struct auth_table *table, const char *name, const char *hash,
		     enum reg_auth_rights rights)
{
	struct auth_user *users;
	struct auth_user user = { strdup(name), strdup(hash), rights };

	users = realloc(table->users, (table->n_users + 1) * sizeof(*users));
	if (!users || !user.name || !user.hash) {
		free(user.name);
		free(user.hash);
		/* realloc keeps the old array valid when it fails, and owns it when not. */
		if (users)
			table->users = users;
		return -ENOMEM;
	}
	users[table->n_users++] = user;
	table->users = users;
	return 0;
}

/* Drops blanks and the CR of a CRLF line end from both sides of LINE. */
static char *trim_line(char *line)
{
	size_t len;

	while (*line == ' ' || *line == '\t')
		line++;
	len = strlen(line);
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		line[--len] = '\0';
	return line;
}

/* Parses the optional rights field of a line; NULL (no field) means push. */
static int rights_parse(const char *field, enum reg_auth_rights *ret)
{
	if (!field || strcmp(field, "push") == 0)
		*ret = REG_AUTH_PUSH;
	else if (strcmp(field, "pull") == 0)
		*ret = REG_AUTH_PULL;
	else
		return -EINVAL;
	return 0;
}

/* Adds the user of line LINENO of PATH to TABLE; comments and blank lines add none. */
static int table_parse_line(struct auth_table *table, char *line, const char *path,
			    unsigned lineno, char *err, size_t err_size)
{
	enum reg_auth_rights rights;
	char *colon, *field;

	line = trim_line(line);
	if (*line == '\0' || *line == '#')
		return 0;

	colon = strchr(line, ':');
	if (!colon) {
		snprintf(err, err_size, "%s:%u: expected \"user:hash\", found no ':'", path, lineno);
		return -EINVAL;
	}
	*colon = '\0';
	if (*line == '\0') {
		snprintf(err, err_size, "%s:%u: the user name is empty", path, lineno);
		return -EINVAL;
	}
	field = strchr(colon + 1, ':');
	if (field)
		*field++ = '\0';
	if (rights_parse(field, &rights) < 0) {
		snprintf(err, err_size, "%s:%u: the rights of user \"%.64s\" are \"%.16s\"; "
			 "expected pull or push", path, lineno, line, field);
		return -EINVAL;
	}
	if (!hash_format_is_valid(colon + 1)) {
		snprintf(err, err_size, "%s:%u: the hash of user \"%.64s\" is not a valid "
			 "$pbkdf2-sha256$ hash", path, lineno, line);
		return -EINVAL;
	}
	if (table_find(table, line)) {
		snprintf(err, err_size, "%s:%u: duplicate user \"%.64s\"", path, lineno, line);
		return -EINVAL;
	}
	return table_add(table, line, colon + 1, rights);
}

static int table_load(const char *path, struct auth_table *ret, char *err, size_t err_size)
{
	struct auth_table table = { 0 };
	char *data = NULL, *line, *next;
	unsigned lineno = 0;
	size_t len;
	int r;

	r = ecr_read_file(path, AUTH_FILE_MAX, &data, &len);
	if (r < 0) {
		snprintf(err, err_size, "%s: cannot read the credentials file: %s", path, strerror(-r));
		return r;
	}
	if (memchr(data, '\0', len)) {
		snprintf(err, err_size, "%s: the credentials file contains a NUL byte", path);
		r = -EINVAL;
		goto out;
	}

	for (line = data; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		r = table_parse_line(&table, line, path, ++lineno, err, err_size);
		if (r < 0)
			goto out;
	}
	*ret = table;
	table = (struct auth_table){ 0 };

out:
	table_free(&table);
	free(data);
	return r;
}

int reg_auth_new(const char *path, struct reg_auth **ret, char *err, size_t err_size)
{
	struct reg_auth *auth;
	int r;

	auth = calloc(1, sizeof(*auth));
	if (!auth)
		return -ENOMEM;
	r = pthread_mutex_init(&auth->lock, NULL);
	if (r != 0) {
		free(auth);
		return -r;
	}
	r = pthread_cond_init(&auth->flight_done, NULL);
	if (r != 0) {
		pthread_mutex_destroy(&auth->lock);
		free(auth);
		return -r;
	}

	auth->path = strdup(path);
	auth->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!auth->path || !auth->hmac) {
		snprintf(err, err_size, "out of memory, or OpenSSL has no HMAC");
		r = -ENOMEM;
		goto out;
	}
	if (RAND_bytes(auth->cache_secret, sizeof(auth->cache_secret)) != 1) {
		snprintf(err, err_size, "OpenSSL's random generator failed");
		r = -EIO;
		goto out;
	}
	r = table_load(path, &auth->table, err, err_size);
	if (r < 0)
		goto out;

	*ret = auth;
	auth = NULL;

out:
	reg_auth_free(auth);
	return r;
}

void reg_auth_free(struct reg_auth *auth)
{
	if (!auth)
		return;
	table_free(&auth->table);
	OPENSSL_cleanse(auth->cache_secret, sizeof(auth->cache_secret));
	OPENSSL_cleanse(auth->cache, sizeof(auth->cache));
	EVP_MAC_free(auth->hmac);
	free(auth->path);
	pthread_cond_destroy(&auth->flight_done);
	pthread_mutex_destroy(&auth->lock);
	free(auth);
}

int reg_auth_reload(struct reg_auth *auth, char *err, size_t err_size)
{
	struct auth_table table = { 0 }, old;
	int r;

	/* Load outside the lock: checks go on against the old table meanwhile. */
	r = table_load(auth->path, &table, err, err_size);
	if (r < 0)
		return r;

	pthread_mutex_lock(&auth->lock);
	old = auth->table;
	auth->table = table;
	auth->generation++;
	OPENSSL_cleanse(auth->cache, sizeof(auth->cache));
	auth->cache_next = 0;
	pthread_mutex_unlock(&auth->lock);

	table_free(&old);
	return 0;
}

/* Computes the cache key HMAC-SHA256(secret, USER "\0" PASSWORD) into RET_KEY. */
static int cache_key(struct reg_auth *auth, const char *user, const char *password,
		     size_t len, unsigned char *ret_key)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(auth->hmac);
	size_t out_len = 0;
	int r = -EIO;

	if (!ctx)
		return -ENOMEM;
	/* The user's NUL ends it, so "ab" + "c" and "a" + "bc" get different keys. */
	if (EVP_MAC_init(ctx, auth->cache_secret, sizeof(auth->cache_secret), params) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)user, strlen(user) + 1) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)password, len) == 1 &&
	    EVP_MAC_final(ctx, ret_key, &out_len, CACHE_KEY_LEN) == 1 &&
	    out_len == CACHE_KEY_LEN)
		r = 0;
	EVP_MAC_CTX_free(ctx);
	return r;
}

/* Returns true when KEY is in the cache and younger than CACHE_TTL_SECONDS,
 * and then sets *RET_RIGHTS. */
static bool cache_lookup(struct reg_auth *auth, const unsigned char *key,
			 enum reg_auth_rights *ret_rights)
{
	time_t now = monotonic_seconds();
	bool hit = false;

	pthread_mutex_lock(&auth->lock);
	for (size_t i = 0; i < CACHE_ENTRIES && !hit; i++) {
		struct cache_entry *entry = &auth->cache[i];

		if (entry->used && now - entry->added >= CACHE_TTL_SECONDS)
			entry->used = false;
		if (entry->used && CRYPTO_memcmp(entry->key, key, CACHE_KEY_LEN) == 0) {
			hit = true;
			*ret_rights = entry->rights;
		}
	}
	if (hit)
		auth->cache_hits++;
	pthread_mutex_unlock(&auth->lock);
	return hit;
}

/* Adds KEY in place of the oldest entry, unless a reload came after GENERATION. */
static void cache_insert(struct reg_auth *auth, const unsigned char *key,
			 enum reg_auth_rights rights, unsigned long generation)
{
	pthread_mutex_lock(&auth->lock);
	if (generation == auth->generation) {
		struct cache_entry *entry = &auth->cache[auth->cache_next];

		entry->used = true;
		entry->added = monotonic_seconds();
		entry->rights = rights;
		memcpy(entry->key, key, CACHE_KEY_LEN);
		auth->cache_next = (auth->cache_next + 1) % CACHE_ENTRIES;
	}
	pthread_mutex_unlock(&auth->lock);
}

/*
 * Copies the stored hash of USER into HASH and sets *ret_known.  For an unknown
 * user it copies another user's hash, so that the check costs the same
 * PBKDF2 work and its time does not tell which user names exist.
 * NOTE: that is the first user's hash, so the times match only while all
 * users' hashes have the same iteration count, as ecr_passhash_make writes them.
 */
static void copy_hash(struct reg_auth *auth, const char *user, char *hash, bool *ret_known,
		      enum reg_auth_rights *ret_rights, unsigned long *ret_generation)
{
	const struct auth_user *found;
	const char *stored;

	pthread_mutex_lock(&auth->lock);
	found = table_find(&auth->table, user);
	*ret_known = found != NULL;
	*ret_rights = found ? found->rights : REG_AUTH_PULL;
	if (found)
		stored = found->hash;
	else
		stored = auth->table.n_users > 0 ? auth->table.users[0].hash : FALLBACK_HASH;
	/* hash_format_is_valid bounded every stored hash by ECR_PASSHASH_ENCODED_MAX. */
	snprintf(hash, ECR_PASSHASH_ENCODED_MAX, "%s", stored);
	*ret_generation = auth->generation;
	pthread_mutex_unlock(&auth->lock);
}

/* Returns the flight slot hashing KEY, or -1.  Lock held. */
static int flight_find(struct reg_auth *auth, const unsigned char *key)
{
	for (int i = 0; i < FLIGHT_SLOTS; i++)
		if (auth->flights[i].used && CRYPTO_memcmp(auth->flights[i].key, key, CACHE_KEY_LEN) == 0)
			return i;
	return -1;
}

/*
 * Waits while another thread hashes KEY.  Returns true when it waited, so the
 * cache may now hold KEY; the caller then hashes without a slot (*RET_SLOT
 * -1) if it does not.  Otherwise claims a free slot for KEY into *RET_SLOT,
 * or -1 when all are taken.
 */
static bool flight_begin(struct reg_auth *auth, const unsigned char *key, int *ret_slot)
{
	bool waited = false;
	int slot = -1;

	pthread_mutex_lock(&auth->lock);
	while (flight_find(auth, key) >= 0) {
		pthread_cond_wait(&auth->flight_done, &auth->lock);
		waited = true;
	}
	for (int i = 0; !waited && slot < 0 && i < FLIGHT_SLOTS; i++) {
		if (auth->flights[i].used)
			continue;
		auth->flights[i].used = true;
		memcpy(auth->flights[i].key, key, CACHE_KEY_LEN);
		slot = i;
	}
	pthread_mutex_unlock(&auth->lock);
	*ret_slot = slot;
	return waited;
}

/* Frees SLOT (nothing for -1) and wakes the checks waiting for it. */
static void flight_end(struct reg_auth *auth, int slot)
{
	if (slot < 0)
		return;
	pthread_mutex_lock(&auth->lock);
	OPENSSL_cleanse(&auth->flights[slot], sizeof(auth->flights[slot]));
	pthread_cond_broadcast(&auth->flight_done);
	pthread_mutex_unlock(&auth->lock);
}

int reg_auth_verify(struct reg_auth *auth, const char *user, const char *password, size_t len,
		    enum reg_auth_rights *ret_rights)
{
	unsigned char key[CACHE_KEY_LEN];
	char hash[ECR_PASSHASH_ENCODED_MAX];
	enum reg_auth_rights rights;
	unsigned long generation;
	int slot = -1;
	bool known;
	int r;

	r = cache_key(auth, user, password, len, key);
	if (r < 0)
		return r;
	if (cache_lookup(auth, key, &rights) ||
	    (flight_begin(auth, key, &slot) && cache_lookup(auth, key, &rights))) {
		r = 1;
		goto out;
	}

	copy_hash(auth, user, hash, &known, &rights, &generation);
	r = ecr_passhash_verify(password, len, hash);
	if (r < 0)
		goto out;
	if (!known)
		r = 0;
	if (r == 1)
		cache_insert(auth, key, rights, generation);

out:
	flight_end(auth, slot);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(hash, sizeof(hash));
	if (r == 1 && ret_rights)
		*ret_rights = rights;
	return r;
}

int reg_auth_check(struct reg_auth *auth, const char *user, const char *password, size_t len)
{
	return reg_auth_verify(auth, user, password, len, NULL);
}

unsigned long reg_auth_cache_hits(struct reg_auth *auth)
{
	unsigned long hits;

	pthread_mutex_lock(&auth->lock);
	hits = auth->cache_hits;
	pthread_mutex_unlock(&auth->lock);
	return hits;
}

/*
 * The throttle keeps one slot per recently failing address.  The count of an
 * address starts at its first failure; failures more than window seconds after
 * that start a new count.  The failure that reaches max_failures blocks the
 * address for window seconds from then.  When every slot is taken, the slot
 * used longest ago is reused.
 */
#define THROTTLE_SLOTS 1024
/* An IPv6 address in text (45 bytes) with a zone id of up to 15 bytes fits. */
#define THROTTLE_ADDRESS_MAX 64

struct throttle_slot {
	bool used;
	char address[THROTTLE_ADDRESS_MAX];
	unsigned failures;
	time_t count_start;
	time_t blocked_until;
	time_t last_seen;
};

struct reg_throttle {
	pthread_mutex_t lock;
	unsigned max_failures;
	unsigned window;
	time_t (*clock)(void);
	/* Slots in use.  While no address has recent failed logins it is 0,
	 * and each request skips the scan of all THROTTLE_SLOTS under the lock. */
	size_t n_used;
	struct throttle_slot slots[THROTTLE_SLOTS];
};

int reg_throttle_new(unsigned max_failures, unsigned window_seconds, struct reg_throttle **ret)
{
	struct reg_throttle *throttle;
	int r;

	if (max_failures == 0 || window_seconds == 0)
		return -EINVAL;
	throttle = calloc(1, sizeof(*throttle));
	if (!throttle)
		return -ENOMEM;
	r = pthread_mutex_init(&throttle->lock, NULL);
	if (r != 0) {
		free(throttle);
		return -r;
	}

	throttle->max_failures = max_failures;
	throttle->window = window_seconds;
	throttle->clock = monotonic_seconds;
	*ret = throttle;
	return 0;
}

void reg_throttle_free(struct reg_throttle *throttle)
{
	if (!throttle)
		return;
	pthread_mutex_destroy(&throttle->lock);
	free(throttle);
}

void reg_throttle_set_clock_for_test(struct reg_throttle *throttle, time_t (*clock)(void))
{
	pthread_mutex_lock(&throttle->lock);
	throttle->clock = clock ? clock : monotonic_seconds;
	pthread_mutex_unlock(&throttle->lock);
}

/* Returns the slot of ADDRESS, or NULL.  Called with the lock held. */
static struct throttle_slot *slot_find(struct reg_throttle *throttle, const char *address)
{
	if (throttle->n_used == 0)
		return NULL;
	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		struct throttle_slot *slot = &throttle->slots[i];

		if (slot->used && strncmp(slot->address, address, THROTTLE_ADDRESS_MAX - 1) == 0)
			return slot;
	}
	return NULL;
}

/* Returns a fresh slot for ADDRESS, reusing the one seen longest ago.  Lock held. */
static struct throttle_slot *slot_claim(struct reg_throttle *throttle, const char *address)
{
	struct throttle_slot *oldest = &throttle->slots[0];

	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		struct throttle_slot *slot = &throttle->slots[i];

		if (!slot->used) {
			oldest = slot;
			break;
		}
		if (slot->last_seen < oldest->last_seen)
			oldest = slot;
	}

	if (!oldest->used)
		throttle->n_used++;
	memset(oldest, 0, sizeof(*oldest));
	oldest->used = true;
	snprintf(oldest->address, sizeof(oldest->address), "%s", address);
	return oldest;
}

/* Returns the seconds ADDRESS stays blocked at NOW, 0 if not.  Lock held. */
static unsigned blocked_for(struct reg_throttle *throttle, const char *address, time_t now)
{
	struct throttle_slot *slot = slot_find(throttle, address);

	if (!slot || slot->blocked_until <= now)
		return 0;
	return (unsigned)(slot->blocked_until - now);
}

int reg_throttle_allows(struct reg_throttle *throttle, const char *address)
{
	unsigned seconds;

	pthread_mutex_lock(&throttle->lock);
	seconds = blocked_for(throttle, address, throttle->clock());
	pthread_mutex_unlock(&throttle->lock);
	return seconds == 0;
}

unsigned reg_throttle_retry_after(struct reg_throttle *throttle, const char *address)
{
	unsigned seconds;

	pthread_mutex_lock(&throttle->lock);
	seconds = blocked_for(throttle, address, throttle->clock());
	pthread_mutex_unlock(&throttle->lock);
	return seconds;
}

void reg_throttle_record_failure(struct reg_throttle *throttle, const char *address)
{
	struct throttle_slot *slot;
	time_t now;

	pthread_mutex_lock(&throttle->lock);
	now = throttle->clock();
	slot = slot_find(throttle, address);
	if (!slot)
		slot = slot_claim(throttle, address);

	if (slot->failures == 0 || now - slot->count_start >= (time_t)throttle->window) {
		slot->failures = 0;
		slot->count_start = now;
	}
	if (slot->failures < throttle->max_failures)
		slot->failures++;
	if (slot->failures >= throttle->max_failures && slot->blocked_until <= now)
		slot->blocked_until = now + (time_t)throttle->window;
	slot->last_seen = now;
	pthread_mutex_unlock(&throttle->lock);
}

void reg_throttle_record_success(struct reg_throttle *throttle, const char *address)
{
	struct throttle_slot *slot;

	pthread_mutex_lock(&throttle->lock);
	slot = slot_find(throttle, address);
	if (slot) {
		memset(slot, 0, sizeof(*slot));
		throttle->n_used--;
	}
	pthread_mutex_unlock(&throttle->lock);
}
