/*
 * status.c — the status block: what the worker is doing, told to everyone.
 *
 * Owns: every write to the status block (the worker calls the functions
 * below, and ready.c for the moves into and out of "ready"; nothing else
 * locks or writes it), and the error that says why the engine cannot serve.
 * Must never: hold the spinlock across anything but a copy; move the state
 * into or out of "ready" without the state lock (ready.c does that).
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "storage/latch.h"
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
	st->recovery_phase[0] = '\0';
	st->recovery_done = 0;
	st->recovery_total = 0;
	st->recovery_rate = 0;
	st->role = RecoveryInProgress() ? ENGINE_ROLE_FOLLOWER : ENGINE_ROLE_LEADER;
	st->follower_reloads = 0;
	st->follower_retries = 0;
	st->promote_ms = -1;
	SpinLockRelease(&st->mutex);
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

/* A follower applied log rows: the state is at last_seq. */
void
status_note_applied(int64 last_seq)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	st->last_seq = last_seq;
	SpinLockRelease(&st->mutex);
}

/*
 * The worker's role.  A move to leader is made with engine_state_lock held
 * exclusively (ready.c), like a move into "ready": commands wait for a
 * leader, and wake on the broadcast.
 */
void
status_set_role(engine_role role)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	st->role = role;
	SpinLockRelease(&st->mutex);
	ConditionVariableBroadcast(&engine_shm->status_cv);
}

void
status_note_follower_reload(void)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	st->follower_reloads++;
	SpinLockRelease(&st->mutex);
}

void
status_note_follower_retry(void)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	st->follower_retries++;
	SpinLockRelease(&st->mutex);
}

/* The follower became the leader, ms after it noticed the promotion. */
void
status_note_promoted(int64 ms)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	st->promote_ms = ms;
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

/* How long the last snapshot's write took, and its copy (the pause). */
void
status_note_snapshot_write(int64 write_ms, int64 copy_us)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	st->snapshot_write_ms = write_ms;
	st->snapshot_copy_us = copy_us;
	SpinLockRelease(&st->mutex);
}

/* Recovery's phase and its progress (done of total, per second). */
void
status_note_recovery_phase(const char *phase, int64 done, int64 total, int64 rate)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	strlcpy(st->recovery_phase, phase, sizeof(st->recovery_phase));
	st->recovery_done = done;
	st->recovery_total = total;
	st->recovery_rate = rate;
	SpinLockRelease(&st->mutex);
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
		case ENGINE_RESTORING:
			return "restoring";
		case ENGINE_RECOVERING:
			return "recovering";
		case ENGINE_READY:
			return "ready";
		case ENGINE_FAILED:
			return "failed";
	}
	return "unknown";
}

const char *
engine_role_name(engine_role role)
{
	return role == ENGINE_ROLE_FOLLOWER ? "follower" : "leader";
}

/* The worker's role, read without the spinlock (an aligned int). */
engine_role
status_role(void)
{
	return ((volatile engine_status *) &engine_shm->status)->role;
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

	if (st->state == ENGINE_READY && waited)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("engine did not answer within engine.request_timeout (%d ms)",
						engine_request_timeout_ms),
				 errdetail("The engine is ready; what the request waits for (a snapshot or a copy of the state) is held up, for example by a snapshot being written: see engine.status().")));

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
			 ? errhint("This server is a standby: its engine is a follower, which serves reads once it has loaded the state; commands go to the primary.")
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
