/*
 * cancel.c — engine.cancel_order (by order id and by client_order_id) and
 * engine.amend_order: the commands that act on a resting order.
 *
 * Owns: the checks of their arguments (shapes first, before any lookup, so
 * a malformed argument is an ERROR whether or not the order exists; then,
 * for the caller's own resting order, its symbol's rules, shared with
 * place_order in orders.c) and the answer when the order is not one of the
 * caller's resting orders.
 * Must never: submit a command whose arguments failed a check; answer
 * differently for another user's order than for an order that does not
 * exist.
 *
 * One rule for refusals (doc/semantics.md, "Cancel and amend"): a cancel or
 * amend whose order is not a resting order of the caller changes nothing
 * and consumes no seq.  This backend answers it without submitting when it
 * sees that itself; when the order finished between its look and the
 * worker's, the worker answers it unsequenced (REPLY_NO_TARGET) and the
 * answer is built here the same way.  The answer is a rejected row with
 * reason unknown_order, in the units of the order it names: for one of the
 * caller's finished orders, its filled quantity and average price at its
 * symbol's scale (remaining 0); for any other id, NULL quantities.
 *
 * cancel_order and amend_order are SECURITY DEFINER with a fixed
 * search_path (sql/engine--1.0--1.1.sql): they read engine.order_events
 * and engine.client_keys on the caller's behalf, with schema-qualified
 * names and operators.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "api.h"

PG_FUNCTION_INFO_V1(engine_cancel_order);
PG_FUNCTION_INFO_V1(engine_cancel_order_by_client_id);
PG_FUNCTION_INFO_V1(engine_amend_order);

/* A resting order of this user, from the core; false if there is none. */
bool
find_own_order(int64 user_id, int64 order_id, TimestampTz deadline, core_order_info *o)
{
	core_engine *c = read_begin(deadline);
	bool		found = core_order_get(c, order_id, o) && o->user_id == user_id;

	read_end();
	return found;
}

/* An order id as an argument: ERROR 22023 unless it is 1 or more. */
int64
check_order_id(int64 order_id)
{
	if (order_id < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid order_id " INT64_FORMAT, order_id),
				 errdetail("Order ids start at 1.")));
	return order_id;
}

static int64
arg_order_id(FunctionCallInfo fcinfo, int n)
{
	arg_require(fcinfo, n, "order_id");
	return check_order_id(PG_GETARG_INT64(n));
}

/*
 * The answer to a cancel or amend of order_id that is not a resting order
 * of user_id (see the header).  coid (may be NULL) is the client_order_id
 * the caller named the order by.
 */
static Datum
refused_answer(FunctionCallInfo fcinfo, int64 user_id, int64 order_id, const char *coid)
{
	const char *reason = core_reason_name(CORE_R_UNKNOWN_ORDER);
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(order_id)};
	MemoryContext caller = CurrentMemoryContext;
	bool		own = false;
	int64		filled = 0,
				avg_price = 0;
	uint32		symbol = 0;
	char	   *own_coid = NULL;
	symbol_ref	ref;
	int			ret;

	SPI_connect();
	ret = SPI_execute_with_args(ORDER_STATE_SQL, 1, types, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: order lookup failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		v;

		own = DatumGetInt64(SPI_getbinval(t, d, 7, &isnull)) == user_id;
		filled = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		v = SPI_getbinval(t, d, 5, &isnull);
		avg_price = isnull ? 0 : DatumGetInt64(v);
		symbol = (uint32) DatumGetInt32(SPI_getbinval(t, d, 6, &isnull));
		v = SPI_getbinval(t, d, 8, &isnull);
		if (!isnull)
		{
			MemoryContext spi = MemoryContextSwitchTo(caller);

			own_coid = TextDatumGetCString(v);
			MemoryContextSwitchTo(spi);
		}
	}
	SPI_finish();

	if (own && lookup_symbol_by_id(symbol, 0, &ref))
		return order_result_values(fcinfo, order_id, coid ? coid : own_coid, "rejected",
								   filled, 0, avg_price, 0, reason,
								   ref.base.decimals, ref.quote.decimals);
	return order_result_values(fcinfo, order_id, coid, "rejected", 0, 0, 0, 0, reason,
							   ORDER_FIGURES_UNKNOWN, ORDER_FIGURES_UNKNOWN);
}

/*
 * Cancel order_id, one of user_id's resting orders as o says, and build
 * the answer; coid (may be NULL) is the client_order_id the caller named it
 * by.
 */
