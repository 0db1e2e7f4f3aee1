/*
 * api_util.c — argument checks, lookups and result building shared by the
 * SQL functions.
 *
 * Owns: the text and SQLSTATE of every input-validation error.
 * Must never: submit anything, or hold the state lock across anything that
 * can wait or throw (lookups copy what they need and release).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "api.h"

/* ------------------------------------------------------------ arguments */

void
arg_require(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

char *
arg_text(FunctionCallInfo fcinfo, int n, const char *name)
{
	arg_require(fcinfo, n, name);
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

char *
arg_text_or_null(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* user_id >= 1; the fee account (0) only where allow_fee_account. */
int64
arg_user_id(FunctionCallInfo fcinfo, int n, bool allow_fee_account)
{
	int64		v;

	arg_require(fcinfo, n, "user_id");
	v = PG_GETARG_INT64(n);
	if (v < (allow_fee_account ? 0 : 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid user_id " INT64_FORMAT, v),
				 errdetail(allow_fee_account ? "user_id must not be negative."
						   : "user_id must be at least 1; 0 is the fee account.")));
	return v;
}

Numeric
arg_numeric_or_null(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : PG_GETARG_NUMERIC(n);
}

char *
numeric_text(Numeric num)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
}

int64
amount_positive(Numeric num, int decimals, const char *argname, const char *unit)
{
	int64		v = numeric_to_units(num, decimals, argname, unit);

	if (v <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be positive, got %s", argname, numeric_text(num))));
	return v;
}

/* ------------------------------------------------------------ enumerations */

core_side
parse_side(const char *s)
{
	if (strcmp(s, "buy") == 0)
		return CORE_BUY;
	if (strcmp(s, "sell") == 0)
		return CORE_SELL;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid side \"%s\"", s),
			 errhint("side is 'buy' or 'sell'.")));
	pg_unreachable();
}

core_tif
parse_tif(const char *s)
{
	if (strcmp(s, "gtc") == 0)
		return CORE_GTC;
	if (strcmp(s, "ioc") == 0)
		return CORE_IOC;
	if (strcmp(s, "fok") == 0)
		return CORE_FOK;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid tif \"%s\"", s),
			 errhint("tif is 'gtc', 'ioc' or 'fok'.")));
	pg_unreachable();
}

core_stp
parse_stp(const char *s)
{
	if (strcmp(s, "none") == 0)
		return CORE_STP_NONE;
	if (strcmp(s, "cancel_taker") == 0)
		return CORE_STP_CANCEL_TAKER;
	if (strcmp(s, "cancel_maker") == 0)
		return CORE_STP_CANCEL_MAKER;
	if (strcmp(s, "cancel_both") == 0)
		return CORE_STP_CANCEL_BOTH;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid stp \"%s\"", s),
			 errhint("stp is 'none', 'cancel_taker', 'cancel_maker' or 'cancel_both'.")));
	pg_unreachable();
}

core_symbol_status
parse_symbol_status(const char *s)
{
	if (strcmp(s, "trading") == 0)
		return CORE_TRADING;
	if (strcmp(s, "halted") == 0)
		return CORE_HALTED;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid status \"%s\"", s),
			 errhint("status is 'trading' or 'halted'.")));
	pg_unreachable();
}

/* ------------------------------------------------------------ text fields */

/* Same rule as the core's client_id check: printable ASCII, no quotes. */
void
check_client_order_id(const char *s)
{
	size_t		n = strlen(s);
	bool		ok = n >= 1 && n <= CORE_CLIENT_ID_MAX;

	for (size_t i = 0; ok && i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			ok = false;
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid client_order_id \"%s\"", s),
				 errdetail("client_order_id must be 1 to %d printable ASCII characters without spaces, quotes or backslashes.",
						   CORE_CLIENT_ID_MAX)));
}

void
check_ref(const char *s)
{
	size_t		n = strlen(s);

	if (n < 1 || n > ENGINE_REF_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid ref \"%s\"", s),
				 errdetail("ref must be 1 to %d bytes.", ENGINE_REF_MAX)));
}

/* Asset codes and symbol names: the core's text_field rule. */
void
check_code(const char *s, size_t max, const char *argname, const char *what)
{
	size_t		n = strlen(s);
	bool		ok = n >= 1 && n <= max;

	for (size_t i = 0; ok && i < n; i++)
	{
		char		ch = s[i];

		ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			ch == '_' || ch == '-' || ch == '.' || ch == ':' || ch == '/';
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\"", argname, s),
				 errdetail("%s is 1 to %zu characters from A-Z a-z 0-9 _ - . : /.", what, max)));
}

