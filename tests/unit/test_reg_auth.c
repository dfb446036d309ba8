/* Unit tests for registry/auth.c: the credentials file, checks, cache, throttle. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "auth.h"
#include "unit.h"

/* Few iterations keep the tests fast, also under valgrind. */
#define TEST_ITERATIONS 1000

static char credentials_path[64];

/*
 * Writes the passhash.h encoding of PASSWORD with TEST_ITERATIONS into
 * ENCODED (128 bytes), with a fixed salt so that runs are repeatable.
 */
static void make_hash(const char *password, char *encoded)
{
	unsigned char salt[16], hash[32];
	char salt64[25], hash64[45];

	memset(salt, 0x42, sizeof(salt));
	PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), TEST_ITERATIONS,
			  EVP_sha256(), sizeof(hash), hash);
	EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)hash64, hash, sizeof(hash));
	snprintf(encoded, 128, "$pbkdf2-sha256$i=%d$%s$%s", TEST_ITERATIONS, salt64, hash64);
}

static void write_credentials(const char *content)
{
	FILE *f = fopen(credentials_path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(content, f);
	fclose(f);
}

/* Writes a file of "user:hash-of-password" lines from NULL-terminated pairs. */
static void write_users(const char *const *pairs)
{
	char content[4096] = "# test users\n\n";

	for (size_t i = 0; pairs[i]; i += 2) {
		char hash[128];

		make_hash(pairs[i + 1], hash);
		snprintf(content + strlen(content), sizeof(content) - strlen(content), "%s:%s\n",
			 pairs[i], hash);
	}
	write_credentials(content);
}

static int check(struct reg_auth *auth, const char *user, const char *password)
{
	return reg_auth_check(auth, user, password, strlen(password));
}

/* Loads CONTENT, expecting failure with FRAGMENT in the message. */
static void check_load_error(const char *content, const char *fragment)
{
	struct reg_auth *auth = NULL;
	char err[256] = "";
	int r;

	write_credentials(content);
	r = reg_auth_new(credentials_path, &auth, err, sizeof(err));
	if (r != -EINVAL || !strstr(err, fragment))
		fprintf(stderr, "  returned %d with \"%s\", expected \"%s\"\n", r, err, fragment);
	CHECK_INT(r, -EINVAL);
	CHECK(strstr(err, fragment) != NULL);
	CHECK(strstr(err, credentials_path) != NULL);
	CHECK(auth == NULL);
}

static void load_errors_name_lines(void)
{
	char hash[128], content[512];

	make_hash("pw", hash);
	snprintf(content, sizeof(content), "# users\nalice:%s\nbob\n", hash);
	check_load_error(content, ":3: expected \"user:hash\"");
	snprintf(content, sizeof(content), "\n\n:%s\n", hash);
	check_load_error(content, ":3: the user name is empty");
	check_load_error("alice:secret\n", ":1: the hash of user \"alice\"");
	check_load_error("alice:$pbkdf2-sha256$i=0$QkJCQkJCQkJCQkJCQkJCQg==$"
			 "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\n", ":1: the hash");
	check_load_error("alice:$pbkdf2-sha256$i=10000001$QkJCQkJCQkJCQkJCQkJCQg==$"
			 "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\n", ":1: the hash");
	check_load_error("alice:$pbkdf2-sha256$i=1000$QkJCQkJCQkJCQkJCQkJCQg=$"
			 "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\n", ":1: the hash");
	check_load_error("alice:$pbkdf2-sha256$i=1000$QkJCQkJCQkJCQkJCQkJCQg==$"
			 "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI\n", ":1: the hash");
	snprintf(content, sizeof(content), "alice:%s\n# again\nalice:%s\n", hash, hash);
	check_load_error(content, ":3: duplicate user \"alice\"");
}

static void rights_field_parsed(void)
{
	struct reg_auth *auth = NULL;
	enum reg_auth_rights rights = REG_AUTH_PUSH;
	char hash[128], content[768], err[256] = "";

	make_hash("pw", hash);
	snprintf(content, sizeof(content), "old:%s\nreader:%s:pull\nwriter:%s:push\n", hash, hash,
		 hash);
	write_credentials(content);
	CHECK_INT(reg_auth_new(credentials_path, &auth, err, sizeof(err)), 0);
	if (!auth)
		return;

	CHECK_INT(reg_auth_verify(auth, "reader", "pw", 2, &rights), 1);
	CHECK_INT(rights, REG_AUTH_PULL);
	/* The cached success keeps the rights too. */
	rights = REG_AUTH_PUSH;
	CHECK_INT(reg_auth_verify(auth, "reader", "pw", 2, &rights), 1);
	CHECK_INT(rights, REG_AUTH_PULL);
	CHECK_INT(reg_auth_verify(auth, "writer", "pw", 2, &rights), 1);
	CHECK_INT(rights, REG_AUTH_PUSH);
	/* A line without the field, as older files have, gives every right. */
	rights = REG_AUTH_PULL;
	CHECK_INT(reg_auth_verify(auth, "old", "pw", 2, &rights), 1);
	CHECK_INT(rights, REG_AUTH_PUSH);
	/* A failed check leaves the rights alone. */
	rights = REG_AUTH_PULL;
	CHECK_INT(reg_auth_verify(auth, "writer", "nope", 4, &rights), 0);
	CHECK_INT(rights, REG_AUTH_PULL);
	reg_auth_free(auth);
}

static void rights_field_errors(void)
{
	char hash[128], content[512];

	make_hash("pw", hash);
	snprintf(content, sizeof(content), "alice:%s:admin\n", hash);
	check_load_error(content, ":1: the rights of user \"alice\" are \"admin\"");
	snprintf(content, sizeof(content), "alice:%s:\n", hash);
	check_load_error(content, "expected pull or push");
	snprintf(content, sizeof(content), "alice:%s:pull:x\n", hash);
	check_load_error(content, "expected pull or push");
}

static void load_missing_file(void)
{
	struct reg_auth *auth = NULL;
	char err[256] = "";

	CHECK_INT(reg_auth_new("/nonexistent/edgecr-credentials", &auth, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "/nonexistent/edgecr-credentials") != NULL);
	CHECK(auth == NULL);
	reg_auth_free(NULL);
}

static void passwords_checked(void)
{
	static const char *const users[] = {
		"alice", "correct horse",
		"bob", "a:b::c",
		"j\xc3\xbcrgen", "p\xc3\xa4ss\xe2\x82\xac",
		NULL,
	};
	struct reg_auth *auth = NULL;
	char err[256] = "";

	write_users(users);
	CHECK_INT(reg_auth_new(credentials_path, &auth, err, sizeof(err)), 0);
	if (!auth)
		return;

	CHECK_INT(check(auth, "alice", "correct horse"), 1);
	CHECK_INT(check(auth, "alice", "correct horse "), 0);
	CHECK_INT(check(auth, "alice", ""), 0);
	CHECK_INT(check(auth, "bob", "a:b::c"), 1);
	CHECK_INT(check(auth, "bob", "a:b:"), 0);
	CHECK_INT(check(auth, "j\xc3\xbcrgen", "p\xc3\xa4ss\xe2\x82\xac"), 1);
	CHECK_INT(check(auth, "jurgen", "p\xc3\xa4ss\xe2\x82\xac"), 0);
	/* An unknown user fails even with another user's password. */
	CHECK_INT(check(auth, "mallory", "correct horse"), 0);
	CHECK_INT(check(auth, "Alice", "correct horse"), 0);
	/* The password length counts: a prefix is another password. */
	CHECK_INT(reg_auth_check(auth, "alice", "correct horse!", 13), 1);
	reg_auth_free(auth);
}

static void comments_and_crlf(void)
{
	struct reg_auth *auth = NULL;
	char hash[128], content[512], err[256] = "";

	make_hash("pw", hash);
	snprintf(content, sizeof(content), "# comment\r\n   \r\n  # indented comment\nalice:%s\r\n", hash);
	write_credentials(content);
	CHECK_INT(reg_auth_new(credentials_path, &auth, err, sizeof(err)), 0);
	if (!auth)
		return;
	CHECK_INT(check(auth, "alice", "pw"), 1);
	reg_auth_free(auth);
}

static void empty_file_rejects_all(void)
{
	struct reg_auth *auth = NULL;
	char err[256] = "";

	write_credentials("# nobody yet\n");
	CHECK_INT(reg_auth_new(credentials_path, &auth, err, sizeof(err)), 0);
	if (!auth)
		return;
	CHECK_INT(check(auth, "alice", "pw"), 0);
	reg_auth_free(auth);
}

static void success_cache(void)
{
	static const char *const users[] = { "alice", "pw1", "bob", "pw2", NULL };
	struct reg_auth *auth = NULL;
	char err[256] = "";

	write_users(users);
	CHECK_INT(reg_auth_new(credentials_path, &auth, err, sizeof(err)), 0);
	if (!auth)
		return;

	CHECK_INT(check(auth, "alice", "pw1"), 1);
	CHECK_INT(reg_auth_cache_hits(auth), 0);
	CHECK_INT(check(auth, "alice", "pw1"), 1);
	CHECK_INT(reg_auth_cache_hits(auth), 1);

	/* Failures are never cached, and a cached success is only for its own pair. */
	CHECK_INT(check(auth, "alice", "wrong"), 0);
	CHECK_INT(check(auth, "alice", "wrong"), 0);
	CHECK_INT(check(auth, "bob", "pw1"), 0);
	CHECK_INT(check(auth, "alicep", "w1"), 0);
	CHECK_INT(reg_auth_cache_hits(auth), 1);

	/* A reload empties the cache. */
	CHECK_INT(reg_auth_reload(auth, err, sizeof(err)), 0);
	CHECK_INT(check(auth, "alice", "pw1"), 1);
	CHECK_INT(reg_auth_cache_hits(auth), 1);
	CHECK_INT(check(auth, "alice", "pw1"), 1);
	CHECK_INT(reg_auth_cache_hits(auth), 2);
	reg_auth_free(auth);
}

static void cache_evicts_oldest(void)
{
	struct reg_auth *auth = NULL;
	char err[256] = "", content[16384] = "", name[16], hash[128];

	/* 65 users: one more than the cache holds. */
	for (int i = 0; i < 65; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		make_hash(name, hash);
		snprintf(content + strlen(content), sizeof(content) - strlen(content), "%s:%s\n", name, hash);
	}
	write_credentials(content);
	CHECK_INT(reg_auth_new(credentials_path, &auth, err, sizeof(err)), 0);
	if (!auth)
		return;

	for (int i = 0; i < 65; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		CHECK_INT(check(auth, name, name), 1);
	}
	CHECK_INT(reg_auth_cache_hits(auth), 0);
	CHECK_INT(check(auth, "u64", "u64"), 1);
	CHECK_INT(reg_auth_cache_hits(auth), 1);
	/* u0 went in first and was replaced by u64. */
	CHECK_INT(check(auth, "u0", "u0"), 1);
	CHECK_INT(reg_auth_cache_hits(auth), 1);
	reg_auth_free(auth);
}

static void reload_keeps_old_on_error(void)
{
	static const char *const before[] = { "alice", "pw1", NULL };
	static const char *const after[] = { "bob", "pw2", NULL };
	struct reg_auth *auth = NULL;
	char err[256] = "";

	write_users(before);
	CHECK_INT(reg_auth_new(credentials_path, &auth, err, sizeof(err)), 0);
	if (!auth)
		return;

	write_credentials("alice:pw1\n");
	CHECK_INT(reg_auth_reload(auth, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, ":1:") != NULL);
	CHECK_INT(check(auth, "alice", "pw1"), 1);

	unlink(credentials_path);
	CHECK_INT(reg_auth_reload(auth, err, sizeof(err)), -ENOENT);
	CHECK_INT(check(auth, "alice", "pw1"), 1);

	write_users(after);
	CHECK_INT(reg_auth_reload(auth, err, sizeof(err)), 0);
	CHECK_INT(check(auth, "alice", "pw1"), 0);
	CHECK_INT(check(auth, "bob", "pw2"), 1);
	reg_auth_free(auth);
}

struct checker {
	struct reg_auth *auth;
	int wrong_results;
};

static void *check_repeatedly(void *arg)
{
	struct checker *checker = arg;

	for (int i = 0; i < 40; i++) {
		if (check(checker->auth, "alice", "pw1") != 1)
			checker->wrong_results++;
		if (check(checker->auth, "alice", "nope") != 0)
			checker->wrong_results++;
	}
	return NULL;
}

static void checks_during_reloads(void)
{
	static const char *const users[] = { "alice", "pw1", NULL };
	struct checker checkers[4];
	pthread_t threads[4];
	struct reg_auth *auth = NULL;
	char err[256] = "";

	write_users(users);
	CHECK_INT(reg_auth_new(credentials_path, &auth, err, sizeof(err)), 0);
	if (!auth)
		return;

	for (int i = 0; i < 4; i++) {
		checkers[i] = (struct checker){ .auth = auth };
		CHECK_INT(pthread_create(&threads[i], NULL, check_repeatedly, &checkers[i]), 0);
	}
	for (int i = 0; i < 20; i++)
		CHECK_INT(reg_auth_reload(auth, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
		CHECK_INT(checkers[i].wrong_results, 0);
	}
	reg_auth_free(auth);
}

#define HERD_THREADS 8

struct herd_member {
	struct reg_auth *auth;
	pthread_barrier_t *start;
	int result;
};

static void *check_after_barrier(void *arg)
{
	struct herd_member *member = arg;

	pthread_barrier_wait(member->start);
	member->result = check(member->auth, "alice", "herd");
	return NULL;
}

/* Checks of one password that start together hash it once: the others wait
 * for that check and are served from the cache. */
static void concurrent_checks_hash_once(void)
{
	struct herd_member members[HERD_THREADS];
	pthread_t threads[HERD_THREADS];
	pthread_barrier_t start;
	struct reg_auth *auth = NULL;
	unsigned char salt[16], hash[32];
	char salt64[25], hash64[45], content[256], err[256] = "";

	/* Enough iterations (some 50 ms) that the threads overlap. */
	memset(salt, 0x42, sizeof(salt));
	PKCS5_PBKDF2_HMAC("herd", 4, salt, sizeof(salt), 100000, EVP_sha256(), sizeof(hash), hash);
	EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)hash64, hash, sizeof(hash));
	snprintf(content, sizeof(content), "alice:$pbkdf2-sha256$i=100000$%s$%s\n", salt64, hash64);
	write_credentials(content);
	CHECK_INT(reg_auth_new(credentials_path, &auth, err, sizeof(err)), 0);
	if (!auth)
		return;

	pthread_barrier_init(&start, NULL, HERD_THREADS);
	for (int i = 0; i < HERD_THREADS; i++) {
		members[i] = (struct herd_member){ .auth = auth, .start = &start };
		CHECK_INT(pthread_create(&threads[i], NULL, check_after_barrier, &members[i]), 0);
	}
	for (int i = 0; i < HERD_THREADS; i++) {
		pthread_join(threads[i], NULL);
		CHECK_INT(members[i].result, 1);
	}
	CHECK_INT(reg_auth_cache_hits(auth), HERD_THREADS - 1);
	pthread_barrier_destroy(&start);
	reg_auth_free(auth);
}

