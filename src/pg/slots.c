/*
 * slots.c — the request-slot table: how a request (one command, or a batch
 * of them) travels from the caller's backend to the worker and its answers
 * back.  The caller puts its items in its slot, wakes the worker, sleeps
 * until the answers are published, and withdraws cleanly on cancel,
 * timeout or exit; the worker takes submitted slots into a batch,
 * publishes the answers after the commit, and at start hands back what a
 * previous worker left.
 *
 * Owns: every transition of the slot state machine, both sides.
 * Must never: let a backend write a slot that is not its own (others' are
 * only read, by engine.requests()), or touch a slot's items after handing
 * them to the worker; publish DONE before the batch committed.
 *
 * Slot states (one slot per PGPROC, indexed by MyProc->pgprocno):
 *
 *   FREE      -> SUBMITTED  backend: items, keys and ticket filled in (CAS)
 *   SUBMITTED -> FREE       backend withdraws (cancel, statement_timeout,
 *                           engine.request_timeout, exit): it never runs
 *   SUBMITTED -> TAKEN      worker: taken into a batch (CAS)
 *   TAKEN     -> DONE       worker: batch committed, answers published (CAS)
 *   TAKEN     -> ABANDONED  backend gave up after the worker took it (CAS):
 *                           the worker decides the outcome and frees the slot
 *   ABANDONED -> FREE       worker, once its batch is over
 *   DONE      -> FREE       backend, after copying the answers
 *   TAKEN     -> SUBMITTED  a newly started worker, for a request its
 *                           predecessor applied but never committed
 *
 * A DONE answer is committed and flushed (unless engine.synchronous_commit
 * is off); the caller still makes sure of the flush and waits for
 * synchronous standbys (api/submit.c) before it returns.
 *
 * Every transition that two processes could race on is a compare-and-swap,
 * so exactly one side wins; the atomics are full barriers, so the items and
 * the answers written before a transition are visible after it.
 *
 * A request of more than one item keeps them in a pinned segment
 * (items.c); whoever moves the slot to FREE unpins it first.  Callers
 * sleep on one futex word with their slot's bit (wake.c): the worker wakes
 * a whole batch with one call.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/pmsignal.h"
#include "storage/proc.h"

#include "items.h"
#include "ready.h"
#include "shmem.h"
#include "slots.h"
#include "status.h"
#include "wake.h"

#define REQUEST_SLICE_MS 10		/* waits are slices, interrupts checked between */
#define REQUEST_POLL_MS 100		/* how often a waiter re-checks the worker's state */

static bool exit_callback_registered = false;

static request_slot *
my_slot(void)
{
	shmem_require();
	if (MyProc == NULL || MyProc->pgprocno < 0 || MyProc->pgprocno >= engine_shm->nslots)
		elog(ERROR, "engine: this process has no request slot");
	return &engine_shm->slots[MyProc->pgprocno];
}

/* Free a slot that this process alone may move (DONE, ABANDONED, or its own withdraw). */
static void
free_slot(request_slot *slot)
{
	items_release(slot);
	pg_atomic_write_u32(&slot->state, SLOT_FREE);
}

/*
 * Give up on this backend's request.  Returns what happened, for the error
 * detail: 'w' withdrawn before the worker took it, 'a' abandoned to the
 * worker, 'd' it had already been done (the answers are dropped), 0
 * nothing was outstanding.
 */
