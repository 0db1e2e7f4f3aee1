/*
 * snapshots.c — reading snapshots of format 2 with plain SQL: the functions
 * behind the engine.snapshot_*_v views, which decode a chunk's items
 * (core_item_decode) into rows, and engine.crc32c, which lets a reader
 * check a chunk against its stored CRC.
 *
 * Owns: the SQL shapes of the decoded items.
 * Must never: touch the engine state or shared memory; trust a chunk (a
 * malformed one is an ERROR naming the item that does not decode).
 *
 * Each function takes one chunk's data and returns its items in order, the
 * first column n being the item's place in the chunk (0-based): the
 * item's place in its kind is the chunk's first_item + n.  Amounts are raw
 * smallest units, as in the tables of release 1.0's format.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "api.h"
#include "crc.h"

PG_FUNCTION_INFO_V1(engine_snapshot_assets);
PG_FUNCTION_INFO_V1(engine_snapshot_symbols);
PG_FUNCTION_INFO_V1(engine_snapshot_balances);
PG_FUNCTION_INFO_V1(engine_snapshot_orders);
PG_FUNCTION_INFO_V1(engine_crc32c);

#define ITEM_MAX_COLS 16

typedef void (*item_to_row) (const core_item *it, Datum *v, bool *n);

static void
asset_row(const core_item *it, Datum *v, bool *n pg_attribute_unused())
{
	const core_asset_info *a = &it->u.asset;

	v[1] = Int32GetDatum((int32) a->id);
	v[2] = CStringGetTextDatum(a->code);
	v[3] = Int16GetDatum(a->decimals);
	v[4] = Int64GetDatum(a->supply);
}

static void
symbol_row(const core_item *it, Datum *v, bool *n pg_attribute_unused())
{
	const core_symbol_info *s = &it->u.symbol;

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
}

static void
balance_row(const core_item *it, Datum *v, bool *n pg_attribute_unused())
{
	const core_balance_info *b = &it->u.balance;

	v[1] = Int64GetDatum(b->user_id);
	v[2] = Int32GetDatum((int32) b->asset);
	v[3] = Int64GetDatum(b->available);
	v[4] = Int64GetDatum(b->frozen);
}

static void
order_row(const core_item *it, Datum *v, bool *n)
{
	const core_order_info *o = &it->u.order;

	v[1] = Int64GetDatum(o->order_id);
	v[2] = Int64GetDatum(o->user_id);
	v[3] = Int32GetDatum((int32) o->symbol);
	v[4] = Int16GetDatum(o->side);
	v[5] = Int64GetDatum(o->price);
	v[6] = Int64GetDatum(o->filled_qty);
	v[7] = Int64GetDatum(o->remaining_qty);
	v[8] = Int64GetDatum(o->locked);
	v[9] = Int64GetDatum(o->notional_hi);
	v[10] = Int64GetDatum((int64) o->notional_lo);
	v[11] = Int64GetDatum(o->created_ts);
	v[12] = Int64GetDatum(o->queued_seq);
	v[13] = Int16GetDatum(o->stp);
	v[14] = BoolGetDatum(o->post_only);
	n[15] = o->client_order_id[0] == '\0';
	v[15] = n[15] ? (Datum) 0 : CStringGetTextDatum(o->client_order_id);
}

static Datum
decode_chunk(FunctionCallInfo fcinfo, uint8 kind, item_to_row fn)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bytea	   *data;
	const uint8 *p;
	size_t		len;
	size_t		at = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	data = PG_GETARG_BYTEA_PP(0);
	p = (const uint8 *) VARDATA_ANY(data);
	len = VARSIZE_ANY_EXHDR(data);
	for (int32 i = 0; at < len; i++)
	{
		core_item	it;
		Datum		v[ITEM_MAX_COLS];
		bool		n[ITEM_MAX_COLS];
		size_t		took = core_item_decode(kind, p + at, len - at, &it);

		if (took == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("snapshot chunk item %d (byte %zu of %zu) does not decode", i, at, len),
					 errhint("Compare engine.crc32c(data) with the chunk's crc.")));
		at += took;
		memset(n, 0, sizeof(n));
		v[0] = Int32GetDatum(i);
		fn(&it, v, n);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

/* engine._snapshot_assets(data bytea) RETURNS TABLE(n, asset_id, code, decimals, supply) */
Datum
engine_snapshot_assets(PG_FUNCTION_ARGS)
{
	return decode_chunk(fcinfo, CORE_ITEM_ASSET, asset_row);
}

/*
 * engine._snapshot_symbols(data bytea) RETURNS TABLE(n, symbol_id, symbol,
 * base_asset_id, quote_asset_id, tick_size, lot_size, min_qty,
 * maker_fee_ppm, taker_fee_ppm, status, min_notional)
 */
Datum
engine_snapshot_symbols(PG_FUNCTION_ARGS)
{
	return decode_chunk(fcinfo, CORE_ITEM_SYMBOL, symbol_row);
}

/* engine._snapshot_balances(data bytea) RETURNS TABLE(n, user_id, asset_id, available, frozen) */
Datum
engine_snapshot_balances(PG_FUNCTION_ARGS)
{
	return decode_chunk(fcinfo, CORE_ITEM_BALANCE, balance_row);
}

/*
 * engine._snapshot_orders(data bytea) RETURNS TABLE(n, order_id, user_id,
 * symbol_id, side, price, filled_qty, remaining_qty, locked, notional_hi,
 * notional_lo, created_ts, queued_seq, stp, post_only, client_order_id)
 */
Datum
engine_snapshot_orders(PG_FUNCTION_ARGS)
{
	return decode_chunk(fcinfo, CORE_ITEM_ORDER, order_row);
}

/* engine.crc32c(data bytea) RETURNS integer: CRC-32C of the bytes, as a chunk's crc column stores it. */
Datum
engine_crc32c(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);

	PG_RETURN_INT32((int32) crc32c_bytes(VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data)));
}
