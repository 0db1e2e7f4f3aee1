/*
 * refdata.c — engine.create_asset, engine.create_symbol,
 * engine.set_symbol_status.
 *
 * Owns: the checks of reference-data arguments.
 * Must never: submit a command whose arguments failed a check.
 *
 * These return an id or nothing, so there is no row to carry a refusal: a
 * refused reference-data command (duplicate, capacity) is an ERROR.  The
 * duplicate cases are caught before submitting; a refusal that only the
 * worker could see (a race with another session creating the same code, a
 * full pool) is logged as a rejected command and then reported as an ERROR.
 */
#include "postgres.h"

#include "fmgr.h"

#include "api.h"

PG_FUNCTION_INFO_V1(engine_create_asset);
PG_FUNCTION_INFO_V1(engine_create_symbol);
PG_FUNCTION_INFO_V1(engine_set_symbol_status);

static void
error_if_refused(const engine_reply *r, const char *what, const char *name)
{
	core_reason why = (core_reason) r->res.reason;

	if (r->res.status == CORE_ST_OK)
		return;
	if (why == CORE_R_DUPLICATE_ASSET || why == CORE_R_DUPLICATE_SYMBOL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("%s \"%s\" already exists", what, quote_input(name))));
	if (why == CORE_R_CAPACITY)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot create %s \"%s\": the engine is full", what, quote_input(name)),
				 errhint("Raise engine.max_%ss and restart the server.", what)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s \"%s\" was refused: %s", what, quote_input(name),
					core_reason_name(why) ? core_reason_name(why) : "rejected")));
}

/* engine.create_asset(code text, decimals int) RETURNS int */
Datum
engine_create_asset(PG_FUNCTION_ARGS)
{
	char	   *code = arg_text(fcinfo, 0, "code");
	int32		decimals;
	TimestampTz deadline = request_deadline();
	core_record rec;
	engine_reply reply;
	bool		exists;

	arg_require(fcinfo, 1, "decimals");
	decimals = PG_GETARG_INT32(1);
	check_code(code, CORE_ASSET_CODE_MAX, "asset code", "An asset code");
	if (decimals < 0 || decimals > CORE_MAX_DECIMALS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid decimals %d", decimals),
				 errdetail("decimals must be between 0 and %d.", CORE_MAX_DECIMALS)));

	ready_wait(deadline);
	exists = core_asset_find(read_begin(deadline), code) != 0;
	read_end();
	if (exists)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("asset \"%s\" already exists", quote_input(code))));

	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_CREATE_ASSET;
	strlcpy(rec.u.create_asset.code, code, sizeof(rec.u.create_asset.code));
	rec.u.create_asset.decimals = (uint8) decimals;
	execute(&rec, 0, NULL, deadline, &reply);
	error_if_refused(&reply, "asset", code);
	PG_RETURN_INT32((int32) reply.res.id);
}

/* A non-negative amount at `decimals`, or 0 for NULL (argument n). */
static int64
optional_minimum(FunctionCallInfo fcinfo, int n, int decimals, const char *argname,
				 const char *unit)
{
	int64		v;

	if (PG_ARGISNULL(n))
		return 0;
	v = numeric_to_units(PG_GETARG_NUMERIC(n), decimals, argname, unit);
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative, got %s", argname,
						numeric_text(PG_GETARG_NUMERIC(n)))));
	return v;
}

/*
 * engine.create_symbol(symbol text, base text, quote text, tick_size numeric,
 *     lot_size numeric, maker_fee numeric DEFAULT 0, taker_fee numeric
 *     DEFAULT 0, min_qty numeric DEFAULT NULL, min_notional numeric DEFAULT
 *     NULL) RETURNS int
 *
 * min_qty is in whole base units, min_notional in whole quote units (the
 * least value price x qty a limit order may have); NULL or 0: no minimum,
 * beyond the value of one quote unit that every limit order needs.  A
 * catalog of release 1.0 has no min_notional argument (fcinfo->nargs 8).
 */
Datum
engine_create_symbol(PG_FUNCTION_ARGS)
{
	char	   *name = arg_text(fcinfo, 0, "symbol");
	char	   *base_code = arg_text(fcinfo, 1, "base");
	char	   *quote_code = arg_text(fcinfo, 2, "quote");
	TimestampTz deadline = request_deadline();
	core_asset_info base,
				quote;
	core_rec_create_symbol *s;
	core_record rec;
	engine_reply reply;
	bool		exists;

	arg_require(fcinfo, 3, "tick_size");
	arg_require(fcinfo, 4, "lot_size");
	arg_require(fcinfo, 5, "maker_fee");
	arg_require(fcinfo, 6, "taker_fee");
	check_code(name, CORE_SYMBOL_NAME_MAX, "symbol", "A symbol");

	ready_wait(deadline);
	lookup_asset(base_code, deadline, &base);
	lookup_asset(quote_code, deadline, &quote);
	if (base.id == quote.id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("base and quote must differ, both are \"%s\"", quote_input(base_code))));

	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_CREATE_SYMBOL;
	s = &rec.u.create_symbol;
	strlcpy(s->name, name, sizeof(s->name));
	s->base_asset = base.id;
	s->quote_asset = quote.id;
	s->tick_size = amount_positive(PG_GETARG_NUMERIC(3), quote.decimals, "tick_size", quote.code);
	s->lot_size = amount_positive(PG_GETARG_NUMERIC(4), base.decimals, "lot_size", base.code);
	s->maker_fee_ppm = numeric_to_ppm(PG_GETARG_NUMERIC(5), "maker_fee");
	s->taker_fee_ppm = numeric_to_ppm(PG_GETARG_NUMERIC(6), "taker_fee");
	s->min_qty = optional_minimum(fcinfo, 7, base.decimals, "min_qty", base.code);
	if (PG_NARGS() > 8)
		s->min_notional = optional_minimum(fcinfo, 8, quote.decimals, "min_notional", quote.code);

	exists = core_symbol_find(read_begin(deadline), name) != 0;
	read_end();
	if (exists)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("symbol \"%s\" already exists", quote_input(name))));

	execute(&rec, 0, NULL, deadline, &reply);
	error_if_refused(&reply, "symbol", name);
	PG_RETURN_INT32((int32) reply.res.id);
}

/* engine.set_symbol_status(symbol text, status text) RETURNS void */
Datum
engine_set_symbol_status(PG_FUNCTION_ARGS)
{
	char	   *name = arg_text(fcinfo, 0, "symbol");
	char	   *status = arg_text(fcinfo, 1, "status");
	core_symbol_status st = parse_symbol_status(status);
	TimestampTz deadline = request_deadline();
	symbol_ref ref;
	core_record rec;
	engine_reply reply;

	ready_wait(deadline);
	lookup_symbol(name, deadline, &ref);

	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_SET_SYMBOL_STATUS;
	rec.u.set_symbol_status.symbol = ref.sym.id;
	rec.u.set_symbol_status.status = (uint8) st;
	execute(&rec, 0, NULL, deadline, &reply);
	error_if_refused(&reply, "symbol", name);
	PG_RETURN_VOID();
}
