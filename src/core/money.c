/*
 * money.c — exact integer arithmetic for amounts, prices and fees, and the
 * small hashing helpers the arena's indexes use.
 *
 * Every product of two int64 is exact: it is formed in 64 bits when it
 * fits (checked), else in 128 bits; a result that does not fit int64 is
 * reported, never wrapped.  Division truncates toward zero, which for the
 * non-negative amounts used here is floor.  The fast paths are inline in
 * core_int.h; this file holds the slow ones.
 */
#include <string.h>

#include "core_int.h"

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

/* quote_value's slow path: a product beyond 64 bits, or a negative input. */
bool
quote_value_wide(int64_t price, int64_t qty, int64_t scale, int64_t *out)
{
	i128		v = (i128) price * (i128) qty / scale;

	if (v > INT64_MAX || v < INT64_MIN)
		return false;
	*out = (int64_t) v;
	return true;
}

/*
 * The divisor d (>= 1) as odd * 2^shift and the inverse of odd modulo 2^64
 * (Newton's iteration: each step doubles the correct low bits, from 3).
 * Then a multiple x of d divided by d is (x >> shift) * inverse, exactly.
 */
exact_divisor
exact_divisor_of(int64_t d)
{
	exact_divisor r;
	uint64_t	odd = (uint64_t) d;
	uint64_t	x;

	r.shift = (uint32_t) __builtin_ctzll(odd);
	odd >>= r.shift;
	x = odd;
	for (int i = 0; i < 5; i++)
		x *= 2 - odd * x;
	r.inv = x;
	return r;
}

core_value_check
core_check_order_value(int64_t price, int64_t qty, unsigned base_decimals,
					   int64_t min_notional, int64_t *value)
{
	int64_t		v;

	if (base_decimals > CORE_MAX_DECIMALS)
		base_decimals = CORE_MAX_DECIMALS;
	if (!quote_value(price, qty, pow10_i64(base_decimals), &v))
		return CORE_VALUE_OVERFLOW;
	if (value)
		*value = v;
	return v < core_min_order_value(min_notional) ? CORE_VALUE_TOO_SMALL : CORE_VALUE_OK;
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
