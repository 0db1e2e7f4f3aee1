/*
 * journal.c — the journal writers: engine.command_log and the tables written
 * with it in the batch's transaction (order_events, trades, client_keys,
 * and through the record table's refdata statements assets and symbols).
 *
 * Owns: how those rows reach the tables.
 * Must never: run outside the worker's batch transaction, or decide
 * anything about a command.
 *
 * The four tables a batch always writes get their rows straight through
 * the table access method: one table_multi_insert per table and batch (one
 * WAL record per heap page rather than per row), then the index entries,
 * with the executor's own index insertion (unique keys are enforced as by
 * an INSERT).  No SQL is planned or run for them; the tables' column lists
 * are checked against what this file writes each time they are opened.
 * Reference data (rare) goes through the record table's SQL statements.
 *
 * The log is an input journal, resource-manager style: each row is one
 * sequenced record (rejected ones included) with its type, its engine
 * timestamp, its binary payload (core_record_encode) and its CRC (log_crc,
 * records.h).  Replay (recovery.c) decodes the payload and hands it to the
 * same redo as live processing.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "nodes/execnodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "records.h"
#include "settings.h"
#include "worker.h"

/* ------------------------------------------------------------ the tables */

#define JOURNAL_MAX_COLUMNS 14

typedef struct journal_table
{
	const char *name;
	int			ncols;
	Oid			types[JOURNAL_MAX_COLUMNS];	/* the column types, in order */
	Oid			relid;			/* looked up once per worker process */
	TupleDesc	desc;			/* a private copy (no reference counting) */
	TupleTableSlot **pool;		/* virtual slots on desc, kept from batch to batch */
	int			npool;
} journal_table;

enum
{
	T_COMMAND_LOG, T_ORDER_EVENTS, T_TRADES, T_CLIENT_KEYS, T_COUNT
};

static journal_table tables[T_COUNT] = {
	[T_COMMAND_LOG] = {"command_log", 5, {INT8OID, INT2OID, TIMESTAMPTZOID, BYTEAOID, INT4OID}},
	[T_ORDER_EVENTS] = {"order_events", 14, {INT8OID, INT4OID, INT8OID, INT8OID, INT4OID, TEXTOID,
		TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID}},
	[T_TRADES] = {"trades", 14, {INT8OID, INT8OID, INT4OID, INT8OID, INT8OID, INT8OID, TEXTOID,
		INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID}},
	[T_CLIENT_KEYS] = {"client_keys", 6, {INT8OID, CHAROID, TEXTOID, INT8OID, INT8OID, TIMESTAMPTZOID}},
};

/* Rows for one table: a tuple slot per row, filled in tts_values/tts_isnull. */
typedef struct table_rows
{
	journal_table *t;
	Relation	rel;
	TupleTableSlot **slots;
	int			n;
} table_rows;

/*
 * Open t for n rows and check its columns are the ones written here.  The
 * rows' slots come from the table's pool, made once and grown as needed:
 * creating a slot per row took a sixth of the worker's time.
 */
