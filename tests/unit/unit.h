/*
 * A minimal unit-test harness: each test file defines test functions, lists them
 * in main() with RUN(), and exits non-zero when a check failed.  Output is TAP-
 * like ("ok - name" / "not ok - name") so tests/run-unit.sh can total it.
 */
#ifndef EDGECR_UNIT_H
#define EDGECR_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_current_failed;
static int unit_passed, unit_failed;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		unit_current_failed = 1; unit_failed_checks++; \
	} \
} while (0)

#define CHECK_INT(actual, expected) do { \
	long long a_ = (long long)(actual), e_ = (long long)(expected); \
	if (a_ != e_) { \
		fprintf(stderr, "  %s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__, \
			#actual, a_, e_); \
		unit_current_failed = 1; unit_failed_checks++; \
	} \
} while (0)

#define CHECK_STR(actual, expected) do { \
	const char *a_ = (actual), *e_ = (expected); \
	if (!a_ || !e_ || strcmp(a_, e_) != 0) { \
		fprintf(stderr, "  %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
			#actual, a_ ? a_ : "(null)", e_ ? e_ : "(null)"); \
		unit_current_failed = 1; unit_failed_checks++; \
	} \
} while (0)

#define RUN(test) do { \
	unit_current_failed = 0; \
	test(); \
	if (unit_current_failed) { unit_failed++; printf("not ok - %s\n", #test); } \
	else { unit_passed++; printf("ok - %s\n", #test); } \
} while (0)

#define UNIT_EXIT() (printf("# %d passed, %d failed\n", unit_passed, unit_failed), \
		     unit_failed ? 1 : 0)

#endif
