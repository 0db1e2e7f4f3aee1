/*
 * status.c — the status block: what the worker is doing, told to everyone.
 *
 * Owns: every write to the status block (the worker calls the functions
 * below; nothing else locks or writes it), the waits for readiness and for
 * a requested snapshot, and the read protocol for the core's arena.
 * Must never: let a backend read the arena while the state is not "ready";
 * hold the spinlock across anything but a copy.
 *
 * Read protocol: the worker moves the state into or out of "ready" only while
 * holding engine_state_lock exclusively, and applies records only under it
 * (state_write_begin/end).  A backend takes the lock shared, checks the
 * state is "ready", reads, and releases (read_begin/end).  So a reader
 * never sees a half-applied record, and never reads an arena that is being
 * rebuilt.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "shmem.h"
#include "status.h"

/* ------------------------------------------------------------ writers */

/* Record this process as the worker and reset the per-worker counters. */
void
status_worker_started(void)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	st->worker_pid = MyProcPid;
	st->worker_procno = MyProc->pgprocno;
	st->worker_starts++;
	st->started_at = GetCurrentTimestamp();
	st->batches = 0;
	st->commands = 0;
	st->duplicates = 0;
	st->replayed = 0;
	st->replay_total = 0;
	SpinLockRelease(&st->mutex);
}

/*
 * The worker is going away (it holds no lock): no worker, state "stopped",
 * nothing served.
 */
void
status_worker_exited(void)
{
	engine_status *st = &engine_shm->status;

	LWLockAcquire(engine_state_lock, LW_EXCLUSIVE);
	SpinLockAcquire(&st->mutex);
	st->worker_pid = 0;
	st->worker_procno = -1;
	SpinLockRelease(&st->mutex);
	engine_shm->ext_oid = InvalidOid;
	status_set_state(ENGINE_STOPPED, NULL);
	LWLockRelease(engine_state_lock);
}

/*
 * Set the state and its detail text (NULL: empty) and wake everyone waiting
 * for a state change.  Transitions into or out of "ready" must be made with
 * engine_state_lock held exclusively (see the read protocol above).
 */
void
status_set_state(engine_state state, const char *detail_fmt,...)
{
	engine_status *st = &engine_shm->status;
	char		detail[ENGINE_DETAIL_MAX];

	detail[0] = '\0';
	if (detail_fmt)
	{
		va_list		ap;

		va_start(ap, detail_fmt);
		vsnprintf(detail, sizeof(detail), detail_fmt, ap);
		va_end(ap);
	}
	SpinLockAcquire(&st->mutex);
	st->state = state;
	strlcpy(st->detail, detail, sizeof(st->detail));
	SpinLockRelease(&st->mutex);
	ConditionVariableBroadcast(&engine_shm->status_cv);
}

/* Change only the detail text (progress within a state). */
void
status_set_detail(const char *detail_fmt,...)
{
	engine_status *st = &engine_shm->status;
	char		detail[ENGINE_DETAIL_MAX];
	va_list		ap;

	va_start(ap, detail_fmt);
	vsnprintf(detail, sizeof(detail), detail_fmt, ap);
	va_end(ap);
	SpinLockAcquire(&st->mutex);
	strlcpy(st->detail, detail, sizeof(st->detail));
	SpinLockRelease(&st->mutex);
}

/* Leave "ready" and lay out the empty engine that recovery fills. */
core_t *
status_enter_recovering(void)
{
	core_t	   *c;

	state_write_begin();
	status_set_state(ENGINE_RECOVERING, NULL);
	c = shmem_create_core();
	state_write_end();
	return c;
}

/* Serve ext_oid's state from now on. */
void
status_enter_ready(Oid ext_oid)
{
	state_write_begin();
	engine_shm->ext_oid = ext_oid;
	status_set_state(ENGINE_READY, NULL);
	state_write_end();
}

void
status_note_replay(int64 replayed, int64 total)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	st->replayed = replayed;
	st->replay_total = total;
	SpinLockRelease(&st->mutex);
}

void
status_note_snapshot_loaded(int64 seq, TimestampTz at)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	st->snapshot_seq = seq;
	st->snapshot_at = at;
	SpinLockRelease(&st->mutex);
}

void
status_note_recovery_done(int64 ms, int64 replayed, int64 last_seq)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	st->recovery_ms = ms;
	st->replayed = replayed;
	st->last_seq = last_seq;
	SpinLockRelease(&st->mutex);
}

