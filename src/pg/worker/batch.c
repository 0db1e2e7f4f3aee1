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
 * Durability: unless engine.synchronous_commit is off, the batch's commit
 * flushes its WAL (the worker commits at synchronous_commit = local, see
 * worker.c), before it publishes any reply: one flush per batch, and
 * requests that arrive meanwhile make the next batch bigger (group commit).  Measured on the 2-core development VM, this
 * beats letting every caller flush for itself (which the callers still do,
 * as a no-op, in api/submit.c: that is also where they wait for synchronous
 * standbys at the level of engine.synchronous_commit): 32 clients ran about
 * 8k place_order/s against 6k, with batches of ~18 against ~4.  A batch's WAL
 * always follows the previous batch's, so a crash loses a suffix of batches
 * that nobody was told about, never a batch in the middle.
 *
 * Within a batch, records are applied in submission (ticket) order.  Every
 * record of a batch gets the same engine timestamp: the wall clock, but never
 * earlier than the previous batch's, and the settings that sequencing
 * stamps into it (engine.max_open_orders, read once per batch).  What a
 * record type needs beyond the core's apply (its key, the order it creates
 * or acts on, what is stamped into it, its reference data) comes from its
 * row of the shell's record table (records.h).
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
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "items.h"
#include "ready.h"
#include "records.h"
#include "settings.h"
#include "slots.h"
#include "status.h"
#include "worker.h"

/* Order events and trades of the batch, in the order they happened. */
typedef struct event_sink
{
	int64		seq;			/* of the record being applied */
	int32		ev_no;			/* order events so far in this record */
	log_order_event *events;
	int			nevents;
	int			cap_events;
	log_trade  *trades;
	int			ntrades;
	int			cap_trades;
} event_sink;

/* One batch: its requests, what they produced, and what goes to the tables. */
typedef struct batch
{
	MemoryContext cxt;
	const int  *idx;			/* the taken slots, in ticket order */
	int			nslots;
	int			n;				/* commands: the items of those slots, in order */
	dedup_item *items;			/* the commands, with what dedup found */
	int			nduplicates;
	int		   *refdata;		/* items whose record type writes reference data */
	int			nrefdata;
	record_stamp stamp;			/* what sequencing stamps into each record */
	event_sink	sink;
	log_batch	lb;
} batch;

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

/* The batch's memory, in its own context (deleted by batch_end). */
static void
batch_begin(batch *b, const int *idx, int nslots)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "engine batch",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int			n = 0;

	memset(b, 0, sizeof(*b));
	b->cxt = cxt;
	b->idx = idx;
	b->nslots = nslots;
	for (int k = 0; k < nslots; k++)
		n += (int) slot_at(idx[k])->nitems;
	b->n = n;
	b->items = palloc(sizeof(dedup_item) * n);
	n = 0;
	for (int k = 0; k < nslots; k++)
	{
		int			m;
		request_item *req = items_of(slot_at(idx[k]), idx[k], &m);

		for (int j = 0; j < m; j++, n++)
		{
			b->items[n].req = &req[j];
			b->items[n].slot = idx[k];
		}
	}
	b->refdata = palloc(sizeof(int) * n);
	b->sink.cap_events = Max(64, 2 * n);
	b->sink.events = palloc(sizeof(log_order_event) * b->sink.cap_events);
	b->sink.cap_trades = Max(64, n);
	b->sink.trades = palloc(sizeof(log_trade) * b->sink.cap_trades);
	b->lb.seqs = palloc(sizeof(int64) * n);
	b->lb.rectypes = palloc(sizeof(int16) * n);
	b->lb.payloads = palloc(sizeof(bytea *) * n);
	b->lb.crcs = palloc(sizeof(int32) * n);
	b->lb.keys = palloc(sizeof(log_key) * n);
	/* Read once per batch: a reload between batches applies from the next. */
	b->stamp.max_open_orders = (uint32) engine_max_open_orders;
	MemoryContextSwitchTo(old);
}

/*
 * The batch's transaction.  ext_oid is the extension the worker serves (a
 * different one means DROP + CREATE happened: ERROR, and the next worker
 * starts over from the new tables).
 */
