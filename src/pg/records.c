/*
 * records.c — the shell half of the record table: one row per record type,
 * saying what only the shell knows about it (see records.h), and the CRC
 * that seals each command_log row.
 *
 * Owns: per record type, the idempotency key, the order it creates or acts
 * on, what the worker stamps into it when it sequences it, the SQL that
 * records its reference data, its duplicate answer, and the query that
 * shows a live capacity refusal.
 * Must never: run SQL or take locks (the worker runs the statements named
 * here; the rows are plain data and pure functions of the record).
 *
 * Adding a record type: its payload struct and core row (src/core), its
 * redo (src/core), a row here, its SQL wrapper (api/), its tests.  A type
 * without a row here fails to compile (the count is asserted) and, should
 * the rows be out of order, the server refuses to start (records_init).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "port/pg_crc32c.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "records.h"

/* ------------------------------------------------------------ duplicate answers */

/*
 * A repeated client_order_id: the original order's current state, and its
 * symbol (which may not be the one the retry names).
 */
static void
duplicate_order(const duplicate_source *src, const core_record *rec pg_attribute_unused(),
				const char *key, int64 order_id, core_result *res, char *client_order_id,
				uint32 *symbol)
{
	strlcpy(client_order_id, key, CORE_CLIENT_ID_MAX + 1);
	src->order_state(order_id, res, symbol);
}

/* A repeated deposit/withdraw ref: the current balance of that asset. */
static void
duplicate_funds(const duplicate_source *src, const core_record *rec,
				const char *key pg_attribute_unused(), int64 order_id pg_attribute_unused(),
				core_result *res, char *client_order_id pg_attribute_unused(),
				uint32 *symbol pg_attribute_unused())
{
	core_balance_info b;
	const core_rec_funds *f = &rec->u.funds;

	res->status = CORE_ST_OK;
	if (core_balance_get(src->core, f->user_id, f->asset, &b))
	{
		res->available = b.available;
		res->frozen = b.frozen;
	}
}

/* ------------------------------------------------------------ orders */

static const char *
place_client_id(const core_record *rec)
{
	return rec->u.place.client_order_id;
}

/* The per-user limit of resting orders in force when the PLACE is sequenced. */
static void
place_stamp(core_record *rec, const record_stamp *s)
{
	rec->u.place.max_open_orders = s->max_open_orders;
}

static bool
cancel_target(const core_record *rec, int64 *user_id, int64 *order_id)
{
	*user_id = rec->u.cancel.user_id;
	*order_id = rec->u.cancel.order_id;
	return true;
}

static bool
amend_target(const core_record *rec, int64 *user_id, int64 *order_id)
{
	*user_id = rec->u.amend.user_id;
	*order_id = rec->u.amend.order_id;
	return true;
}

/* ------------------------------------------------------------ reference data */

static void
create_asset_args(const core_record *rec, const core_result *res, int64 seq,
				  TimestampTz ts, Datum *v)
{
	v[0] = Int32GetDatum((int32) res->id);
	v[1] = CStringGetTextDatum(rec->u.create_asset.code);
	v[2] = Int32GetDatum(rec->u.create_asset.decimals);
	v[3] = Int64GetDatum(seq);
	v[4] = TimestampTzGetDatum(ts);
}

static void
create_symbol_args(const core_record *rec, const core_result *res, int64 seq,
				   TimestampTz ts, Datum *v)
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
	v[11] = Int64GetDatum(s->min_notional);
}

static void
set_symbol_status_args(const core_record *rec, const core_result *res pg_attribute_unused(),
					   int64 seq, TimestampTz ts pg_attribute_unused(), Datum *v)
{
	v[0] = Int32GetDatum((int32) rec->u.set_symbol_status.symbol);
	v[1] = CStringGetTextDatum(rec->u.set_symbol_status.status == CORE_HALTED
							   ? "halted" : "trading");
	v[2] = Int64GetDatum(seq);
}

/* ------------------------------------------------------------ the table */