static void
rows_begin(table_rows *r, journal_table *t, int n)
{
	TupleDesc	desc;

	if (!OidIsValid(t->relid))
		t->relid = get_relname_relid(t->name, get_namespace_oid(ENGINE_SCHEMA, false));
	if (!OidIsValid(t->relid))
		elog(ERROR, "engine: table %s.%s does not exist", ENGINE_SCHEMA, t->name);
	r->t = t;
	r->rel = table_open(t->relid, RowExclusiveLock);
	desc = RelationGetDescr(r->rel);
	if (desc->natts != t->ncols)
		elog(ERROR, "engine: table %s.%s has %d columns, the journal writes %d",
			 ENGINE_SCHEMA, t->name, desc->natts, t->ncols);
	for (int c = 0; c < t->ncols; c++)
		if (TupleDescAttr(desc, c)->atttypid != t->types[c] || TupleDescAttr(desc, c)->attisdropped)
			elog(ERROR, "engine: column %d of table %s.%s is not of the type the journal writes",
				 c + 1, ENGINE_SCHEMA, t->name);
	if (t->npool < n)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		int			grown = Max(n, 2 * t->npool);

		if (t->desc == NULL)
			t->desc = CreateTupleDescCopy(desc);
		t->pool = t->pool ? repalloc(t->pool, sizeof(TupleTableSlot *) * grown)
			: palloc(sizeof(TupleTableSlot *) * grown);
		for (int i = t->npool; i < grown; i++)
			t->pool[i] = MakeSingleTupleTableSlot(t->desc, &TTSOpsVirtual);
		t->npool = grown;
		MemoryContextSwitchTo(old);
	}
	r->n = n;
	r->slots = t->pool;
	for (int i = 0; i < n; i++)
	{
		ExecClearTuple(r->slots[i]);
		memset(r->slots[i]->tts_isnull, 0, sizeof(bool) * t->ncols);
	}
}

/* Insert the rows (heap first, then every index), and close the table. */
static void
rows_end(table_rows *r)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);

	for (int i = 0; i < r->n; i++)
		ExecStoreVirtualTuple(r->slots[i]);
	table_multi_insert(r->rel, r->slots, r->n, GetCurrentCommandId(true), 0, NULL);

	InitResultRelInfo(rri, r->rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	for (int i = 0; i < r->n; i++)
	{
		List	   *conflicts = ExecInsertIndexTuples(rri, r->slots[i], estate,
													 false, false, NULL, NIL);

		list_free(conflicts);
		ResetPerTupleExprContext(estate);
		ExecClearTuple(r->slots[i]);
	}
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	table_close(r->rel, NoLock);
}

static Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/* ------------------------------------------------------------ writers */

static void
append_records(const log_batch *b)
{
	table_rows	r;

	rows_begin(&r, &tables[T_COMMAND_LOG], b->nrecords);
	for (int i = 0; i < b->nrecords; i++)
	{
		Datum	   *v = r.slots[i]->tts_values;

		v[0] = Int64GetDatum(b->seqs[i]);
		v[1] = Int16GetDatum(b->rectypes[i]);
		v[2] = TimestampTzGetDatum(b->ts);
		v[3] = PointerGetDatum(b->payloads[i]);
		v[4] = Int32GetDatum(b->crcs[i]);
	}
	rows_end(&r);
}

static void
append_events(const log_batch *b)
{
	table_rows	r;

	rows_begin(&r, &tables[T_ORDER_EVENTS], b->nevents);
	for (int i = 0; i < b->nevents; i++)
	{
		const log_order_event *e = &b->events[i];
		Datum	   *v = r.slots[i]->tts_values;
		bool	   *n = r.slots[i]->tts_isnull;

		v[0] = Int64GetDatum(e->seq);
		v[1] = Int32GetDatum(e->ev_no);
		v[2] = Int64GetDatum(e->ev.order_id);
		v[3] = Int64GetDatum(e->ev.user_id);
		v[4] = Int32GetDatum((int32) e->ev.symbol);
		v[5] = CStringGetTextDatum(core_side_name(e->ev.side));
		v[6] = CStringGetTextDatum(core_status_name(e->ev.status));
		v[7] = Int64GetDatum(e->ev.price);
		v[8] = Int64GetDatum(e->ev.qty);
		v[9] = Int64GetDatum(e->ev.filled_qty);
		v[10] = Int64GetDatum(e->ev.remaining_qty);
		v[11] = text_or_null(core_reason_name(e->ev.reason), &n[11]);
		v[12] = text_or_null(e->client_order_id, &n[12]);
		v[13] = TimestampTzGetDatum(b->ts);
	}
	rows_end(&r);
}

