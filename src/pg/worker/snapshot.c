/*
 * snapshot.c — checkpoints of the engine state in tables: writing them and
 * pruning old ones (loading them is snapshot_load.c).
 *
 * A snapshot (format 2) is the core's canonical walk (core_walk) as items
 * in bytes (core_item_encode), packed into chunks of at most
 * SNAPSHOT_CHUNK_BYTES, one kind of item per chunk, in walk order: rows of
 * engine.snapshot_chunks (snapshot_seq, chunk, kind, first_item, items,
 * crc, data), plus one row in engine.snapshots that carries the seq, the
 * counters and the state digest.  crc is CRC-32C over data.  Chunks are
 * stored inline in their heap page (data has STORAGE PLAIN and a chunk
 * fits a page), so loading one is a page read, without TOAST.  The rows go
 * in through table_multi_insert, and their primary-key entries (which the
 * loader scans) through index_insert.  All of it is
 * written in one transaction, so a snapshot is either whole or absent; the
 * engine.snapshots row is what makes it count.  Views decode the chunks
 * for plain SQL (engine.snapshot_orders_v and the others).
 *
 * Release 1.0 wrote format 1: one row per item in engine.snapshot_assets,
 * _symbols, _balances and _orders.  They are still read and pruned, never
 * written.
 *
 * Called by the snapshot writer on the shadow copy (snapshot_writer.c) and
 * by the worker itself at shutdown, inside the caller's transaction.  Never
 * changes engine state.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "core.h"
#include "crc.h"
#include "snapshot.h"

/* Chunk rows handed to table_multi_insert at a time. */
#define BULK_BATCH_ROWS     64

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

/* ------------------------------------------------------------- writing */

typedef struct chunk_writer
{
	Relation	rel;
	Relation	pk;				/* (snapshot_seq, chunk): heap_multi_insert leaves it to us */
	IndexInfo  *pk_info;
	TupleTableSlot *slots[BULK_BATCH_ROWS];
	int			nused;
	BulkInsertState bistate;
	CommandId	cid;
	MemoryContext rowcxt;		/* the pending rows' data, reset per flush */

	int64		seq;
	int32		chunks;			/* chunk rows so far */
	uint8		kind;			/* of the chunk being filled (0: none) */
	int64		first;			/* its first item's position within its kind */
	int32		items;			/* items in it */
	Size		len;
	uint8		buf[SNAPSHOT_CHUNK_BYTES];

	int64		written;		/* items in chunks handed to the table */
	int64		bytes;			/* their chunks' data bytes */
	core_counters counters;
	snapshot_write_progress_fn progress;
	void	   *progress_arg;
} chunk_writer;

static void
flush_rows(chunk_writer *w)
{
	if (w->nused == 0)
		return;
	table_multi_insert(w->rel, w->slots, w->nused, w->cid, 0, w->bistate);
	for (int i = 0; i < w->nused; i++)
	{
		Datum		key[INDEX_MAX_KEYS];
		bool		isnull[INDEX_MAX_KEYS];

		FormIndexDatum(w->pk_info, w->slots[i], NULL, key, isnull);
		index_insert(w->pk, key, isnull, &w->slots[i]->tts_tid, w->rel, UNIQUE_CHECK_YES,
					 false, w->pk_info);
		ExecClearTuple(w->slots[i]);
	}
	w->nused = 0;
	MemoryContextReset(w->rowcxt);
	if (w->progress)
		w->progress(w->progress_arg, w->written, w->bytes);
	CHECK_FOR_INTERRUPTS();
}

