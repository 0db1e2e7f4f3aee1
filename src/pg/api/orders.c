/*
 * orders.c — engine.place_order and engine.cancel_all; the checks of an
 * order's arguments against its symbol that amend_order (cancel.c) shares,
 * and the checks and encoding of one order that engine.place_orders
 * (batches.c) shares.
 *
 * Owns: the errors for order arguments that break the symbol's rules
 * (scale, tick, lot, min_qty, the order's value against min_notional and
 * the one-quote-unit floor, its overflow) or the core's argument
 * combinations; the rules themselves are the core's (core.h, "Rules").
 * Must never: submit a command whose arguments failed a check; decide an
 * outcome (funds, crossing, post-only, FOK, STP, halted, room to rest: the
 * core does); set the per-user limit of a PLACE (the worker stamps the one
 * in force when it sequences the record).
 *
 * A command stands once the worker committed it, whatever the caller's
 * transaction does afterwards: BEGIN; place_order(...); ROLLBACK; leaves the
 * order in the book (like nextval).
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "api.h"

PG_FUNCTION_INFO_V1(engine_place_order);
PG_FUNCTION_INFO_V1(engine_cancel_all);

/* qty must be a whole number of lots. */
void
check_lot(int64 qty, Numeric num, const symbol_ref *ref)
{
	if (!core_qty_on_lot(qty, ref->sym.lot_size))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("qty %s is not a multiple of lot_size %s", numeric_text(num),
						units_to_cstring_trim(ref->sym.lot_size, ref->base.decimals)),
				 errdetail("Symbol \"%s\" trades in lots of %s %s.", ref->sym.name,
						   units_to_cstring_trim(ref->sym.lot_size, ref->base.decimals), ref->base.code)));
}

/* price must be a whole number of ticks. */
void
check_tick(int64 price, Numeric num, const symbol_ref *ref)
{
	if (!core_price_on_tick(price, ref->sym.tick_size))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("price %s is not a multiple of tick_size %s", numeric_text(num),
						units_to_cstring_trim(ref->sym.tick_size, ref->quote.decimals)),
				 errdetail("Symbol \"%s\" is priced in ticks of %s %s.", ref->sym.name,
						   units_to_cstring_trim(ref->sym.tick_size, ref->quote.decimals), ref->quote.code)));
}

/* qty must be at least the symbol's min_qty. */
static void
check_min_qty(int64 qty, Numeric num, const symbol_ref *ref)
{
	if (!core_qty_meets_min(qty, ref->sym.min_qty))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("qty %s is below min_qty %s", numeric_text(num),
						units_to_cstring_trim(ref->sym.min_qty, ref->base.decimals)),
				 errdetail("Symbol \"%s\" takes orders of at least %s %s.", ref->sym.name,
						   units_to_cstring_trim(ref->sym.min_qty, ref->base.decimals), ref->base.code)));
}

/*
 * A limit order's value, floor(price x qty / 10^base_decimals) quote units
 * (what a buy of it locks), must be at least the symbol's minimum
 * (min_notional, and never less than one quote unit) and fit int64: the
 * core's rule (core_check_order_value), as an ERROR.
 */
void
check_order_value(int64 price, int64 qty, const symbol_ref *ref)
{
	int64		value = 0;
	int64		minimum = core_min_order_value(ref->sym.min_notional);
	int			qd = ref->quote.decimals;

	switch (core_check_order_value(price, qty, (unsigned) ref->base.decimals,
								   ref->sym.min_notional, &value))
	{
		case CORE_VALUE_OK:
			return;
		case CORE_VALUE_OVERFLOW:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("order value price %s x qty %s is out of range",
							units_to_cstring_trim(price, qd),
							units_to_cstring_trim(qty, ref->base.decimals)),
					 errdetail("The quote amount must fit in a 64-bit integer of %s units.", ref->quote.code)));
			break;
		case CORE_VALUE_TOO_SMALL:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 ref->sym.min_notional > 1
					 ? errmsg("order value %s is below min_notional %s",
							  units_to_cstring(value, qd), units_to_cstring(minimum, qd))
					 : errmsg("order value %s is below the minimum %s",
							  units_to_cstring(value, qd), units_to_cstring(minimum, qd)),
					 ref->sym.min_notional > 1
					 ? errdetail("price %s x qty %s is worth %s %s; symbol \"%s\" takes limit orders worth at least %s %s.",
								 units_to_cstring_trim(price, qd),
								 units_to_cstring_trim(qty, ref->base.decimals),
								 units_to_cstring(value, qd), ref->quote.code, ref->sym.name,
								 units_to_cstring(minimum, qd), ref->quote.code)
					 : errdetail("price %s x qty %s is worth %s %s; every limit order must be worth at least one unit of %s (%s).",
								 units_to_cstring_trim(price, qd),
								 units_to_cstring_trim(qty, ref->base.decimals),
								 units_to_cstring(value, qd), ref->quote.code, ref->quote.code,
								 units_to_cstring(minimum, qd))));
			break;
	}
}

