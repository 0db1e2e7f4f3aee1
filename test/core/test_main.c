/*
 * test_main.c — runs every test registered with TEST() and reports.
 *
 * Usage: test_core [substring]   runs only tests whose name contains it.
 * Exit status is non-zero when any test failed.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "testutil.h"

#define MAX_TESTS 1024

static struct
{
	const char *name;
	test_fn		fn;
}			tests[MAX_TESTS];
static int	ntests;
static int	current_failures;

void
test_register(const char *name, test_fn fn)
{
	if (ntests == MAX_TESTS)
	{
		fprintf(stderr, "too many tests\n");
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void
test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list		ap;

	if (current_failures++ < 20)
	{
		fprintf(stdout, "    %s:%d: ", file, line);
		va_start(ap, fmt);
		vfprintf(stdout, fmt, ap);
		va_end(ap);
		fputc('\n', stdout);
	}
}

bool
test_failing(void)
{
	return current_failures > 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int
main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int			passed = 0,
				failed = 0;

	/* Registration order depends on the linker; run in name order. */
	qsort(tests, ntests, sizeof(tests[0]), by_name);
	for (int i = 0; i < ntests; i++)
	{
		if (filter && !strstr(tests[i].name, filter))
			continue;
		current_failures = 0;
		tests[i].fn();
		if (current_failures)
		{
			printf("not ok - %s\n", tests[i].name);
			failed++;
		}
		else
		{
			printf("ok - %s\n", tests[i].name);
			passed++;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
