/*
 * replay.c — applying the command log to an engine in bulk: every row after
 * the engine's seq, up to the end of the log as it is now.
 *
 * Owns: the replay scan and the checks of each log row (gapless seq, CRC, a
 * payload format this release replays, a payload that decodes and matches
 * its rectype), and the check that replay refuses for capacity only what
 * was refused live.
 * Must never: write a table; keep anything per row (memory does not grow
 * with the log); read log rows the engine does not need.
 *
 * The rows come from one index scan of command_log's primary key from
 * seq > core_seq(c), in seq order, in C (ringscan.c: through a small ring
 * of buffers): no SQL and no planner per row, and however long the log is
 * (engine.keep_log), only the tail is read.  In recovery, a log reader
 * (log_reader.c) may have read them already in another process: its rows
 * are taken first, while each is the next seq and decodes, then the scan
 * reads whatever the stream did not give from the next seq on — so the
 * checks, the errors and the state are the scan's either way.
 * Each row is checked and applied through core_apply, the same redo as
 * live.  A record that replay refuses for capacity is remembered (its seq
 * only) and checked against what the tables recorded live in one query per
 * REPLAY_CAPACITY_BATCH of them (records.h, capacity_sql), so such records
 * cost about what ordinary ones do.
 *
 * Recovery calls replay_log after loading a snapshot; the follower on a
 * standby (follower.c) calls it again and again to catch up, with
 * opt->serving: the state is served meanwhile, so each record is applied
 * under the state lock (core_apply cannot throw, so a record is never cut
 * in half), and out->unchecked_seq tells it after an ERROR (a recovery
 * conflict) whether a capacity refusal went uncompared.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ready.h"
#include "records.h"
#include "snapshot.h"
#include "worker.h"

/* Capacity refusals checked against the tables per query. */
#define REPLAY_CAPACITY_BATCH 8192
/* Rows between two progress reports. */
#define REPLAY_PROGRESS_ROWS 65536

typedef struct capacity_batch
{
	int			n;
	int64		seqs[REPLAY_CAPACITY_BATCH];
} capacity_batch;

typedef struct replay_run
{
	core_engine *c;
	replay_options *opt;
	replay_result *out;
	capacity_batch *pending[CORE_REC_COUNT];
} replay_run;

static bool
refuse(replay_result *out, const char *fmt,...) pg_attribute_printf(2, 3);

static bool
refuse(replay_result *out, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return false;
}

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

/* ------------------------------------------------------------ touched users */

/* The users whose accounts a record's events show changed. */
static void
collect_users(void *ctx, const core_event *ev)
{
	user_set   *s = ctx;

	if (ev->type == CORE_EV_TRADE)
	{
		user_set_add(s, ev->u.trade.taker_user_id);
		user_set_add(s, ev->u.trade.maker_user_id);
	}
	else if (ev->u.order.status != CORE_ST_REJECTED)
		user_set_add(s, ev->u.order.user_id);
}

/* ------------------------------------------------------------ capacity */

/* Check the pending capacity refusals of one type against the tables. */
static bool
check_capacity(replay_run *r, int type)
{
	capacity_batch *b = r->pending[type];
	Datum	   *elems;
	ArrayType  *arr;
	Oid			argtypes[1] = {INT8ARRAYOID};
	Datum		args[1];
	int			ret;
	bool		ok = true;

	if (b == NULL || b->n == 0)
		return true;
	elems = palloc(sizeof(Datum) * b->n);
	for (int i = 0; i < b->n; i++)
		elems[i] = Int64GetDatum(b->seqs[i]);
	arr = construct_array(elems, b->n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	args[0] = PointerGetDatum(arr);
	ret = SPI_execute_with_args(records_get(type)->capacity_sql, 1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: capacity check failed: %s", SPI_result_code_string(ret));
	if (SPI_processed > 0)
	{
		int64		first = PG_INT64_MAX;
		bool		isnull;

		for (uint64 i = 0; i < SPI_processed; i++)
			first = Min(first, DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull)));
		ok = refuse(r->out,
					"replay diverged at seq " INT64_FORMAT ": %s was accepted live but is rejected for capacity now; "
					"raise engine.max_orders / max_accounts / max_balances / max_symbols / max_assets back",
					first, core_rectype_name((core_rectype) type));
	}
	SPI_freetuptable(SPI_tuptable);
	pfree(arr);
	pfree(elems);
	b->n = 0;
	return ok;
}