/* ------------------------------------------------------------ lookups */

void
lookup_symbol(const char *name, symbol_ref *out)
{
	core_t	   *c = read_begin();
	uint32		id = strlen(name) <= CORE_SYMBOL_NAME_MAX ? core_symbol_find(c, name) : 0;
	bool		found = id != 0 && core_symbol_get(c, id, &out->sym) &&
		core_asset_get(c, out->sym.base_asset, &out->base) &&
		core_asset_get(c, out->sym.quote_asset, &out->quote);

	read_end();
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("unknown symbol \"%s\"", name)));
}

void
lookup_asset(const char *code, core_asset_info *out)
{
	core_t	   *c = read_begin();
	uint32		id = strlen(code) <= CORE_ASSET_CODE_MAX ? core_asset_find(c, code) : 0;
	bool		found = id != 0 && core_asset_get(c, id, out);

	read_end();
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("unknown asset \"%s\"", code)));
}

bool
lookup_asset_by_id(uint32 id, core_asset_info *out)
{
	core_t	   *c = read_begin();
	bool		found = core_asset_get(c, id, out);

	read_end();
	return found;
}

bool
lookup_symbol_by_id(uint32 id, core_symbol_info *out)
{
	core_t	   *c = read_begin();
	bool		found = core_symbol_get(c, id, out);

	read_end();
	return found;
}

/* ------------------------------------------------------------ submit */

void
validate_record(const core_record *rec)
{
	const log_rectype *rt = log_rectype_get(rec->type);
	const char *why = rt ? rt->validate(rec) : "unknown record type";

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s command: %s", rt ? rt->name : "engine", why)));
}

void
execute(const core_record *rec, char key_kind, int64 key_user, const char *key,
		TimestampTz deadline, engine_reply *out)
{
	validate_record(rec);
	request_execute(rec, key_kind, key_user, key, deadline, out);
	if (out->kind == REPLY_LOST)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_STATEMENT_COMPLETION_UNKNOWN),
				 errmsg("engine worker restarted before replying"),
				 errdetail("The command was committed at seq " INT64_FORMAT "; its result was not delivered.",
						   out->seq),
				 errhint("Look the outcome up in engine.order_events or engine.command_log_decoded by seq.")));
	if (out->kind == REPLY_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("engine worker failed %d times while running this command", ENGINE_MAX_ATTEMPTS),
				 errdetail("The command was not executed."),
				 errhint("See the server log for the worker's errors.")));
}

/* ------------------------------------------------------------ results */

Datum
order_result_values(FunctionCallInfo fcinfo, int64 order_id, const char *client_order_id,
					const char *status, int64 filled, int64 remaining, int64 avg_price,
					int32 trades, const char *reason,
					int base_decimals, int quote_decimals)
{
	TupleDesc	desc;
	Datum		v[8];
	bool		n[8] = {false, false, false, false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "engine: order_result must be a composite type");
	desc = BlessTupleDesc(desc);

	v[0] = Int64GetDatum(order_id);
	n[0] = order_id == 0;
	n[1] = client_order_id == NULL || client_order_id[0] == '\0';
	v[1] = n[1] ? (Datum) 0 : CStringGetTextDatum(client_order_id);
	v[2] = CStringGetTextDatum(status);
	v[3] = units_to_numeric(filled, base_decimals);
	v[4] = units_to_numeric(remaining, base_decimals);
	n[5] = filled == 0;
	v[5] = n[5] ? (Datum) 0 : units_to_numeric(avg_price, quote_decimals);
	v[6] = Int32GetDatum(trades);
	n[7] = reason == NULL;
	v[7] = n[7] ? (Datum) 0 : CStringGetTextDatum(reason);
	return HeapTupleGetDatum(heap_form_tuple(desc, v, n));
}

/* The engine.order_result row for a place/cancel/amend reply. */
Datum
order_result_datum(FunctionCallInfo fcinfo, const engine_reply *r,
				   int base_decimals, int quote_decimals)
{
	const core_result *res = &r->res;
	const char *reason = r->kind == REPLY_DUPLICATE ? "duplicate"
		: core_reason_name((core_reason) res->reason);

	return order_result_values(fcinfo, res->order_id, r->client_order_id,
							   core_status_name((core_status) res->status),
							   res->filled_qty, res->remaining_qty, res->avg_price,
							   res->trades, reason, base_decimals, quote_decimals);
}
