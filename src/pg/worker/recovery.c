/*
 * recovery.c — rebuild the engine state from the tables at every worker
 * start: newest snapshot (none yet: the empty engine at seq 0), then every
 * log record after it, in seq order, through the same redo as live
 * processing, then the invariant checks.
 *
 * Owns: the replay cursor, the log-row checks (gapless seq, CRC, a payload
 * format this release replays, decodable payload matching its rectype),
 * progress reporting, the verdict.
 * Must never: write to any table; skip or repair a bad row; hold the state
 * lock (no backend reads the arena while the state is "recovering").
 *
 * A failed check is not an ERROR: the worker enters state "failed" with a
 * reason naming the seq or the check, refuses commands and stays up, so
 * engine.status() can say what is wrong.  Repair the cause and restart the
 * worker (pg_terminate_backend) to try again.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ready.h"
#include "records.h"
#include "settings.h"
#include "shmem.h"
#include "snapshot.h"
#include "status.h"
#include "worker.h"

/* Rows fetched per round trip of the replay cursor. */
#define REPLAY_FETCH_ROWS 10000
/* Seconds between progress lines in the server log. */
#define REPLAY_PROGRESS_SECS 5

/* See recovery_unchecked_seq. */
static int64 unchecked_seq = 0;

typedef struct verify_failure
{
	bool		failed;
	char		reason[ENGINE_DETAIL_MAX];
} verify_failure;

/* Make c the empty engine again (after a snapshot that did not load). */
static void
recreate_engine(core_engine *c)
{
	if (shmem_create_core() != c)
		elog(ERROR, "engine: could not recreate the engine in its arena");
}

/*
 * Load the newest usable snapshot into c (freshly created, empty) and
 * return its seq; 0 means "no usable snapshot: start from the empty
 * engine".  A snapshot that does not load — a row missing or malformed, or
 * a state whose digest differs from the recorded one — is reported in the
 * server log and the one before it is tried.
 */
static int64
load_newest_snapshot(core_engine *c, TimestampTz *snapshot_at)
{
	snapshot_meta *metas;
	int			n = snapshot_list(&metas);

	*snapshot_at = 0;
	for (int i = 0; i < n; i++)
	{
		const char *why;

		status_set_detail("loading snapshot at seq %lld", (long long) metas[i].seq);
		why = snapshot_load(c, &metas[i]);
		if (why == NULL)
		{
			elog(LOG, "engine: loaded snapshot at seq " INT64_FORMAT, metas[i].seq);
			*snapshot_at = metas[i].taken_at;
			return metas[i].seq;
		}
		ereport(WARNING,
				(errmsg("engine: snapshot at seq " INT64_FORMAT " is unusable: %s", metas[i].seq, why),
				 errdetail(i + 1 < n ? "Falling back to the snapshot before it and a longer replay." :
						   "Falling back to replaying the command log from the start.")));
		recreate_engine(c);
	}
	return 0;
}

static int64
log_max_seq(void)
{
	bool		isnull;
	Datum		d;
	int			ret = SPI_execute("SELECT pg_catalog.max(seq) FROM engine.command_log", true, 1);

	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "engine: could not read the command log: %s", SPI_result_code_string(ret));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * A record the live engine may have accepted but replay rejected for lack of
 * capacity means engine.max_* were lowered since: the replayed state would
 * silently differ.  Compare with the outcome the tables recorded live.
 * Returns false (and a reason) on divergence.
 */
static bool
capacity_outcome_matches(const core_record *rec, int64 seq, char *reason, size_t len)
{
	const char *sql = records_get(rec->type)->capacity_sql;
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(seq)};
	int			ret;

	if (sql == NULL)
		return true;
	ret = SPI_execute_with_args(sql, 1, types, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: capacity check failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
		return true;
	snprintf(reason, len,
			 "replay diverged at seq " INT64_FORMAT ": %s was accepted live but is rejected for capacity now; "
			 "raise engine.max_orders / max_accounts / max_balances / max_symbols / max_assets back",
			 seq, core_rectype_name((core_rectype) rec->type));
	return false;
}

/*
 * Why the log records from seq `first` on that are in a format older than
 * ENGINE_REPLAY_MIN_FORMAT cannot be replayed, naming their seq range, the
 * release that wrote them and the fix.
 */
static void
old_format_reason(int64 first, int format, char *reason, size_t len)
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
 * Whether the log after the newest snapshot starts with a record in a
 * format this release replays (a release writes only its own format, so
 * older records can only come first).  Used before an extension update, so
 * that the operator hears about records of the previous release while that
 * release can still be started; recovery itself checks every record.
 * Runs in a transaction of its own.
 */
