/*
 * shadow.c — the shadow copy of the engine state: a second arena in shared
 * memory ("engine shadow") that the worker fills with core_copy between
 * batches, so that long reads never hold the state lock.
 *
 * Owns: the copy protocol, the requests for fresh copies, and the snapshot
 * job's lock.
 * Must never: let the worker overwrite the copy while anybody reads it (it
 * gives up and tries again after its next batch: the worker never waits
 * for a reader); let a reader see a half-written copy.
 *
 * The protocol, two counters in shared memory:
 *   reader: readers += 1; if writing, readers -= 1 and give up; read;
 *           readers -= 1.
 *   worker: writing = 1; if readers > 0, writing = 0 and give up (or, for
 *           a snapshot, keep writing = 1 so that no new reader starts, and
 *           try again after the next batch); copy; writing = 0.
 * Both steps are atomic read-modify-writes (full barriers), so a reader
 * and the worker cannot both go on: whichever came second sees the other.
 * A snapshot job holds one reader count for the writer from the moment the
 * worker takes the copy until the writer has walked it (or the job ends).
 *
 * Pausing the worker for the copy costs about a memcpy of the used part of
 * the arena (core_used_bytes) once the worker has touched every page of the
 * shadow (shmem_touch says why that matters); shadow_warm_step does it a
 * step at a time after recovery.
 */
#include "postgres.h"

#include <sys/resource.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "storage/ipc.h"
#include "utils/timestamp.h"

#include "ready.h"
#include "settings.h"
#include "shadow.h"
#include "shmem.h"
#include "status.h"

/* A copy slower than this says why in the server log. */
#define SHADOW_SLOW_COPY_US 50000

/* Bytes of the shadow the worker maps per shadow_warm_step. */
#define SHADOW_WARM_STEP (4 * 1024 * 1024)

static bool reading = false;	/* this process holds a reader count */
static bool exit_hook = false;
static Size warmed = 0;			/* bytes of the shadow the worker has mapped */

static shadow_shared *
sh(void)
{
	return &engine_shm->shadow;
}

/* ------------------------------------------------------------ the worker */

/*
 * The worker's side of the protocol (above): writing = 1, then true, with
 * the copy marked invalid, if nobody reads it.  If somebody does: false,
 * and new readers are let in again unless keep_claim (they stay out until
 * the next try).
 */
static bool
begin_overwrite(shadow_shared *s, bool keep_claim)
{
	pg_atomic_write_u32(&s->writing, 1);
	pg_memory_barrier();
	if (pg_atomic_read_u32(&s->readers) > 0)
	{
		/* Claimed: no new reader starts, the ones there finish. */
		if (!keep_claim)
			pg_atomic_write_u32(&s->writing, 0);
		return false;
	}
	SpinLockAcquire(&s->mutex);
	s->valid = false;
	SpinLockRelease(&s->mutex);
	return true;
}