static void
begin_transaction(batch *b, Oid ext_oid)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (get_extension_oid(ENGINE_EXTENSION_NAME, true) != ext_oid)
		ereport(ERROR,
				(errmsg("engine: extension \"engine\" was dropped or re-created; the worker restarts")));
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(b->cxt);
}

/* The wall clock, but never earlier than the previous batch's timestamp. */
static TimestampTz
batch_timestamp(TimestampTz last_ts)
{
	TimestampTz ts = GetCurrentTimestamp();

	return ts < last_ts ? last_ts : ts;
}

/*
 * For a record that acts on a resting order (records.h, target): whether
 * that order rests and is its user's; if so, its client_order_id goes into
 * the reply.  True for a record without a target.
 */
static bool
note_target_order(const core_engine *c, const shell_rectype *rt, const core_record *rec,
				  engine_reply *reply)
{
	core_order_info o;
	int64		user,
				id;

	if (rt->target == NULL || !rt->target(rec, &user, &id))
		return true;
	if (!core_order_get(c, id, &o) || o.user_id != user)
		return false;
	strlcpy(reply->client_order_id, o.client_order_id, sizeof(reply->client_order_id));
	return true;
}

/*
 * The client_order_id of the order the record creates: into the reply, and
 * onto that order's events of this record (from first_event on).
 */
static void
note_new_order(batch *b, const shell_rectype *rt, const request_item *req,
			   engine_reply *reply, int first_event)
{
	const char *coid;

	if (rt->new_order_client_id == NULL)
		return;
	coid = rt->new_order_client_id(&req->rec);
	strlcpy(reply->client_order_id, coid, sizeof(reply->client_order_id));
	for (int e = first_event; coid[0] && e < b->sink.nevents; e++)
		if (b->sink.events[e].ev.order_id == reply->res.order_id)
			b->sink.events[e].client_order_id = coid;
}

/* The record's command_log row. */
static void
add_log_row(batch *b, const core_record *rec, int64 seq)
{
	uint8		buf[CORE_RECORD_MAX_BYTES];
	size_t		len = core_record_encode(rec, buf);
	bytea	   *payload = palloc(VARHDRSZ + len);
	log_batch  *lb = &b->lb;

	SET_VARSIZE(payload, VARHDRSZ + len);
	memcpy(VARDATA(payload), buf, len);
	lb->seqs[lb->nrecords] = seq;
	lb->rectypes[lb->nrecords] = rec->type;
	lb->payloads[lb->nrecords] = payload;
	lb->crcs[lb->nrecords] = (int32) log_crc(seq, lb->ts, buf, len);
	lb->nrecords++;
}

/* The command's idempotency key, if it carries one: its client_keys row. */
static void
add_key_row(batch *b, const request_item *req, int64 seq)
{
	log_key    *k;

	if (req->key_kind == KEY_NONE)
		return;
	k = &b->lb.keys[b->lb.nkeys++];
	k->user_id = req->key_user;
	k->kind = req->key_kind;
	k->key = req->key;
	/* An order's key names the order the record created. */
	k->order_id = req->key_kind == KEY_ORDER ? req->reply.res.order_id : 0;
	k->seq = seq;
}

/*
 * Sequence and apply item i: the next seq, the batch's timestamp and stamped
 * values, the core's redo, then the rows it leaves for the journal.  A
 * record whose target order is not its user's resting order is answered
 * REPLY_NO_TARGET instead, and gets no seq.
 */
