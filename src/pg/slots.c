/*
 * request.c — the caller's side of a command: put one record in this
 * backend's request slot, wake the worker, sleep until the reply is
 * published, and withdraw cleanly on cancel, timeout or exit.
 *
 * Owns: the backend half of the slot state machine.
 * Must never: read or write a slot that is not its own; touch a slot's
 * record after handing it to the worker; report success before the worker
 * has published DONE (which it does only after its batch committed).
 *
 * Slot states (one slot per PGPROC, indexed by MyProc->pgprocno):
 *
 *   FREE      -> SUBMITTED  backend: record, key and ticket filled in (CAS)
 *   SUBMITTED -> FREE       backend withdraws (cancel, statement_timeout,
 *                           engine.request_timeout, exit): it never runs
 *   SUBMITTED -> TAKEN      worker: taken into a batch (CAS)
 *   TAKEN     -> DONE       worker: batch committed, reply published (CAS)
 *   TAKEN     -> ABANDONED  backend gave up after the worker took it (CAS):
 *                           the worker decides the outcome and frees the slot
 *   ABANDONED -> FREE       worker, once its batch is over
 *   DONE      -> FREE       backend, after copying the reply
 *   TAKEN     -> SUBMITTED  a newly started worker, for a record its
 *                           predecessor applied but never committed
 *
 * A DONE reply is committed and flushed (unless engine.synchronous_commit is
 * off); the caller still makes sure of the flush and waits for synchronous
 * standbys (wait_durable) before it returns.
 *
 * Every transition that two processes could race on is a compare-and-swap,
 * so exactly one side wins; the atomics are full barriers, so the record and
 * the reply written before a transition are visible after it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "replication/syncrep.h"
#include "replication/walsender.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "engine.h"

/* How often a waiting backend re-checks the worker's state. */
#define REQUEST_POLL_MS 100

static bool exit_callback_registered = false;

TimestampTz
request_deadline(void)
{
	return TimestampTzPlusMilliseconds(GetCurrentTimestamp(), engine_request_timeout_ms);
}

static long
ms_until(TimestampTz deadline)
{
	long		secs;
	int			usecs;
	TimestampTz now = GetCurrentTimestamp();

	if (now >= deadline)
		return 0;
	TimestampDifference(now, deadline, &secs, &usecs);
	return secs * 1000 + usecs / 1000 + 1;
}

/*
 * Wait until the engine is ready, at most until deadline.  ERRORs at once if
 * it has failed, and with the worker's state when the deadline passes.
 */
/*
 * The deadline of the command this statement is running, so that the
 * arena reads a command makes (symbol lookup, own-order lookup) wait out a
 * worker restart like the command itself instead of failing at once.
 */
static TimestampTz command_deadline = 0;
static TimestampTz command_statement = 0;

bool
request_command_deadline(TimestampTz *deadline)
{
	if (command_deadline == 0 || command_statement != GetCurrentStatementStartTimestamp())
		return false;
	*deadline = command_deadline;
	return true;
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
		left = ms_until(deadline);
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
is_ready(const engine_status *st, void *arg)
{
	return st->state == ENGINE_READY && serving_current_extension();
}

static bool
snapshot_served(const engine_status *st, void *arg)
{
	return st->snapshots_served >= *(uint64 *) arg;
}

void
request_wait_ready(TimestampTz deadline)
{
	engine_status st;

	command_deadline = deadline;
	command_statement = GetCurrentStatementStartTimestamp();
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

static request_slot *
my_slot(void)
{
	shmem_require();
	if (MyProc == NULL || MyProc->pgprocno < 0 || MyProc->pgprocno >= engine_shm->nslots)
		elog(ERROR, "engine: this process has no request slot");
	return &engine_shm->slots[MyProc->pgprocno];
}

static void
wake_worker(void)
{
	int			procno = ((volatile engine_status *) &engine_shm->status)->worker_procno;

	if (procno >= 0)
		SetLatch(&ProcGlobal->allProcs[procno].procLatch);
}

/*
 * Give up on this backend's request.  Returns what happened, for the error
 * detail: 'w' withdrawn before the worker took it, 'a' abandoned to the
 * worker, 'd' it had already been done (the reply is dropped), 0 nothing
 * was outstanding.
 */
static char
give_up(request_slot *slot)
{
	uint32		expected = SLOT_SUBMITTED;

	if (pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_FREE))
		return 'w';
	if (expected == SLOT_TAKEN &&
		pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_ABANDONED))
		return 'a';
	if (expected == SLOT_DONE)
	{
		pg_atomic_write_u32(&slot->state, SLOT_FREE);
		return 'd';
	}
	return 0;
}

/* before_shmem_exit: a backend that goes away withdraws its request. */
static void
request_on_exit(int code, Datum arg)
{
	if (engine_shm != NULL && MyProc != NULL && MyProc->pgprocno < engine_shm->nslots)
		give_up(&engine_shm->slots[MyProc->pgprocno]);
}

/* A previous request of this process may still be ABANDONED in its slot. */
static void
wait_slot_free(request_slot *slot, TimestampTz deadline)
{
	ConditionVariablePrepareToSleep(&slot->cv);
	while (pg_atomic_read_u32(&slot->state) != SLOT_FREE)
	{
		long		left = ms_until(deadline);
		uint32		s = pg_atomic_read_u32(&slot->state);

		if (s == SLOT_DONE)
		{
			/* Left over from an earlier request whose reply nobody read. */
			pg_atomic_write_u32(&slot->state, SLOT_FREE);
			break;
		}
		if (left <= 0)
		{
			ConditionVariableCancelSleep();
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("engine is still processing an earlier command of this session"),
					 errdetail("That command was cancelled after the engine took it; its outcome is decided by the engine."),
					 errhint("Try again in a moment.")));
		}
		ConditionVariableTimedSleep(&slot->cv, Min(left, REQUEST_POLL_MS), PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
}

