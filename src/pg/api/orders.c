/*
 * orders.c — engine.place_order, engine.cancel_order (by order id and by
 * client_order_id), engine.cancel_all, engine.amend_order; and the checks
 * and encoding of one order that engine.place_orders shares (batches.c).
 *
 * Owns: the errors for order arguments that break the symbol's rules
 * (scale, tick, lot, min_qty, overflow of the funds an order locks) or the
 * core's argument combinations; the rules themselves are the core's
 * (core.h, "Rules").
 * Must never: submit a command whose arguments failed a check; decide an
 * outcome (funds, crossing, post-only, FOK, STP, halted: the core does).
 *
 * A command stands once the worker committed it, whatever the caller's
 * transaction does afterwards: BEGIN; place_order(...); ROLLBACK; leaves the
 * order in the book (like nextval).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "api.h"

PG_FUNCTION_INFO_V1(engine_place_order);
PG_FUNCTION_INFO_V1(engine_cancel_order);
PG_FUNCTION_INFO_V1(engine_cancel_order_by_client_id);
PG_FUNCTION_INFO_V1(engine_cancel_all);
PG_FUNCTION_INFO_V1(engine_amend_order);

/* qty must be a whole number of lots. */
static void
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
static void
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

/* The quote value price x qty (what a buy locks) must fit int64. */
static void
check_value(int64 price, int64 qty, const symbol_ref *ref)
{
	int64		value;

	if (!core_order_value(price, qty, (unsigned) ref->base.decimals, &value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("order value price %s x qty %s is out of range",
						units_to_cstring_trim(price, ref->quote.decimals),
						units_to_cstring_trim(qty, ref->base.decimals)),
				 errdetail("The quote amount must fit in a 64-bit integer of %s units.", ref->quote.code)));
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

/* A resting order of this user, from the core; false if there is none. */
bool
find_own_order(int64 user_id, int64 order_id, TimestampTz deadline, core_order_info *o)
{
	core_engine *c = read_begin(deadline);
	bool		found = core_order_get(c, order_id, o) && o->user_id == user_id;

	read_end();
	return found;
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
	p->max_open_orders = 0;		/* no per-user limit is enforced: unlimited */
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
		check_value(p->price, p->qty, ref);
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
	PG_RETURN_DATUM(order_result_datum(fcinfo, &reply, ref.base.decimals, ref.quote.decimals));
}

/*
 * Submit a cancel of order_id and build its result row; coid (may be NULL)
 * is the client_order_id the caller named the order by.
 */
static Datum
cancel_by_id(FunctionCallInfo fcinfo, int64 user_id, int64 order_id, const char *coid,
			 TimestampTz deadline)
{
	core_order_info o;
	symbol_ref	ref;
	int			base_dec = 0,
				quote_dec = 0;
	core_record rec;
	engine_reply reply;

	if (find_own_order(user_id, order_id, deadline, &o) &&
		lookup_symbol_by_id(o.symbol, deadline, &ref))
	{
		base_dec = ref.base.decimals;
		quote_dec = ref.quote.decimals;
	}
	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_CANCEL;
	rec.u.cancel.user_id = user_id;
	rec.u.cancel.order_id = order_id;
	execute(&rec, 0, NULL, deadline, &reply);
	if (coid != NULL && reply.client_order_id[0] == '\0')
		strlcpy(reply.client_order_id, coid, sizeof(reply.client_order_id));
	return order_result_datum(fcinfo, &reply, base_dec, quote_dec);
}

/* engine.cancel_order(user_id bigint, order_id bigint) RETURNS engine.order_result */
Datum
engine_cancel_order(PG_FUNCTION_ARGS)
{
	int64		user_id = arg_user_id(fcinfo, 0, false);
	int64		order_id;
	TimestampTz deadline = request_deadline();

	arg_require(fcinfo, 1, "order_id");
	order_id = PG_GETARG_INT64(1);
	if (order_id < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid order_id " INT64_FORMAT, order_id),
				 errdetail("Order ids start at 1.")));
	ready_wait(deadline);
	PG_RETURN_DATUM(cancel_by_id(fcinfo, user_id, order_id, NULL, deadline));
}

typedef struct coid_search
{
	const char *coid;
	int64		order_id;
} coid_search;

static bool
match_coid(void *arg, const core_order_info *o)
{
	coid_search *s = arg;

	if (strcmp(o->client_order_id, s->coid) != 0)
		return true;
	s->order_id = o->order_id;
	return false;
}

