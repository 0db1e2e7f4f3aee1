/*
 * cmdlog.c — the command log: the record-type dispatch table, the CRC that
 * seals each log row, and the batch writer for engine.command_log and the
 * tables written with it (order_events, trades, client_keys, assets,
 * symbols).
 *
 * Owns: the SQL that writes those tables (prepared once per worker process,
 * kept with SPI_keepplan) and the CRC definition.
 * Must never: write one SPI statement per row (each table gets one INSERT ...
 * SELECT FROM unnest(arrays) per batch), run outside the worker's batch
 * transaction, or decide anything about a command.
 *
 * The log is an input journal, resource-manager style: each row is one
 * sequenced record (rejected ones included) with its type, its engine
 * timestamp, its binary payload (core_record_encode) and
 *
 *     crc = CRC-32C( seq as 8 bytes little-endian
 *                    || ts as 8 bytes little-endian (microseconds since 2000)
 *                    || payload )
 *
 * stored as a signed int4 (the same 32 bits).  Replay (recovery.c) decodes
 * the payload and hands it to the same redo as live processing.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "engine.h"

/*
 * One row per record type: redo is the core's single apply entry point (it
 * dispatches on the type inside the core), desc renders the payload for
 * engine.command_log_decoded, validate is the stateless shape check the
 * backend runs before submitting, key_kind says which dedup key the type
 * carries.
 */
static const log_rectype rectypes[CORE_REC_COUNT] = {
	[CORE_REC_CREATE_ASSET] = {"CREATE_ASSET", core_apply, core_record_desc, core_record_validate, KEY_NONE},
	[CORE_REC_CREATE_SYMBOL] = {"CREATE_SYMBOL", core_apply, core_record_desc, core_record_validate, KEY_NONE},
	[CORE_REC_SET_SYMBOL_STATUS] = {"SET_SYMBOL_STATUS", core_apply, core_record_desc, core_record_validate, KEY_NONE},
	[CORE_REC_DEPOSIT] = {"DEPOSIT", core_apply, core_record_desc, core_record_validate, KEY_REF},
	[CORE_REC_WITHDRAW] = {"WITHDRAW", core_apply, core_record_desc, core_record_validate, KEY_REF},
	[CORE_REC_PLACE] = {"PLACE", core_apply, core_record_desc, core_record_validate, KEY_ORDER},
	[CORE_REC_CANCEL] = {"CANCEL", core_apply, core_record_desc, core_record_validate, KEY_NONE},
	[CORE_REC_CANCEL_ALL] = {"CANCEL_ALL", core_apply, core_record_desc, core_record_validate, KEY_NONE},
	[CORE_REC_AMEND] = {"AMEND", core_apply, core_record_desc, core_record_validate, KEY_NONE},
};

/* The table entry for a record type, or NULL for an unknown type. */
const log_rectype *
log_rectype_get(int type)
{
	if (type <= CORE_REC_INVALID || type >= CORE_REC_COUNT || rectypes[type].name == NULL)
		return NULL;
	return &rectypes[type];
}

uint32
log_crc(int64 seq, TimestampTz ts, const uint8 *payload, size_t len)
{
	uint8		head[16];
	uint64		s = (uint64) seq;
	uint64		t = (uint64) ts;
	uint32		crc;

	for (int i = 0; i < 8; i++)
	{
		head[i] = (uint8) (s >> (8 * i));
		head[8 + i] = (uint8) (t >> (8 * i));
	}
	crc = core_crc32c(0, head, sizeof(head));
	return core_crc32c(crc, payload, len);
}

/* ------------------------------------------------------------ prepared statements */