/* The chunk being filled becomes a row. */
static void
end_chunk(chunk_writer *w)
{
	TupleTableSlot *slot;
	Datum	   *v;
	bytea	   *data;

	if (w->items == 0)
		return;
	if (w->nused == BULK_BATCH_ROWS)
		flush_rows(w);
	if (w->slots[w->nused] == NULL)
		w->slots[w->nused] = MakeSingleTupleTableSlot(RelationGetDescr(w->rel), &TTSOpsVirtual);
	slot = w->slots[w->nused];
	ExecClearTuple(slot);
	memset(slot->tts_isnull, 0, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	data = MemoryContextAlloc(w->rowcxt, VARHDRSZ + w->len);
	SET_VARSIZE(data, VARHDRSZ + w->len);
	memcpy(VARDATA(data), w->buf, w->len);
	v = slot->tts_values;
	v[0] = Int64GetDatum(w->seq);
	v[1] = Int32GetDatum(w->chunks);
	v[2] = Int16GetDatum((int16) w->kind);
	v[3] = Int64GetDatum(w->first);
	v[4] = Int32GetDatum(w->items);
	v[5] = Int32GetDatum((int32) crc32c_bytes(w->buf, w->len));
	v[6] = PointerGetDatum(data);
	ExecStoreVirtualTuple(slot);
	w->nused++;
	w->chunks++;
	w->written += w->items;
	w->bytes += w->len;
	w->first += w->items;
	w->items = 0;
	w->len = 0;
}

static void
add_item(chunk_writer *w, const core_item *it)
{
	uint8		tmp[CORE_ITEM_MAX_BYTES];
	size_t		n = core_item_encode(it, tmp);

	if (it->kind != w->kind)
	{
		end_chunk(w);
		w->kind = it->kind;
		w->first = 0;
	}
	else if (w->len + n > SNAPSHOT_CHUNK_BYTES)
		end_chunk(w);
	memcpy(w->buf + w->len, tmp, n);
	w->len += n;
	w->items++;
}

static void
walk_counters(void *ctx, const core_counters *k)
{
	((chunk_writer *) ctx)->counters = *k;
}

#define WALK_ITEM(fn, info_type, kind_value, field) \
static void \
fn(void *ctx, const info_type *x) \
{ \
	core_item	it; \
\
	it.kind = (kind_value); \
	it.u.field = *x; \
	add_item((chunk_writer *) ctx, &it); \
}
WALK_ITEM(walk_asset, core_asset_info, CORE_ITEM_ASSET, asset)
WALK_ITEM(walk_symbol, core_symbol_info, CORE_ITEM_SYMBOL, symbol)
WALK_ITEM(walk_balance, core_balance_info, CORE_ITEM_BALANCE, balance)
WALK_ITEM(walk_order, core_order_info, CORE_ITEM_ORDER, order)
#undef WALK_ITEM

/* Is there a snapshot of seq already (in this transaction's view)? */
static bool
snapshot_exists(int64 seq)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(seq)};
	int			ret = SPI_execute_with_args("SELECT 1 FROM engine.snapshots WHERE seq OPERATOR(pg_catalog.=) $1",
											1, types, args, NULL, false, 1);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: could not look up snapshot " INT64_FORMAT, seq);
	return SPI_processed > 0;
}

bool
snapshot_write_chunks(const core_engine *c, snapshot_write_progress_fn progress, void *arg,
					  snapshot_summary *out)
{
	chunk_writer *w;
	core_walker walker = {walk_counters, walk_asset, walk_symbol, walk_balance, walk_order};

	memset(out, 0, sizeof(*out));
	out->seq = core_seq(c);
	if (snapshot_exists(out->seq))
		return false;

	w = palloc0(sizeof(chunk_writer));
	w->seq = out->seq;
	w->progress = progress;
	w->progress_arg = arg;
	w->rel = snapshot_open_table("snapshot_chunks", RowExclusiveLock);
	if (!OidIsValid(RelationGetPrimaryKeyIndex(w->rel)))
		elog(ERROR, "engine: engine.snapshot_chunks has no primary key");
	w->pk = index_open(RelationGetPrimaryKeyIndex(w->rel), RowExclusiveLock);
	w->pk_info = BuildIndexInfo(w->pk);
	w->bistate = GetBulkInsertState();
	w->cid = GetCurrentCommandId(true);
	w->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "engine snapshot chunks",
									  ALLOCSET_DEFAULT_SIZES);
	core_walk(c, &walker, w);
	end_chunk(w);
	flush_rows(w);
	for (int i = 0; i < BULK_BATCH_ROWS; i++)
		if (w->slots[i])
			ExecDropSingleTupleTableSlot(w->slots[i]);
	FreeBulkInsertState(w->bistate);
	index_close(w->pk, NoLock);
	table_close(w->rel, NoLock);
	MemoryContextDelete(w->rowcxt);

	core_digest_hex(core_state_digest(c), out->digest);
	out->counters = w->counters;
	out->items = w->written;
	pfree(w);
	return true;
}

