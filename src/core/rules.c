/*
 * rules.c — the core's rules as predicates a caller can ask before it builds
 * a record: tick, lot and minimum, order value, text fields, fee rates, the
 * argument combinations of a PLACE, and an order's status from its last
 * event.
 *
 * The core applies the same predicates (shape checks in record.c, symbol
 * checks in match.c), so a rule changes here and nowhere else; the
 * PostgreSQL shell maps a false answer to its own error text and SQLSTATE.
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
core_price_on_tick(int64_t price, int64_t tick_size)
{
	return price % tick_size == 0;
}

bool
core_qty_on_lot(int64_t qty, int64_t lot_size)
{
	return qty % lot_size == 0;
}

bool
core_qty_meets_min(int64_t qty, int64_t min_qty)
{
	return qty == 0 || qty >= min_qty;
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
	size_t		n = strnlen(s, CORE_CLIENT_ID_MAX + 1);

	if (n > CORE_CLIENT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

bool
core_fee_ppm_ok(int64_t ppm)
{
	return ppm >= 0 && ppm < CORE_FEE_SCALE;
}

core_place_args
core_place_args_check(bool market, core_side side, core_tif tif, bool post_only,
					  bool has_qty, bool has_quote_qty)
{
	if (market && post_only)
		return CORE_PLACE_ARGS_MARKET_POST_ONLY;
	if (market && tif == CORE_FOK)
		return CORE_PLACE_ARGS_MARKET_FOK;
	if (has_quote_qty && !(market && side == CORE_BUY))
		return CORE_PLACE_ARGS_QUOTE_QTY;
	if (!has_qty && !has_quote_qty)
		return CORE_PLACE_ARGS_NO_QTY;
	return CORE_PLACE_ARGS_OK;
}

core_status
core_resting_status(int64_t filled_qty)
{
	return filled_qty > 0 ? CORE_ST_PARTIALLY_FILLED : CORE_ST_NEW;
}

core_status
core_order_status(core_status last_event, int64_t filled_qty)
{
	return last_event == CORE_ST_AMENDED ? core_resting_status(filled_qty) : last_event;
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