static void
append_trades(const log_batch *b)
{
	table_rows	r;

	rows_begin(&r, &tables[T_TRADES], b->ntrades);
	for (int i = 0; i < b->ntrades; i++)
	{
		const core_trade_event *t = &b->trades[i].tr;
		Datum	   *v = r.slots[i]->tts_values;

		v[0] = Int64GetDatum(t->trade_id);
		v[1] = Int64GetDatum(b->trades[i].seq);
		v[2] = Int32GetDatum((int32) t->symbol);
		v[3] = Int64GetDatum(t->price);
		v[4] = Int64GetDatum(t->qty);
		v[5] = Int64GetDatum(t->quote_qty);
		v[6] = CStringGetTextDatum(core_side_name(t->taker_side));
		v[7] = Int64GetDatum(t->taker_order_id);
		v[8] = Int64GetDatum(t->taker_user_id);
		v[9] = Int64GetDatum(t->maker_order_id);
		v[10] = Int64GetDatum(t->maker_user_id);
		v[11] = Int64GetDatum(t->taker_fee);
		v[12] = Int64GetDatum(t->maker_fee);
		v[13] = TimestampTzGetDatum(b->ts);
	}
	rows_end(&r);
}

static void
append_keys(const log_batch *b)
{
	table_rows	r;

	rows_begin(&r, &tables[T_CLIENT_KEYS], b->nkeys);
	for (int i = 0; i < b->nkeys; i++)
	{
		const log_key *k = &b->keys[i];
		Datum	   *v = r.slots[i]->tts_values;
		bool	   *n = r.slots[i]->tts_isnull;

		v[0] = Int64GetDatum(k->user_id);
		v[1] = CharGetDatum(k->kind);
		v[2] = CStringGetTextDatum(k->key);
		v[3] = Int64GetDatum(k->order_id);
		n[3] = k->order_id == 0;
		v[4] = Int64GetDatum(k->seq);
		v[5] = TimestampTzGetDatum(b->ts);
	}
	rows_end(&r);
}

/*
 * Write one batch: one multi-insert per table that has rows, then the
 * command counter and the active snapshot move on so that later reads of
 * this transaction (the duplicates' answers) see them.  Runs inside the worker's batch
 * transaction; any failure is an ERROR (the worker then exits and rebuilds
 * from what did commit).
 */
void
log_append_batch(const log_batch *b)
{
	if (b->nrecords > 0)
		append_records(b);
	if (b->nevents > 0)
		append_events(b);
	if (b->ntrades > 0)
		append_trades(b);
	if (b->nkeys > 0)
		append_keys(b);
	CommandCounterIncrement();
	UpdateActiveSnapshotCommandId();
}

/* ------------------------------------------------------------ reference data */

static SPIPlanPtr refdata_plans[CORE_REC_COUNT];

/*
 * Reference data also goes to engine.assets / engine.symbols, so views can
 * show codes, names and scales from plain tables (no worker needed).  Only
 * accepted commands write, through their record type's refdata statement;
 * these are rare, so one statement per record.
 */
void
log_append_refdata(const core_record *rec, const core_result *res, int64 seq, TimestampTz ts)
{
	const shell_rectype *rt = records_get(rec->type);
	Datum		v[REFDATA_MAX_ARGS];
	int			ret;

	if (res->status != CORE_ST_OK || rt == NULL || rt->refdata.sql == NULL)
		return;
	rt->refdata.args(rec, res, seq, ts, v);
	if (refdata_plans[rec->type] == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(rt->refdata.sql, rt->refdata.nargs, (Oid *) rt->refdata.types);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "engine: could not prepare \"%s\": %s", rt->refdata.sql,
				 SPI_result_code_string(SPI_result));
		refdata_plans[rec->type] = p;
	}
	ret = SPI_execute_plan(refdata_plans[rec->type], v, NULL, false, 0);
	if (ret != SPI_OK_INSERT && ret != SPI_OK_UPDATE)
		elog(ERROR, "engine: writing reference data failed: %s", SPI_result_code_string(ret));
}