static time_t fake_now;

static time_t fake_clock(void)
{
	return fake_now;
}

static void throttle_blocks_after_failures(void)
{
	struct reg_throttle *throttle = NULL;

	CHECK_INT(reg_throttle_new(3, 60, &throttle), 0);
	if (!throttle)
		return;
	reg_throttle_set_clock_for_test(throttle, fake_clock);
	fake_now = 1000;

	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 1);
	CHECK_INT(reg_throttle_retry_after(throttle, "192.0.2.1"), 0);
	reg_throttle_record_failure(throttle, "192.0.2.1");
	fake_now = 1010;
	reg_throttle_record_failure(throttle, "192.0.2.1");
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 1);
	fake_now = 1020;
	reg_throttle_record_failure(throttle, "192.0.2.1");
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 0);
	CHECK_INT(reg_throttle_retry_after(throttle, "192.0.2.1"), 60);
	/* Other addresses are not affected. */
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.2"), 1);
	CHECK_INT(reg_throttle_allows(throttle, "2001:db8::1"), 1);

	fake_now = 1079;
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 0);
	CHECK_INT(reg_throttle_retry_after(throttle, "192.0.2.1"), 1);
	fake_now = 1080;
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 1);
	CHECK_INT(reg_throttle_retry_after(throttle, "192.0.2.1"), 0);

	/* After the block the count starts again from zero. */
	reg_throttle_record_failure(throttle, "192.0.2.1");
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 1);
	reg_throttle_free(throttle);
}

