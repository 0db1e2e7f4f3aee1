/*
 * snapshot.c — checkpoints of the engine state in tables: writing them and
 * pruning old ones (loading them is snapshot_load.c).
 *
 * A snapshot is the core's canonical walk (core_walk) stored as rows:
 * engine.snapshot_assets, _symbols, _balances and _orders, plus one row in
 * engine.snapshots that carries the seq, the counters and the state digest.
 * All of it is written in one transaction, so a snapshot is either whole or
 * absent; the engine.snapshots row is what makes it count.
 *
 * Rows go in through table_multi_insert (no SQL per row).  The row tables
 * therefore have no indexes: a snapshot is read back by one sequential scan
 * per table, rows are placed by their walk position (pos), and the loader
 * checks that every position is filled exactly once.  After loading, the
 * digest of the rebuilt state must equal the stored digest, or the snapshot
 * is refused and the caller falls back to an older one.
 *
 * Called only by the engine worker, between batches.  Never changes engine
 * state.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core.h"
#include "snapshot.h"

#define BULK_BATCH_ROWS     1000

/* ------------------------------------------------------------- writing */

typedef struct bulk_writer
{
	Relation	rel;
	TupleTableSlot *slots[BULK_BATCH_ROWS];
	int			nused;
	BulkInsertState bistate;
	CommandId	cid;
	int64		rows;
} bulk_writer;

/* One of the engine's tables, opened by name in the extension's schema. */
Relation
snapshot_open_table(const char *name, LOCKMODE mode)
{
	Oid			nsp = get_namespace_oid("engine", false);
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table engine.%s does not exist", name)));
	return table_open(relid, mode);
}

static void
bulk_begin(bulk_writer *w, const char *table)
{
	memset(w, 0, sizeof(*w));
	w->rel = snapshot_open_table(table, RowExclusiveLock);
	w->bistate = GetBulkInsertState();
	w->cid = GetCurrentCommandId(true);
}

static void
bulk_flush(bulk_writer *w)
{
	if (w->nused == 0)
		return;
	table_multi_insert(w->rel, w->slots, w->nused, w->cid, 0, w->bistate);
	for (int i = 0; i < w->nused; i++)
		ExecClearTuple(w->slots[i]);
	w->nused = 0;
}