static void
apply_one(batch *b, core_engine *c, int i)
{
	request_item *req = b->items[i].req;
	const shell_rectype *rt = records_get(req->rec.type);
	core_record rec = req->rec;
	engine_reply *reply = &req->reply;
	int64		seq = core_seq(c) + 1;
	int			first_event = b->sink.nevents;

	if (rt == NULL)
		elog(ERROR, "engine: request with unknown record type %d", req->rec.type);

	rec.ts = b->lb.ts;
	if (rt->stamp != NULL)
		rt->stamp(&rec, &b->stamp);
	memset(reply, 0, sizeof(*reply));
	if (!note_target_order(c, rt, &rec, reply))
	{
		reply->kind = REPLY_NO_TARGET;
		return;
	}
	b->sink.seq = seq;
	b->sink.ev_no = 0;
	core_apply(c, &rec, collect_event, &b->sink, &reply->res);
	if (core_seq(c) != seq)
		elog(ERROR, "engine: seq did not advance by one (expected " INT64_FORMAT ", core at " INT64_FORMAT ")",
			 seq, core_seq(c));
	slot_at(b->items[i].slot)->seq = seq;	/* the request's highest seq so far */
	reply->kind = REPLY_APPLIED;
	reply->seq = seq;
	note_new_order(b, rt, req, reply, first_event);

	add_log_row(b, &rec, seq);
	add_key_row(b, req, seq);
	if (rt->refdata.sql != NULL)
		b->refdata[b->nrefdata++] = i;
}

/* Apply every request that is not a duplicate, in order, under the state lock. */
static void
apply_all(batch *b, core_engine *c)
{
	state_write_begin();
	for (int i = 0; i < b->n; i++)
	{
		if (b->items[i].duplicate)
			b->nduplicates++;
		else
			apply_one(b, c, i);
	}
	state_write_end();
}

/*
 * The batch's rows: log, events, trades, keys, then reference data, and
 * the manifest when a table got its first row (manifest.c).
 */
static void
write_journal(batch *b)
{
	b->lb.events = b->sink.events;
	b->lb.nevents = b->sink.nevents;
	b->lb.trades = b->sink.trades;
	b->lb.ntrades = b->sink.ntrades;
	log_append_batch(&b->lb);
	for (int r = 0; r < b->nrefdata; r++)
	{
		const request_item *req = b->items[b->refdata[r]].req;

		log_append_refdata(&req->rec, &req->reply.res, req->reply.seq, b->lb.ts);
	}
	manifest_note_batch(&b->lb, b->nrefdata > 0);
}

/*
 * Duplicates' replies, after the rows are inserted (same transaction), so an
 * original from this very batch is visible.
 */
static void
answer_duplicates(batch *b, const core_engine *c)
{
	for (int i = 0; i < b->n; i++)
	{
		dedup_item *item = &b->items[i];
		int64		order_id = item->order_id;

		if (!item->duplicate)
			continue;
		if (item->original >= 0)
			order_id = b->items[item->original].req->reply.res.order_id;
		dedup_reply(c, item->req, order_id);
	}
}

static void
commit_transaction(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * Make the batch durable (unless engine.synchronous_commit is off) and only
 * then answer its callers.
 */
static void
flush_and_publish(batch *b)
{
	if (engine_synchronous_commit_flushes())
		XLogFlush(XactLastCommitEnd);	/* done by the commit; cheap to make sure */
	slots_publish(b->idx, b->nslots, XactLastCommitEnd);
}

static void
batch_end(batch *b)
{
	MemoryContextSwitchTo(TopMemoryContext);
	MemoryContextDelete(b->cxt);
}

/*
 * Run one batch.  idx[0..nslots) are the taken slots in ticket order; their
 * items, in that order, are the batch's commands.  ext_oid is the
 * extension the worker serves.  *last_ts is the previous batch's
 * timestamp, updated.
 */
void
batch_run(core_engine *c, const int *idx, int nslots, Oid ext_oid, TimestampTz *last_ts)
{
	MemoryContext caller = CurrentMemoryContext;
	batch		b;

	batch_begin(&b, idx, nslots);
	begin_transaction(&b, ext_oid);
	dedup_check(b.items, b.n);
	b.lb.ts = batch_timestamp(*last_ts);
	apply_all(&b, c);
	write_journal(&b);
	if (b.lb.nrecords > 0)
		events_notify_batch(b.lb.seqs[0], b.lb.seqs[b.lb.nrecords - 1], b.sink.ntrades, b.lb.ts);
	answer_duplicates(&b, c);
	commit_transaction();
	status_note_batch(core_seq(c), b.lb.nrecords, b.nduplicates);
	flush_and_publish(&b);
	*last_ts = b.lb.ts;
	batch_end(&b);
	MemoryContextSwitchTo(caller);
}
