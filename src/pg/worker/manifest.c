/*
 * manifest.c — engine.manifest, the one row that says which of the
 * engine's history and recovery tables hold rows, and the wait of a
 * restored installation until every table it names has arrived.
 *
 * Owns: the list of tables the manifest covers (its columns are named
 * after them), every write of engine.manifest after the extension script's
 * first one, and the reads of engine.installation.
 * Must never: write the manifest outside the transaction that changes what
 * it describes (a dump reads every table in one snapshot: the dumped row
 * must match the dumped tables); let a restored installation be recovered
 * before every table its manifest calls non-empty has rows (that is the
 * rule that keeps a restore from losing acknowledged commands or restored
 * history, README "Guarantees").
 *
 * How a restore is told apart (sql/engine--1.0--1.1.sql, "Restores"):
 * pg_dump scripts and pg_restore run every statement with
 * check_function_bodies = off, and the extension script records, in
 * engine.installation (not dumped), 'restoring' when CREATE EXTENSION ran
 * that way and 'created' (or 'updated') otherwise; it writes the manifest
 * row itself only when not restoring, so a restored installation gets its
 * row from the dump.  The worker waits while the state is 'restoring',
 * until the manifest row is there and every table it calls non-empty has
 * rows (each table's COPY commits whole), then sets 'restored' and
 * recovers as usual.
 *
 * Keeping it: flags only go from false to true in a batch (its log rows,
 * events, trades, keys, reference data), which costs a flag test per
 * batch and one UPDATE per table for the life of the installation; a
 * snapshot's pruning may empty the log or a snapshot row table, so the
 * snapshot's transaction looks at those tables again
 * (manifest_note_snapshot).  Whoever writes a snapshot calls it; the
 * worker's own flags are the ones it keeps here.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "worker.h"

/* The tables, in the manifest's column order; each column is named like its table. */
typedef enum manifest_table
{
	MT_COMMAND_LOG,
	MT_ORDER_EVENTS,
	MT_TRADES,
	MT_CLIENT_KEYS,
	MT_ASSETS,
	MT_SYMBOLS,
	MT_SNAPSHOTS,
	MT_SNAPSHOT_ASSETS,
	MT_SNAPSHOT_SYMBOLS,
	MT_SNAPSHOT_BALANCES,
	MT_SNAPSHOT_ORDERS,
	MT_COUNT
} manifest_table;

static const char *const table_names[MT_COUNT] = {
	[MT_COMMAND_LOG] = "command_log",
	[MT_ORDER_EVENTS] = "order_events",
	[MT_TRADES] = "trades",
	[MT_CLIENT_KEYS] = "client_keys",
	[MT_ASSETS] = "assets",
	[MT_SYMBOLS] = "symbols",
	[MT_SNAPSHOTS] = "snapshots",
	[MT_SNAPSHOT_ASSETS] = "snapshot_assets",
	[MT_SNAPSHOT_SYMBOLS] = "snapshot_symbols",
	[MT_SNAPSHOT_BALANCES] = "snapshot_balances",
	[MT_SNAPSHOT_ORDERS] = "snapshot_orders",
};

#define BIT(t) ((uint32) 1 << (t))
/* The tables a snapshot's pruning may empty. */
#define SNAPSHOT_TABLES (BIT(MT_COMMAND_LOG) | BIT(MT_SNAPSHOT_ASSETS) | BIT(MT_SNAPSHOT_SYMBOLS) | \
						 BIT(MT_SNAPSHOT_BALANCES) | BIT(MT_SNAPSHOT_ORDERS) | BIT(MT_SNAPSHOTS))

static uint32 kept_flags;		/* what this process last wrote or read */
static SPIPlanPtr update_plan = NULL;

/* ------------------------------------------------------------ SQL */

/* "SELECT EXISTS (SELECT FROM engine.t), ..." for the tables in mask. */
static char *
exists_sql(uint32 mask)
{
	StringInfoData q;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (int t = 0; t < MT_COUNT; t++)
	{
		if (mask & BIT(t))
			appendStringInfo(&q, "%sEXISTS (SELECT FROM engine.%s)", t ? ", " : "", table_names[t]);
		else
			appendStringInfo(&q, "%sfalse", t ? ", " : "");
	}
	return q.data;
}

/* One row of booleans (MT_COUNT columns, NULL = false) as a mask. */
static uint32
row_mask(void)
{
	uint32		mask = 0;

	for (int t = 0; t < MT_COUNT; t++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, t + 1, &isnull);

		if (!isnull && DatumGetBool(d))
			mask |= BIT(t);
	}
	return mask;
}