/* The next free slot; fill tts_values/tts_isnull, then bulk_add. */
static TupleTableSlot *
bulk_slot(bulk_writer *w)
{
	TupleTableSlot *slot;

	if (w->nused == BULK_BATCH_ROWS)
		bulk_flush(w);
	if (w->slots[w->nused] == NULL)
		w->slots[w->nused] = MakeSingleTupleTableSlot(RelationGetDescr(w->rel),
													  &TTSOpsVirtual);
	slot = w->slots[w->nused];
	ExecClearTuple(slot);
	memset(slot->tts_isnull, 0, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	return slot;
}

static void
bulk_add(bulk_writer *w, TupleTableSlot *slot)
{
	ExecStoreVirtualTuple(slot);
	w->nused++;
	w->rows++;
}

static void
bulk_end(bulk_writer *w)
{
	bulk_flush(w);
	for (int i = 0; i < BULK_BATCH_ROWS; i++)
		if (w->slots[i])
			ExecDropSingleTupleTableSlot(w->slots[i]);
	FreeBulkInsertState(w->bistate);
	table_close(w->rel, NoLock);
}

typedef struct snapshot_writer
{
	int64		seq;
	bulk_writer assets;
	bulk_writer symbols;
	bulk_writer balances;
	bulk_writer orders;
	core_counters counters;
	MemoryContext rowcxt;		/* reset per row: text datums */
} snapshot_writer;

static void
write_counters(void *ctx, const core_counters *k)
{
	((snapshot_writer *) ctx)->counters = *k;
}

static void
write_asset(void *ctx, const core_asset_info *a)
{
	snapshot_writer *sw = ctx;
	TupleTableSlot *slot = bulk_slot(&sw->assets);
	Datum	   *v = slot->tts_values;

	v[0] = Int64GetDatum(sw->seq);
	v[1] = Int32GetDatum((int32) a->id);
	v[2] = CStringGetTextDatum(a->code);
	v[3] = Int16GetDatum(a->decimals);
	v[4] = Int64GetDatum(a->supply);
	bulk_add(&sw->assets, slot);
}

static void
write_symbol(void *ctx, const core_symbol_info *s)
{
	snapshot_writer *sw = ctx;
	TupleTableSlot *slot = bulk_slot(&sw->symbols);
	Datum	   *v = slot->tts_values;

	v[0] = Int64GetDatum(sw->seq);
	v[1] = Int32GetDatum((int32) s->id);
	v[2] = CStringGetTextDatum(s->name);
	v[3] = Int32GetDatum((int32) s->base_asset);
	v[4] = Int32GetDatum((int32) s->quote_asset);
	v[5] = Int64GetDatum(s->tick_size);
	v[6] = Int64GetDatum(s->lot_size);
	v[7] = Int64GetDatum(s->min_qty);
	v[8] = Int32GetDatum(s->maker_fee_ppm);
	v[9] = Int32GetDatum(s->taker_fee_ppm);
	v[10] = Int16GetDatum(s->status);
	v[11] = Int64GetDatum(s->min_notional);
	bulk_add(&sw->symbols, slot);
}

static void
write_balance(void *ctx, const core_balance_info *b)
{
	snapshot_writer *sw = ctx;
	TupleTableSlot *slot = bulk_slot(&sw->balances);
	Datum	   *v = slot->tts_values;

	v[0] = Int64GetDatum(sw->seq);
	v[1] = Int32GetDatum((int32) sw->balances.rows);
	v[2] = Int64GetDatum(b->user_id);
	v[3] = Int32GetDatum((int32) b->asset);
	v[4] = Int64GetDatum(b->available);
	v[5] = Int64GetDatum(b->frozen);
	bulk_add(&sw->balances, slot);
}

static void
write_order(void *ctx, const core_order_info *o)
{
	snapshot_writer *sw = ctx;
	TupleTableSlot *slot;
	Datum	   *v;

	/*
	 * The previous batch's text datums are gone once its rows were flushed;
	 * reset the row context only then.
	 */
	if (sw->orders.nused == BULK_BATCH_ROWS)
	{
		bulk_flush(&sw->orders);
		MemoryContextReset(sw->rowcxt);
	}
	slot = bulk_slot(&sw->orders);
	v = slot->tts_values;
	v[0] = Int64GetDatum(sw->seq);
	v[1] = Int32GetDatum((int32) sw->orders.rows);
	v[2] = Int64GetDatum(o->order_id);
	v[3] = Int64GetDatum(o->user_id);
	v[4] = Int32GetDatum((int32) o->symbol);
	v[5] = Int16GetDatum(o->side);
	v[6] = Int64GetDatum(o->price);
	v[7] = Int64GetDatum(o->filled_qty);
	v[8] = Int64GetDatum(o->remaining_qty);
	v[9] = Int64GetDatum(o->locked);
	v[10] = Int64GetDatum(o->notional_hi);
	v[11] = Int64GetDatum((int64) o->notional_lo);
	v[12] = Int64GetDatum(o->created_ts);
	v[13] = Int64GetDatum(o->queued_seq);
	v[14] = Int16GetDatum(o->stp);
	v[15] = BoolGetDatum(o->post_only);
	if (o->client_order_id[0])
	{
		MemoryContext old = MemoryContextSwitchTo(sw->rowcxt);

		v[16] = CStringGetTextDatum(o->client_order_id);
		MemoryContextSwitchTo(old);
	}
	else
		slot->tts_isnull[16] = true;
	bulk_add(&sw->orders, slot);
}

/*
 * Writes the state as snapshot number core_seq(c), inside the caller's
 * transaction (the caller commits).  If a snapshot of that seq exists
 * already, writes nothing.  Returns the number of rows written.
 */
int64
snapshot_write(const core_engine *c, TimestampTz taken_at, int64 *seq_out)
{
	snapshot_writer sw;
	core_walker walker = {write_counters, write_asset, write_symbol, write_balance, write_order};
	char		hex[33];
	Datum		args[11];
	Oid			types[11] = {INT8OID, TIMESTAMPTZOID, INT4OID, TEXTOID, INT8OID, INT8OID,
	INT4OID, INT4OID, INT4OID, INT4OID, INT4OID};
	int			ret;

	memset(&sw, 0, sizeof(sw));
	sw.seq = core_seq(c);
	*seq_out = sw.seq;

	args[0] = Int64GetDatum(sw.seq);
	ret = SPI_execute_with_args("SELECT 1 FROM engine.snapshots WHERE seq OPERATOR(pg_catalog.=) $1",
								1, types, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: could not look up snapshot %lld", (long long) sw.seq);
	if (SPI_processed > 0)
		return 0;

	sw.rowcxt = AllocSetContextCreate(CurrentMemoryContext, "engine snapshot rows",
									  ALLOCSET_DEFAULT_SIZES);
	bulk_begin(&sw.assets, "snapshot_assets");
	bulk_begin(&sw.symbols, "snapshot_symbols");
	bulk_begin(&sw.balances, "snapshot_balances");
	bulk_begin(&sw.orders, "snapshot_orders");
	core_walk(c, &walker, &sw);
	bulk_end(&sw.assets);
	bulk_end(&sw.symbols);
	bulk_end(&sw.balances);
	bulk_end(&sw.orders);
	MemoryContextDelete(sw.rowcxt);

	core_digest_hex(core_state_digest(c), hex);
	args[0] = Int64GetDatum(sw.seq);
	args[1] = TimestampTzGetDatum(taken_at);
	args[2] = Int32GetDatum(SNAPSHOT_FORMAT);
	args[3] = CStringGetTextDatum(hex);
	args[4] = Int64GetDatum(sw.counters.next_order_id);
	args[5] = Int64GetDatum(sw.counters.next_trade_id);
	args[6] = Int32GetDatum((int32) sw.counters.assets);
	args[7] = Int32GetDatum((int32) sw.counters.symbols);
	args[8] = Int32GetDatum((int32) sw.counters.accounts);
	args[9] = Int32GetDatum((int32) sw.counters.balances);
	args[10] = Int32GetDatum((int32) sw.counters.orders);
	ret = SPI_execute_with_args("INSERT INTO engine.snapshots (seq, taken_at, format, digest, "
								"next_order_id, next_trade_id, assets, symbols, accounts, "
								"balances, orders) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
								11, types, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "engine: could not record snapshot %lld", (long long) sw.seq);
	return sw.assets.rows + sw.symbols.rows + sw.balances.rows + sw.orders.rows + 1;
}

/* ------------------------------------------------------------- pruning */

static int64
run_delete(const char *sql, int64 bound)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(bound)};
	int			ret = SPI_execute_with_args(sql, 1, types, args, NULL, false, 0);

	if (ret != SPI_OK_DELETE)
		elog(ERROR, "engine: snapshot pruning failed: %s", SPI_result_code_string(ret));
	return (int64) SPI_processed;
}