typedef enum log_stmt
{
	STMT_COMMAND_LOG,
	STMT_ORDER_EVENTS,
	STMT_TRADES,
	STMT_CLIENT_KEYS,
	STMT_ASSET,
	STMT_SYMBOL,
	STMT_SYMBOL_STATUS,
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
		"SELECT u.u, u.k, u.y, NULLIF(u.o, 0), u.s, $6 "
		"FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
		"pg_catalog.unnest($4), pg_catalog.unnest($5)) AS u(u, k, y, o, s)",
		6, {INT8ARRAYOID, CHARARRAYOID, TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID, TIMESTAMPTZOID}
	},
	[STMT_ASSET] = {
		"INSERT INTO engine.assets (asset_id, code, decimals, seq, created_at) "
		"VALUES ($1, $2, $3, $4, $5)",
		5, {INT4OID, TEXTOID, INT4OID, INT8OID, TIMESTAMPTZOID}
	},
	[STMT_SYMBOL] = {
		"INSERT INTO engine.symbols (symbol_id, symbol, base_asset_id, quote_asset_id, tick_size, "
		"lot_size, min_qty, maker_fee_ppm, taker_fee_ppm, status, seq, created_at) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'trading', $10, $11)",
		11, {INT4OID, TEXTOID, INT4OID, INT4OID, INT8OID, INT8OID, INT8OID, INT4OID, INT4OID,
		INT8OID, TIMESTAMPTZOID}
	},
	[STMT_SYMBOL_STATUS] = {
		"UPDATE engine.symbols SET status = $2, seq = $3 WHERE symbol_id = $1",
		3, {INT4OID, TEXTOID, INT8OID}
	},
};

static SPIPlanPtr plans[STMT_COUNT];

static void
run_stmt(log_stmt which, Datum *values, const char *nulls)
{
	const stmt_def *def = &stmt_defs[which];
	int			ret;

	if (plans[which] == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(def->sql, def->nargs, (Oid *) def->types);

		if (plan == NULL)
			elog(ERROR, "engine: SPI_prepare failed for \"%s\": %s",
				 def->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "engine: SPI_keepplan failed");
		plans[which] = plan;
	}
	ret = SPI_execute_plan(plans[which], values, nulls, false, 0);
	if (ret != SPI_OK_INSERT && ret != SPI_OK_UPDATE)
		elog(ERROR, "engine: writing the command log failed: %s", SPI_result_code_string(ret));
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
 * accepted commands write; these are rare, so one statement per record.
 */
void
log_append_refdata(const core_record *rec, const core_result *res, int64 seq, TimestampTz ts)
{
	Datum		v[11];

	if (res->status != CORE_ST_OK)
		return;
	switch (rec->type)
	{
		case CORE_REC_CREATE_ASSET:
			v[0] = Int32GetDatum((int32) res->id);
			v[1] = CStringGetTextDatum(rec->u.create_asset.code);
			v[2] = Int32GetDatum(rec->u.create_asset.decimals);
			v[3] = Int64GetDatum(seq);
			v[4] = TimestampTzGetDatum(ts);
			run_stmt(STMT_ASSET, v, NULL);
			break;
		case CORE_REC_CREATE_SYMBOL:
			{
				const core_rec_create_symbol *s = &rec->u.create_symbol;

				v[0] = Int32GetDatum((int32) res->id);
				v[1] = CStringGetTextDatum(s->name);
				v[2] = Int32GetDatum((int32) s->base_asset);
				v[3] = Int32GetDatum((int32) s->quote_asset);
				v[4] = Int64GetDatum(s->tick_size);
				v[5] = Int64GetDatum(s->lot_size);
				v[6] = Int64GetDatum(s->min_qty);
				v[7] = Int32GetDatum(s->maker_fee_ppm);
				v[8] = Int32GetDatum(s->taker_fee_ppm);
				v[9] = Int64GetDatum(seq);
				v[10] = TimestampTzGetDatum(ts);
				run_stmt(STMT_SYMBOL, v, NULL);
				break;
			}
		case CORE_REC_SET_SYMBOL_STATUS:
			v[0] = Int32GetDatum((int32) rec->u.set_symbol_status.symbol);
			v[1] = CStringGetTextDatum(rec->u.set_symbol_status.status == CORE_HALTED
									   ? "halted" : "trading");
			v[2] = Int64GetDatum(seq);
			run_stmt(STMT_SYMBOL_STATUS, v, NULL);
			break;
		default:
			break;
	}
}