bool
shadow_copy(const core_engine *c, bool claim)
{
	shadow_shared *s = sh();
	uint64		requests = pg_atomic_read_u64(&s->requests);
	TimestampTz t0;
	instr_time	start,
				took;
	core_engine *copy;
	Size		bytes = core_used_bytes(c);
	struct rusage ru0,
				ru1;

	if (!begin_overwrite(s, claim))
		return false;

	t0 = GetCurrentTimestamp();
	getrusage(RUSAGE_SELF, &ru0);
	INSTR_TIME_SET_CURRENT(start);
	copy = core_copy(shmem_shadow_base(), shmem_arena_bytes(), c);
	INSTR_TIME_SET_CURRENT(took);
	INSTR_TIME_SUBTRACT(took, start);
	getrusage(RUSAGE_SELF, &ru1);
	if (copy == NULL)
		elog(ERROR, "engine: the shadow region is too small for the arena");
	if (INSTR_TIME_GET_MICROSEC(took) > SHADOW_SLOW_COPY_US)
		elog(LOG, "engine: copying %zu MB of state took %.1f ms (%.1f ms of CPU, %ld page faults, %ld involuntary context switches)",
			 bytes >> 20, INSTR_TIME_GET_MICROSEC(took) / 1000.0,
			 ((ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1000000.0 + (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
			  (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1000000.0 + (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) / 1000.0,
			 ru1.ru_minflt - ru0.ru_minflt + ru1.ru_majflt - ru0.ru_majflt, ru1.ru_nivcsw - ru0.ru_nivcsw);

	SpinLockAcquire(&s->mutex);
	s->valid = true;
	s->seq = core_seq(c);
	s->copies++;
	s->served = requests;
	s->copied_at = t0;
	s->copy_us = INSTR_TIME_GET_MICROSEC(took);
	s->copy_bytes = bytes;
	SpinLockRelease(&s->mutex);
	pg_memory_barrier();
	pg_atomic_write_u32(&s->writing, 0);
	ConditionVariableBroadcast(&s->cv);
	return true;
}

void
shadow_drop_claim(void)
{
	pg_atomic_write_u32(&sh()->writing, 0);
}

bool
shadow_copy_requested(void)
{
	shadow_shared *s = sh();
	uint64		served;

	SpinLockAcquire(&s->mutex);
	served = s->served;
	SpinLockRelease(&s->mutex);
	return pg_atomic_read_u64(&s->requests) > served;
}

int64
shadow_seq(void)
{
	shadow_shared *s = sh();
	int64		seq;

	SpinLockAcquire(&s->mutex);
	seq = s->valid ? s->seq : -1;
	SpinLockRelease(&s->mutex);
	return seq;
}

bool
shadow_warm_step(void)
{
	Size		total = shmem_arena_bytes();
	Size		step = Min(SHADOW_WARM_STEP, total - warmed);

	if (warmed >= total)
		return true;
	shmem_populate(shmem_shadow_base() + warmed, step, true);
	shmem_touch(shmem_shadow_base() + warmed, step);
	warmed += step;
	return warmed >= total;
}

void *
shadow_borrow(Size len)
{
	shadow_shared *s = sh();

	if (len > shmem_arena_bytes() || !begin_overwrite(s, false))
		return NULL;
	return shmem_shadow_base();
}

void
shadow_give_back(void)
{
	pg_memory_barrier();
	pg_atomic_write_u32(&sh()->writing, 0);
}

void
shadow_hold_for_job(void)
{
	shadow_shared *s = sh();

	pg_atomic_fetch_add_u32(&s->readers, 1);
	SpinLockAcquire(&s->mutex);
	s->job.holds_copy = true;
	SpinLockRelease(&s->mutex);
}

void
shadow_release_job_hold(void)
{
	shadow_shared *s = sh();
	bool		held;

	SpinLockAcquire(&s->mutex);
	held = s->job.holds_copy;
	s->job.holds_copy = false;
	SpinLockRelease(&s->mutex);
	if (held)
		pg_atomic_fetch_sub_u32(&s->readers, 1);
}

/* ------------------------------------------------------------ readers */

/* Process exit while reading (FATAL, or an ERROR path that exits). */
static void
release_on_exit(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
{
	if (reading)
		shadow_read_end();
}

const core_engine *
shadow_read_begin(int64 *seq)
{
	shadow_shared *s = sh();
	bool		valid;

	Assert(!reading);
	if (!exit_hook)
	{
		before_shmem_exit(release_on_exit, 0);
		exit_hook = true;
	}
	pg_atomic_fetch_add_u32(&s->readers, 1);
	if (pg_atomic_read_u32(&s->writing) != 0)
	{
		pg_atomic_fetch_sub_u32(&s->readers, 1);
		return NULL;
	}
	SpinLockAcquire(&s->mutex);
	valid = s->valid;
	*seq = s->seq;
	SpinLockRelease(&s->mutex);
	if (!valid)
	{
		pg_atomic_fetch_sub_u32(&s->readers, 1);
		return NULL;
	}
	reading = true;
	return (const core_engine *) shmem_shadow_base();
}

void
shadow_read_end(void)
{
	if (!reading)
		return;
	reading = false;
	/* The last reader out lets a waiting copy go on at once. */
	if (pg_atomic_sub_fetch_u32(&sh()->readers, 1) == 0 && pg_atomic_read_u32(&sh()->writing) != 0)
		status_wake_worker();
}

typedef struct fresh_want
{
	uint64		ticket;
	int64		committed;		/* the committed seq when the call began */
} fresh_want;

/* Does the copy answer the request?  (spinlock held) */
static bool
copy_answers(const shadow_shared *s, const fresh_want *w)
{
	return s->valid && (s->served >= w->ticket || s->seq == w->committed);
}

const core_engine *
shadow_read_fresh(TimestampTz deadline, int64 *seq)
{
	shadow_shared *s = sh();
	fresh_want	want;
	engine_status st;
	bool		asked = false;

	/* On a standby the follower makes the copy (follower.c). */
	ready_wait_serving(deadline);
	status_snapshot(&st);
	want.committed = st.last_seq;
	want.ticket = UINT64_MAX;
	ConditionVariablePrepareToSleep(&s->cv);
	for (;;)
	{
		bool		answers;
		long		left;

		SpinLockAcquire(&s->mutex);
		answers = copy_answers(s, &want);
		SpinLockRelease(&s->mutex);
		if (answers)
		{
			const core_engine *c = shadow_read_begin(seq);

			/* The copy may have been replaced meanwhile by a newer one. */
			if (c != NULL && (*seq >= want.committed))
			{
				ConditionVariableCancelSleep();
				return c;
			}
			if (c != NULL)
				shadow_read_end();
		}
		if (!asked)
		{
			want.ticket = pg_atomic_add_fetch_u64(&s->requests, 1);
			status_wake_worker();
			asked = true;
		}
		left = deadline_ms_left(deadline);
		if (left <= 0 || status_state() != ENGINE_READY)
		{
			ConditionVariableCancelSleep();
			status_snapshot(&st);
			if (st.state == ENGINE_READY)
				ereport(ERROR,
						(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
						 errmsg("engine: no copy of the state was made within engine.request_timeout (%d ms)",
								engine_request_timeout_ms),
						 errdetail("The copy is read by a snapshot being written or by another long read."),
						 errhint("Try again, or raise engine.request_timeout for this session.")));
			status_error_not_ready(&st, left <= 0);
		}
		ConditionVariableTimedSleep(&s->cv, Min(left, 100), PG_WAIT_EXTENSION);
	}
}

/* ------------------------------------------------------------ the job */

void
shadow_job_get(snapshot_job *out)
{
	shadow_shared *s = sh();

	SpinLockAcquire(&s->mutex);
	memcpy(out, &s->job, sizeof(*out));
	SpinLockRelease(&s->mutex);
}

void
shadow_job_update(shadow_job_fn fn, void *arg)
{
	shadow_shared *s = sh();

	SpinLockAcquire(&s->mutex);
	fn(&s->job, arg);
	SpinLockRelease(&s->mutex);
}

void
shadow_figures(int64 *seq, TimestampTz *copied_at, int64 *copy_us, Size *bytes)
{
	shadow_shared *s = sh();

	SpinLockAcquire(&s->mutex);
	*seq = s->valid ? s->seq : -1;
	*copied_at = s->copied_at;
	*copy_us = s->copy_us;
	*bytes = s->copy_bytes;
	SpinLockRelease(&s->mutex);
}
