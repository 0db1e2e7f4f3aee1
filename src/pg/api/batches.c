/*
 * batches.c — engine.place_orders and engine.cancel_orders: many commands
 * in one call, one request to the worker, one batch, consecutive seqs.
 *
 * Owns: reading the arrays, the limit engine.max_batch, and naming the
 * element an error is about.
 * Must never: submit anything before every element has passed every check
 * (malformed input anywhere is an ERROR for the whole call, and nothing
 * runs); decide an outcome (each command is applied on its own by the
 * core: one refused order does not affect the others).
 *
 * Why an array of a composite type: a gateway sends one statement with one
 * typed parameter (binary or text, prepared or not, through a pooler), the
 * elements are checked field by field with the same errors as
 * engine.place_order, and the answers come back as ordinary rows, one per
 * element in the same order (WITH ORDINALITY numbers them).  A jsonb
 * document would move the type checks into this file and lose numeric
 * exactness on the way in from most clients.
 *
 * Errors name the element in their CONTEXT line ("orders[3]", with the
 * array's own subscripts), the way COPY names a line and column.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "api.h"

PG_FUNCTION_INFO_V1(engine_place_orders);
PG_FUNCTION_INFO_V1(engine_cancel_orders);

/* The fields of engine.order_request, in order. */
enum
{
	F_SYMBOL, F_SIDE, F_QTY, F_PRICE, F_TIF, F_POST_ONLY, F_CLIENT_ORDER_ID, F_STP, F_QUOTE_QTY,
	ORDER_REQUEST_FIELDS
};

static const Oid order_request_types[ORDER_REQUEST_FIELDS] = {
	TEXTOID, TEXTOID, NUMERICOID, NUMERICOID, TEXTOID, BOOLOID, TEXTOID, TEXTOID, NUMERICOID
};

/* The element an error is about, for the CONTEXT line. */
typedef struct element_context
{
	const char *array;
	int			subscript;
} element_context;

static void
element_error_context(void *arg)
{
	element_context *e = arg;

	errcontext("%s[%d]", e->array, e->subscript);
}

/* Push the context callback naming e (pop with error_context_stack = cb->previous). */
static void
push_element_context(ErrorContextCallback *cb, element_context *e)
{
	cb->callback = element_error_context;
	cb->arg = e;
	cb->previous = error_context_stack;
	error_context_stack = cb;
}

/* The array argument n: not NULL, one dimension, at most engine.max_batch elements. */
static ArrayType *
arg_batch_array(FunctionCallInfo fcinfo, int n, const char *name)
{
	ArrayType  *a;
	int			count;

	arg_require(fcinfo, n, name);
	a = PG_GETARG_ARRAYTYPE_P(n);
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array, got %d dimensions", name, ARR_NDIM(a))));
	count = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	if (count > engine_max_batch)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s has %d elements, more than engine.max_batch (%d)", name, count,
						engine_max_batch),
				 errdetail("Nothing was submitted."),
				 errhint("Split the batch into calls of at most %d, or have a superuser raise engine.max_batch.",
						 engine_max_batch)));
	return a;
}

static int
first_subscript(ArrayType *a)
{
	return ARR_NDIM(a) == 1 ? ARR_LBOUND(a)[0] : 1;
}

/* Text field f of an element, or dflt when it is NULL (dflt NULL: stays NULL). */
static char *
field_text(const Datum *v, const bool *n, int f, const char *dflt)
{
	return n[f] ? (char *) dflt : TextDatumGetCString(v[f]);
}

/*
 * One engine.order_request into *o.  symbol and side are required; NULL
 * tif, post_only and stp mean their defaults ('gtc', false, 'none'), as
 * when the argument is left out of engine.place_order.
 */
