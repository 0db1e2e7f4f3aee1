/*
 * snapshot_load.c — finding the snapshots recovery may start from, and
 * rebuilding the engine state from one (snapshot.c writes them).
 *
 * A snapshot's rows are read back by one sequential scan per row table and
 * placed by their walk position (pos); every position must be filled exactly
 * once, and after loading, the digest of the rebuilt state must equal the
 * stored digest, or the snapshot is refused and the caller falls back to an
 * older one.
 *
 * Called only by the engine worker during recovery.  Never changes engine
 * state except through core_restore_* on an engine the caller has just
 * created; never writes a table.
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

/* ------------------------------------------------------------- loading */

typedef struct snapshot_loader
{
	int64		seq;
	const char *table;
	int64		expected;		/* rows the snapshots row announced */
	int64		seen;
	char	   *filled;			/* one flag per position */
	void	   *items;			/* array of the core's info structs */
	size_t		item_size;
	char		why[160];
} snapshot_loader;

typedef bool (*row_reader) (Datum *v, bool *isnull, int64 *pos, void *item);

static void
loader_fail(snapshot_loader *ld, const char *what, int64 pos)
{
	if (ld->why[0] == '\0')
		snprintf(ld->why, sizeof(ld->why), "engine.%s row %lld: %s",
				 ld->table, (long long) pos, what);
}

static bool
copy_text(Datum d, char *dst, size_t max)
{
	char	   *s = TextDatumGetCString(d);
	size_t		n = strlen(s);
	bool		ok = n <= max;

	if (ok)
		memcpy(dst, s, n + 1);
	pfree(s);
	return ok;
}

/*
 * Reads every row of one snapshot table that belongs to ld->seq into the
 * position the row names.  Returns false (with ld->why) on a missing,
 * repeated or malformed row.
 */
static bool
load_table(snapshot_loader *ld, const char *table, int natts, size_t item_size,
		   int64 expected, row_reader reader)
{
	Relation	rel = snapshot_open_table(table, AccessShareLock);
	TableScanDesc scan;
	TupleTableSlot *slot;

	ld->table = table;
	ld->expected = expected;
	ld->seen = 0;
	ld->item_size = item_size;
	ld->items = MemoryContextAllocHuge(CurrentMemoryContext, Max(expected, 1) * item_size);
	ld->filled = MemoryContextAllocHuge(CurrentMemoryContext, Max(expected, 1));
	memset(ld->filled, 0, Max(expected, 1));

	if (RelationGetDescr(rel)->natts != natts)
	{
		table_close(rel, AccessShareLock);
		loader_fail(ld, "table has an unexpected shape", 0);
		return false;
	}
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		char		item[sizeof(core_order_info) + 64];
		int64		pos = -1;

		CHECK_FOR_INTERRUPTS();
		slot_getallattrs(slot);
		if (slot->tts_isnull[0] || DatumGetInt64(slot->tts_values[0]) != ld->seq)
			continue;
		memset(item, 0, item_size);
		/* NULL only where the table allows it (its readers handle those). */
		for (int i = 1; i < natts; i++)
			if (slot->tts_isnull[i] && TupleDescAttr(RelationGetDescr(rel), i)->attnotnull)
			{
				loader_fail(ld, "has a NULL", ld->seen);
				break;
			}
		if (ld->why[0] == '\0' && !reader(slot->tts_values, slot->tts_isnull, &pos, item))
			loader_fail(ld, "has a value out of range", pos);
		if (ld->why[0] == '\0' && (pos < 0 || pos >= expected || ld->filled[pos]))
			loader_fail(ld, "is missing, repeated or beyond the announced count", pos);
		if (ld->why[0] != '\0')
			break;
		ld->filled[pos] = 1;
		memcpy((char *) ld->items + pos * item_size, item, item_size);
		ld->seen++;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	if (ld->why[0] == '\0' && ld->seen != expected)
		loader_fail(ld, "count differs from engine.snapshots", ld->seen);
	return ld->why[0] == '\0';
}