static bool
check_all_capacity(replay_run *r)
{
	for (int t = 0; t < CORE_REC_COUNT; t++)
		if (!check_capacity(r, t))
			return false;
	r->out->unchecked_seq = 0;
	return true;
}

static bool
note_capacity_refusal(replay_run *r, int type, int64 seq)
{
	capacity_batch *b;

	if (records_get(type)->capacity_sql == NULL)
		return true;
	if (r->pending[type] == NULL)
		r->pending[type] = palloc0(sizeof(capacity_batch));
	b = r->pending[type];
	b->seqs[b->n++] = seq;
	if (r->out->unchecked_seq == 0)
		r->out->unchecked_seq = seq;
	return b->n < REPLAY_CAPACITY_BATCH || check_capacity(r, type);
}

/* ------------------------------------------------------------ one row */

/*
 * A row's payload checked (a format this release replays, one record that
 * decodes, the rectype its column says) and decoded into *rec.  When the
 * row fails, false, with the reason in out->reason if `report`.
 */
static bool
decode_row(replay_run *r, int64 seq, int16 rectype, const uint8 *bytes, size_t nbytes,
		   core_record *rec, bool report)
{
	replay_result *out = r->out;

	if (nbytes > 0 && bytes[0] < ENGINE_REPLAY_MIN_FORMAT)
	{
		if (report)
			replay_old_format_reason(seq, bytes[0], out->reason, sizeof(out->reason));
		return false;
	}
	if (!core_record_decode(bytes, nbytes, rec))
		return report && refuse(out, "command_log seq " INT64_FORMAT ": payload does not decode as a record", seq);
	if (rec->type != rectype || records_get(rec->type) == NULL)
		return report && refuse(out, "command_log seq " INT64_FORMAT ": rectype %d does not match the payload's type %d",
								seq, rectype, rec->type);
	return true;
}

/* Apply a decoded row (its seq is core_seq(c) + 1). */
static bool
apply_row(replay_run *r, core_record *rec, int64 seq, TimestampTz ts)
{
	core_engine *c = r->c;
	replay_result *out = r->out;
	core_result res;

	Assert(seq == core_seq(c) + 1);
	rec->ts = ts;
	if (r->opt->serving)
		state_write_begin();
	if (r->opt->touched && !r->opt->touched->all)
		core_apply(c, rec, collect_users, r->opt->touched, &res);
	else
		core_apply(c, rec, NULL, NULL, &res);
	if (r->opt->serving)
		state_write_end();
	if (r->opt->touched && (rec->type == CORE_REC_DEPOSIT || rec->type == CORE_REC_WITHDRAW) &&
		res.status != CORE_ST_REJECTED)
		user_set_add(r->opt->touched, rec->u.funds.user_id);
	out->last_ts = ts;
	out->replayed++;
	if (res.status == CORE_ST_REJECTED && res.reason == CORE_R_CAPACITY)
		return note_capacity_refusal(r, rec->type, seq);
	return true;
}