static Datum
cancel_resting(FunctionCallInfo fcinfo, int64 user_id, const core_order_info *o,
			   const char *coid, TimestampTz deadline)
{
	symbol_ref	ref;
	core_record rec;
	engine_reply reply;

	if (!lookup_symbol_by_id(o->symbol, deadline, &ref))
		return refused_answer(fcinfo, user_id, o->order_id, coid);
	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_CANCEL;
	rec.u.cancel.user_id = user_id;
	rec.u.cancel.order_id = o->order_id;
	execute(&rec, 0, NULL, deadline, &reply);
	if (reply.kind == REPLY_NO_TARGET)
		return refused_answer(fcinfo, user_id, o->order_id, coid);
	if (coid != NULL && reply.client_order_id[0] == '\0')
		strlcpy(reply.client_order_id, coid, sizeof(reply.client_order_id));
	return order_result_datum(fcinfo, &reply, ref.base.decimals, ref.quote.decimals);
}

/* engine.cancel_order(user_id bigint, order_id bigint) RETURNS engine.order_result */
Datum
engine_cancel_order(PG_FUNCTION_ARGS)
{
	int64		user_id = arg_user_id(fcinfo, 0, false);
	int64		order_id = arg_order_id(fcinfo, 1);
	TimestampTz deadline = request_deadline();
	core_order_info o;

	ready_wait(deadline);
	if (!find_own_order(user_id, order_id, deadline, &o))
		PG_RETURN_DATUM(refused_answer(fcinfo, user_id, order_id, NULL));
	PG_RETURN_DATUM(cancel_resting(fcinfo, user_id, &o, NULL, deadline));
}

typedef struct coid_search
{
	const char *coid;
	core_order_info found;
} coid_search;

static bool
match_coid(void *arg, const core_order_info *o)
{
	coid_search *s = arg;

	if (strcmp(o->client_order_id, s->coid) != 0)
		return true;
	s->found = *o;
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
 * (race-free), then in engine.client_keys; a client_order_id the user never
 * used is answered like an unknown order id, without an order_id.
 */
Datum
engine_cancel_order_by_client_id(PG_FUNCTION_ARGS)
{
	int64		user_id = arg_user_id(fcinfo, 0, false);
	char	   *coid = arg_text(fcinfo, 1, "client_order_id");
	TimestampTz deadline = request_deadline();
	coid_search s;
	int64		order_id;

	check_client_order_id(coid);
	ready_wait(deadline);

	memset(&s, 0, sizeof(s));
	s.coid = coid;
	core_user_orders(read_begin(deadline), user_id, 0, match_coid, &s);
	read_end();
	if (s.found.order_id != 0)
		PG_RETURN_DATUM(cancel_resting(fcinfo, user_id, &s.found, coid, deadline));
	order_id = order_id_from_client_keys(user_id, coid);
	if (order_id == 0)
		PG_RETURN_DATUM(order_result_values(fcinfo, 0, coid, "rejected", 0, 0, 0, 0,
											core_reason_name(CORE_R_UNKNOWN_ORDER),
											ORDER_FIGURES_UNKNOWN, ORDER_FIGURES_UNKNOWN));
	PG_RETURN_DATUM(refused_answer(fcinfo, user_id, order_id, coid));
}

/*
 * engine.amend_order(user_id bigint, order_id bigint, qty numeric DEFAULT
 * NULL, price numeric DEFAULT NULL) RETURNS engine.order_result
 *
 * qty and price are checked for what any amount must be (a number,
 * positive, at most 18 decimal places) before the order is looked up; then,
 * for one of the caller's resting orders, against its symbol (scale, lot,
 * tick, the order's value).  min_qty is not applied to an amend: qty is the
 * new remaining quantity, and shrinking a partly filled order below the
 * minimum is allowed.
 */
Datum
engine_amend_order(PG_FUNCTION_ARGS)
{
	int64		user_id = arg_user_id(fcinfo, 0, false);
	int64		order_id = arg_order_id(fcinfo, 1);
	Numeric		qty = arg_numeric_or_null(fcinfo, 2);
	Numeric		price = arg_numeric_or_null(fcinfo, 3);
	TimestampTz deadline = request_deadline();
	core_order_info o;
	symbol_ref	ref;
	core_record rec;
	engine_reply reply;

	if (qty == NULL && price == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amend_order needs a new qty or a new price"),
				 errdetail("Both qty and price are NULL.")));
	if (qty != NULL)
		check_amount_shape(qty, "qty");
	if (price != NULL)
		check_amount_shape(price, "price");

	ready_wait(deadline);
	if (!find_own_order(user_id, order_id, deadline, &o) ||
		!lookup_symbol_by_id(o.symbol, deadline, &ref))
		PG_RETURN_DATUM(refused_answer(fcinfo, user_id, order_id, NULL));

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
	check_order_value(rec.u.amend.price ? rec.u.amend.price : o.price,
					  rec.u.amend.qty ? rec.u.amend.qty : o.remaining_qty, &ref);

	execute(&rec, 0, NULL, deadline, &reply);
	if (reply.kind == REPLY_NO_TARGET)
		PG_RETURN_DATUM(refused_answer(fcinfo, user_id, order_id, NULL));
	PG_RETURN_DATUM(order_result_datum(fcinfo, &reply, ref.base.decimals, ref.quote.decimals));
}