static const shell_rectype rows[] = {
	{
		.type = CORE_REC_CREATE_ASSET,
		.refdata = {
			"INSERT INTO engine.assets (asset_id, code, decimals, seq, created_at) "
			"VALUES ($1, $2, $3, $4, $5)",
			5, {INT4OID, TEXTOID, INT4OID, INT8OID, TIMESTAMPTZOID}, create_asset_args
		},
		.capacity_sql = "SELECT a.seq FROM engine.assets a WHERE a.seq OPERATOR(pg_catalog.=) ANY ($1)",
	},
	{
		.type = CORE_REC_CREATE_SYMBOL,
		.refdata = {
			"INSERT INTO engine.symbols (symbol_id, symbol, base_asset_id, quote_asset_id, tick_size, "
			"lot_size, min_qty, maker_fee_ppm, taker_fee_ppm, status, seq, created_at, min_notional) "
			"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'trading', $10, $11, $12)",
			12, {INT4OID, TEXTOID, INT4OID, INT4OID, INT8OID, INT8OID, INT8OID, INT4OID, INT4OID,
			INT8OID, TIMESTAMPTZOID, INT8OID}, create_symbol_args
		},
		.capacity_sql = "SELECT s.seq FROM engine.symbols s WHERE s.seq OPERATOR(pg_catalog.=) ANY ($1)",
	},
	{
		.type = CORE_REC_SET_SYMBOL_STATUS,
		.refdata = {
			"UPDATE engine.symbols SET status = $2, seq = $3 WHERE symbol_id OPERATOR(pg_catalog.=) $1",
			3, {INT4OID, TEXTOID, INT8OID}, set_symbol_status_args
		},
	},
	{
		.type = CORE_REC_DEPOSIT,
		.key_kind = KEY_REF,
		.duplicate = duplicate_funds,
	},
	{
		.type = CORE_REC_WITHDRAW,
		.key_kind = KEY_REF,
		.duplicate = duplicate_funds,
	},
	{
		.type = CORE_REC_PLACE,
		.key_kind = KEY_ORDER,
		.duplicate = duplicate_order,
		.new_order_client_id = place_client_id,
		.stamp = place_stamp,
		/*
		 * A set difference, not NOT EXISTS: its plan is the same with or
		 * without statistics (one index scan of the batch's seqs, then a
		 * hashed EXCEPT), where an anti join planned against a table just
		 * restored, never analyzed, can rescan it once per seq.
		 */
		.capacity_sql = "SELECT q.seq FROM pg_catalog.unnest($1) q(seq) EXCEPT "
		"SELECT e.seq FROM engine.order_events e WHERE e.seq OPERATOR(pg_catalog.=) ANY ($1) "
		"AND e.event OPERATOR(pg_catalog.=) 'rejected' AND e.reason OPERATOR(pg_catalog.=) 'capacity'",
	},
	{
		.type = CORE_REC_CANCEL,
		.target = cancel_target,
	},
	{
		.type = CORE_REC_CANCEL_ALL,
	},
	{
		.type = CORE_REC_AMEND,
		.target = amend_target,
	},
};

StaticAssertDecl(lengthof(rows) == CORE_REC_COUNT - 1,
				 "every core record type needs a row in the shell's record table");

void
records_init(void)
{
	for (int i = 0; i < (int) lengthof(rows); i++)
	{
		const shell_rectype *r = &rows[i];

		if ((int) r->type != i + 1 || core_rectype_name(r->type) == NULL ||
			(r->key_kind != KEY_NONE) != (r->duplicate != NULL))
			elog(ERROR, "engine: the shell's record table is inconsistent at row %d", i + 1);
	}
}

const shell_rectype *
records_get(int type)
{
	if (type <= CORE_REC_INVALID || type >= CORE_REC_COUNT)
		return NULL;
	return &rows[type - 1];
}

/* ------------------------------------------------------------ the log row's seal */

uint32
log_crc(int64 seq, TimestampTz ts, const uint8 *payload, size_t len)
{
	uint8		head[16];
	uint64		s = (uint64) seq;
	uint64		t = (uint64) ts;
	pg_crc32c	crc;

	for (int i = 0; i < 8; i++)
	{
		head[i] = (uint8) (s >> (8 * i));
		head[8 + i] = (uint8) (t >> (8 * i));
	}
	/*
	 * PostgreSQL's CRC-32C (CPU instructions where there are some): the
	 * same value as core_crc32c over head || payload, several times faster
	 * in a replay of millions of rows.
	 */
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, head, sizeof(head));
	COMP_CRC32C(crc, payload, len);
	FIN_CRC32C(crc);
	return (uint32) crc;
}