/* A batch committed: the state is at last_seq. */
void
status_note_batch(int64 last_seq, int64 commands, int64 duplicates)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	st->last_seq = last_seq;
	st->batches++;
	st->commands += commands;
	st->duplicates += duplicates;
	SpinLockRelease(&st->mutex);
}

/*
 * A snapshot of seq was written (rows 0: it existed already) and made
 * durable: it answers every engine.snapshot() request up to `requests`.
 */
void
status_note_snapshot_written(int64 seq, TimestampTz at, int64 ms, int64 rows, uint64 requests)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	st->snapshot_seq = seq;
	st->snapshot_at = at;
	if (rows > 0)
	{
		st->snapshot_ms = ms;
		st->snapshot_rows = rows;
	}
	if (requests > st->snapshots_served)
	{
		st->snapshots_served = requests;
		st->served_seq = seq;
	}
	SpinLockRelease(&st->mutex);
	ConditionVariableBroadcast(&engine_shm->status_cv);
}

/* engine.snapshot() calls made so far. */
uint64
status_snapshot_requests(void)
{
	return pg_atomic_read_u64(&engine_shm->snapshot_requests);
}

/* Is an engine.snapshot() call waiting for an answer? */
bool
status_snapshot_requested(void)
{
	engine_status *st = &engine_shm->status;
	uint64		served;

	SpinLockAcquire(&st->mutex);
	served = st->snapshots_served;
	SpinLockRelease(&st->mutex);
	return pg_atomic_read_u64(&engine_shm->snapshot_requests) > served;
}

/* Did a backend see another extension than the one served (and clear it)? */
bool
status_extension_recheck_requested(void)
{
	return pg_atomic_exchange_u32(&engine_shm->ext_recheck, 0) != 0;
}

/* ------------------------------------------------------------ readers */

const char *
engine_state_name(engine_state state)
{
	switch (state)
	{
		case ENGINE_STOPPED:
			return "stopped";
		case ENGINE_STARTING:
			return "starting";
		case ENGINE_WAITING:
			return "waiting";
		case ENGINE_RECOVERING:
			return "recovering";
		case ENGINE_READY:
			return "ready";
		case ENGINE_FAILED:
			return "failed";
	}
	return "unknown";
}

/* A consistent copy of the status block. */
void
status_snapshot(engine_status *out)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	memcpy(out, st, sizeof(*out));
	SpinLockRelease(&st->mutex);
}

/*
 * The current state, read without the spinlock (an aligned int is read
 * whole): for fast paths that only need to know whether it is "ready".
 */
engine_state
status_state(void)
{
	return ((volatile engine_status *) &engine_shm->status)->state;
}

/* Set the worker's latch (no-op when there is no worker). */
void
status_wake_worker(void)
{
	int			procno = ((volatile engine_status *) &engine_shm->status)->worker_procno;

	if (procno >= 0)
		SetLatch(&ProcGlobal->allProcs[procno].procLatch);
}

/*
 * The error for "the engine cannot serve this now".  waited says whether the
 * caller already waited engine.request_timeout (and withdrew its request).
 */
void
status_error_not_ready(const engine_status *st, bool waited)
{
	if (st->state == ENGINE_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("engine has failed: %s", st->detail),
				 errdetail("The engine refuses commands and reads until the cause is repaired."),
				 errhint("Repair the cause, then restart the engine worker: SELECT pg_terminate_backend(%d);",
						 st->worker_pid)));

	if (st->state == ENGINE_RECOVERING)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("engine is not ready (state: recovering, " INT64_FORMAT " of " INT64_FORMAT " log records replayed)",
						st->replayed, st->replay_total),
				 waited ? errdetail("Waited engine.request_timeout (%d ms); the request was withdrawn and will not run.",
									engine_request_timeout_ms) : 0));

	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("engine is not ready (state: %s%s%s)",
					engine_state_name(st->state),
					st->detail[0] ? ", " : "", st->detail),
			 waited ? errdetail("Waited engine.request_timeout (%d ms); the request was withdrawn and will not run.",
								engine_request_timeout_ms) : 0,
			 RecoveryInProgress()
			 ? errhint("This server is a standby; the engine worker runs on the primary.")
			 : (st->state == ENGINE_STOPPED || st->state == ENGINE_STARTING)
			 ? errhint("The worker serves database \"%s\" (engine.database); see the server log.",
					   engine_database) : 0));
}

/*
 * After DROP EXTENSION + CREATE EXTENSION the worker still serves the old
 * extension's state until it notices (it restarts and rebuilds from the new
 * tables).  A backend that sees a different extension than the worker
 * serves treats the engine as not ready, and pokes the worker to look now.
 */