static bool
read_asset(Datum *v, bool *isnull pg_attribute_unused(), int64 *pos, void *item)
{
	core_asset_info *a = item;
	int32		id = DatumGetInt32(v[1]);
	int16		decimals = DatumGetInt16(v[3]);

	*pos = (int64) id - 1;
	a->id = (uint32) id;
	a->decimals = (uint8) decimals;
	a->supply = DatumGetInt64(v[4]);
	return id >= 1 && decimals >= 0 && decimals <= CORE_MAX_DECIMALS &&
		copy_text(v[2], a->code, CORE_ASSET_CODE_MAX);
}

static bool
read_symbol(Datum *v, bool *isnull pg_attribute_unused(), int64 *pos, void *item)
{
	core_symbol_info *s = item;
	int32		id = DatumGetInt32(v[1]);
	int16		status = DatumGetInt16(v[10]);

	*pos = (int64) id - 1;
	s->id = (uint32) id;
	s->base_asset = (uint32) DatumGetInt32(v[3]);
	s->quote_asset = (uint32) DatumGetInt32(v[4]);
	s->tick_size = DatumGetInt64(v[5]);
	s->lot_size = DatumGetInt64(v[6]);
	s->min_qty = DatumGetInt64(v[7]);
	s->maker_fee_ppm = DatumGetInt32(v[8]);
	s->taker_fee_ppm = DatumGetInt32(v[9]);
	s->status = (uint8) status;
	/* Rows written before release 1.1 added the column read as 0: none. */
	s->min_notional = DatumGetInt64(v[11]);
	return id >= 1 && status >= 0 && status <= CORE_HALTED &&
		copy_text(v[2], s->name, CORE_SYMBOL_NAME_MAX);
}

static bool
read_balance(Datum *v, bool *isnull pg_attribute_unused(), int64 *pos, void *item)
{
	core_balance_info *b = item;

	*pos = DatumGetInt32(v[1]);
	b->user_id = DatumGetInt64(v[2]);
	b->asset = (uint32) DatumGetInt32(v[3]);
	b->available = DatumGetInt64(v[4]);
	b->frozen = DatumGetInt64(v[5]);
	return true;
}

static bool
read_order(Datum *v, bool *isnull, int64 *pos, void *item)
{
	core_order_info *o = item;
	int16		side = DatumGetInt16(v[5]);
	int16		stp = DatumGetInt16(v[14]);

	*pos = DatumGetInt32(v[1]);
	o->order_id = DatumGetInt64(v[2]);
	o->user_id = DatumGetInt64(v[3]);
	o->symbol = (uint32) DatumGetInt32(v[4]);
	o->side = (uint8) side;
	o->price = DatumGetInt64(v[6]);
	o->filled_qty = DatumGetInt64(v[7]);
	o->remaining_qty = DatumGetInt64(v[8]);
	o->qty = o->filled_qty + o->remaining_qty;
	o->locked = DatumGetInt64(v[9]);
	o->notional_hi = DatumGetInt64(v[10]);
	o->notional_lo = (uint64) DatumGetInt64(v[11]);
	o->created_ts = DatumGetInt64(v[12]);
	o->queued_seq = DatumGetInt64(v[13]);
	o->stp = (uint8) stp;
	o->post_only = DatumGetBool(v[15]);
	if (side < 0 || side > CORE_SELL || stp < 0 || stp > CORE_STP_CANCEL_BOTH)
		return false;
	return isnull[16] || copy_text(v[16], o->client_order_id, CORE_CLIENT_ID_MAX);
}

/*
 * Rebuilds snapshot meta->seq into c, which the caller has just created
 * empty.  Runs inside the caller's transaction with an active snapshot.
 * Returns NULL on success, or why the snapshot cannot be used (then c is
 * half-built and must be created anew).
 */
