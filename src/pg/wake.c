/*
 * wake.c — waking many waiting processes with one system call.
 *
 * The worker answers a whole batch of callers at once.  Setting each
 * caller's latch costs a kill() per caller when the caller sleeps (it
 * always does under load), and those system calls were a quarter of the
 * worker's time at 32 clients.  On Linux a futex wakes every process
 * sleeping on one word of shared memory in one call; FUTEX_WAKE_BITSET
 * limits that to the waiters whose mask meets the bits given, so waiters of
 * later batches mostly sleep on.
 *
 * Owns: the futex calls.  Must never: be the only way a waiter learns of a
 * change (every wait is bounded, and callers re-check their condition).
 *
 * Interrupts: PostgreSQL's signal handlers restart system calls, so a
 * signal does not end a futex wait early; callers wait in short slices and
 * check for interrupts between them.  Elsewhere than Linux the wait is such
 * a slice on the process latch, and wake_up only advances the word.
 */
#include "postgres.h"

#include <limits.h>
#include <time.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"

#include "wake.h"

/* The futex word: the atomic's plain 32-bit value (shared, not private). */
#define FUTEX_WORD(w) ((uint32 *) &(w)->value)

void
wake_wait(pg_atomic_uint32 *word, uint32 seen, uint32 bits, long ms)
{
#ifdef __linux__
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L)
	{
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pgstat_report_wait_start(PG_WAIT_EXTENSION);
	/* EAGAIN (the word moved), ETIMEDOUT and EINTR all mean: look again. */
	(void) syscall(SYS_futex, FUTEX_WORD(word), FUTEX_WAIT_BITSET, seen, &until, NULL, bits);
	pgstat_report_wait_end();
#else
	if (pg_atomic_read_u32(word) == seen)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(ms, 1), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
#endif
}

void
wake_up(pg_atomic_uint32 *word, uint32 bits)
{
	pg_atomic_fetch_add_u32(word, 1);
#ifdef __linux__
	(void) syscall(SYS_futex, FUTEX_WORD(word), FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, bits);
#endif
}
