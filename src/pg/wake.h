/*
 * wake.h — waking many waiting processes with one system call (wake.c).
 *
 * Waiters sleep on a 32-bit word in shared memory, each with a mask of
 * bits; a waker advances the word and wakes, in one call, every waiter
 * whose mask meets the bits it names.  A wake-up is a hint: a woken process
 * checks what it waits for and sleeps again if it is not there yet.
 */
#ifndef ENGINE_PG_WAKE_H
#define ENGINE_PG_WAKE_H

#include "postgres.h"

#include "port/atomics.h"

/* The bit of waiter number i (waiters i and i + 32 share one). */
#define WAKE_BIT(i) ((uint32) 1 << ((i) % 32))
#define WAKE_EVERYONE 0xFFFFFFFFu

/*
 * Sleep while *word still equals seen, at most ms milliseconds, until a
 * wake_up naming one of bits.  Read seen before checking the condition
 * waited for: a wake_up in between then returns at once.  Returns early on
 * any wake-up; never throws; the caller checks for interrupts.
 */
void		wake_wait(pg_atomic_uint32 *word, uint32 seen, uint32 bits, long ms);

/* Advance *word and wake every process waiting on it with one of bits. */
void		wake_up(pg_atomic_uint32 *word, uint32 bits);

#endif							/* ENGINE_PG_WAKE_H */
