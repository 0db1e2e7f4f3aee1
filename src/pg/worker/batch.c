/*
 * batch.c — one batch of the worker loop: take every submitted request,
 * drop duplicates, sequence, apply, journal, commit, and only then reply.
 *
 * Owns: seq and engine-timestamp assignment, event collection, the batch
 * transaction, and publishing replies.
 * Must never: reply before the commit; give a seq to a duplicate; let seq
 * have a gap (seq = core_seq() + 1, checked after each apply); catch an
 * ERROR (any ERROR ends the worker with exit code 1, and the next worker
 * rebuilds the state from what committed).
 *
 * The batch is whatever was submitted when the worker looked: under load,
 * requests pile up while the previous batch commits, so batches grow with
 * load and one commit (one WAL flush) covers many commands — group commit.
 *
 * Durability: unless engine.synchronous_commit is off, the worker flushes
 * the batch's WAL right after its commit, before it publishes any reply:
 * one flush per batch, and requests that arrive meanwhile make the next
 * batch bigger (group commit).  Measured on the 2-core development VM, this
 * beats letting every caller flush for itself (which the callers still do,
 * as a no-op, in request.c: that is also where they wait for synchronous
 * standbys at the level of engine.synchronous_commit): 32 clients ran about
 * 8k place_order/s against 6k, with batches of ~18 against ~4.  A batch's WAL
 * always follows the previous batch's, so a crash loses a suffix of batches
 * that nobody was told about, never a batch in the middle.
 *
 * Within a batch, records are applied in submission (ticket) order.  Every
 * record of a batch gets the same engine timestamp: the wall clock, but never
 * earlier than the previous batch's.
 *
 * Readers may see the effects of a batch from its apply until its commit
 * (they read shared memory, not the tables); if the commit fails the worker
 * exits and the rebuilt state forgets the batch, and no caller was told
 * anything about it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "engine.h"

typedef struct event_sink
{
	MemoryContext cxt;
	int64		seq;			/* of the record being applied */
	int32		ev_no;			/* order events so far in this record */
	log_order_event *events;
	int			nevents;
	int			cap_events;
	log_trade  *trades;
	int			ntrades;
	int			cap_trades;
} event_sink;

