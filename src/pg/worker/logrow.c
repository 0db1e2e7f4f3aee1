/*
 * logrow.c — one engine.command_log row as replay reads it: its checks (no
 * NULL column, the next seq, its CRC, a payload format this release
 * replays, a payload that decodes to a record of its rectype), its record
 * decoded and copied out of the page, and the text saying why replay stops
 * at a row that fails them.
 *
 * Owns: the order of those checks and their messages (what engine.status()
 * and the server log show when replay stops).
 * Must never: keep a pointer into the row's page; apply anything.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/timestamp.h"

#include "records.h"
#include "snapshot.h"
#include "worker.h"

/*
 * Why the log records from seq `first` on that are in a format older than
 * ENGINE_REPLAY_MIN_FORMAT cannot be replayed, naming their seq range, the
 * release that wrote them and the fix.  Runs a query (SPI connected).
 */
void
replay_old_format_reason(int64 first, int format, char *reason, size_t len)
{
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		args[2] = {Int64GetDatum(first), Int32GetDatum(ENGINE_REPLAY_MIN_FORMAT)};
	int64		last = first;
	bool		isnull;
	Datum		d;
	int			ret;
	char		range[64];

	ret = SPI_execute_with_args("SELECT pg_catalog.max(seq) FROM engine.command_log "
								"WHERE seq OPERATOR(pg_catalog.>=) $1 AND CASE WHEN pg_catalog.length(payload) OPERATOR(pg_catalog.>) 0 "
								"THEN pg_catalog.get_byte(payload, 0) OPERATOR(pg_catalog.<) $2 END",
								2, types, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "engine: could not read the command log: %s", SPI_result_code_string(ret));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		last = DatumGetInt64(d);
	SPI_freetuptable(SPI_tuptable);
	if (last == first)
		snprintf(range, sizeof(range), "seq " INT64_FORMAT " was", first);
	else
		snprintf(range, sizeof(range), "seq " INT64_FORMAT " to " INT64_FORMAT " were", first, last);
	/* Format 1 is the only one an earlier release wrote: release 1.0's. */
	snprintf(reason, len,
			 "command_log %s written by %s (record format %d) after the newest snapshot, "
			 "and this release replays format %d and later: start %s once and stop the server cleanly "
			 "(its shutdown snapshot covers the whole log), then start this release again",
			 range, format == 1 ? "release 1.0" : "an earlier release", format,
			 ENGINE_REPLAY_MIN_FORMAT, format == 1 ? "release 1.0" : "that release");
}

/*
 * Check and decode the row in v/isnull (columns of its pinned page) into
 * *row, the row that must have seq `expected`.  The checks run in the
 * order replay reports them: NULL, gap, CRC, format, decoding, rectype.
 */
void
logrow_read(log_row *row, int64 expected, Datum *v, bool *isnull)
{
	bytea	   *payload;
	const uint8 *bytes;
	size_t		nbytes;

	row->verdict = LOGROW_OK;
	row->seq = DatumGetInt64(v[0]);
	row->expected = expected;
	for (int i = 0; i < LOGROW_COLUMNS; i++)
		if (isnull[i])
		{
			row->verdict = LOGROW_NULL;
			return;
		}
	if (row->seq != expected)
	{
		row->verdict = LOGROW_GAP;
		return;
	}
	row->rectype = DatumGetInt16(v[1]);
	row->ts = DatumGetTimestampTz(v[2]);
	row->crc = (uint32) DatumGetInt32(v[4]);
	payload = DatumGetByteaPP(v[3]);
	bytes = (const uint8 *) VARDATA_ANY(payload);
	nbytes = VARSIZE_ANY_EXHDR(payload);
	row->computed = log_crc(row->seq, row->ts, bytes, nbytes);
	if (row->computed != row->crc)
		row->verdict = LOGROW_CRC;
	else if (nbytes > 0 && bytes[0] < ENGINE_REPLAY_MIN_FORMAT)
	{
		row->verdict = LOGROW_OLD_FORMAT;
		row->format = bytes[0];
	}
	else if (!core_record_decode(bytes, nbytes, &row->rec))
		row->verdict = LOGROW_UNDECODABLE;
	else if (row->rec.type != row->rectype || records_get(row->rec.type) == NULL)
		row->verdict = LOGROW_RECTYPE;
	if ((Pointer) payload != DatumGetPointer(v[3]))
		pfree(payload);
	row->rec.ts = row->ts;
}

void
logrow_reason(const log_row *row, char *reason, size_t len)
{
	switch (row->verdict)
	{
		case LOGROW_NULL:
			snprintf(reason, len, "command_log seq " INT64_FORMAT ": a column is NULL", row->seq);
			return;
		case LOGROW_GAP:
			snprintf(reason, len, "command_log has a gap: expected seq " INT64_FORMAT ", found seq " INT64_FORMAT,
					 row->expected, row->seq);
			return;
		case LOGROW_CRC:
			snprintf(reason, len, "command_log seq " INT64_FORMAT ": CRC mismatch (stored %d, computed %d)",
					 row->seq, (int32) row->crc, (int32) row->computed);
			return;
		case LOGROW_OLD_FORMAT:
			replay_old_format_reason(row->seq, row->format, reason, len);
			return;
		case LOGROW_UNDECODABLE:
			snprintf(reason, len, "command_log seq " INT64_FORMAT ": payload does not decode as a record",
					 row->seq);
			return;
		case LOGROW_RECTYPE:
			snprintf(reason, len, "command_log seq " INT64_FORMAT ": rectype %d does not match the payload's type %d",
					 row->seq, row->rectype, row->rec.type);
			return;
		case LOGROW_OK:
			snprintf(reason, len, "command_log seq " INT64_FORMAT ": no fault", row->seq);
			return;
	}
}

