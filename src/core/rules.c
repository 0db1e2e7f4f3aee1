/*
 * rules.c — the core's rules as predicates a caller can ask before it builds
 * a record: tick, lot and minimum, order value, text fields, fee rates, the
 * argument combinations of a PLACE, and an order's status from its last
 * event.
 *
 * The core applies the same predicates (shape checks in record.c, symbol
 * checks in match.c), so a rule changes here and nowhere else; the
 * PostgreSQL shell maps a false answer to its own error text and SQLSTATE.
 * The rules both ask of every order (tick, lot, minimum quantity, minimum
 * value, an order's status) are static inline functions in core.h instead;
 * the core calls the others through hidden names (core_int.h), never
 * through the exported ones.
 * Nothing here reads or changes engine state.
 */
#include <string.h>

#include "core_int.h"

int64_t
core_pow10(unsigned n)
{
	return pow10_i64(n);
}

bool
core_order_value(int64_t price, int64_t qty, unsigned base_decimals, int64_t *value)
{
	return quote_value(price, qty, pow10_i64(base_decimals), value);
}

bool
core_code_ok(const char *s, size_t max)
{
	return text_field_ok(s, max);
}

bool
core_client_id_ok(const char *s)
{
	return client_id_ok(s);
}

bool
core_fee_ppm_ok(int64_t ppm)
{
	return fee_ppm_ok(ppm);
}

core_place_args
core_place_args_check(bool market, core_side side, core_tif tif, bool post_only,
					  bool has_qty, bool has_quote_qty)
{
	return place_args_check(market, side, tif, post_only, has_qty, has_quote_qty);
}

bool
core_status_from_name(const char *name, core_status *out)
{
	for (int s = 0; s < CORE_ST_COUNT; s++)
		if (strcmp(core_status_name((core_status) s), name) == 0)
		{
			*out = (core_status) s;
			return true;
		}
	return false;
}