bool
serving_current_extension(void)
{
	static TimestampTz checked_for = 0;	/* statement whose check succeeded */
	Oid			mine;
	Oid			served = ((volatile engine_shared *) engine_shm)->ext_oid;

	/* Once per statement is enough: the extension cannot change within one. */
	if (checked_for == GetCurrentStatementStartTimestamp() && OidIsValid(served))
		return true;
	mine = get_extension_oid(ENGINE_EXTENSION_NAME, true);
	if (mine == served)
	{
		checked_for = GetCurrentStatementStartTimestamp();
		return true;
	}
	pg_atomic_write_u32(&engine_shm->ext_recheck, 1);
	status_wake_worker();
	return false;
}

/* ------------------------------------------------------------ waits */

/* Milliseconds left until deadline (rounded up), 0 once it has passed. */
long
deadline_ms_left(TimestampTz deadline)
{
	long		secs;
	int			usecs;
	TimestampTz now = GetCurrentTimestamp();

	if (now >= deadline)
		return 0;
	TimestampDifference(now, deadline, &secs, &usecs);
	return secs * 1000 + usecs / 1000 + 1;
}

typedef bool (*status_test) (const engine_status *st, void *arg);

/*
 * Sleep on the status condition variable until done(st, arg) holds; *st is
 * the status that satisfied it.  ERRORs at once if the engine has failed,
 * and with the worker's state when the deadline passes.
 */
static void
wait_for_status(TimestampTz deadline, status_test done, void *arg, engine_status *st)
{
	ConditionVariablePrepareToSleep(&engine_shm->status_cv);
	for (;;)
	{
		long		left;

		status_snapshot(st);
		if (done(st, arg))
			break;
		if (st->state == ENGINE_FAILED)
		{
			ConditionVariableCancelSleep();
			status_error_not_ready(st, false);
		}
		left = deadline_ms_left(deadline);
		if (left <= 0)
		{
			ConditionVariableCancelSleep();
			status_error_not_ready(st, true);
		}
		ConditionVariableTimedSleep(&engine_shm->status_cv, Min(left, 1000),
									PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
}

static bool
is_ready(const engine_status *st, void *arg pg_attribute_unused())
{
	return st->state == ENGINE_READY && serving_current_extension();
}

static bool
snapshot_served(const engine_status *st, void *arg)
{
	return st->snapshots_served >= *(uint64 *) arg;
}

/*
 * Wait until the engine is ready, at most until deadline.  ERRORs at once if
 * it has failed or this is a standby, and with the worker's state when the
 * deadline passes.
 */
void
status_wait_ready(TimestampTz deadline)
{
	engine_status st;

	shmem_require();
	if (status_state() == ENGINE_READY && serving_current_extension())
		return;
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("engine commands cannot run on a standby"),
				 errhint("Send commands to the primary; the engine worker runs there.")));
	wait_for_status(deadline, is_ready, NULL, &st);
}

/*
 * engine.snapshot()'s wait: ask the worker for a snapshot and sleep until
 * it has answered every request made up to ours.  Returns the seq of the
 * snapshot that answered (it covers every command committed before the
 * call).  Bounded by engine.request_timeout like a command.
 */
int64
status_request_snapshot(TimestampTz deadline)
{
	engine_status st;
	uint64		mine;

	status_wait_ready(deadline);
	mine = pg_atomic_add_fetch_u64(&engine_shm->snapshot_requests, 1);
	status_wake_worker();
	wait_for_status(deadline, snapshot_served, &mine, &st);
	return st.served_seq;
}

/* ------------------------------------------------------------ the arena */

core_t *
read_begin(TimestampTz deadline)
{
	bool		in_command = deadline != 0;

	for (;;)
	{
		shmem_require();
		if (status_state() == ENGINE_READY && !serving_current_extension())
		{
			if (in_command)
			{
				status_wait_ready(deadline);
				continue;
			}
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("engine is not ready (the extension was re-created; the worker is restarting)")));
		}
		LWLockAcquire(engine_state_lock, LW_SHARED);
		if (status_state() == ENGINE_READY)
			return shmem_core();
		LWLockRelease(engine_state_lock);
		if (in_command)
		{
			status_wait_ready(deadline);
			continue;
		}
		{
			engine_status st;

			status_snapshot(&st);
			status_error_not_ready(&st, false);
		}
	}
}

void
read_end(void)
{
	LWLockRelease(engine_state_lock);
}

void
state_write_begin(void)
{
	LWLockAcquire(engine_state_lock, LW_EXCLUSIVE);
}

void
state_write_end(void)
{
	LWLockRelease(engine_state_lock);
}