static void throttle_window_expires(void)
{
	struct reg_throttle *throttle = NULL;

	CHECK_INT(reg_throttle_new(3, 60, &throttle), 0);
	if (!throttle)
		return;
	reg_throttle_set_clock_for_test(throttle, fake_clock);

	/* Failures spread wider than the window never block. */
	fake_now = 5000;
	reg_throttle_record_failure(throttle, "192.0.2.1");
	reg_throttle_record_failure(throttle, "192.0.2.1");
	fake_now = 5060;
	reg_throttle_record_failure(throttle, "192.0.2.1");
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 1);
	fake_now = 5100;
	reg_throttle_record_failure(throttle, "192.0.2.1");
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 1);
	reg_throttle_record_failure(throttle, "192.0.2.1");
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 0);
	reg_throttle_free(throttle);
}

static void throttle_success_clears(void)
{
	struct reg_throttle *throttle = NULL;

	CHECK_INT(reg_throttle_new(2, 60, &throttle), 0);
	if (!throttle)
		return;
	reg_throttle_set_clock_for_test(throttle, fake_clock);
	fake_now = 100;

	reg_throttle_record_failure(throttle, "192.0.2.1");
	reg_throttle_record_success(throttle, "192.0.2.1");
	reg_throttle_record_failure(throttle, "192.0.2.1");
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 1);
	reg_throttle_record_failure(throttle, "192.0.2.1");
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 0);
	reg_throttle_record_success(throttle, "192.0.2.1");
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 1);
	/* A success for an address never seen is a no-op. */
	reg_throttle_record_success(throttle, "198.51.100.7");
	reg_throttle_free(throttle);
}

