/*
 * journal.c — the journal writers: engine.command_log and the tables written
 * with it in the batch's transaction (order_events, trades, client_keys,
 * and through the record table's refdata statements assets and symbols).
 *
 * Owns: the SQL that writes those tables (prepared once per worker process,
 * kept with SPI_keepplan).
 * Must never: write one SPI statement per row (each table gets one INSERT ...
 * SELECT FROM unnest(arrays) per batch), run outside the worker's batch
 * transaction, or decide anything about a command.
 *
 * The log is an input journal, resource-manager style: each row is one
 * sequenced record (rejected ones included) with its type, its engine
 * timestamp, its binary payload (core_record_encode) and its CRC (log_crc,
 * records.h).  Replay (recovery.c) decodes the payload and
 * hands it to the same redo as live processing.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "records.h"
#include "worker.h"

/* ------------------------------------------------------------ prepared statements */

typedef enum log_stmt
{
	STMT_COMMAND_LOG,
	STMT_ORDER_EVENTS,
	STMT_TRADES,
	STMT_CLIENT_KEYS,
	STMT_COUNT
} log_stmt;

typedef struct stmt_def
{
	const char *sql;
	int			nargs;
	Oid			types[16];
} stmt_def;

static const stmt_def stmt_defs[STMT_COUNT] = {
	[STMT_COMMAND_LOG] = {
		"INSERT INTO engine.command_log (seq, rectype, ts, payload, crc) "
		"SELECT u.s, u.r, $3, u.p, u.c "
		"FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
		"pg_catalog.unnest($4), pg_catalog.unnest($5)) AS u(s, r, p, c)",
		5, {INT8ARRAYOID, INT2ARRAYOID, TIMESTAMPTZOID, BYTEAARRAYOID, INT4ARRAYOID}
	},
	[STMT_ORDER_EVENTS] = {
		"INSERT INTO engine.order_events (seq, ev_no, order_id, user_id, symbol_id, side, event, "
		"price, qty, filled_qty, remaining_qty, reason, client_order_id, ts) "
		"SELECT u.* , $14 FROM ROWS FROM ("
		"pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
		"pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6), "
		"pg_catalog.unnest($7), pg_catalog.unnest($8), pg_catalog.unnest($9), "
		"pg_catalog.unnest($10), pg_catalog.unnest($11), "
		"pg_catalog.unnest($12), pg_catalog.unnest($13)) "
		"AS u(seq, ev_no, order_id, user_id, symbol_id, side, event, price, qty, filled, remaining, reason, coid)",
		14, {INT8ARRAYOID, INT4ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID,
			TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, TIMESTAMPTZOID}
	},
	[STMT_TRADES] = {
		"INSERT INTO engine.trades (trade_id, seq, symbol_id, price, qty, quote_qty, taker_side, "
		"taker_order_id, taker_user_id, maker_order_id, maker_user_id, taker_fee, maker_fee, ts) "
		"SELECT u.*, $14 FROM ROWS FROM ("
		"pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
		"pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6), "
		"pg_catalog.unnest($7), pg_catalog.unnest($8), pg_catalog.unnest($9), "
		"pg_catalog.unnest($10), pg_catalog.unnest($11), "
		"pg_catalog.unnest($12), pg_catalog.unnest($13)) "
		"AS u(trade_id, seq, symbol_id, price, qty, quote_qty, taker_side, taker_order_id, "
		"taker_user_id, maker_order_id, maker_user_id, taker_fee, maker_fee)",
		14, {INT8ARRAYOID, INT8ARRAYOID, INT4ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
			TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
		INT8ARRAYOID, TIMESTAMPTZOID}
	},
	[STMT_CLIENT_KEYS] = {
		"INSERT INTO engine.client_keys (user_id, kind, key, order_id, seq, created_at) "
		"SELECT u.u, u.k, u.y, CASE WHEN u.o OPERATOR(pg_catalog.<>) 0 THEN u.o END, u.s, $6 "
		"FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
		"pg_catalog.unnest($4), pg_catalog.unnest($5)) AS u(u, k, y, o, s)",
		6, {INT8ARRAYOID, CHARARRAYOID, TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID, TIMESTAMPTZOID}
	},
};

static SPIPlanPtr plans[STMT_COUNT];
static SPIPlanPtr refdata_plans[CORE_REC_COUNT];

