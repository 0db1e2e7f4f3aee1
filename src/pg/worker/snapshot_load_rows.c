/*
 * snapshot_load_rows.c — loading a snapshot of format 1: release 1.0's
 * rows, one per item, in engine.snapshot_assets, _symbols, _balances and
 * _orders (snapshot_load.c loads format 2 and calls this for format 1).
 *
 * The row tables have no index: each is read by one sequential scan and its
 * rows are placed by their walk position (pos), every position filled
 * exactly once; then the items are restored in walk order, the orders
 * through the checked restore.  The arrays hold the whole snapshot, which
 * is acceptable for the one load after an upgrade from release 1.0: every
 * snapshot written since is format 2.
 *
 * Called only by snapshot_load.  Never writes a table.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

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
 * Restores format-1 snapshot meta->seq into c (just created): assets,
 * symbols and balances, then core_restore_check_begin(rc, scratch) and the
 * orders through the checked restore.  The caller finishes the checks and
 * the counters.  Returns NULL, or why the snapshot cannot be used.
 */
const char *
snapshot_load_rows(core_engine *c, const snapshot_meta *meta, core_restore_check *rc, void *scratch)
{
	static char why[256];
	snapshot_loader ld;
	const char *err = NULL;
	MemoryContext cxt;
	MemoryContext old;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "engine snapshot load (format 1)",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	memset(&ld, 0, sizeof(ld));
	ld.seq = meta->seq;
	why[0] = '\0';

#define RESTORE_ALL(type, call) \
	for (int64 i = 0; i < ld.expected && err == NULL; i++) \
		err = call((const type *) ((char *) ld.items + i * sizeof(type)))
#define RESTORE_ASSET(x) core_restore_asset(c, x)
#define RESTORE_SYMBOL(x) core_restore_symbol(c, x)
#define RESTORE_BALANCE(x) core_restore_balance(c, x)
#define RESTORE_ORDER(x) core_restore_order_checked(c, rc, x)

	if (!load_table(&ld, "snapshot_assets", 5, sizeof(core_asset_info), meta->assets, read_asset))
		goto failed;
	RESTORE_ALL(core_asset_info, RESTORE_ASSET);
	if (err)
		goto restore_failed;
	if (!load_table(&ld, "snapshot_symbols", 12, sizeof(core_symbol_info), meta->symbols, read_symbol))
		goto failed;
	RESTORE_ALL(core_symbol_info, RESTORE_SYMBOL);
	if (err)
		goto restore_failed;
	if (!load_table(&ld, "snapshot_balances", 6, sizeof(core_balance_info), meta->balances, read_balance))
		goto failed;
	RESTORE_ALL(core_balance_info, RESTORE_BALANCE);
	if (err)
		goto restore_failed;
	core_restore_check_begin(c, rc, scratch);
	if (!load_table(&ld, "snapshot_orders", 17, sizeof(core_order_info), meta->orders, read_order))
		goto failed;
	RESTORE_ALL(core_order_info, RESTORE_ORDER);
	if (err)
		goto restore_failed;
#undef RESTORE_ALL
#undef RESTORE_ASSET
#undef RESTORE_SYMBOL
#undef RESTORE_BALANCE
#undef RESTORE_ORDER
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