static void
parse_order_request(HeapTupleHeader rec, order_spec *o)
{
	Oid			typid = HeapTupleHeaderGetTypeId(rec);
	TupleDesc	desc = lookup_rowtype_tupdesc(typid, HeapTupleHeaderGetTypMod(rec));
	HeapTupleData tuple;
	Datum		v[ORDER_REQUEST_FIELDS];
	bool		n[ORDER_REQUEST_FIELDS];

	if (desc->natts != ORDER_REQUEST_FIELDS)
		elog(ERROR, "engine: engine.order_request has %d fields, expected %d",
			 desc->natts, ORDER_REQUEST_FIELDS);
	for (int f = 0; f < ORDER_REQUEST_FIELDS; f++)
		if (TupleDescAttr(desc, f)->atttypid != order_request_types[f])
			elog(ERROR, "engine: field %d of engine.order_request has an unexpected type", f + 1);
	tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = rec;
	heap_deform_tuple(&tuple, desc, v, n);
	ReleaseTupleDesc(desc);

	if (n[F_SYMBOL])
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("symbol must not be null")));
	if (n[F_SIDE])
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("side must not be null")));
	o->symbol = field_text(v, n, F_SYMBOL, NULL);
	o->side = parse_side(field_text(v, n, F_SIDE, NULL));
	o->qty = n[F_QTY] ? NULL : DatumGetNumeric(v[F_QTY]);
	o->price = n[F_PRICE] ? NULL : DatumGetNumeric(v[F_PRICE]);
	o->tif = parse_tif(field_text(v, n, F_TIF, "gtc"));
	o->post_only = n[F_POST_ONLY] ? false : DatumGetBool(v[F_POST_ONLY]);
	o->coid = field_text(v, n, F_CLIENT_ORDER_ID, NULL);
	o->stp = parse_stp(field_text(v, n, F_STP, "none"));
	o->quote_qty = n[F_QUOTE_QTY] ? NULL : DatumGetNumeric(v[F_QUOTE_QTY]);
	order_spec_check(o);
}

/* The symbol named name, from the previous element's lookup when it is the same. */
static void
lookup_symbol_cached(const char *name, TimestampTz deadline, symbol_ref *ref, bool *have)
{
	if (*have && strcmp(ref->sym.name, name) == 0)
		return;
	lookup_symbol(name, deadline, ref);
	*have = true;
}

/* Put each reply's engine.order_result row into the call's result set. */
static void
return_results(FunctionCallInfo fcinfo, const request_item *items, int n,
			   const int *base_dec, const int *quote_dec)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	for (int i = 0; i < n; i++)
	{
		Datum		v[ORDER_RESULT_COLUMNS];
		bool		nulls[ORDER_RESULT_COLUMNS];

		if (items[i].reply.kind == REPLY_NO_TARGET)
			order_result_fill(v, nulls, items[i].rec.u.cancel.order_id, NULL, "rejected",
							  0, 0, 0, 0, core_reason_name(CORE_R_UNKNOWN_ORDER),
							  ORDER_FIGURES_UNKNOWN, ORDER_FIGURES_UNKNOWN);
		else
			order_result_row(&items[i].reply, base_dec[i], quote_dec[i], v, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
}

/*
 * engine.place_orders(user_id bigint, orders engine.order_request[])
 *     RETURNS SETOF engine.order_result
 *
 * Every element is checked (as engine.place_order checks its arguments)
 * before anything is submitted; then all of them go to the worker as one
 * request and are applied one after the other, each on its own, with
 * consecutive seqs.  One row per element, in the array's order;
 * client_order_id idempotency holds per element (a repeat within the same
 * array, too: the later one answers 'duplicate').  An empty array returns
 * no rows and submits nothing.
 */
Datum
engine_place_orders(PG_FUNCTION_ARGS)
{
	int64		user_id = arg_user_id(fcinfo, 0, false);
	ArrayType  *arr = arg_batch_array(fcinfo, 1, "orders");
	TimestampTz deadline = request_deadline();
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	order_spec *specs;
	request_item *items;
	int		   *base_dec,
			   *quote_dec;
	symbol_ref	ref;
	bool		have_ref = false;
	element_context ec = {"orders", 0};
	ErrorContextCallback cb;

	int16		typlen;
	bool		typbyval;
	char		typalign;

	InitMaterializedSRF(fcinfo, 0);
	get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign, &elems, &nulls, &n);
	if (n == 0)
		return (Datum) 0;
	specs = palloc(sizeof(order_spec) * n);
	items = palloc(sizeof(request_item) * n);
	base_dec = palloc(sizeof(int) * n);
	quote_dec = palloc(sizeof(int) * n);

	push_element_context(&cb, &ec);
	for (int i = 0; i < n; i++)
	{
		ec.subscript = first_subscript(arr) + i;
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("an element of orders must not be null")));
		parse_order_request(DatumGetHeapTupleHeader(elems[i]), &specs[i]);
	}
	error_context_stack = cb.previous;

	ready_wait(deadline);
	push_element_context(&cb, &ec);
	for (int i = 0; i < n; i++)
	{
		core_record rec;

		ec.subscript = first_subscript(arr) + i;
		lookup_symbol_cached(specs[i].symbol, deadline, &ref, &have_ref);
		order_spec_encode(user_id, &specs[i], &ref, &rec);
		request_item_set(&items[i], &rec, user_id, specs[i].coid);
		base_dec[i] = ref.base.decimals;
		quote_dec[i] = ref.quote.decimals;
	}
	error_context_stack = cb.previous;

	execute_items(items, n, deadline);

	/* A retried client_order_id answers in its original order's units. */
	for (int i = 0; i < n; i++)
	{
		const engine_reply *r = &items[i].reply;

		if (r->kind != REPLY_DUPLICATE || r->symbol == 0 || r->symbol == items[i].rec.u.place.symbol)
			continue;
		if (!lookup_symbol_by_id(r->symbol, deadline, &ref))
			elog(ERROR, "engine: symbol %u of order " INT64_FORMAT " is unknown", r->symbol,
				 r->res.order_id);
		base_dec[i] = ref.base.decimals;
		quote_dec[i] = ref.quote.decimals;
	}
	return_results(fcinfo, items, n, base_dec, quote_dec);
	return (Datum) 0;
}

