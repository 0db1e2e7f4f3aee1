/*
 * testutil.h — the smallest test harness that does the job.
 *
 * TEST(name) { ... } defines and registers a test; CHECK_EQ and friends
 * record a failure with file, line and both values, and let the test go on
 * so one run shows every broken expectation.  test_main.c runs every
 * registered test and prints "N passed, N failed".
 */
#ifndef ENGINE_TESTUTIL_H
#define ENGINE_TESTUTIL_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn) (void);

void		test_register(const char *name, test_fn fn);
void		test_fail(const char *file, int line, const char *fmt, ...)
			__attribute__((format(printf, 3, 4)));
/* The running test has failed a check so far. */
bool		test_failing(void);

#define TEST(name) \
	static void name(void); \
	__attribute__((constructor)) static void name##_register(void) \
	{ test_register(#name, name); } \
	static void name(void)

#define CHECK(cond) \
	do { if (!(cond)) test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); } while (0)

#define CHECK_EQ(a, b) \
	do { \
		int64_t _a = (int64_t) (a), _b = (int64_t) (b); \
		if (_a != _b) \
			test_fail(__FILE__, __LINE__, "%s == %s: got %" PRId64 ", want %" PRId64, \
					  #a, #b, _a, _b); \
	} while (0)

#define CHECK_STR(a, b) \
	do { \
		const char *_a = (a), *_b = (b); \
		if ((_a == NULL) != (_b == NULL) || (_a && strcmp(_a, _b) != 0)) \
			test_fail(__FILE__, __LINE__, "%s == %s: got \"%s\", want \"%s\"", \
					  #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); \
	} while (0)

#endif
