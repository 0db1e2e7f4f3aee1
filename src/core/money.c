/*
 * money.c — exact integer arithmetic for amounts, prices and fees, and the
 * small hashing helpers the arena's indexes use.
 *
 * Every product of two int64 goes through a 128-bit intermediate; a result
 * that does not fit int64 is reported, never wrapped.  Division truncates
 * toward zero, which for the non-negative amounts used here is floor.
 */
#include <string.h>

#include "core_int.h"

/* A strong 64-bit finaliser (splitmix64's): good spread for sequential keys. */
uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/* FNV-1a over a NUL-terminated string. */
uint32_t
hash_text(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s; s++)
	{
		h ^= (uint8_t) *s;
		h *= 16777619u;
	}
	return h;
}

int64_t
pow10_i64(unsigned n)
{
	int64_t		r = 1;

	while (n--)
		r *= 10;
	return r;
}

bool
quote_value(int64_t price, int64_t qty, int64_t scale, int64_t *out)
{
	i128		v = (i128) price * (i128) qty / scale;

	if (v > INT64_MAX || v < INT64_MIN)
		return false;
	*out = (int64_t) v;
	return true;
}

int64_t
core_min_order_value(int64_t min_notional)
{
	return min_notional > 1 ? min_notional : 1;
}

static core_value_check
value_check(int64_t price, int64_t qty, int64_t scale, int64_t min_value, int64_t *value)
{
	int64_t		v;

	if (!quote_value(price, qty, scale, &v))
		return CORE_VALUE_OVERFLOW;
	if (value)
		*value = v;
	return v < min_value ? CORE_VALUE_TOO_SMALL : CORE_VALUE_OK;
}

core_value_check
order_value_check(const symbol *s, int64_t price, int64_t qty, int64_t *value)
{
	return value_check(price, qty, s->base_scale, s->min_value, value);
}

core_value_check
core_check_order_value(int64_t price, int64_t qty, unsigned base_decimals,
					   int64_t min_notional, int64_t *value)
{
	if (base_decimals > CORE_MAX_DECIMALS)
		base_decimals = CORE_MAX_DECIMALS;
	return value_check(price, qty, pow10_i64(base_decimals),
					   core_min_order_value(min_notional), value);
}

int64_t
fee_of(int64_t amount, int32_t ppm)
{
	int64_t		fee;

	if (amount <= 0 || ppm <= 0)
		return 0;
	fee = (int64_t) ((i128) amount * ppm / CORE_FEE_SCALE);
	return fee > 0 ? fee : 1;
}

/*
 * Codes and names: 1..max bytes of letters, digits and "_-.:/".  The set is
 * narrow on purpose: these names appear in SQL output and JSON without
 * escaping.
 */
bool
text_field_ok(const char *s, size_t max)
{
	size_t		n = strnlen(s, max + 1);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		char		ch = s[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
			  ch == '.' || ch == ':' || ch == '/'))
			return false;
	}
	return true;
}