/* Run sql with values through the plan kept in *plan (prepared on first use). */
static void
run_plan(SPIPlanPtr *plan, const char *sql, int nargs, const Oid *types,
		 Datum *values, const char *nulls)
{
	int			ret;

	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, (Oid *) types);

		if (p == NULL)
			elog(ERROR, "engine: SPI_prepare failed for \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "engine: SPI_keepplan failed");
		*plan = p;
	}
	ret = SPI_execute_plan(*plan, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT && ret != SPI_OK_UPDATE)
		elog(ERROR, "engine: writing the command log failed: %s", SPI_result_code_string(ret));
}

static void
run_stmt(log_stmt which, Datum *values, const char *nulls)
{
	const stmt_def *def = &stmt_defs[which];

	run_plan(&plans[which], def->sql, def->nargs, def->types, values, nulls);
}

/* ------------------------------------------------------------ array builders */

static Datum
array_of(Datum *elems, bool *nulls, int n, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
											  elemtype, typlen, typbyval, typalign));
}

static Datum *
datums(int n)
{
	return palloc(sizeof(Datum) * Max(n, 1));
}

static Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/* ------------------------------------------------------------ writers */

static void
append_records(const log_batch *b)
{
	Datum		v[5];
	Datum	   *seq = datums(b->nrecords),
			   *rt = datums(b->nrecords),
			   *pl = datums(b->nrecords),
			   *crc = datums(b->nrecords);

	for (int i = 0; i < b->nrecords; i++)
	{
		seq[i] = Int64GetDatum(b->seqs[i]);
		rt[i] = Int16GetDatum(b->rectypes[i]);
		pl[i] = PointerGetDatum(b->payloads[i]);
		crc[i] = Int32GetDatum(b->crcs[i]);
	}
	v[0] = array_of(seq, NULL, b->nrecords, INT8OID);
	v[1] = array_of(rt, NULL, b->nrecords, INT2OID);
	v[2] = TimestampTzGetDatum(b->ts);
	v[3] = array_of(pl, NULL, b->nrecords, BYTEAOID);
	v[4] = array_of(crc, NULL, b->nrecords, INT4OID);
	run_stmt(STMT_COMMAND_LOG, v, NULL);
}

static void
append_events(const log_batch *b)
{
	int			n = b->nevents;
	Datum		v[14];
	Datum	   *a[13];
	bool	   *reason_null = palloc(sizeof(bool) * Max(n, 1));
	bool	   *coid_null = palloc(sizeof(bool) * Max(n, 1));

	for (int k = 0; k < 13; k++)
		a[k] = datums(n);
	for (int i = 0; i < n; i++)
	{
		const log_order_event *e = &b->events[i];

		a[0][i] = Int64GetDatum(e->seq);
		a[1][i] = Int32GetDatum(e->ev_no);
		a[2][i] = Int64GetDatum(e->ev.order_id);
		a[3][i] = Int64GetDatum(e->ev.user_id);
		a[4][i] = Int32GetDatum((int32) e->ev.symbol);
		a[5][i] = CStringGetTextDatum(core_side_name(e->ev.side));
		a[6][i] = CStringGetTextDatum(core_status_name(e->ev.status));
		a[7][i] = Int64GetDatum(e->ev.price);
		a[8][i] = Int64GetDatum(e->ev.qty);
		a[9][i] = Int64GetDatum(e->ev.filled_qty);
		a[10][i] = Int64GetDatum(e->ev.remaining_qty);
		a[11][i] = text_or_null(core_reason_name(e->ev.reason), &reason_null[i]);
		a[12][i] = text_or_null(e->client_order_id, &coid_null[i]);
	}
	v[0] = array_of(a[0], NULL, n, INT8OID);
	v[1] = array_of(a[1], NULL, n, INT4OID);
	v[2] = array_of(a[2], NULL, n, INT8OID);
	v[3] = array_of(a[3], NULL, n, INT8OID);
	v[4] = array_of(a[4], NULL, n, INT4OID);
	v[5] = array_of(a[5], NULL, n, TEXTOID);
	v[6] = array_of(a[6], NULL, n, TEXTOID);
	v[7] = array_of(a[7], NULL, n, INT8OID);
	v[8] = array_of(a[8], NULL, n, INT8OID);
	v[9] = array_of(a[9], NULL, n, INT8OID);
	v[10] = array_of(a[10], NULL, n, INT8OID);
	v[11] = array_of(a[11], reason_null, n, TEXTOID);
	v[12] = array_of(a[12], coid_null, n, TEXTOID);
	v[13] = TimestampTzGetDatum(b->ts);
	run_stmt(STMT_ORDER_EVENTS, v, NULL);
}