/* A row from the scan: every check, then apply. */
static bool
replay_row(replay_run *r, Datum *v, bool *isnull)
{
	core_engine *c = r->c;
	replay_result *out = r->out;
	int64		seq = DatumGetInt64(v[0]);
	int16		rectype = DatumGetInt16(v[1]);
	TimestampTz ts = DatumGetTimestampTz(v[2]);
	bytea	   *payload;
	uint32		crc = (uint32) DatumGetInt32(v[4]);
	const uint8 *bytes;
	size_t		nbytes;
	uint32		computed;
	core_record rec;
	bool		ok = true;

	for (int i = 0; i < COMMAND_LOG_COLUMNS; i++)
		if (isnull[i])
			return refuse(out, "command_log seq " INT64_FORMAT ": a column is NULL", seq);
	if (seq != core_seq(c) + 1)
		return refuse(out, "command_log has a gap: expected seq " INT64_FORMAT ", found seq " INT64_FORMAT,
					  core_seq(c) + 1, seq);
	payload = DatumGetByteaPP(v[3]);
	bytes = (const uint8 *) VARDATA_ANY(payload);
	nbytes = VARSIZE_ANY_EXHDR(payload);
	computed = log_crc(seq, ts, bytes, nbytes);
	if (computed != crc)
		ok = refuse(out, "command_log seq " INT64_FORMAT ": CRC mismatch (stored %d, computed %d)",
					seq, (int32) crc, (int32) computed);
	else
		ok = decode_row(r, seq, rectype, bytes, nbytes, &rec, true);
	if ((Pointer) payload != DatumGetPointer(v[3]))
		pfree(payload);
	return ok && apply_row(r, &rec, seq, ts);
}

/* Between rows: progress, and SIGTERM or other interrupts. */
static void
after_row(replay_run *r)
{
	if (r->out->replayed % REPLAY_PROGRESS_ROWS == 0)
	{
		if (r->opt->progress)
			r->opt->progress(r->opt->progress_arg, r->out->replayed);
		if (ShutdownRequestPending)
			proc_exit(1);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The rows the log reader streams, while each is the next seq and decodes
 * as its rectype (the reader checked NULLs and the CRC).  It stops at the
 * first that is not — the scan after it finds that row again and says why
 * replay stops there — or where the stream ends; false only when an
 * applied row says replay must stop (a capacity refusal not seen live).
 */
static bool
replay_stream(replay_run *r, log_reader *lr)
{
	log_row_ref row;
	core_record rec;
	bool		ok = true;

	while (ok && log_reader_next(lr, &row))
	{
		if (row.seq != core_seq(r->c) + 1 ||
			!decode_row(r, row.seq, row.rectype, row.payload, row.len, &rec, false))
			break;
		ok = apply_row(r, &rec, row.seq, row.ts);
		r->out->streamed++;
		after_row(r);
	}
	return ok;
}

/* ------------------------------------------------------------ the scan */

bool
replay_log(core_engine *c, replay_options *opt, replay_result *out)
{
	replay_run	r;
	Relation	rel = snapshot_open_table("command_log", AccessShareLock);
	Oid			pk = RelationGetPrimaryKeyIndex(rel);
	Relation	idx;
	ring_scan	rs;
	ScanKeyData key;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "engine replay",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	bool		ok = true;

	memset(&r, 0, sizeof(r));
	r.c = c;
	r.opt = opt;
	r.out = out;
	out->replayed = 0;
	out->streamed = 0;
	out->unchecked_seq = 0;
	out->reason[0] = '\0';
	if (!OidIsValid(pk) || RelationGetDescr(rel)->natts != COMMAND_LOG_COLUMNS)
		elog(ERROR, "engine: engine.command_log has an unexpected shape");
	if (opt->reader != NULL)
	{
		ok = replay_stream(&r, opt->reader);
		log_reader_stop(opt->reader);
		opt->reader = NULL;
	}
	/* Whatever the stream gave, the rest of the log from the next seq on. */
	idx = index_open(pk, AccessShareLock);
	ScanKeyInit(&key, 1, BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(core_seq(c)));
	ring_scan_begin(&rs, rel, idx, &key, 1, GetActiveSnapshot());
	while (ok && ring_scan_next(&rs))
	{
		ok = replay_row(&r, rs.values, rs.isnull);
		after_row(&r);
	}
	ring_scan_end(&rs);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	if (ok)
		ok = check_all_capacity(&r);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return ok;
}