/*
 * Keeps the newest `keep` snapshots and drops the rest; unless keep_log,
 * also drops the command_log rows no kept snapshot needs (those at or
 * before the oldest kept one).  Inside the caller's transaction.  Returns
 * the number of log rows removed.
 */
int64
snapshot_prune(int keep, bool keep_log)
{
	Oid			types[1] = {INT4OID};
	Datum		args[1] = {Int32GetDatum(keep - 1)};
	bool		isnull;
	int64		oldest_kept;
	int			ret;

	/* Not read-only: it must see the snapshot this transaction just wrote. */
	ret = SPI_execute_with_args("SELECT seq FROM engine.snapshots ORDER BY seq DESC OFFSET $1 LIMIT 1",
								1, types, args, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: could not list snapshots: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return 0;
	oldest_kept = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	run_delete("DELETE FROM engine.snapshots WHERE seq OPERATOR(pg_catalog.<) $1", oldest_kept);
	run_delete("DELETE FROM engine.snapshot_assets WHERE snapshot_seq OPERATOR(pg_catalog.<) $1", oldest_kept);
	run_delete("DELETE FROM engine.snapshot_symbols WHERE snapshot_seq OPERATOR(pg_catalog.<) $1", oldest_kept);
	run_delete("DELETE FROM engine.snapshot_balances WHERE snapshot_seq OPERATOR(pg_catalog.<) $1", oldest_kept);
	run_delete("DELETE FROM engine.snapshot_orders WHERE snapshot_seq OPERATOR(pg_catalog.<) $1", oldest_kept);
	if (keep_log)
		return 0;
	return run_delete("DELETE FROM engine.command_log WHERE seq OPERATOR(pg_catalog.<=) $1", oldest_kept);
}
