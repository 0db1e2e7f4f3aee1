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
 * The digits of a finite numeric as numeric_out writes it ([-]digits[.digits]),
 * for the conversions below.  ERROR (naming argname) for NaN and infinity.
 */
typedef struct numeric_digits
{
	char	   *str;			/* the whole text */
	bool		negative;
	const char *integral;		/* digits before the point (ends at '.' or NUL) */
	const char *frac;			/* digits after the point, or NULL */
	int			frac_digits;	/* without trailing zeros */
} numeric_digits;

static void
split_numeric(Numeric num, const char *argname, numeric_digits *d)
{
	const char *p;

	if (numeric_is_nan(num))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a number, got NaN", argname)));
	d->str = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
	if (numeric_is_inf(num))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s %s is out of range", argname, d->str)));
	p = d->str;
	d->negative = *p == '-';
	if (d->negative)
		p++;
	d->integral = p;
	d->frac = strchr(p, '.');
	d->frac_digits = d->frac ? (int) strlen(d->frac + 1) : 0;
	while (d->frac_digits > 0 && d->frac[d->frac_digits] == '0')
		d->frac_digits--;
	if (d->frac)
		d->frac++;
}

/*
 * numeric -> int64 units at `decimals`.  argname names the SQL argument in
 * errors; unit_name says whose scale it is ("BTC", "a fee rate").
 */
int64
numeric_to_units(Numeric num, int decimals, const char *argname, const char *unit_name)
{
	numeric_digits d;
	__int128	acc = 0;

	split_numeric(num, argname, &d);
	if (d.frac_digits > decimals)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s %s has too many decimal places", argname, quote_input(d.str)),
				 errdetail("%s allows at most %d decimal places.", unit_name, decimals)));

	for (const char *p = d.integral; *p && *p != '.'; p++)
	{
		acc = acc * 10 + (*p - '0');
		if (acc > PG_INT64_MAX)
			goto out_of_range;
	}
	for (int i = 0; i < decimals; i++)
	{
		int			digit = i < d.frac_digits ? d.frac[i] - '0' : 0;

		acc = acc * 10 + digit;
		if (acc > PG_INT64_MAX)
			goto out_of_range;
	}
	return d.negative ? -(int64) acc : (int64) acc;

out_of_range:
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s %s is out of range", argname, quote_input(d.str)),
			 errdetail("At %d decimal places (%s) the amount must fit in a 64-bit integer of units.",
					   decimals, unit_name)));
	pg_unreachable();
}

/*
 * The checks an amount passes whatever its asset: a number, positive, at
 * most CORE_MAX_DECIMALS decimal places, and at most the largest int64 in
 * whole units.  For arguments checked before the asset is known (an
 * amend's qty and price, whose order may not be the caller's); the asset's
 * own scale is checked afterwards by numeric_to_units.
 */
void
check_amount_shape(Numeric num, const char *argname)
{
	numeric_digits d;
	__int128	acc = 0;

	split_numeric(num, argname, &d);
	if (d.negative || (strspn(d.integral, "0") == strcspn(d.integral, ".") && d.frac_digits == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be positive, got %s", argname, quote_input(d.str))));
	if (d.frac_digits > CORE_MAX_DECIMALS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s %s has too many decimal places", argname, quote_input(d.str)),
				 errdetail("No asset has more than %d decimal places.", CORE_MAX_DECIMALS)));
	for (const char *p = d.integral; *p && *p != '.'; p++)
	{
		acc = acc * 10 + (*p - '0');
		if (acc > PG_INT64_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s %s is out of range", argname, quote_input(d.str)),
					 errdetail("No amount of any asset is that large.")));
	}
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
						quote_input(DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num))))),
				 errdetail("A fee rate must be at least 0 and less than 1 (0.001 is 0.1 %%).")));
	return (int32) ppm;
}
