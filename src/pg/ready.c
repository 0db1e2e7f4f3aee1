/*
 * ready.c — when the core's arena may be used, and waiting until it may.
 *
 * Owns: the read protocol (read_begin/read_end for every reader,
 * state_write_begin/end for the worker), the moves of the state into and
 * out of "ready", and the waits for readiness and for a requested snapshot.
 * Must never: let a backend read the arena while the state is not "ready";
 * wait while holding the state lock.
 *
 * Read protocol: the worker moves the state into or out of "ready" only while
 * holding engine_state_lock exclusively, and applies records only under it.
 * A backend takes the lock shared, checks the state is "ready", reads, and
 * releases.  So a reader never sees a half-applied record, and never reads
 * an arena that is being rebuilt.
 *
 * Roles: a ready follower (hot standby) serves reads only; commands need a
 * ready leader.  On a standby they fail at once; between a promotion and
 * the follower's move to leader (ready_serve, under the lock) they wait.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "utils/timestamp.h"

#include "ready.h"
#include "shmem.h"
#include "status.h"

/* ------------------------------------------------------------ the read protocol */

core_engine *
read_begin(TimestampTz deadline)
{
	bool		in_command = deadline != 0;

	for (;;)
	{
		shmem_require();
		if (in_command)
			ready_wait(deadline);	/* a leader, ready, or ERROR */
		else if (status_state() == ENGINE_READY && !serving_current_extension())
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("engine is not ready (the extension was re-created; the worker is restarting)")));
		LWLockAcquire(engine_state_lock, LW_SHARED);
		if (status_state() == ENGINE_READY)
			return shmem_core();
		LWLockRelease(engine_state_lock);
		if (in_command)
			continue;
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

/* ------------------------------------------------------------ into and out of "ready" */

/* Leave "ready" and lay out the empty engine that recovery fills. */
core_engine *
ready_begin_recovery(void)
{
	core_engine *c;

	state_write_begin();
	status_set_state(ENGINE_RECOVERING, NULL);
	c = shmem_create_core();
	state_write_end();
	return c;
}

/*
 * Serve ext_oid's state from now on, as the leader (commands and reads) or
 * as a follower (reads only).  A follower's move to leader is this call too.
 */
void
ready_serve(Oid ext_oid, engine_role role)
{
	state_write_begin();
	engine_shm->ext_oid = ext_oid;
	status_set_role(role);
	status_set_state(ENGINE_READY, NULL);
	state_write_end();
}

/*
 * The worker is going away (it holds no lock): no worker, state "stopped",
 * nothing served.
 */
void
ready_worker_gone(void)
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

/* Ready for commands: a leader serving the extension this backend sees. */
static bool
is_ready(const engine_status *st, void *arg pg_attribute_unused())
{
	return st->state == ENGINE_READY && st->role == ENGINE_ROLE_LEADER &&
		serving_current_extension();
}

/* Ready in either role: a follower serves reads. */
static bool
is_serving(const engine_status *st, void *arg pg_attribute_unused())
{
	return st->state == ENGINE_READY && serving_current_extension();
}

static bool
snapshot_served(const engine_status *st, void *arg)
{
	return st->snapshots_served >= *(uint64 *) arg;
}

/*
 * Wait until the engine is ready for commands (a leader), at most until
 * deadline.  ERRORs at once if this is a standby (whatever its follower is
 * doing: a standby never runs a command) or the engine has failed, and with
 * the worker's state when the deadline passes.  Between a promotion and the
 * follower's move to leader (its last log rows), commands wait.
 */
void
ready_wait(TimestampTz deadline)
{
	engine_status st;

	shmem_require();
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("engine commands cannot run on a standby"),
				 errdetail("This server is in recovery: its engine is a follower that applies the primary's log and serves reads only."),
				 errhint("Send commands to the primary (with libpq, target_session_attrs=read-write finds it).")));
	if (status_state() == ENGINE_READY && status_role() == ENGINE_ROLE_LEADER &&
		serving_current_extension())
		return;
	wait_for_status(deadline, is_ready, NULL, &st);
}

/*
 * Wait until the engine serves reads (a leader, or a follower on a
 * standby), at most until deadline: for reads of a copy of the state,
 * which wait for the worker like a command (shadow.c).
 */
void
ready_wait_serving(TimestampTz deadline)
{
	engine_status st;

	shmem_require();
	if (status_state() == ENGINE_READY && serving_current_extension())
		return;
	wait_for_status(deadline, is_serving, NULL, &st);
}

/*
 * engine.snapshot()'s wait: ask the worker for a snapshot and sleep until
 * it has answered every request made up to ours.  Returns the seq of the
 * snapshot that answered (it covers every command committed before the
 * call).  Bounded by engine.request_timeout like a command.
 */
int64
ready_request_snapshot(TimestampTz deadline)
{
	engine_status st;
	uint64		mine;

	ready_wait(deadline);
	mine = pg_atomic_add_fetch_u64(&engine_shm->snapshot_requests, 1);
	status_wake_worker();
	wait_for_status(deadline, snapshot_served, &mine, &st);
	return st.served_seq;
}
