/*
 * clock.c — the time figures the worker and its helper processes report in
 * the server log and engine.status(): wall milliseconds since a moment, and
 * the CPU milliseconds this process has used (on a machine shared with
 * other work the log shows both, since wall time then says more about the
 * neighbours than about the engine).
 *
 * Owns: nothing.  Must never: be used to decide anything but what to report.
 */
#include "postgres.h"

#include <sys/resource.h>

#include "utils/timestamp.h"

#include "worker.h"

int64
ms_since(TimestampTz t)
{
	return (GetCurrentTimestamp() - t) / 1000;
}

int64
process_cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
		(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}