/* The argument combinations of a PLACE the core allows (price NULL: market). */
static void
check_place_args(bool market, core_side side, core_tif tif, bool post_only,
				 bool has_qty, bool has_quote_qty)
{
	switch (core_place_args_check(market, side, tif, post_only, has_qty, has_quote_qty))
	{
		case CORE_PLACE_ARGS_OK:
			break;
		case CORE_PLACE_ARGS_MARKET_POST_ONLY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("post_only is not allowed on a market order"),
					 errdetail("price is NULL, which makes this a market order.")));
			break;
		case CORE_PLACE_ARGS_MARKET_FOK:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tif 'fok' is not allowed on a market order"),
					 errdetail("price is NULL, which makes this a market order.")));
			break;
		case CORE_PLACE_ARGS_QUOTE_QTY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("quote_qty is only allowed on a market buy"),
					 errhint("Leave price NULL and use side 'buy', or drop quote_qty.")));
			break;
		case CORE_PLACE_ARGS_NO_QTY:
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("qty must not be null"),
					 (market && side == CORE_BUY)
					 ? errhint("A market buy may give quote_qty instead.") : 0));
			break;
	}
}

/*
 * An order's own checks, before any lookup: its client_order_id and the
 * argument combinations the core allows (price NULL: market).
 */
void
order_spec_check(const order_spec *o)
{
	if (o->coid != NULL)
		check_client_order_id(o->coid);
	check_place_args(o->price == NULL, o->side, o->tif, o->post_only,
					 o->qty != NULL, o->quote_qty != NULL);
}

/*
 * The PLACE record of order o of user_id on the symbol ref (o->symbol's):
 * its amounts checked against the symbol's scales, tick, lot and min_qty.
 */
void
order_spec_encode(int64 user_id, const order_spec *o, const symbol_ref *ref, core_record *rec)
{
	core_rec_place *p = &rec->u.place;

	memset(rec, 0, sizeof(*rec));
	rec->type = CORE_REC_PLACE;
	p->user_id = user_id;
	p->symbol = ref->sym.id;
	p->side = (uint8) o->side;
	p->tif = (uint8) o->tif;
	p->stp = (uint8) o->stp;
	p->post_only = o->post_only;
	if (o->qty != NULL)
	{
		p->qty = amount_positive(o->qty, ref->base.decimals, "qty", ref->base.code);
		check_lot(p->qty, o->qty, ref);
		check_min_qty(p->qty, o->qty, ref);
	}
	if (o->price != NULL)
	{
		p->price = amount_positive(o->price, ref->quote.decimals, "price", ref->quote.code);
		check_tick(p->price, o->price, ref);
		check_order_value(p->price, p->qty, ref);
	}
	if (o->quote_qty != NULL)
		p->quote_qty = amount_positive(o->quote_qty, ref->quote.decimals, "quote_qty", ref->quote.code);
	if (o->coid != NULL)
		strlcpy(p->client_order_id, o->coid, sizeof(p->client_order_id));
}

/*
 * engine.place_order(user_id, symbol, side, qty, price DEFAULT NULL, tif
 *     DEFAULT 'gtc', post_only DEFAULT false, client_order_id DEFAULT NULL,
 *     stp DEFAULT 'none', quote_qty DEFAULT NULL) RETURNS engine.order_result
 */
Datum
engine_place_order(PG_FUNCTION_ARGS)
{
	int64		user_id = arg_user_id(fcinfo, 0, false);
	order_spec	o;
	TimestampTz deadline;
	symbol_ref	ref;
	core_record rec;
	engine_reply reply;

	o.symbol = arg_text(fcinfo, 1, "symbol");
	o.side = parse_side(arg_text(fcinfo, 2, "side"));
	o.qty = arg_numeric_or_null(fcinfo, 3);
	o.price = arg_numeric_or_null(fcinfo, 4);
	o.tif = parse_tif(arg_text(fcinfo, 5, "tif"));
	arg_require(fcinfo, 6, "post_only");
	o.post_only = PG_GETARG_BOOL(6);
	o.coid = arg_text_or_null(fcinfo, 7);
	o.stp = parse_stp(arg_text(fcinfo, 8, "stp"));
	o.quote_qty = arg_numeric_or_null(fcinfo, 9);
	deadline = request_deadline();
	order_spec_check(&o);

	ready_wait(deadline);
	lookup_symbol(o.symbol, deadline, &ref);
	order_spec_encode(user_id, &o, &ref, &rec);

	execute(&rec, user_id, o.coid, deadline, &reply);

	/* A retried client_order_id answers in its original order's units. */
	if (reply.kind == REPLY_DUPLICATE && reply.symbol != 0 && reply.symbol != ref.sym.id &&
		!lookup_symbol_by_id(reply.symbol, deadline, &ref))
		elog(ERROR, "engine: symbol %u of order " INT64_FORMAT " is unknown", reply.symbol,
			 reply.res.order_id);
	PG_RETURN_DATUM(order_result_datum(fcinfo, &reply, ref.base.decimals, ref.quote.decimals));
}

/* engine.cancel_all(user_id bigint, symbol text DEFAULT NULL) RETURNS int */
Datum
engine_cancel_all(PG_FUNCTION_ARGS)
{
	int64		user_id = arg_user_id(fcinfo, 0, false);
	char	   *symbol = arg_text_or_null(fcinfo, 1);
	TimestampTz deadline = request_deadline();
	core_record rec;
	engine_reply reply;

	ready_wait(deadline);
	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_CANCEL_ALL;
	rec.u.cancel_all.user_id = user_id;
	if (symbol != NULL)
	{
		symbol_ref	ref;

		lookup_symbol(symbol, deadline, &ref);
		rec.u.cancel_all.symbol = ref.sym.id;
	}
	execute(&rec, 0, NULL, deadline, &reply);
	PG_RETURN_INT32(reply.res.canceled);
}