/* The order a user placed with this client_order_id, from engine.client_keys. */
static int64
order_id_from_client_keys(int64 user_id, const char *coid)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		args[2] = {Int64GetDatum(user_id), CStringGetTextDatum(coid)};
	int64		order_id = 0;
	int			ret;

	SPI_connect();
	ret = SPI_execute_with_args("SELECT order_id FROM engine.client_keys "
								"WHERE user_id OPERATOR(pg_catalog.=) $1 AND kind OPERATOR(pg_catalog.=) 'o' "
								"AND key OPERATOR(pg_catalog.=) $2",
								2, types, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: client key lookup failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		order_id = isnull ? 0 : DatumGetInt64(d);
	}
	SPI_finish();
	return order_id;
}

/*
 * engine.cancel_order(user_id bigint, client_order_id text) RETURNS
 * engine.order_result.  The id is looked up among the user's resting orders
 * (race-free), then in engine.client_keys; an unknown client_order_id is a
 * rejected row (reason unknown_order), not an error, and logs nothing.
 */
Datum
engine_cancel_order_by_client_id(PG_FUNCTION_ARGS)
{
	int64		user_id = arg_user_id(fcinfo, 0, false);
	char	   *coid = arg_text(fcinfo, 1, "client_order_id");
	TimestampTz deadline = request_deadline();
	coid_search s = {coid, 0};

	check_client_order_id(coid);
	ready_wait(deadline);

	core_user_orders(read_begin(deadline), user_id, 0, match_coid, &s);
	read_end();
	if (s.order_id == 0)
		s.order_id = order_id_from_client_keys(user_id, coid);
	if (s.order_id == 0)
		PG_RETURN_DATUM(order_result_values(fcinfo, 0, coid, "rejected", 0, 0, 0, 0,
											core_reason_name(CORE_R_UNKNOWN_ORDER), 0, 0));
	PG_RETURN_DATUM(cancel_by_id(fcinfo, user_id, s.order_id, coid, deadline));
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

/*
 * engine.amend_order(user_id bigint, order_id bigint, qty numeric DEFAULT
 * NULL, price numeric DEFAULT NULL) RETURNS engine.order_result
 *
 * The order must be one of the user's resting orders (its symbol gives the
 * scales to check qty and price against); otherwise the answer is a
 * rejected row with reason unknown_order and nothing is logged.  min_qty is
 * not applied to an amend: qty is the new remaining quantity, and shrinking
 * a partly filled order below the minimum is allowed.
 */
Datum
engine_amend_order(PG_FUNCTION_ARGS)
{
	int64		user_id = arg_user_id(fcinfo, 0, false);
	int64		order_id;
	Numeric		qty = arg_numeric_or_null(fcinfo, 2);
	Numeric		price = arg_numeric_or_null(fcinfo, 3);
	TimestampTz deadline = request_deadline();
	core_order_info o;
	symbol_ref	ref;
	core_record rec;
	engine_reply reply;

	arg_require(fcinfo, 1, "order_id");
	order_id = PG_GETARG_INT64(1);
	if (order_id < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid order_id " INT64_FORMAT, order_id),
				 errdetail("Order ids start at 1.")));
	if (qty == NULL && price == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amend_order needs a new qty or a new price"),
				 errdetail("Both qty and price are NULL.")));

	ready_wait(deadline);
	if (!find_own_order(user_id, order_id, deadline, &o) ||
		!lookup_symbol_by_id(o.symbol, deadline, &ref))
		PG_RETURN_DATUM(order_result_values(fcinfo, order_id, NULL, "rejected", 0, 0, 0, 0,
											core_reason_name(CORE_R_UNKNOWN_ORDER), 0, 0));

	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_AMEND;
	rec.u.amend.user_id = user_id;
	rec.u.amend.order_id = order_id;
	if (qty != NULL)
	{
		rec.u.amend.qty = amount_positive(qty, ref.base.decimals, "qty", ref.base.code);
		check_lot(rec.u.amend.qty, qty, &ref);
	}
	if (price != NULL)
	{
		rec.u.amend.price = amount_positive(price, ref.quote.decimals, "price", ref.quote.code);
		check_tick(rec.u.amend.price, price, &ref);
	}
	check_value(rec.u.amend.price ? rec.u.amend.price : o.price,
				rec.u.amend.qty ? rec.u.amend.qty : o.remaining_qty, &ref);

	execute(&rec, 0, NULL, deadline, &reply);
	PG_RETURN_DATUM(order_result_datum(fcinfo, &reply, ref.base.decimals, ref.quote.decimals));
}
