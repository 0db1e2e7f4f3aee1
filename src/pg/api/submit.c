/*
 * submit.c — what every SQL command does around its own arguments: the
 * deadline it waits for the worker by, reference-data lookups in the core,
 * submitting the record and waiting for its answer to be durable, and the
 * engine.order_result row.
 *
 * Owns: the errors for answers whose outcome the caller cannot know (a lost
 * reply, a command the workers kept failing on), and the wait for
 * synchronous standbys.
 * Must never: hold the state lock across anything that can wait or throw
 * (lookups copy what they need and release); submit a record that fails the
 * core's shape check.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "replication/syncrep.h"
#include "replication/walsender.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "api.h"

/* How long this command may wait for a worker that is not ready. */
TimestampTz
request_deadline(void)
{
	return TimestampTzPlusMilliseconds(GetCurrentTimestamp(), engine_request_timeout_ms);
}

/* ------------------------------------------------------------ lookups */

/* The symbol named name and its assets; ERROR (P0002) if there is none. */
void
lookup_symbol(const char *name, TimestampTz deadline, symbol_ref *out)
{
	core_engine *c = read_begin(deadline);
	uint32		id = strlen(name) <= CORE_SYMBOL_NAME_MAX ? core_symbol_find(c, name) : 0;
	bool		found = id != 0 && core_symbol_get(c, id, &out->sym) &&
		core_asset_get(c, out->sym.base_asset, &out->base) &&
		core_asset_get(c, out->sym.quote_asset, &out->quote);

	read_end();
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("unknown symbol \"%s\"", quote_input(name))));
}

/* The asset with this code; ERROR (P0002) if there is none. */
void
lookup_asset(const char *code, TimestampTz deadline, core_asset_info *out)
{
	core_engine *c = read_begin(deadline);
	uint32		id = strlen(code) <= CORE_ASSET_CODE_MAX ? core_asset_find(c, code) : 0;
	bool		found = id != 0 && core_asset_get(c, id, out);

	read_end();
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("unknown asset \"%s\"", quote_input(code))));
}

/* Symbol and assets by symbol id; false if there is no such symbol. */
bool
lookup_symbol_by_id(uint32 symbol_id, TimestampTz deadline, symbol_ref *ref)
{
	core_engine *c = read_begin(deadline);
	bool		ok = core_symbol_get(c, symbol_id, &ref->sym) &&
		core_asset_get(c, ref->sym.base_asset, &ref->base) &&
		core_asset_get(c, ref->sym.quote_asset, &ref->quote);

	read_end();
	return ok;
}

/* ------------------------------------------------------------ submit */

/*
 * Make the answer durable before the caller hears it: flush WAL up to lsn
 * (normally a no-op: the worker flushed the batch before replying) and, at
 * remote levels, wait for the synchronous standbys, as a commit at
 * engine.synchronous_commit would.  Waiting for standbys here instead of in
 * the worker lets the worker go on with the next batch (see batch.c).
 */
static void
wait_durable(XLogRecPtr lsn)
{
	const char *level = engine_synchronous_commit_name();
	int			nest;

	if (lsn == InvalidXLogRecPtr || !engine_synchronous_commit_flushes())
		return;
	XLogFlush(lsn);
	if (strcmp(level, "local") == 0 ||
		max_wal_senders == 0 || SyncRepStandbyNames == NULL || SyncRepStandbyNames[0] == '\0')
		return;					/* no synchronous standby to wait for */

	/* SyncRepWaitForLSN takes its mode from synchronous_commit: set it for the wait. */
	nest = NewGUCNestLevel();
	(void) set_config_option("synchronous_commit", level, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	HOLD_INTERRUPTS();
	SyncRepWaitForLSN(lsn, true);
	RESUME_INTERRUPTS();
	AtEOXact_GUC(true, nest);
}


/* The core's own stateless shape check, as an ERROR. */
static void
validate_record(const core_record *rec)
{
	const char *name = records_get(rec->type) ? core_rectype_name((core_rectype) rec->type) : NULL;
	const char *why = name ? core_record_validate(rec) : "unknown record type";

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s command: %s", name ? name : "engine", why)));
}

/* ERROR for an outcome whose answers the caller cannot know. */
static void
error_unless_answered(uint8 outcome, int64 seq)
{
	if (outcome == OUTCOME_LOST)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_STATEMENT_COMPLETION_UNKNOWN),
				 errmsg("engine worker restarted before replying"),
				 errdetail("The command was committed at seq " INT64_FORMAT "; its result was not delivered.",
						   seq),
				 errhint("Look the outcome up in engine.order_events or engine.command_log_decoded by seq.")));
	if (outcome == OUTCOME_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("engine worker failed %d times while running this command", ENGINE_MAX_ATTEMPTS),
				 errdetail("The command was not executed."),
				 errhint("See the server log for the worker's errors.")));
	if (outcome != OUTCOME_ANSWERED)
		elog(ERROR, "engine: request answered with unknown outcome %d", outcome);
}