static char
give_up(request_slot *slot)
{
	uint32		expected = SLOT_SUBMITTED;

	if (pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_FREE))
	{
		items_release(slot);	/* FREE and ours: nobody else looks at it */
		return 'w';
	}
	if (expected == SLOT_TAKEN &&
		pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_ABANDONED))
		return 'a';
	if (expected == SLOT_DONE)
	{
		free_slot(slot);
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

/* One slice of sleep until the worker wakes this slot, then interrupts. */
static void
sleep_slice(uint32 seen, long ms)
{
	wake_wait(&engine_shm->request_wake, seen, WAKE_BIT(MyProc->pgprocno), ms);
	if (!PostmasterIsAlive())
		proc_exit(1);
	CHECK_FOR_INTERRUPTS();
}

/* A previous request of this process may still be ABANDONED in its slot. */
static void
wait_slot_free(request_slot *slot, TimestampTz deadline)
{
	for (;;)
	{
		uint32		seen = pg_atomic_read_u32(&engine_shm->request_wake);
		uint32		s = pg_atomic_read_u32(&slot->state);

		if (s == SLOT_FREE)
			return;
		if (s == SLOT_DONE)
		{
			/* Left over from an earlier request whose answers nobody read. */
			free_slot(slot);
			return;
		}
		if (deadline_ms_left(deadline) <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("engine is still processing an earlier command of this session"),
					 errdetail("That command was cancelled after the engine took it; its outcome is decided by the engine."),
					 errhint("Try again in a moment.")));
		sleep_slice(seen, REQUEST_SLICE_MS);
	}
}

/* Sleep until the worker publishes DONE; withdraw if it is not ready in time. */
static void
wait_done(request_slot *slot, TimestampTz deadline)
{
	TimestampTz next_check = 0;

	for (;;)
	{
		uint32		seen = pg_atomic_read_u32(&engine_shm->request_wake);
		uint32		s = pg_atomic_read_u32(&slot->state);
		TimestampTz now;

		if (s == SLOT_DONE)
			return;
		now = GetCurrentTimestamp();
		if (s == SLOT_SUBMITTED && (now >= next_check || status_state() != ENGINE_READY))
		{
			engine_status st;

			next_check = TimestampTzPlusMilliseconds(now, REQUEST_POLL_MS);
			status_snapshot(&st);
			if (st.state == ENGINE_FAILED ||
				(st.state != ENGINE_READY && deadline_ms_left(deadline) <= 0))
			{
				uint32		expected = SLOT_SUBMITTED;

				if (pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_FREE))
				{
					items_release(slot);
					status_error_not_ready(&st, true);
				}
				continue;		/* the worker took it just now */
			}
			if (st.state == ENGINE_READY)
				status_wake_worker();	/* a new worker may not have seen it */
		}
		sleep_slice(seen, REQUEST_SLICE_MS);
	}
}

/*
 * Run items[0..n) (n >= 1) through the worker as one request and copy the
 * answers back into items[i].reply.
 *
 * Each item's rec must have passed core_record_validate; key_kind/key_user/
 * key give its dedup key (KEY_NONE for none).  deadline bounds the time
 * spent waiting for a worker that is not ready.  Returns the OUTCOME_*;
 * *seq gets the slot's seq, *lsn the WAL the answers depend on.  ERRORs:
 * engine failed or not ready in time (the request is withdrawn and never
 * runs), query cancel or statement_timeout (withdrawn if the worker had not
 * taken it yet; otherwise the worker decides the outcome, and the error
 * says so).
 */
uint8
slot_execute(request_item *items, int n, TimestampTz deadline, int64 *seq, XLogRecPtr *lsn)
{
	request_slot *slot = my_slot();
	MemoryContext oldcxt = CurrentMemoryContext;
	dsm_segment *seg;
	request_item *shared;
	uint32		expected;
	uint8		outcome;

	Assert(n >= 1);
	if (!exit_callback_registered)
	{
		before_shmem_exit(request_on_exit, 0);
		exit_callback_registered = true;
	}

	wait_slot_free(slot, deadline);

	slot->owner_pid = MyProcPid;
	shared = items_place(slot, n, &seg);
	memcpy(shared, items, mul_size(n, sizeof(request_item)));
	for (int i = 0; i < n; i++)
		memset(&shared[i].reply, 0, sizeof(engine_reply));
	slot->seq = 0;
	slot->attempts = 0;
	slot->outcome = 0;
	slot->commit_lsn = InvalidXLogRecPtr;
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
		int64		s = slot->seq;

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
				edata->detail = psprintf("The engine had already executed the command (seq " INT64_FORMAT ").", s);
		}
		ReThrowError(edata);
	}
	PG_END_TRY();

	pg_read_barrier();
	outcome = slot->outcome;
	*seq = slot->seq;
	*lsn = slot->commit_lsn;
	for (int i = 0; i < n; i++)
		items[i].reply = shared[i].reply;
	free_slot(slot);
	if (seg != NULL)
		dsm_detach(seg);
	return outcome;
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

