/*
 * args.c — fetching and checking SQL arguments, shared by the SQL functions.
 *
 * Owns: the text and SQLSTATE of every input-validation error that is not
 * about amounts (convert.c) or an order against its symbol (orders.c).
 * Must never: state a rule itself: where the core has the predicate (text
 * field charsets, client ids), this file maps its answer to the error.
 */
#include "postgres.h"

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

/* A numeric as the caller wrote it, clipped for a message (quote_input). */
const char *
numeric_text(Numeric num)
{
	return quote_input(DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num))));
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
			 errmsg("invalid side \"%s\"", quote_input(s)),
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
			 errmsg("invalid tif \"%s\"", quote_input(s)),
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
			 errmsg("invalid stp \"%s\"", quote_input(s)),
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
			 errmsg("invalid status \"%s\"", quote_input(s)),
			 errhint("status is 'trading' or 'halted'.")));
	pg_unreachable();
}

/* ------------------------------------------------------------ text fields */

/* The core's client-id rule; an empty one is an error here, not "none". */
void
check_client_order_id(const char *s)
{
	if (s[0] == '\0' || !core_client_id_ok(s))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid client_order_id \"%s\"", quote_input(s)),
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
				 errmsg("invalid ref \"%s\"", quote_input(s)),
				 errdetail("ref must be 1 to %d bytes.", ENGINE_REF_MAX)));
}

/* Asset codes and symbol names: the core's code rule. */
void
check_code(const char *s, size_t max, const char *argname, const char *what)
{
	if (!core_code_ok(s, max))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\"", argname, quote_input(s)),
				 errdetail("%s is 1 to %zu characters from A-Z a-z 0-9 _ - . : /.", what, max)));
}