static void throttle_table_bounded(void)
{
	struct reg_throttle *throttle = NULL;
	char address[32];

	CHECK_INT(reg_throttle_new(1, 60, &throttle), 0);
	if (!throttle)
		return;
	reg_throttle_set_clock_for_test(throttle, fake_clock);
	fake_now = 100;

	reg_throttle_record_failure(throttle, "192.0.2.1");
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 0);

	/* 1024 newer addresses push the oldest out of the table. */
	fake_now = 101;
	for (int i = 0; i < 1024; i++) {
		snprintf(address, sizeof(address), "10.0.%d.%d", i / 256, i % 256);
		reg_throttle_record_failure(throttle, address);
	}
	CHECK_INT(reg_throttle_allows(throttle, "10.0.3.255"), 0);
	CHECK_INT(reg_throttle_allows(throttle, "192.0.2.1"), 1);
	reg_throttle_free(throttle);
	reg_throttle_free(NULL);
}

static void throttle_rejects_zero_limits(void)
{
	struct reg_throttle *throttle = NULL;

	CHECK_INT(reg_throttle_new(0, 60, &throttle), -EINVAL);
	CHECK_INT(reg_throttle_new(10, 0, &throttle), -EINVAL);
	CHECK(throttle == NULL);
}

int main(void)
{
	snprintf(credentials_path, sizeof(credentials_path), "/tmp/edgecr-test-auth-%d", (int)getpid());

	RUN(load_errors_name_lines);
	RUN(rights_field_parsed);
	RUN(rights_field_errors);
	RUN(load_missing_file);
	RUN(passwords_checked);
	RUN(comments_and_crlf);
	RUN(empty_file_rejects_all);
	RUN(success_cache);
	RUN(cache_evicts_oldest);
	RUN(reload_keeps_old_on_error);
	RUN(checks_during_reloads);
	RUN(concurrent_checks_hash_once);
	RUN(throttle_blocks_after_failures);
	RUN(throttle_window_expires);
	RUN(throttle_success_clears);
	RUN(throttle_table_bounded);
	RUN(throttle_rejects_zero_limits);

	unlink(credentials_path);
	return UNIT_EXIT();
}