const char *
snapshot_load(core_engine *c, const snapshot_meta *meta)
{
	static char why[256];
	snapshot_loader ld;
	const char *err = NULL;
	core_counters k;
	char		hex[33];
	MemoryContext cxt;
	MemoryContext old;

	if (meta->format != SNAPSHOT_FORMAT)
	{
		snprintf(why, sizeof(why), "format %d is not one this library reads (%d)",
				 meta->format, SNAPSHOT_FORMAT);
		return why;
	}
	cxt = AllocSetContextCreate(CurrentMemoryContext, "engine snapshot load",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	memset(&ld, 0, sizeof(ld));
	ld.seq = meta->seq;
	why[0] = '\0';

#define RESTORE_ALL(type, fn) \
	for (int64 i = 0; i < ld.expected && err == NULL; i++) \
		err = fn(c, (const type *) ((char *) ld.items + i * sizeof(type)))

	if (!load_table(&ld, "snapshot_assets", 5, sizeof(core_asset_info), meta->assets, read_asset))
		goto failed;
	RESTORE_ALL(core_asset_info, core_restore_asset);
	if (err)
		goto restore_failed;
	if (!load_table(&ld, "snapshot_symbols", 12, sizeof(core_symbol_info), meta->symbols, read_symbol))
		goto failed;
	RESTORE_ALL(core_symbol_info, core_restore_symbol);
	if (err)
		goto restore_failed;
	if (!load_table(&ld, "snapshot_balances", 6, sizeof(core_balance_info), meta->balances, read_balance))
		goto failed;
	RESTORE_ALL(core_balance_info, core_restore_balance);
	if (err)
		goto restore_failed;
	if (!load_table(&ld, "snapshot_orders", 17, sizeof(core_order_info), meta->orders, read_order))
		goto failed;
	RESTORE_ALL(core_order_info, core_restore_order);
	if (err)
		goto restore_failed;
#undef RESTORE_ALL

	memset(&k, 0, sizeof(k));
	k.seq = meta->seq;
	k.next_order_id = meta->next_order_id;
	k.next_trade_id = meta->next_trade_id;
	k.assets = (uint32) meta->assets;
	k.symbols = (uint32) meta->symbols;
	k.accounts = (uint32) meta->accounts;
	k.balances = (uint32) meta->balances;
	k.orders = (uint32) meta->orders;
	err = core_restore_finish(c, &k);
	if (err)
		goto restore_failed;
	core_digest_hex(core_state_digest(c), hex);
	if (strcmp(hex, meta->digest) != 0)
		snprintf(why, sizeof(why), "state digest %s differs from the recorded %s", hex, meta->digest);
	goto done;

restore_failed:
	snprintf(why, sizeof(why), "%s", err);
	goto done;
failed:
	snprintf(why, sizeof(why), "%s", ld.why);
done:
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return why[0] ? why : NULL;
}

/*
 * The snapshots recovery may start from, newest first (at most max).
 * Inside the caller's transaction; the array is palloc'd.
 */
int
snapshot_list(snapshot_meta **out)
{
	int			ret = SPI_execute("SELECT seq, format, digest, next_order_id, next_trade_id, assets, "
								  "symbols, accounts, balances, orders, taken_at "
								  "FROM engine.snapshots ORDER BY seq DESC", true, 0);
	snapshot_meta *m;

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: could not list snapshots: %s", SPI_result_code_string(ret));
	m = palloc0(sizeof(snapshot_meta) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *digest;

		m[i].seq = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		m[i].format = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		digest = TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull));
		strlcpy(m[i].digest, digest, sizeof(m[i].digest));
		m[i].next_order_id = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
		m[i].next_trade_id = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
		m[i].assets = DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
		m[i].symbols = DatumGetInt32(SPI_getbinval(tup, desc, 7, &isnull));
		m[i].accounts = DatumGetInt32(SPI_getbinval(tup, desc, 8, &isnull));
		m[i].balances = DatumGetInt32(SPI_getbinval(tup, desc, 9, &isnull));
		m[i].orders = DatumGetInt32(SPI_getbinval(tup, desc, 10, &isnull));
		m[i].taken_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 11, &isnull));
	}
	*out = m;
	return (int) SPI_processed;
}