static void
append_trades(const log_batch *b)
{
	int			n = b->ntrades;
	Datum		v[14];
	Datum	   *a[13];

	for (int k = 0; k < 13; k++)
		a[k] = datums(n);
	for (int i = 0; i < n; i++)
	{
		const core_trade_event *t = &b->trades[i].tr;

		a[0][i] = Int64GetDatum(t->trade_id);
		a[1][i] = Int64GetDatum(b->trades[i].seq);
		a[2][i] = Int32GetDatum((int32) t->symbol);
		a[3][i] = Int64GetDatum(t->price);
		a[4][i] = Int64GetDatum(t->qty);
		a[5][i] = Int64GetDatum(t->quote_qty);
		a[6][i] = CStringGetTextDatum(core_side_name(t->taker_side));
		a[7][i] = Int64GetDatum(t->taker_order_id);
		a[8][i] = Int64GetDatum(t->taker_user_id);
		a[9][i] = Int64GetDatum(t->maker_order_id);
		a[10][i] = Int64GetDatum(t->maker_user_id);
		a[11][i] = Int64GetDatum(t->taker_fee);
		a[12][i] = Int64GetDatum(t->maker_fee);
	}
	for (int k = 0; k < 13; k++)
	{
		Oid			t = (k == 2) ? INT4OID : (k == 6) ? TEXTOID : INT8OID;

		v[k] = array_of(a[k], NULL, n, t);
	}
	v[13] = TimestampTzGetDatum(b->ts);
	run_stmt(STMT_TRADES, v, NULL);
}

static void
append_keys(const log_batch *b)
{
	int			n = b->nkeys;
	Datum		v[6];
	Datum	   *a[5];

	for (int k = 0; k < 5; k++)
		a[k] = datums(n);
	for (int i = 0; i < n; i++)
	{
		a[0][i] = Int64GetDatum(b->keys[i].user_id);
		a[1][i] = CharGetDatum(b->keys[i].kind);
		a[2][i] = CStringGetTextDatum(b->keys[i].key);
		a[3][i] = Int64GetDatum(b->keys[i].order_id);
		a[4][i] = Int64GetDatum(b->keys[i].seq);
	}
	v[0] = array_of(a[0], NULL, n, INT8OID);
	v[1] = array_of(a[1], NULL, n, CHAROID);
	v[2] = array_of(a[2], NULL, n, TEXTOID);
	v[3] = array_of(a[3], NULL, n, INT8OID);
	v[4] = array_of(a[4], NULL, n, INT8OID);
	v[5] = TimestampTzGetDatum(b->ts);
	run_stmt(STMT_CLIENT_KEYS, v, NULL);
}

/*
 * Write one batch: one INSERT per table that has rows.  Runs inside the
 * worker's batch transaction with SPI connected; any failure is an ERROR
 * (the worker then exits and rebuilds from what did commit).
 */
void
log_append_batch(const log_batch *b)
{
	if (b->nrecords > 0)
		append_records(b);
	if (b->nevents > 0)
		append_events(b);
	if (b->ntrades > 0)
		append_trades(b);
	if (b->nkeys > 0)
		append_keys(b);
}

/*
 * Reference data also goes to engine.assets / engine.symbols, so views can
 * show codes, names and scales from plain tables (no worker needed).  Only
 * accepted commands write, through their record type's refdata statement;
 * these are rare, so one statement per record.
 */
void
log_append_refdata(const core_record *rec, const core_result *res, int64 seq, TimestampTz ts)
{
	const shell_rectype *rt = records_get(rec->type);
	Datum		v[REFDATA_MAX_ARGS];

	if (res->status != CORE_ST_OK || rt == NULL || rt->refdata.sql == NULL)
		return;
	rt->refdata.args(rec, res, seq, ts, v);
	run_plan(&refdata_plans[rec->type], rt->refdata.sql, rt->refdata.nargs, rt->refdata.types,
			 v, NULL);
}