/*
 * Fill a request item: the record (validated here) and its idempotency key
 * (NULL: none) of user key_user, whose kind is the record type's
 * (records.c).
 */
void
request_item_set(request_item *item, const core_record *rec, int64 key_user, const char *key)
{
	validate_record(rec);
	memset(item, 0, sizeof(*item));
	item->rec = *rec;
	item->key_kind = KEY_NONE;
	if (key != NULL)
	{
		item->key_kind = records_get(rec->type)->key_kind;
		Assert(item->key_kind != KEY_NONE);
		item->key_user = key_user;
		strlcpy(item->key, key, sizeof(item->key));
	}
}

/*
 * Submit items[0..n) as one request and wait for every answer (see
 * slot_execute for the errors): they come back in items[i].reply, durable
 * when this returns.  ERROR for answers whose outcome the caller cannot know.
 */
void
execute_items(request_item *items, int n, TimestampTz deadline)
{
	int64		seq;
	XLogRecPtr	lsn;
	uint8		outcome = slot_execute(items, n, deadline, &seq, &lsn);

	wait_durable(lsn);
	error_unless_answered(outcome, seq);
}

/*
 * Submit one command and wait for its answer, into *out.  key (NULL: none)
 * is the idempotency key of user key_user.
 */
void
execute(const core_record *rec, int64 key_user, const char *key,
		TimestampTz deadline, engine_reply *out)
{
	request_item item;

	request_item_set(&item, rec, key_user, key);
	execute_items(&item, 1, deadline);
	*out = item.reply;
}

/* ------------------------------------------------------------ results */

/* The 8 columns of engine.order_result into v/n. */
void
order_result_fill(Datum *v, bool *n, int64 order_id, const char *client_order_id,
				  const char *status, int64 filled, int64 remaining, int64 avg_price,
				  int32 trades, const char *reason, int base_decimals, int quote_decimals)
{
	memset(n, 0, sizeof(bool) * ORDER_RESULT_COLUMNS);
	v[0] = Int64GetDatum(order_id);
	n[0] = order_id == 0;
	n[1] = client_order_id == NULL || client_order_id[0] == '\0';
	v[1] = n[1] ? (Datum) 0 : CStringGetTextDatum(client_order_id);
	v[2] = CStringGetTextDatum(status);
	n[3] = n[4] = base_decimals == ORDER_FIGURES_UNKNOWN;
	v[3] = n[3] ? (Datum) 0 : units_to_numeric(filled, base_decimals);
	v[4] = n[4] ? (Datum) 0 : units_to_numeric(remaining, base_decimals);
	n[5] = filled == 0 || quote_decimals == ORDER_FIGURES_UNKNOWN;
	v[5] = n[5] ? (Datum) 0 : units_to_numeric(avg_price, quote_decimals);
	v[6] = Int32GetDatum(trades);
	n[7] = reason == NULL;
	v[7] = n[7] ? (Datum) 0 : CStringGetTextDatum(reason);
}

Datum
order_result_values(FunctionCallInfo fcinfo, int64 order_id, const char *client_order_id,
					const char *status, int64 filled, int64 remaining, int64 avg_price,
					int32 trades, const char *reason,
					int base_decimals, int quote_decimals)
{
	TupleDesc	desc;
	Datum		v[ORDER_RESULT_COLUMNS];
	bool		n[ORDER_RESULT_COLUMNS];

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "engine: order_result must be a composite type");
	desc = BlessTupleDesc(desc);
	order_result_fill(v, n, order_id, client_order_id, status, filled, remaining, avg_price,
					  trades, reason, base_decimals, quote_decimals);
	return HeapTupleGetDatum(heap_form_tuple(desc, v, n));
}

/* What a place/cancel/amend reply says, as the columns of engine.order_result. */
void
order_result_row(const engine_reply *r, int base_decimals, int quote_decimals,
				 Datum *v, bool *n)
{
	const core_result *res = &r->res;
	const char *reason = r->kind == REPLY_DUPLICATE ? "duplicate"
		: core_reason_name((core_reason) res->reason);

	order_result_fill(v, n, res->order_id, r->client_order_id,
					  core_status_name((core_status) res->status),
					  res->filled_qty, res->remaining_qty, res->avg_price,
					  res->trades, reason, base_decimals, quote_decimals);
}

/* The engine.order_result row for a place/cancel/amend reply. */
Datum
order_result_datum(FunctionCallInfo fcinfo, const engine_reply *r,
				   int base_decimals, int quote_decimals)
{
	TupleDesc	desc;
	Datum		v[ORDER_RESULT_COLUMNS];
	bool		n[ORDER_RESULT_COLUMNS];

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "engine: order_result must be a composite type");
	desc = BlessTupleDesc(desc);
	order_result_row(r, base_decimals, quote_decimals, v, n);
	return HeapTupleGetDatum(heap_form_tuple(desc, v, n));
}
