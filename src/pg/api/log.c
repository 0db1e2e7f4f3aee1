/*
 * log.c — SQL helpers over the command log and raw amounts:
 * engine.log_desc(payload), engine.log_crc(seq, ts, payload),
 * engine.rectype_name(rectype), engine.from_units(units, decimals).
 *
 * Owns: the decoded view's rendering (through the core's record description).
 * Must never: touch shared memory (these work with the worker down and on
 * any row, including a corrupt one: a payload that does not decode gives
 * NULL, not an error, so the view stays readable).
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/jsonb.h"

#include "api.h"

PG_FUNCTION_INFO_V1(engine_log_desc);
PG_FUNCTION_INFO_V1(engine_log_crc);
PG_FUNCTION_INFO_V1(engine_rectype_name);
PG_FUNCTION_INFO_V1(engine_from_units);

/* engine.log_desc(payload bytea) RETURNS jsonb (NULL if it does not decode) */
Datum
engine_log_desc(PG_FUNCTION_ARGS)
{
	bytea	   *payload = PG_GETARG_BYTEA_PP(0);
	core_record rec;
	char		small[512];
	char	   *buf = small;
	size_t		need;

	if (!core_record_decode((const uint8 *) VARDATA_ANY(payload), VARSIZE_ANY_EXHDR(payload), &rec) ||
		records_get(rec.type) == NULL)
		PG_RETURN_NULL();
	need = core_record_desc(&rec, buf, sizeof(small));
	if (need >= sizeof(small))
	{
		buf = palloc(need + 1);
		core_record_desc(&rec, buf, need + 1);
	}
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf)));
}

/* engine.log_crc(seq bigint, ts timestamptz, payload bytea) RETURNS int */
Datum
engine_log_crc(PG_FUNCTION_ARGS)
{
	int64		seq = PG_GETARG_INT64(0);
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(1);
	bytea	   *payload = PG_GETARG_BYTEA_PP(2);

	PG_RETURN_INT32((int32) log_crc(seq, ts, (const uint8 *) VARDATA_ANY(payload),
									VARSIZE_ANY_EXHDR(payload)));
}

/* engine.rectype_name(rectype smallint) RETURNS text (NULL if unknown) */
Datum
engine_rectype_name(PG_FUNCTION_ARGS)
{
	int16		type = PG_GETARG_INT16(0);

	if (records_get(type) == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(core_rectype_name((core_rectype) type)));
}

/* engine.from_units(units bigint, decimals int) RETURNS numeric, exact */
Datum
engine_from_units(PG_FUNCTION_ARGS)
{
	int64		units = PG_GETARG_INT64(0);
	int32		decimals = PG_GETARG_INT32(1);

	if (decimals < 0 || decimals > CORE_MAX_DECIMALS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid decimals %d", decimals),
				 errdetail("decimals must be between 0 and %d.", CORE_MAX_DECIMALS)));
	PG_RETURN_DATUM(units_to_numeric(units, decimals));
}