/*
 * engine.cancel_orders(user_id bigint, order_ids bigint[])
 *     RETURNS SETOF engine.order_result
 *
 * One cancel per element, as engine.cancel_order(user_id, order_id) does
 * it, all in one request; one row per element, in order.  An order that is
 * not one of the user's resting orders when the worker reaches it answers
 * 'rejected', reason unknown_order, and takes no seq, like the single
 * cancel; its amounts are NULL (the single cancel looks up a finished
 * order's figures; a batch does not).
 */
Datum
engine_cancel_orders(PG_FUNCTION_ARGS)
{
	int64		user_id = arg_user_id(fcinfo, 0, false);
	ArrayType  *arr = arg_batch_array(fcinfo, 1, "order_ids");
	TimestampTz deadline = request_deadline();
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	request_item *items;
	int		   *base_dec,
			   *quote_dec;
	element_context ec = {"order_ids", 0};
	ErrorContextCallback cb;

	InitMaterializedSRF(fcinfo, 0);
	if (ARR_ELEMTYPE(arr) != INT8OID)
		elog(ERROR, "engine: order_ids must be bigint[]");
	deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	if (n == 0)
		return (Datum) 0;
	items = palloc(sizeof(request_item) * n);
	base_dec = palloc0(sizeof(int) * n);
	quote_dec = palloc0(sizeof(int) * n);

	push_element_context(&cb, &ec);
	for (int i = 0; i < n; i++)
	{
		core_record rec;

		ec.subscript = first_subscript(arr) + i;
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("an element of order_ids must not be null")));
		memset(&rec, 0, sizeof(rec));
		rec.type = CORE_REC_CANCEL;
		rec.u.cancel.user_id = user_id;
		rec.u.cancel.order_id = check_order_id(DatumGetInt64(elems[i]));
		request_item_set(&items[i], &rec, 0, NULL);
	}
	error_context_stack = cb.previous;

	ready_wait(deadline);
	for (int i = 0; i < n; i++)
	{
		core_order_info o;
		symbol_ref	ref;

		/* The scales of the order's symbol, for the answer's amounts. */
		if (find_own_order(user_id, DatumGetInt64(elems[i]), deadline, &o) &&
			lookup_symbol_by_id(o.symbol, deadline, &ref))
		{
			base_dec[i] = ref.base.decimals;
			quote_dec[i] = ref.quote.decimals;
		}
	}

	execute_items(items, n, deadline);
	return_results(fcinfo, items, n, base_dec, quote_dec);
	return (Datum) 0;
}