/* core_event_fn: append each event to the batch's arrays. */
static void
collect_event(void *arg, const core_event *ev)
{
	event_sink *s = arg;

	if (ev->type == CORE_EV_ORDER)
	{
		log_order_event *e;

		if (s->nevents == s->cap_events)
		{
			s->cap_events *= 2;
			s->events = repalloc(s->events, sizeof(log_order_event) * s->cap_events);
		}
		e = &s->events[s->nevents++];
		e->seq = s->seq;
		e->ev_no = ++s->ev_no;
		e->ev = ev->u.order;
		e->client_order_id = NULL;
	}
	else if (ev->type == CORE_EV_TRADE)
	{
		log_trade  *t;

		if (s->ntrades == s->cap_trades)
		{
			s->cap_trades *= 2;
			s->trades = repalloc(s->trades, sizeof(log_trade) * s->cap_trades);
		}
		t = &s->trades[s->ntrades++];
		t->seq = s->seq;
		t->tr = ev->u.trade;
	}
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
batch_take(int *out)
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

/* The client_order_id of the resting order a CANCEL or AMEND names. */
static void
note_target_order(core_t *c, const core_record *rec, engine_reply *reply)
{
	core_order_info o;
	int64		user,
				id;

	if (rec->type == CORE_REC_CANCEL)
	{
		user = rec->u.cancel.user_id;
		id = rec->u.cancel.order_id;
	}
	else if (rec->type == CORE_REC_AMEND)
	{
		user = rec->u.amend.user_id;
		id = rec->u.amend.order_id;
	}
	else
		return;
	if (core_order_get(c, id, &o) && o.user_id == user)
		strlcpy(reply->client_order_id, o.client_order_id, sizeof(reply->client_order_id));
}

/*
 * Publish the replies: TAKEN -> DONE, or free a slot its owner abandoned.
 * lsn is the end of the batch's commit record (or of an earlier commit, for
 * a batch that wrote nothing): the state every reply reflects is in WAL up
 * to there.
 */
static void
publish(const dedup_item *items, int n, XLogRecPtr lsn)
{
	for (int i = 0; i < n; i++)
	{
		request_slot *slot = &engine_shm->slots[items[i].slot];
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

/*
 * Run one batch.  idx[] are the taken slots in ticket order.  ext_oid is the
 * extension the worker serves (a different one means DROP + CREATE happened:
 * ERROR, and the next worker starts over from the new tables).  *last_ts is
 * the previous batch's timestamp, updated.
 */
void
batch_run(core_t *c, const int *idx, int n, Oid ext_oid, TimestampTz *last_ts)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "engine batch",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	dedup_item *items = palloc(sizeof(dedup_item) * n);
	event_sink	sink;
	log_batch	lb;
	int		   *refdata = palloc(sizeof(int) * n);	/* items that are reference data */
	int			nrefdata = 0;
	int			nduplicates = 0;
	TimestampTz ts;

	memset(&sink, 0, sizeof(sink));
	sink.cxt = cxt;
	sink.cap_events = 64;
	sink.events = palloc(sizeof(log_order_event) * sink.cap_events);
	sink.cap_trades = 64;
	sink.trades = palloc(sizeof(log_trade) * sink.cap_trades);

	memset(&lb, 0, sizeof(lb));
	lb.seqs = palloc(sizeof(int64) * n);
	lb.rectypes = palloc(sizeof(int16) * n);
	lb.payloads = palloc(sizeof(bytea *) * n);
	lb.crcs = palloc(sizeof(int32) * n);
	lb.keys = palloc(sizeof(log_key) * n);

	for (int i = 0; i < n; i++)
		items[i].slot = idx[i];

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (get_extension_oid(ENGINE_EXTENSION_NAME, true) != ext_oid)
		ereport(ERROR,
				(errmsg("engine: extension \"engine\" was dropped or re-created; the worker restarts")));
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(cxt);

	dedup_check(items, n);

	ts = GetCurrentTimestamp();
	if (ts < *last_ts)
		ts = *last_ts;
	lb.ts = ts;

	LWLockAcquire(engine_state_lock, LW_EXCLUSIVE);
	for (int i = 0; i < n; i++)
	{
		request_slot *slot = &engine_shm->slots[items[i].slot];
		const log_rectype *rt = log_rectype_get(slot->rec.type);
		core_record rec = slot->rec;
		engine_reply *reply = &slot->reply;
		uint8		buf[CORE_RECORD_MAX_BYTES];
		size_t		len;
		bytea	   *payload;
		int64		seq = core_seq(c) + 1;
		int			first_event = sink.nevents;

		if (items[i].duplicate)
		{
			nduplicates++;
			continue;
		}
		if (rt == NULL)
			elog(ERROR, "engine: request with unknown record type %d", slot->rec.type);

		rec.ts = ts;
		memset(reply, 0, sizeof(*reply));
		note_target_order(c, &rec, reply);
		sink.seq = seq;
		sink.ev_no = 0;
		rt->redo(c, &rec, collect_event, &sink, &reply->res);
		if (core_seq(c) != seq)
			elog(ERROR, "engine: seq did not advance by one (expected " INT64_FORMAT ", core at " INT64_FORMAT ")",
				 seq, core_seq(c));
		slot->seq = seq;
		reply->kind = REPLY_APPLIED;
		reply->seq = seq;

		if (rec.type == CORE_REC_PLACE)
		{
			const char *coid = slot->rec.u.place.client_order_id;

			strlcpy(reply->client_order_id, coid, sizeof(reply->client_order_id));
			for (int e = first_event; coid[0] && e < sink.nevents; e++)
				if (sink.events[e].ev.order_id == reply->res.order_id)
					sink.events[e].client_order_id = slot->rec.u.place.client_order_id;
		}

		len = core_record_encode(&rec, buf);
		payload = palloc(VARHDRSZ + len);
		SET_VARSIZE(payload, VARHDRSZ + len);
		memcpy(VARDATA(payload), buf, len);
		lb.seqs[lb.nrecords] = seq;
		lb.rectypes[lb.nrecords] = rec.type;
		lb.payloads[lb.nrecords] = payload;
		lb.crcs[lb.nrecords] = (int32) log_crc(seq, ts, buf, len);
		lb.nrecords++;

		if (slot->key_kind != KEY_NONE)
		{
			log_key    *k = &lb.keys[lb.nkeys++];

			k->user_id = slot->key_user;
			k->kind = slot->key_kind;
			k->key = slot->key;
			k->order_id = rec.type == CORE_REC_PLACE ? reply->res.order_id : 0;
			k->seq = seq;
		}
		if (rec.type == CORE_REC_CREATE_ASSET || rec.type == CORE_REC_CREATE_SYMBOL ||
			rec.type == CORE_REC_SET_SYMBOL_STATUS)
			refdata[nrefdata++] = i;
	}
	LWLockRelease(engine_state_lock);

	lb.events = sink.events;
	lb.nevents = sink.nevents;
	lb.trades = sink.trades;
	lb.ntrades = sink.ntrades;
	log_append_batch(&lb);
	for (int r = 0; r < nrefdata; r++)
	{
		request_slot *slot = &engine_shm->slots[items[refdata[r]].slot];

		log_append_refdata(&slot->rec, &slot->reply.res, slot->seq, ts);
	}

	for (int i = 0; i < n; i++)
	{
		request_slot *slot = &engine_shm->slots[items[i].slot];
		int64		order_id = items[i].order_id;

		if (!items[i].duplicate)
			continue;
		if (items[i].original >= 0)
			order_id = engine_shm->slots[items[i].original].reply.res.order_id;
		dedup_reply(c, slot, order_id);
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();

	{
		engine_status *st = &engine_shm->status;

		SpinLockAcquire(&st->mutex);
		st->last_seq = core_seq(c);
		st->batches++;
		st->commands += lb.nrecords;
		st->duplicates += nduplicates;
		SpinLockRelease(&st->mutex);
	}
	if (engine_synchronous_commit_flushes())
		XLogFlush(XactLastCommitEnd);
	publish(items, n, XactLastCommitEnd);

	*last_ts = ts;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}