/* SUBMITTED -> TAKEN for slot i; false if its owner withdrew first. */
static bool
take(int i)
{
	request_slot *slot = &engine_shm->slots[i];
	uint32		expected = SLOT_SUBMITTED;

	if (!pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_TAKEN))
		return false;
	slot->attempts++;
	items_map(slot, i, engine_shm->nslots);
	return true;
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

		if (pg_atomic_read_u32(&slot->state) == SLOT_SUBMITTED && slot->attempts > 0 && take(i))
		{
			out[0] = i;
			return 1;
		}
	}
	for (int i = 0; i < engine_shm->nslots; i++)
		if (pg_atomic_read_u32(&engine_shm->slots[i].state) == SLOT_SUBMITTED && take(i))
			out[n++] = i;
	if (n > 1)
		qsort(out, n, sizeof(int), cmp_ticket);
	return n;
}

/*
 * Publish the answers of a committed batch: TAKEN -> DONE, or free a slot
 * its owner abandoned; then wake the owners, all with one call.  lsn is the
 * end of the batch's commit record (or of an earlier commit, for a batch
 * that wrote nothing): the state every answer reflects is in WAL up to
 * there.
 */
void
slots_publish(const int *idx, int n, XLogRecPtr lsn)
{
	uint32		bits = 0;

	for (int i = 0; i < n; i++)
	{
		request_slot *slot = &engine_shm->slots[idx[i]];
		uint32		expected = SLOT_TAKEN;

		items_unmap(idx[i]);
		slot->commit_lsn = lsn;
		slot->outcome = OUTCOME_ANSWERED;
		if (!pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_DONE))
		{
			Assert(expected == SLOT_ABANDONED);
			free_slot(slot);
		}
		bits |= WAKE_BIT(idx[i]);
	}
	wake_up(&engine_shm->request_wake, bits);
}

/*
 * Answer a TAKEN slot without running it (DONE with outcome), or free it if
 * its owner abandoned it meanwhile.
 */
static void
finish_unrun(request_slot *slot, uint8 outcome)
{
	uint32		expected = SLOT_TAKEN;

	slot->outcome = outcome;
	if (!pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_DONE))
		free_slot(slot);
}

/*
 * Hand a TAKEN slot whose batch never committed back to the queue, or, after
 * ENGINE_MAX_ATTEMPTS, answer it OUTCOME_FAILED.  If its owner abandoned it
 * meanwhile, free it.
 */
static void
requeue_slot(int i)
{
	request_slot *slot = &engine_shm->slots[i];
	uint32		expected = SLOT_TAKEN;

	items_unmap(i);
	slot->seq = 0;
	if (slot->attempts >= ENGINE_MAX_ATTEMPTS)
		finish_unrun(slot, OUTCOME_FAILED);
	else if (!pg_atomic_compare_exchange_u32(&slot->state, &expected, SLOT_SUBMITTED))
		free_slot(slot);
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
			free_slot(slot);
		else if (s == SLOT_TAKEN && slot->seq == 0)
			requeue_slot(i);
	}
	wake_up(&engine_shm->request_wake, WAKE_EVERYONE);
}

/*
 * After recovery: TAKEN slots a previous worker applied.  If their seq is
 * beyond what committed, the batch died with that worker: queue them again.
 * Otherwise they committed and only the answers were lost: say so.  If
 * recovery failed, queue them too: their owners see the failure and
 * withdraw.
 */
void
slots_reclaim_after_recovery(int64 committed_seq, bool recovered)
{
	for (int i = 0; i < engine_shm->nslots; i++)
	{
		request_slot *slot = &engine_shm->slots[i];

		if (pg_atomic_read_u32(&slot->state) != SLOT_TAKEN)
			continue;
		if (!recovered || slot->seq > committed_seq)
			requeue_slot(i);
		else
			finish_unrun(slot, OUTCOME_LOST);
	}
	wake_up(&engine_shm->request_wake, WAKE_EVERYONE);
}
