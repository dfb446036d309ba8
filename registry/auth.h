/*
 * HTTP Basic authentication against the credentials file, and throttling of
 * failed attempts.
 *
 * The credentials file is one "user:$pbkdf2-sha256$..." line per user (see
 * common/passhash.h), optionally followed by ":pull" for a read-only user or
 * ":push" for a user with every right (the default when the field is absent).
 * The hash never contains ':', so files without the field read as before.  Checking a password costs one PBKDF2 run (hundreds of
 * milliseconds by design), and docker sends credentials on every request, so a
 * successful check is cached.  The cache keys are HMAC-SHA256 of
 * "user\0password" under a random per-process key, never the password itself.
 * A reload empties the cache.
 *
 * Thread safety: every function may be called from any request thread; the
 * struct holds its own lock, and reg_auth_reload swaps the user table under it.
 */
#ifndef EDGECR_REG_AUTH_H
#define EDGECR_REG_AUTH_H

#include <stddef.h>
#include <time.h>

struct reg_auth;

/*
 * Reads the credentials file at PATH.  Returns 0 with a new *ret, or a negative
 * errno with a message naming the file and line in ERR (unreadable file, a line
 * without ':', an empty user, a hash that passhash cannot read, a user listed
 * twice).
 */
int reg_auth_new(const char *path, struct reg_auth **ret, char *err, size_t err_size);

/* Frees AUTH; NULL is a no-op. */
void reg_auth_free(struct reg_auth *auth);

/*
 * Re-reads the file AUTH was made from.  On failure the old users stay in force
 * and ERR contains the reason.  Returns 0 or a negative errno.
 */
int reg_auth_reload(struct reg_auth *auth, char *err, size_t err_size);

/* Rights of an authenticated user. */
enum reg_auth_rights {
	REG_AUTH_PULL,  /* read manifests, blobs, tags, the catalog and referrers */
	REG_AUTH_PUSH,  /* pull, push and delete */
};

/*
 * Checks USER and PASSWORD (LEN bytes).  Returns 1 when they match a user of
 * the file, 0 when they do not (unknown users cost the same time as known ones),
 * or a negative errno when hashing failed.
 */
int reg_auth_check(struct reg_auth *auth, const char *user, const char *password, size_t len);

/* Like reg_auth_check, and on a match also sets *RET_RIGHTS to the user's rights. */
int reg_auth_verify(struct reg_auth *auth, const char *user, const char *password, size_t len,
		    enum reg_auth_rights *ret_rights);

/* Returns how many checks the success cache served without hashing. */
unsigned long reg_auth_cache_hits(struct reg_auth *auth);

/*
 * Throttle of failed logins per client address: after REG_THROTTLE_FAILURES
 * failures within REG_THROTTLE_WINDOW seconds an address is refused with
 * TOOMANYREQUESTS until the window passes.  A success clears its count.
 * The count starts at an address's first failure and restarts once the window
 * has passed since then.  The failure that reaches the limit blocks the
 * address for a whole window from that moment.  The table keeps 1024
 * addresses and forgets the one seen longest ago.
 */
#define REG_THROTTLE_FAILURES 10
#define REG_THROTTLE_WINDOW 60

struct reg_throttle;

int reg_throttle_new(unsigned max_failures, unsigned window_seconds, struct reg_throttle **ret);
void reg_throttle_free(struct reg_throttle *throttle);

/* Returns 1 when ADDRESS (text form of the client's IP) may try to log in now. */
int reg_throttle_allows(struct reg_throttle *throttle, const char *address);

/* Returns the seconds until ADDRESS may try again (for Retry-After), 0 if now. */
unsigned reg_throttle_retry_after(struct reg_throttle *throttle, const char *address);

void reg_throttle_record_failure(struct reg_throttle *throttle, const char *address);
void reg_throttle_record_success(struct reg_throttle *throttle, const char *address);

/*
 * Replaces the clock THROTTLE reads, in seconds, so that tests can move time.
 * NULL restores the default, CLOCK_MONOTONIC.
 */
void reg_throttle_set_clock_for_test(struct reg_throttle *throttle, time_t (*clock)(void));

#endif