/* Sleep until the worker publishes DONE; withdraw if it is not ready in time. */
static void
wait_done(request_slot *slot, TimestampTz deadline)
{
	bool		timed_out = false;

	ConditionVariablePrepareToSleep(&slot->cv);
	for (;;)
	{
		uint32		s = pg_atomic_read_u32(&slot->state);

		if (s == SLOT_DONE)
			break;
		if (s == SLOT_SUBMITTED && (timed_out || status_state() != ENGINE_READY))
		{
			engine_status st;

			status_snapshot(&st);
			if (st.state == ENGINE_FAILED ||
				(st.state != ENGINE_READY && ms_until(deadline) <= 0))
			{
				uint32		expected = SLOT_SUBMITTED;

				if (pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_FREE))
				{
					ConditionVariableCancelSleep();
					status_error_not_ready(&st, true);
				}
				continue;		/* the worker took it just now */
			}
			if (st.state == ENGINE_READY)
				wake_worker();	/* a new worker may not have seen it */
		}
		timed_out = ConditionVariableTimedSleep(&slot->cv, REQUEST_POLL_MS, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
}

/*
 * Make the answer durable before the caller hears it: flush WAL up to lsn
 * (normally a no-op: the worker flushed the batch before replying) and, at
 * remote levels, wait for the synchronous standbys, as a commit at
 * engine.synchronous_commit would.  Waiting for standbys here instead of in
 * the worker lets the worker go on with the next batch (see batch.c).
 */
static void
wait_durable(XLogRecPtr lsn)
{
	const char *level = engine_synchronous_commit_name();
	int			nest;

	if (lsn == InvalidXLogRecPtr || !engine_synchronous_commit_flushes())
		return;
	XLogFlush(lsn);
	if (strcmp(level, "local") == 0 ||
		max_wal_senders == 0 || SyncRepStandbyNames == NULL || SyncRepStandbyNames[0] == '\0')
		return;					/* no synchronous standby to wait for */

	/* SyncRepWaitForLSN takes its mode from synchronous_commit: set it for the wait. */
	nest = NewGUCNestLevel();
	(void) set_config_option("synchronous_commit", level, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	HOLD_INTERRUPTS();
	SyncRepWaitForLSN(lsn, true);
	RESUME_INTERRUPTS();
	AtEOXact_GUC(true, nest);
}

/*
 * Run one command through the worker and copy its reply to *out.
 *
 * rec must have passed core_record_validate.  key_kind/key_user/key give the
 * dedup key (KEY_NONE for none).  deadline bounds the time spent waiting for
 * a worker that is not ready.  ERRORs: engine failed or not ready in time
 * (the request is withdrawn and never runs), query cancel or
 * statement_timeout (withdrawn if the worker had not taken it yet; otherwise
 * the worker decides the outcome, and the error says so).
 */
void
request_execute(const core_record *rec, char key_kind, int64 key_user,
				const char *key, TimestampTz deadline, engine_reply *out)
{
	request_slot *slot = my_slot();
	MemoryContext oldcxt = CurrentMemoryContext;
	uint32		expected;

	if (!exit_callback_registered)
	{
		before_shmem_exit(request_on_exit, 0);
		exit_callback_registered = true;
	}

	wait_slot_free(slot, deadline);

	slot->owner_pid = MyProcPid;
	slot->rec = *rec;
	slot->key_kind = key_kind;
	slot->key_user = key_user;
	memset(slot->key, 0, sizeof(slot->key));
	if (key_kind != KEY_NONE)
		strlcpy(slot->key, key, sizeof(slot->key));
	slot->seq = 0;
	slot->attempts = 0;
	memset(&slot->reply, 0, sizeof(slot->reply));
	slot->ticket = pg_atomic_fetch_add_u64(&engine_shm->next_ticket, 1);

	expected = SLOT_FREE;
	if (!pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_SUBMITTED))
		elog(ERROR, "engine: request slot in unexpected state %u", expected);
	wake_worker();

	PG_TRY();
	{
		wait_done(slot, deadline);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char		what;
		int64		seq = slot->seq;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		what = give_up(slot);
		if (edata->detail == NULL)
		{
			if (what == 'w')
				edata->detail = pstrdup("The engine had not taken the command yet; it was withdrawn and will not run.");
			else if (what == 'a')
				edata->detail = pstrdup("The engine had already taken the command; it runs to its outcome regardless. "
										"Look the outcome up by client_order_id, ref or order id.");
			else if (what == 'd')
				edata->detail = psprintf("The engine had already executed the command (seq " INT64_FORMAT ").", seq);
		}
		ReThrowError(edata);
	}
	PG_END_TRY();

	pg_read_barrier();
	*out = slot->reply;
	pg_atomic_write_u32(&slot->state, SLOT_FREE);
	wait_durable(out->commit_lsn);
}

/*
 * engine.snapshot()'s wait: ask the worker for a snapshot and sleep until
 * it has answered every request made up to ours.  Returns the seq of the
 * snapshot that answered (it covers every command committed before the
 * call).  Bounded by engine.request_timeout like a command.
 */
int64
request_snapshot(TimestampTz deadline)
{
	engine_status st;
	uint64		mine;

	request_wait_ready(deadline);
	mine = pg_atomic_add_fetch_u64(&engine_shm->snapshot_requests, 1);
	wake_worker();
	wait_for_status(deadline, snapshot_served, &mine, &st);
	return st.served_seq;
}
