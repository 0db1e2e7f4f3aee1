/*
 * records.h — the shell half of the record table (records.c), and the seal
 * of a command_log row.
 *
 * The core's table (src/core/record.c) gives each record type its payload
 * layout, shape check, description and redo.  This one gives what only the
 * shell knows about a type: the idempotency key a request of it may carry,
 * the order it creates or acts on, how its reference data reaches the
 * tables, how a repeated key is answered, and how a capacity refusal shows
 * in the tables.  The worker's batch, journal, dedup and recovery read these
 * rows; none of them switches on the record type.
 */
#ifndef ENGINE_PG_RECORDS_H
#define ENGINE_PG_RECORDS_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "core.h"

/* Idempotency key kinds (engine.client_keys.kind). */
#define KEY_NONE  '\0'
#define KEY_ORDER 'o'			/* client_order_id of a PLACE: names the order it creates */
#define KEY_REF   'r'			/* ref of a DEPOSIT or WITHDRAW */

#define ENGINE_REF_MAX 128		/* bytes of a deposit/withdraw ref */
#define ENGINE_KEY_MAX ENGINE_REF_MAX

/* What a duplicate's answer is built from (filled by the worker). */
typedef struct duplicate_source
{
	const core_engine *core;			/* the state, under the worker's lock */
	/* an order's current state from the tables into *res, its symbol into *symbol */
	void		(*order_state) (int64 order_id, core_result *res, uint32 *symbol);
} duplicate_source;

/*
 * An order's state from the tables, for answers about an order that may no
 * longer rest ($1 = order_id, bigint): its last event (event, filled_qty,
 * remaining_qty), how many trades it made, its volume-weighted average fill
 * price truncated to a unit (NULL with no fills), its symbol_id, user_id and
 * client_order_id.  No row: no order has that id.  Every name is
 * schema-qualified, operators included, so the text means the same under
 * any search_path.
 */
#define ORDER_STATE_SQL \
	"WITH t AS (" \
	"  SELECT t.price, t.qty FROM engine.trades t" \
	"  WHERE t.seq OPERATOR(pg_catalog.=) ANY (ARRAY(" \
	"          SELECT e.seq FROM engine.order_events e WHERE e.order_id OPERATOR(pg_catalog.=) $1))" \
	"    AND (t.taker_order_id OPERATOR(pg_catalog.=) $1 OR t.maker_order_id OPERATOR(pg_catalog.=) $1)) " \
	"SELECT e.event, e.filled_qty, e.remaining_qty," \
	"  (SELECT pg_catalog.count(*) FROM t)::pg_catalog.int4," \
	"  (SELECT pg_catalog.floor(pg_catalog.sum(t.price::pg_catalog.numeric OPERATOR(pg_catalog.*) t.qty)" \
	"          OPERATOR(pg_catalog./) pg_catalog.sum(t.qty))::pg_catalog.int8 FROM t)," \
	"  e.symbol_id, e.user_id," \
	"  (SELECT c.client_order_id FROM engine.order_events c" \
	"   WHERE c.order_id OPERATOR(pg_catalog.=) $1 AND c.client_order_id IS NOT NULL LIMIT 1) " \
	"FROM engine.order_events e WHERE e.order_id OPERATOR(pg_catalog.=) $1 " \
	"ORDER BY e.seq DESC, e.ev_no DESC LIMIT 1"

/* What the worker stamps into a record when it sequences it. */
typedef struct record_stamp
{
	uint32		max_open_orders;	/* engine.max_open_orders in force (0 = none) */
} record_stamp;

/*
 * A statement that records accepted reference data in a plain table
 * (engine.assets, engine.symbols), and how its arguments come from the
 * record and its result.
 */
#define REFDATA_MAX_ARGS 12

typedef struct refdata_stmt
{
	const char *sql;
	int			nargs;
	Oid			types[REFDATA_MAX_ARGS];
	void		(*args) (const core_record *rec, const core_result *res, int64 seq,
						 TimestampTz ts, Datum *values);
} refdata_stmt;

typedef struct shell_rectype
{
	core_rectype type;			/* rows are in type order: rows[i].type == i + 1 */

	/* The idempotency key a request of this type may carry (KEY_*). */
	char		key_kind;

	/*
	 * How a request whose key was seen before is answered (it is not
	 * sequenced).  key is the request's key, order_id the original's order
	 * (0 if none).  NULL when key_kind is KEY_NONE.
	 */
	void		(*duplicate) (const duplicate_source *src, const core_record *rec,
							  const char *key, int64 order_id, core_result *res,
							  char *client_order_id, uint32 *symbol);

	/* The client_order_id the order this record creates carries; NULL: none. */
	const char *(*new_order_client_id) (const core_record *rec);

	/*
	 * The resting order this record acts on; false (or NULL): none.  A
	 * record with a target is sequenced only when, as the worker takes it,
	 * the target is a resting order of that user: otherwise it changes
	 * nothing, gets no seq and no log row, and its caller is told
	 * unknown_order (REPLY_NO_TARGET; doc/semantics.md, "Cancel and amend").
	 */
	bool		(*target) (const core_record *rec, int64 *user_id, int64 *order_id);

	/*
	 * Stamp the values the server decides at sequencing time into the
	 * record before it is applied and logged, so that replay reads the
	 * values that were in force; NULL: none.
	 */
	void		(*stamp) (core_record *rec, const record_stamp *s);

	/* Reference data it writes when accepted; sql NULL: none. */
	refdata_stmt refdata;

	/*
	 * Recovery's check that replay refuses for capacity only what was
	 * refused live: $1 is a bigint[] of seqs of records of this type that
	 * replay refused for capacity, and the query returns, as its first
	 * column, those the tables show were NOT refused for capacity when they
	 * ran live (an empty result: no divergence).  One query checks a whole
	 * batch of refusals.  NULL: capacity never refuses this type.
	 */
	const char *capacity_sql;
} shell_rectype;

/* Check the table (from _PG_init): ERROR if a type has no row. */
void		records_init(void);

/* The row of a record type, or NULL for an unknown type. */
const shell_rectype *records_get(int type);

/*
 * The seal of a command_log row:
 *     crc = CRC-32C( seq as 8 bytes little-endian
 *                    || ts as 8 bytes little-endian (microseconds since 2000)
 *                    || payload )
 * stored as a signed int4 (the same 32 bits).
 */
uint32		log_crc(int64 seq, TimestampTz ts, const uint8 *payload, size_t len);

#endif							/* ENGINE_PG_RECORDS_H */
