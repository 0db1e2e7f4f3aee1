/*
 * reads.c — engine.balances, engine.open_orders, engine.order,
 * engine.depth: live state read in the caller's backend.
 *
 * Owns: copying state out of the arena and formatting it.
 * Must never: wait for the worker, or hold the state lock while formatting
 * or emitting rows (copy under LW_SHARED, release, then build tuples).
 *
 * A read sees the state after some whole record: possibly one whose batch
 * is committing at that moment (see worker/batch.c), never a half-applied one.
 * Reads ERROR while the engine is not ready.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "api.h"

PG_FUNCTION_INFO_V1(engine_balances);
PG_FUNCTION_INFO_V1(engine_open_orders);
PG_FUNCTION_INFO_V1(engine_order);
PG_FUNCTION_INFO_V1(engine_depth);

/* A growable array of fixed-size items, filled by core iterators. */
typedef struct collect
{
	char	   *items;
	size_t		size;
	int			n;
	int			cap;
} collect;

static void
collect_init(collect *c, size_t size)
{
	c->size = size;
	c->n = 0;
	c->cap = 16;
	c->items = palloc(size * c->cap);
}

static void
collect_add(collect *c, const void *item)
{
	if (c->n == c->cap)
	{
		c->cap *= 2;
		c->items = repalloc(c->items, c->size * c->cap);
	}
	memcpy(c->items + c->size * c->n++, item, c->size);
}

static bool
add_balance(void *arg, const core_balance_info *b)
{
	collect_add(arg, b);
	return true;
}

static bool
add_order(void *arg, const core_order_info *o)
{
	collect_add(arg, o);
	return true;
}

static bool
add_level(void *arg, const core_level_info *l)
{
	collect_add(arg, l);
	return true;
}

static int64
arg_reader_user_id(FunctionCallInfo fcinfo, int n)
{
	int64		v;

	arg_require(fcinfo, n, "user_id");
	v = PG_GETARG_INT64(n);
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid user_id " INT64_FORMAT, v),
				 errdetail("user_id must not be negative; 0 is the fee account.")));
	return v;
}

static const char *
resting_status(const core_order_info *o)
{
	return core_status_name(core_resting_status(o->filled_qty));
}