/* Which of the tables in mask hold rows now.  SPI connected. */
static uint32
tables_with_rows(uint32 mask)
{
	if (SPI_execute(exists_sql(mask), false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "engine: could not look at the engine tables");
	return row_mask();
}

/* The manifest row as a mask; false if there is no row.  SPI connected. */
static bool
read_manifest(uint32 *mask)
{
	StringInfoData q;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (int t = 0; t < MT_COUNT; t++)
		appendStringInfo(&q, "%sm.%s", t ? ", " : "", table_names[t]);
	appendStringInfoString(&q, " FROM engine.manifest m");
	if (SPI_execute(q.data, false, 2) != SPI_OK_SELECT)
		elog(ERROR, "engine: could not read engine.manifest");
	if (SPI_processed == 0)
		return false;
	*mask = row_mask();
	return true;
}

/* Make the manifest row say mask (inserting it if missing).  SPI connected. */
static void
write_manifest(uint32 mask)
{
	Oid			types[MT_COUNT];
	Datum		args[MT_COUNT];
	int			ret;

	for (int t = 0; t < MT_COUNT; t++)
	{
		types[t] = BOOLOID;
		args[t] = BoolGetDatum((mask & BIT(t)) != 0);
	}
	if (update_plan == NULL)
	{
		StringInfoData q;
		SPIPlanPtr	p;

		initStringInfo(&q);
		appendStringInfoString(&q, "UPDATE engine.manifest SET ");
		for (int t = 0; t < MT_COUNT; t++)
			appendStringInfo(&q, "%s%s = $%d", t ? ", " : "", table_names[t], t + 1);
		p = SPI_prepare(q.data, MT_COUNT, types);
		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "engine: could not prepare the manifest update");
		update_plan = p;
	}
	ret = SPI_execute_plan(update_plan, args, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "engine: could not update engine.manifest: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		StringInfoData q;

		initStringInfo(&q);
		appendStringInfoString(&q, "INSERT INTO engine.manifest (");
		for (int t = 0; t < MT_COUNT; t++)
			appendStringInfo(&q, "%s%s", t ? ", " : "", table_names[t]);
		appendStringInfoString(&q, ") VALUES (");
		for (int t = 0; t < MT_COUNT; t++)
			appendStringInfo(&q, "%s$%d", t ? ", " : "", t + 1);
		appendStringInfoString(&q, ")");
		if (SPI_execute_with_args(q.data, MT_COUNT, types, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "engine: could not insert the row of engine.manifest");
	}
	kept_flags = mask;
}

/* ------------------------------------------------------------ restores */

/* The installation's state (engine.installation); "created" if it has no row. */
static char *
installation_state(void)
{
	if (SPI_execute("SELECT state FROM engine.installation", false, 1) != SPI_OK_SELECT)
		elog(ERROR, "engine: could not read engine.installation");
	if (SPI_processed == 0)
		return "created";
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * Is this installation a restore that is not whole yet?  If so, returns
 * true with what it waits for in detail.  Once the manifest row is there
 * and every table it calls non-empty has rows, marks the installation
 * 'restored' (committed) and returns false; false at once for an
 * installation that is not being restored.  Runs a transaction of its own.
 */
bool
manifest_restore_pending(char *detail, size_t len)
{
	bool		pending = false;
	uint32		expected;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (strcmp(installation_state(), "restoring") == 0)
	{
		if (!read_manifest(&expected))
		{
			pending = true;
			snprintf(detail, len,
					 "waiting for the restored row of engine.manifest: CREATE EXTENSION engine ran with "
					 "check_function_bodies = off, as pg_restore and pg_dump scripts do; if this is not a restore, "
					 "run DROP EXTENSION engine and CREATE EXTENSION engine with check_function_bodies = on");
		}
		else
		{
			uint32		missing = expected & ~tables_with_rows(expected);

			if (missing != 0)
			{
				StringInfoData names;

				initStringInfo(&names);
				for (int t = 0; t < MT_COUNT; t++)
					if (missing & BIT(t))
						appendStringInfo(&names, "%sengine.%s", names.len ? ", " : "", table_names[t]);
				pending = true;
				snprintf(detail, len,
						 "waiting for the restored rows of %s (engine.manifest says the dumped database had some)",
						 names.data);
			}
			else if (SPI_execute("UPDATE engine.installation SET state = 'restored', "
								 "changed_at = pg_catalog.now()", false, 0) != SPI_OK_UPDATE)
				elog(ERROR, "engine: could not update engine.installation");
		}
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return pending;
}

/* ------------------------------------------------------------ keeping it */

/*
 * After recovery, before serving: make the manifest row say what the
 * tables hold now (inserting it if it is missing), in a transaction of its
 * own.  Nothing is served yet, so nothing changes the tables meanwhile.
 */
void
manifest_load(void)
{
	uint32		mask;
	uint32		now;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	now = tables_with_rows(BIT(MT_COUNT) - 1);
	if (!read_manifest(&mask) || mask != now)
		write_manifest(now);
	kept_flags = now;
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * In a batch's transaction, after its rows are written: the tables that
 * now hold rows for the first time.  refdata: the batch accepted
 * reference data (engine.assets / engine.symbols got a row).
 */
void
manifest_note_batch(const log_batch *lb, bool refdata)
{
	uint32		now = kept_flags;

	if (lb->nrecords > 0)
		now |= BIT(MT_COMMAND_LOG);
	if (lb->nevents > 0)
		now |= BIT(MT_ORDER_EVENTS);
	if (lb->ntrades > 0)
		now |= BIT(MT_TRADES);
	if (lb->nkeys > 0)
		now |= BIT(MT_CLIENT_KEYS);
	if (refdata && (now & (BIT(MT_ASSETS) | BIT(MT_SYMBOLS))) != (BIT(MT_ASSETS) | BIT(MT_SYMBOLS)))
		now |= tables_with_rows(BIT(MT_ASSETS) | BIT(MT_SYMBOLS));
	if (now != kept_flags)
		write_manifest(now);
}

/*
 * In a snapshot's transaction, after it is written and pruned: the log and
 * the snapshot tables may have been emptied (or filled).
 */
void
manifest_note_snapshot(void)
{
	uint32		now = (kept_flags & ~SNAPSHOT_TABLES) | tables_with_rows(SNAPSHOT_TABLES);

	if (now != kept_flags)
		write_manifest(now);
}
