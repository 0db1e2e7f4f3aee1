/*
 * slots.c — the request-slot table: how one command travels from the
 * caller's backend to the worker and its answer back.  The caller puts one
 * record in its slot, wakes the worker, sleeps until the reply is
 * published, and withdraws cleanly on cancel, timeout or exit; the worker
 * takes submitted slots into a batch, publishes the replies after the
 * commit, and at start hands back what a previous worker left.
 *
 * Owns: every transition of the slot state machine, both sides.
 * Must never: let a backend read or write a slot that is not its own, or
 * touch a slot's record after handing it to the worker; publish DONE before
 * the batch committed.
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
 * standbys (api/submit.c) before it returns.
 *
 * Every transition that two processes could race on is a compare-and-swap,
 * so exactly one side wins; the atomics are full barriers, so the record and
 * the reply written before a transition are visible after it.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/proc.h"

#include "ready.h"
#include "shmem.h"
#include "slots.h"
#include "status.h"

/* How often a waiting backend re-checks the worker's state. */
#define REQUEST_POLL_MS 100

static bool exit_callback_registered = false;

static request_slot *
my_slot(void)
{
	shmem_require();
	if (MyProc == NULL || MyProc->pgprocno < 0 || MyProc->pgprocno >= engine_shm->nslots)
		elog(ERROR, "engine: this process has no request slot");
	return &engine_shm->slots[MyProc->pgprocno];
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
request_on_exit(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
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
		long		left = deadline_ms_left(deadline);
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
				(st.state != ENGINE_READY && deadline_ms_left(deadline) <= 0))
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
				status_wake_worker();	/* a new worker may not have seen it */
		}
		timed_out = ConditionVariableTimedSleep(&slot->cv, REQUEST_POLL_MS, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
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
slot_execute(const core_record *rec, char key_kind, int64 key_user,
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
	status_wake_worker();

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
}

/* ------------------------------------------------------------ the worker's side */

/* How many slots there are (one per PGPROC). */
int
slots_count(void)
{
	return engine_shm->nslots;
}

request_slot *
slot_at(int i)
{
	return &engine_shm->slots[i];
}

static int
cmp_ticket(const void *a, const void *b)
{
	uint64		ta = engine_shm->slots[*(const int *) a].ticket;
	uint64		tb = engine_shm->slots[*(const int *) b].ticket;

	return ta < tb ? -1 : ta > tb ? 1 : 0;
}

/*
 * Take every SUBMITTED slot (SUBMITTED -> TAKEN) into out[], in ticket
 * order, and return how many.  A request that was in a batch that never
 * committed (attempts > 0) is taken alone, so a request that makes the
 * worker fail is isolated from the others.
 */
int
slots_take(int *out)
{
	int			n = 0;

	for (int i = 0; i < engine_shm->nslots; i++)
	{
		request_slot *slot = &engine_shm->slots[i];
		uint32		expected = SLOT_SUBMITTED;

		if (pg_atomic_read_u32(&slot->state) == SLOT_SUBMITTED && slot->attempts > 0 &&
			pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_TAKEN))
		{
			slot->attempts++;
			out[0] = i;
			return 1;
		}
	}
	for (int i = 0; i < engine_shm->nslots; i++)
	{
		request_slot *slot = &engine_shm->slots[i];
		uint32		expected = SLOT_SUBMITTED;

		if (pg_atomic_read_u32(&slot->state) != SLOT_SUBMITTED)
			continue;
		if (pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_TAKEN))
		{
			slot->attempts++;
			out[n++] = i;
		}
	}
	if (n > 1)
		qsort(out, n, sizeof(int), cmp_ticket);
	return n;
}

/*
 * Publish the replies of a committed batch: TAKEN -> DONE, or free a slot
 * its owner abandoned.  lsn is the end of the batch's commit record (or of
 * an earlier commit, for a batch that wrote nothing): the state every reply
 * reflects is in WAL up to there.
 */
void
slots_publish(const int *idx, int n, XLogRecPtr lsn)
{
	for (int i = 0; i < n; i++)
	{
		request_slot *slot = &engine_shm->slots[idx[i]];
		uint32		expected = SLOT_TAKEN;

		slot->reply.commit_lsn = lsn;
		if (!pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_DONE))
		{
			Assert(expected == SLOT_ABANDONED);
			pg_atomic_write_u32(&slot->state, SLOT_FREE);
		}
		ConditionVariableBroadcast(&slot->cv);
	}
}

static void
wake_slot(request_slot *slot)
{
	ConditionVariableBroadcast(&slot->cv);
}

/*
 * Hand a TAKEN slot whose batch never committed back to the queue, or, after
 * ENGINE_MAX_ATTEMPTS, answer it REPLY_FAILED.  If its owner abandoned it
 * meanwhile, free it.
 */
static void
requeue_slot(request_slot *slot)
{
	uint32		expected = SLOT_TAKEN;
	bool		give_up = slot->attempts >= ENGINE_MAX_ATTEMPTS;

	slot->seq = 0;
	if (give_up)
	{
		memset(&slot->reply, 0, sizeof(slot->reply));
		slot->reply.kind = REPLY_FAILED;
	}
	if (!pg_atomic_compare_exchange_u32(&slot->state, &expected,
										give_up ? SLOT_DONE : SLOT_SUBMITTED))
		pg_atomic_write_u32(&slot->state, SLOT_FREE);
	wake_slot(slot);
}

/*
 * Before recovery: slots a previous worker left.  ABANDONED ones are freed;
 * TAKEN ones it never applied (seq 0) go back to the queue.
 */
void
slots_reclaim_before_recovery(void)
{
	for (int i = 0; i < engine_shm->nslots; i++)
	{
		request_slot *slot = &engine_shm->slots[i];
		uint32		s = pg_atomic_read_u32(&slot->state);

		if (s == SLOT_ABANDONED)
		{
			pg_atomic_write_u32(&slot->state, SLOT_FREE);
			wake_slot(slot);
		}
		else if (s == SLOT_TAKEN && slot->seq == 0)
			requeue_slot(slot);
	}
}

/*
 * After recovery: TAKEN slots a previous worker applied.  If their seq is
 * beyond what committed, the batch died with that worker: queue them again.
 * Otherwise they committed and only the reply was lost: say so.  If recovery
 * failed, queue them too: their owners see the failure and withdraw.
 */
void
slots_reclaim_after_recovery(int64 committed_seq, bool recovered)
{
	for (int i = 0; i < engine_shm->nslots; i++)
	{
		request_slot *slot = &engine_shm->slots[i];
		uint32		expected = SLOT_TAKEN;

		if (pg_atomic_read_u32(&slot->state) != SLOT_TAKEN)
			continue;
		if (!recovered || slot->seq > committed_seq)
		{
			requeue_slot(slot);
			continue;
		}
		memset(&slot->reply, 0, sizeof(slot->reply));
		slot->reply.kind = REPLY_LOST;
		slot->reply.seq = slot->seq;
		if (!pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_DONE))
			pg_atomic_write_u32(&slot->state, SLOT_FREE);
		wake_slot(slot);
	}
}