/* engine.balances(user_id bigint) RETURNS TABLE(asset, available, frozen) */
Datum
engine_balances(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		user_id = arg_reader_user_id(fcinfo, 0);
	collect		bals;
	core_asset_info *assets;
	core_engine *c;

	collect_init(&bals, sizeof(core_balance_info));
	c = read_begin(0);
	core_user_balances(c, user_id, add_balance, &bals);
	assets = palloc(sizeof(core_asset_info) * Max(bals.n, 1));
	for (int i = 0; i < bals.n; i++)
		core_asset_get(c, ((core_balance_info *) bals.items)[i].asset, &assets[i]);
	read_end();

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < bals.n; i++)
	{
		core_balance_info *b = &((core_balance_info *) bals.items)[i];
		Datum		v[3];
		bool		n[3] = {false, false, false};

		v[0] = CStringGetTextDatum(assets[i].code);
		v[1] = units_to_numeric(b->available, assets[i].decimals);
		v[2] = units_to_numeric(b->frozen, assets[i].decimals);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

/*
 * engine.open_orders(user_id bigint, symbol text DEFAULT NULL) RETURNS
 * TABLE(order_id, client_order_id, symbol, side, price, qty, remaining_qty,
 * status, created_at), in order-id order.
 */
Datum
engine_open_orders(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		user_id = arg_reader_user_id(fcinfo, 0);
	char	   *symbol = arg_text_or_null(fcinfo, 1);
	uint32		symbol_id = 0;
	collect		orders;
	symbol_ref *refs;
	core_engine *c;

	if (symbol != NULL)
	{
		symbol_ref	ref;

		lookup_symbol(symbol, 0, &ref);
		symbol_id = ref.sym.id;
	}

	collect_init(&orders, sizeof(core_order_info));
	c = read_begin(0);
	core_user_orders(c, user_id, symbol_id, add_order, &orders);
	refs = palloc(sizeof(symbol_ref) * Max(orders.n, 1));
	for (int i = 0; i < orders.n; i++)
	{
		core_order_info *o = &((core_order_info *) orders.items)[i];

		core_symbol_get(c, o->symbol, &refs[i].sym);
		core_asset_get(c, refs[i].sym.base_asset, &refs[i].base);
		core_asset_get(c, refs[i].sym.quote_asset, &refs[i].quote);
	}
	read_end();

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < orders.n; i++)
	{
		core_order_info *o = &((core_order_info *) orders.items)[i];
		symbol_ref *r = &refs[i];
		Datum		v[9];
		bool		n[9] = {false, false, false, false, false, false, false, false, false};

		v[0] = Int64GetDatum(o->order_id);
		n[1] = o->client_order_id[0] == '\0';
		v[1] = n[1] ? (Datum) 0 : CStringGetTextDatum(o->client_order_id);
		v[2] = CStringGetTextDatum(r->sym.name);
		v[3] = CStringGetTextDatum(core_side_name((core_side) o->side));
		v[4] = units_to_numeric(o->price, r->quote.decimals);
		v[5] = units_to_numeric(o->qty, r->base.decimals);
		v[6] = units_to_numeric(o->remaining_qty, r->base.decimals);
		v[7] = CStringGetTextDatum(resting_status(o));
		v[8] = TimestampTzGetDatum((TimestampTz) o->created_ts);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

/* One row of engine.order, from the core or from engine.order_events. */
typedef struct order_row
{
	int64		order_id;
	int64		user_id;
	char	   *client_order_id;	/* NULL: none */
	uint32		symbol;
	char	   *side;
	int64		price;			/* 0: market order */
	int64		qty;
	int64		filled;
	int64		remaining;
	char	   *status;
} order_row;

/* A finished order's last event; false if the order never existed. */
static bool
finished_order(int64 order_id, order_row *row)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(order_id)};
	MemoryContext caller = CurrentMemoryContext;
	bool		found = false;
	int			ret;

	SPI_connect();
	ret = SPI_execute_with_args("SELECT e.user_id, e.symbol_id, e.side, e.price, e.qty, e.filled_qty, "
								"  e.remaining_qty, e.event, "
								"  (SELECT c.client_order_id FROM engine.order_events c "
								"   WHERE c.order_id OPERATOR(pg_catalog.=) $1 "
								"     AND c.client_order_id IS NOT NULL LIMIT 1) "
								"FROM engine.order_events e WHERE e.order_id OPERATOR(pg_catalog.=) $1 "
								"ORDER BY e.seq DESC, e.ev_no DESC LIMIT 1",
								1, types, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: order lookup failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		coid;
		core_status last;
		MemoryContext spi = MemoryContextSwitchTo(caller);

		found = true;
		row->order_id = order_id;
		row->user_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		row->symbol = (uint32) DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
		row->side = TextDatumGetCString(SPI_getbinval(t, d, 3, &isnull));
		row->price = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
		row->qty = DatumGetInt64(SPI_getbinval(t, d, 5, &isnull));
		row->filled = DatumGetInt64(SPI_getbinval(t, d, 6, &isnull));
		row->remaining = DatumGetInt64(SPI_getbinval(t, d, 7, &isnull));
		row->status = TextDatumGetCString(SPI_getbinval(t, d, 8, &isnull));
		coid = SPI_getbinval(t, d, 9, &isnull);
		row->client_order_id = isnull ? NULL : TextDatumGetCString(coid);
		/* An amended order's last event (it rests still: a race with the worker). */
		if (core_status_from_name(row->status, &last))
			row->status = pstrdup(core_status_name(core_order_status(last, row->filled)));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return found;
}

/*
 * engine.order(order_id bigint) RETURNS TABLE(order_id, user_id,
 * client_order_id, symbol, side, price, qty, filled_qty, remaining_qty,
 * status): a resting order from the core, a finished one from its last
 * event in engine.order_events; no row for an id that was never used.
 * price is NULL for a market order.
 */
Datum
engine_order(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		order_id;
	core_order_info o;
	order_row	row;
	symbol_ref	ref;
	bool		resting;
	bool		found;
	core_engine *c;

	arg_require(fcinfo, 0, "order_id");
	order_id = PG_GETARG_INT64(0);

	c = read_begin(0);
	resting = core_order_get(c, order_id, &o);
	read_end();
	if (resting)
	{
		row.order_id = o.order_id;
		row.user_id = o.user_id;
		row.client_order_id = o.client_order_id[0] ? pstrdup(o.client_order_id) : NULL;
		row.symbol = o.symbol;
		row.side = pstrdup(core_side_name((core_side) o.side));
		row.price = o.price;
		row.qty = o.qty;
		row.filled = o.filled_qty;
		row.remaining = o.remaining_qty;
		row.status = pstrdup(resting_status(&o));
		found = true;
	}
	else
		found = finished_order(order_id, &row);

	InitMaterializedSRF(fcinfo, 0);
	if (!found)
		return (Datum) 0;

	c = read_begin(0);
	found = core_symbol_get(c, row.symbol, &ref.sym) &&
		core_asset_get(c, ref.sym.base_asset, &ref.base) &&
		core_asset_get(c, ref.sym.quote_asset, &ref.quote);
	read_end();
	if (!found)
		return (Datum) 0;

	{
		Datum		v[10];
		bool		n[10] = {false, false, false, false, false, false, false, false, false, false};

		v[0] = Int64GetDatum(row.order_id);
		v[1] = Int64GetDatum(row.user_id);
		n[2] = row.client_order_id == NULL;
		v[2] = n[2] ? (Datum) 0 : CStringGetTextDatum(row.client_order_id);
		v[3] = CStringGetTextDatum(ref.sym.name);
		v[4] = CStringGetTextDatum(row.side);
		n[5] = row.price == 0;
		v[5] = n[5] ? (Datum) 0 : units_to_numeric(row.price, ref.quote.decimals);
		v[6] = units_to_numeric(row.qty, ref.base.decimals);
		v[7] = units_to_numeric(row.filled, ref.base.decimals);
		v[8] = units_to_numeric(row.remaining, ref.base.decimals);
		v[9] = CStringGetTextDatum(row.status);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

/*
 * engine.depth(symbol text, levels int DEFAULT 20) RETURNS TABLE(side,
 * price, qty, orders): bids best first, then asks best first, at most
 * `levels` per side.
 */
Datum
engine_depth(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *symbol = arg_text(fcinfo, 0, "symbol");
	int32		levels;
	symbol_ref	ref;
	collect		lv;
	core_engine *c;

	arg_require(fcinfo, 1, "levels");
	levels = PG_GETARG_INT32(1);
	if (levels < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid levels %d", levels),
				 errdetail("levels must be at least 1.")));
	lookup_symbol(symbol, 0, &ref);

	collect_init(&lv, sizeof(core_level_info));
	c = read_begin(0);
	core_book_levels(c, ref.sym.id, CORE_BUY, (uint32) levels, add_level, &lv);
	core_book_levels(c, ref.sym.id, CORE_SELL, (uint32) levels, add_level, &lv);
	read_end();

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < lv.n; i++)
	{
		core_level_info *l = &((core_level_info *) lv.items)[i];
		Datum		v[4];
		bool		n[4] = {false, false, false, false};

		v[0] = CStringGetTextDatum(l->side == CORE_BUY ? "bid" : "ask");
		v[1] = units_to_numeric(l->price, ref.quote.decimals);
		v[2] = units128_to_numeric(l->qty_hi, l->qty_lo, ref.base.decimals);
		v[3] = Int32GetDatum(l->orders);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}
