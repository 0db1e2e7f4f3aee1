/*
 * convert.c — exact conversions between SQL numeric and the core's int64
 * amounts at an asset's scale (decimals).
 *
 * Owns: the text of every "too many decimal places" and "out of range" error.
 * Must never: round.  A value that needs more decimal places than the scale
 * allows is an error; so is one that does not fit int64 at that scale.
 * Trailing zeros are not decimal places that matter: 1.50000000000 is a
 * fine BTC amount (8 decimals), 1.000000001 is not.
 *
 * Output numerics carry exactly the asset's scale (1.50000000 for BTC), so
 * the text users see always shows the precision the engine works at.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/numeric.h"

#include "api.h"

#define UINT128_DIGITS 39

/*
 * numeric -> int64 units at `decimals`.  argname names the SQL argument in
 * errors; unit_name says whose scale it is ("BTC", "a fee rate").
 */
int64
numeric_to_units(Numeric num, int decimals, const char *argname, const char *unit_name)
{
	char	   *str;
	const char *p;
	bool		negative = false;
	int			frac_digits = 0;
	int			frac_len;
	const char *frac;
	__int128	acc = 0;

	if (numeric_is_nan(num))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a number, got NaN", argname)));
	str = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
	if (numeric_is_inf(num))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s %s is out of range", argname, str)));

	/* numeric_out writes plain decimal notation: [-]digits[.digits] */
	p = str;
	if (*p == '-')
	{
		negative = true;
		p++;
	}
	frac = strchr(p, '.');
	frac_len = frac ? (int) strlen(frac + 1) : 0;
	while (frac_len > 0 && frac[frac_len] == '0')
		frac_len--;
	frac_digits = frac_len;
	if (frac_digits > decimals)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s %s has too many decimal places", argname, str),
				 errdetail("%s allows at most %d decimal places.", unit_name, decimals)));

	for (; *p && *p != '.'; p++)
	{
		acc = acc * 10 + (*p - '0');
		if (acc > PG_INT64_MAX)
			goto out_of_range;
	}
	for (int i = 0; i < decimals; i++)
	{
		int			digit = i < frac_digits ? frac[1 + i] - '0' : 0;

		acc = acc * 10 + digit;
		if (acc > PG_INT64_MAX)
			goto out_of_range;
	}
	return negative ? -(int64) acc : (int64) acc;

out_of_range:
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s %s is out of range", argname, str),
			 errdetail("At %d decimal places (%s) the amount must fit in a 64-bit integer of units.",
					   decimals, unit_name)));
	pg_unreachable();
}

/* Magnitude and sign -> text with exactly `decimals` decimal places. */
static char *
magnitude_to_cstring(unsigned __int128 mag, bool negative, int decimals)
{
	char		digits[UINT128_DIGITS + 1];
	char	   *out;
	char	   *q;
	int			n = 0;

	do
	{
		digits[n++] = (char) ('0' + mag % 10);
		mag /= 10;
	} while (mag > 0);
	while (n <= decimals)
		digits[n++] = '0';		/* at least one digit before the point */

	out = palloc(n + 3);
	q = out;
	if (negative)
		*q++ = '-';
	for (int i = n - 1; i >= 0; i--)
	{
		*q++ = digits[i];
		if (i == decimals && decimals > 0)
			*q++ = '.';
	}
	*q = '\0';
	return out;
}

/* int64 units at `decimals` -> text with exactly `decimals` decimal places. */
char *
units_to_cstring(int64 units, int decimals)
{
	return magnitude_to_cstring(units < 0 ? (uint64) 0 - (uint64) units : (uint64) units,
								units < 0, decimals);
}

/* The same without trailing zeros after the point ("0.00001"), for messages. */
char *
units_to_cstring_trim(int64 units, int decimals)
{
	char	   *s = units_to_cstring(units, decimals);
	char	   *end = s + strlen(s);

	if (decimals > 0)
	{
		while (end[-1] == '0')
			*--end = '\0';
		if (end[-1] == '.')
			*--end = '\0';
	}
	return s;
}

Datum
units_to_numeric(int64 units, int decimals)
{
	char	   *s = units_to_cstring(units, decimals);

	return DirectFunctionCall3(numeric_in, CStringGetDatum(s),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/*
 * Unsigned 128-bit units (hi * 2^64 + lo) at `decimals` -> numeric, exactly:
 * a price level's total quantity can exceed int64.
 */
Datum
units128_to_numeric(uint64 hi, uint64 lo, int decimals)
{
	char	   *s = magnitude_to_cstring((unsigned __int128) hi << 64 | lo, false, decimals);

	return DirectFunctionCall3(numeric_in, CStringGetDatum(s),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/* A fee rate as parts per million: 0 <= rate < 1, at most 6 decimal places. */
int32
numeric_to_ppm(Numeric num, const char *argname)
{
	int64		ppm = numeric_to_units(num, 6, argname, "A fee rate");

	if (!core_fee_ppm_ok(ppm))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s %s is out of range", argname,
						DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)))),
				 errdetail("A fee rate must be at least 0 and less than 1 (0.001 is 0.1 %%).")));
	return (int32) ppm;
}