void
snapshot_write_row(const snapshot_summary *sum, TimestampTz taken_at)
{
	Datum		args[11];
	Oid			types[11] = {INT8OID, TIMESTAMPTZOID, INT4OID, TEXTOID, INT8OID, INT8OID,
	INT4OID, INT4OID, INT4OID, INT4OID, INT4OID};
	int			ret;

	args[0] = Int64GetDatum(sum->seq);
	args[1] = TimestampTzGetDatum(taken_at);
	args[2] = Int32GetDatum(SNAPSHOT_FORMAT);
	args[3] = CStringGetTextDatum(sum->digest);
	args[4] = Int64GetDatum(sum->counters.next_order_id);
	args[5] = Int64GetDatum(sum->counters.next_trade_id);
	args[6] = Int32GetDatum((int32) sum->counters.assets);
	args[7] = Int32GetDatum((int32) sum->counters.symbols);
	args[8] = Int32GetDatum((int32) sum->counters.accounts);
	args[9] = Int32GetDatum((int32) sum->counters.balances);
	args[10] = Int32GetDatum((int32) sum->counters.orders);
	ret = SPI_execute_with_args("INSERT INTO engine.snapshots (seq, taken_at, format, digest, "
								"next_order_id, next_trade_id, assets, symbols, accounts, "
								"balances, orders) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
								11, types, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "engine: could not record snapshot " INT64_FORMAT, sum->seq);
}

int64
snapshot_write(const core_engine *c, TimestampTz taken_at, snapshot_write_progress_fn progress, void *arg)
{
	snapshot_summary sum;

	if (!snapshot_write_chunks(c, progress, arg, &sum))
		return 0;
	snapshot_write_row(&sum, taken_at);
	return sum.items;
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

	/* Not read-only: it must see a snapshot this transaction just wrote. */
	ret = SPI_execute_with_args("SELECT seq FROM engine.snapshots ORDER BY seq DESC OFFSET $1 LIMIT 1",
								1, types, args, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: could not list snapshots: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return 0;
	oldest_kept = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	run_delete("DELETE FROM engine.snapshots WHERE seq OPERATOR(pg_catalog.<) $1", oldest_kept);
	run_delete("DELETE FROM engine.snapshot_chunks WHERE snapshot_seq OPERATOR(pg_catalog.<) $1", oldest_kept);
	run_delete("DELETE FROM engine.snapshot_assets WHERE snapshot_seq OPERATOR(pg_catalog.<) $1", oldest_kept);
	run_delete("DELETE FROM engine.snapshot_symbols WHERE snapshot_seq OPERATOR(pg_catalog.<) $1", oldest_kept);
	run_delete("DELETE FROM engine.snapshot_balances WHERE snapshot_seq OPERATOR(pg_catalog.<) $1", oldest_kept);
	run_delete("DELETE FROM engine.snapshot_orders WHERE snapshot_seq OPERATOR(pg_catalog.<) $1", oldest_kept);
	if (keep_log)
		return 0;
	return run_delete("DELETE FROM engine.command_log WHERE seq OPERATOR(pg_catalog.<=) $1", oldest_kept);
}