bool
recovery_log_replayable(char *reason, size_t len)
{
	bool		ok = true;
	int			ret;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	ret = SPI_execute("SELECT seq, CASE WHEN pg_catalog.length(payload) OPERATOR(pg_catalog.>) 0 "
					  "THEN pg_catalog.get_byte(payload, 0) END FROM engine.command_log "
					  "WHERE seq OPERATOR(pg_catalog.>) (SELECT COALESCE(pg_catalog.max(seq), 0) FROM engine.snapshots) "
					  "ORDER BY seq LIMIT 1", true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: could not read the command log: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		bool		isnull;
		int64		seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		Datum		f = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		if (!isnull && DatumGetInt32(f) < ENGINE_REPLAY_MIN_FORMAT)
		{
			old_format_reason(seq, DatumGetInt32(f), reason, len);
			ok = false;
		}
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return ok;
}

/*
 * Check and apply one log row; false (with a reason) if the row is bad.
 */
static bool
replay_row(core_engine *c, HeapTuple tup, TupleDesc desc, bool serving,
		   TimestampTz *last_ts, char *reason, size_t len)
{
	bool		isnull;
	int64		seq = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	int16		rectype = DatumGetInt16(SPI_getbinval(tup, desc, 2, &isnull));
	TimestampTz ts = DatumGetTimestampTz(SPI_getbinval(tup, desc, 3, &isnull));
	bytea	   *payload = DatumGetByteaPP(SPI_getbinval(tup, desc, 4, &isnull));
	uint32		crc = (uint32) DatumGetInt32(SPI_getbinval(tup, desc, 5, &isnull));
	const uint8 *bytes = (const uint8 *) VARDATA_ANY(payload);
	size_t		nbytes = VARSIZE_ANY_EXHDR(payload);
	uint32		computed;
	core_record rec;
	core_result res;

	if (seq != core_seq(c) + 1)
	{
		snprintf(reason, len, "command_log has a gap: expected seq " INT64_FORMAT ", found seq " INT64_FORMAT,
				 core_seq(c) + 1, seq);
		return false;
	}
	computed = log_crc(seq, ts, bytes, nbytes);
	if (computed != crc)
	{
		snprintf(reason, len, "command_log seq " INT64_FORMAT ": CRC mismatch (stored %d, computed %d)",
				 seq, (int32) crc, (int32) computed);
		return false;
	}
	if (nbytes > 0 && bytes[0] < ENGINE_REPLAY_MIN_FORMAT)
	{
		old_format_reason(seq, bytes[0], reason, len);
		return false;
	}
	if (!core_record_decode(bytes, nbytes, &rec))
	{
		snprintf(reason, len, "command_log seq " INT64_FORMAT ": payload does not decode as a record", seq);
		return false;
	}
	if (rec.type != rectype || records_get(rec.type) == NULL)
	{
		snprintf(reason, len, "command_log seq " INT64_FORMAT ": rectype %d does not match the payload's type %d",
				 seq, rectype, rec.type);
		return false;
	}
	rec.ts = ts;
	if (serving)
		state_write_begin();
	core_apply(c, &rec, NULL, NULL, &res);
	if (serving)
		state_write_end();
	*last_ts = ts;
	if (res.status == CORE_ST_REJECTED && res.reason == CORE_R_CAPACITY)
	{
		bool		ok;

		unchecked_seq = seq;
		ok = capacity_outcome_matches(&rec, seq, reason, len);
		unchecked_seq = 0;
		return ok;
	}
	return true;
}

/*
 * The seq of a record applied whose capacity outcome was not compared with
 * the live one because the comparison's query failed (0: none), forgotten
 * once asked.  The caller that caught that ERROR must not go on from this
 * state.
 */
int64
recovery_unchecked_seq(void)
{
	int64		seq = unchecked_seq;

	unchecked_seq = 0;
	return seq;
}

static void
verify_cb(void *ctx, const char *check, bool ok, const char *detail)
{
	verify_failure *f = ctx;

	if (ok || f->failed)
		return;
	f->failed = true;
	snprintf(f->reason, sizeof(f->reason), "invariant check \"%s\" failed: %s",
			 check, detail ? detail : "(no detail)");
}

/*
 * Replay every log row after core_seq(c), in seq order, to the end that the
 * caller's transaction snapshot sees (the caller runs a transaction with an
 * active snapshot and is SPI-connected).  serving: the state is being
 * served (a follower), so each record is applied under the state lock and
 * recovery's progress is not reported; otherwise progress goes to
 * engine.status() and the server log, out of `total`.  Returns the number
 * of records applied, or -1 with a reason on a bad row (a gap in seq, a CRC
 * mismatch, a format this release does not replay, a payload that does not
 * decode, a capacity outcome that differs from the live one).  Exits the
 * process on SIGTERM.
 */
int64
recovery_replay_tail(core_engine *c, bool serving, int64 total, TimestampTz *last_ts,
					 char *reason, size_t len)
{
	TimestampTz last_report = GetCurrentTimestamp();
	int64		replayed = 0;
	Oid			types[1] = {INT8OID};
	Datum		args[1];
	SPIPlanPtr	plan;
	Portal		cursor;
	bool		ok = true;

	plan = SPI_prepare("SELECT seq, rectype, ts, payload, crc FROM engine.command_log "
					   "WHERE seq OPERATOR(pg_catalog.>) $1 ORDER BY seq", 1, types);
	if (plan == NULL)
		elog(ERROR, "engine: could not prepare the replay query: %s", SPI_result_code_string(SPI_result));
	args[0] = Int64GetDatum(core_seq(c));
	cursor = SPI_cursor_open(NULL, plan, args, NULL, true);

	while (ok)
	{
		SPITupleTable *rows;
		uint64		nrows;

		SPI_cursor_fetch(cursor, true, REPLAY_FETCH_ROWS);
		rows = SPI_tuptable;	/* replay_row may run queries of its own */
		nrows = SPI_processed;
		if (nrows == 0)
			break;
		for (uint64 r = 0; r < nrows && ok; r++)
		{
			ok = replay_row(c, rows->vals[r], rows->tupdesc, serving, last_ts, reason, len);
			if (ok)
				replayed++;
		}
		SPI_freetuptable(rows);
		if (ShutdownRequestPending)
			proc_exit(1);
		CHECK_FOR_INTERRUPTS();
		if (serving)
			continue;
		status_note_replay(replayed, total);
		if (TimestampDifferenceExceeds(last_report, GetCurrentTimestamp(), REPLAY_PROGRESS_SECS * 1000))
		{
			last_report = GetCurrentTimestamp();
			elog(LOG, "engine: recovery: replayed " INT64_FORMAT " of " INT64_FORMAT " log records",
				 replayed, total);
		}
	}
	SPI_cursor_close(cursor);
	SPI_freeplan(plan);
	return ok ? replayed : -1;
}

/*
 * Rebuild c (freshly created, empty) from the tables.  Returns true when the
 * state is whole and every invariant holds; otherwise sets the status to
 * "failed" with the reason and returns false.  *last_ts gets the timestamp
 * of the last record replayed.  Exits the process on SIGTERM.
 */
bool
recovery_run(core_engine *c, TimestampTz *last_ts)
{
	TimestampTz started = GetCurrentTimestamp();
	TimestampTz snapshot_at;
	int64		from_seq;
	int64		total;
	int64		replayed;
	char		reason[ENGINE_DETAIL_MAX];
	bool		ok = true;
	verify_failure vf;

	reason[0] = '\0';
	*last_ts = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());

	from_seq = load_newest_snapshot(c, &snapshot_at);
	total = Max(log_max_seq() - from_seq, 0);
	status_note_snapshot_loaded(from_seq, snapshot_at);
	status_note_replay(0, total);
	status_set_detail("replaying the command log after seq %lld", (long long) from_seq);
	elog(LOG, "engine: recovery started: snapshot seq " INT64_FORMAT ", " INT64_FORMAT " log records to replay",
		 from_seq, total);

	replayed = recovery_replay_tail(c, false, total, last_ts, reason, sizeof(reason));
	ok = replayed >= 0;
	replayed = core_seq(c) - from_seq;

	if (ok)
	{
		memset(&vf, 0, sizeof(vf));
		if (!core_verify(c, verify_cb, &vf))
		{
			ok = false;
			strlcpy(reason, vf.failed ? vf.reason : "invariant check failed", sizeof(reason));
		}
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();

	{
		long		secs;
		int			usecs;

		TimestampDifference(started, GetCurrentTimestamp(), &secs, &usecs);
		status_note_recovery_done((int64) secs * 1000 + usecs / 1000, replayed, core_seq(c));
	}

	if (!ok)
	{
		ereport(LOG,
				(errmsg("engine: recovery failed: %s", reason),
				 errdetail("The engine refuses commands until the cause is repaired and the worker restarted.")));
		status_set_state(ENGINE_FAILED, "%s", reason);
		return false;
	}
	elog(LOG, "engine: recovery finished at seq " INT64_FORMAT ": " INT64_FORMAT " records replayed",
		 core_seq(c), replayed);
	return true;
}
