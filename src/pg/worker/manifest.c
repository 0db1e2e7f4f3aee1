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
 * snapshot's pruning may empty the log or a snapshot table, so the
 * snapshot's transaction looks at those tables again
 * (manifest_note_snapshot).
 *
 * Two processes write the row: the worker (its batches set flags; its own
 * snapshot at shutdown) and the snapshot writer, whose transactions run
 * beside the worker's batches.  Each UPDATE sets only the columns its
 * writer knows about, so neither overwrites the other's with a stale
 * value (a concurrent UPDATE of the row waits and then applies its own
 * columns to the newer version).  The writer sets the snapshot tables'
 * flags, and clears command_log's only with engine.command_log locked
 * against the worker's inserts until it commits; it tells the worker
 * through engine_shm->log_emptied, which the worker reads in its next
 * batch (after its insert into the log, so after the writer committed)
 * and then sets the flag again.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "shmem.h"
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
	MT_SNAPSHOT_CHUNKS,
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
	[MT_SNAPSHOT_CHUNKS] = "snapshot_chunks",
};

#define BIT(t) ((uint32) 1 << (t))
/* The tables a snapshot's pruning may empty. */
#define SNAPSHOT_ROWS (BIT(MT_SNAPSHOT_ASSETS) | BIT(MT_SNAPSHOT_SYMBOLS) | \
					   BIT(MT_SNAPSHOT_BALANCES) | BIT(MT_SNAPSHOT_ORDERS) | BIT(MT_SNAPSHOTS) | \
					   BIT(MT_SNAPSHOT_CHUNKS))
#define SNAPSHOT_TABLES (BIT(MT_COMMAND_LOG) | SNAPSHOT_ROWS)
#define ALL_TABLES (BIT(MT_COUNT) - 1)

static uint32 kept_flags;		/* what this process last wrote or read */

/* ------------------------------------------------------------ SQL */

/*
 * "SELECT EXISTS (SELECT FROM engine.t), ..." for the tables in mask.  The
 * log and the chunks are asked through their primary key's newest end
 * instead: pruning deletes their oldest rows, and until VACUUM comes by, a
 * sequential scan for a first row reads every page of them (a quarter of a
 * second for a million pruned log rows) — at every start, after the
 * shutdown snapshot's prune.
 */
static char *
exists_sql(uint32 mask)
{
	StringInfoData q;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (int t = 0; t < MT_COUNT; t++)
	{
		const char *sep = t ? ", " : "";

		if (!(mask & BIT(t)))
			appendStringInfo(&q, "%sfalse", sep);
		else if (t == MT_COMMAND_LOG)
			appendStringInfo(&q, "%s(SELECT pg_catalog.max(seq) FROM engine.command_log) IS NOT NULL", sep);
		else if (t == MT_SNAPSHOT_CHUNKS)
			appendStringInfo(&q, "%s(SELECT pg_catalog.max(snapshot_seq) FROM engine.snapshot_chunks) IS NOT NULL",
							 sep);
		else
			appendStringInfo(&q, "%sEXISTS (SELECT FROM engine.%s)", sep, table_names[t]);
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

/*
 * Make the manifest row's columns in `columns` say what mask says
 * (inserting the whole row if it is missing).  SPI connected.  Rare (a
 * flag changes a few times in an installation's life): no kept plan.
 */
static void
write_manifest(uint32 mask, uint32 columns)
{
	Oid			types[MT_COUNT];
	Datum		args[MT_COUNT];
	StringInfoData q;
	int			n = 0;
	int			ret;

	initStringInfo(&q);
	appendStringInfoString(&q, "UPDATE engine.manifest SET ");
	for (int t = 0; t < MT_COUNT; t++)
	{
		if (!(columns & BIT(t)))
			continue;
		types[n] = BOOLOID;
		args[n] = BoolGetDatum((mask & BIT(t)) != 0);
		n++;
		appendStringInfo(&q, "%s%s = $%d", n > 1 ? ", " : "", table_names[t], n);
	}
	if (n == 0)
		return;
	ret = SPI_execute_with_args(q.data, n, types, args, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "engine: could not update engine.manifest: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		resetStringInfo(&q);
		appendStringInfoString(&q, "INSERT INTO engine.manifest (");
		for (int t = 0; t < MT_COUNT; t++)
			appendStringInfo(&q, "%s%s", t ? ", " : "", table_names[t]);
		appendStringInfoString(&q, ") VALUES (");
		for (int t = 0; t < MT_COUNT; t++)
		{
			types[t] = BOOLOID;
			args[t] = BoolGetDatum((mask & BIT(t)) != 0);
			appendStringInfo(&q, "%s$%d", t ? ", " : "", t + 1);
		}
		appendStringInfoString(&q, ")");
		if (SPI_execute_with_args(q.data, MT_COUNT, types, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "engine: could not insert the row of engine.manifest");
	}
	kept_flags = (kept_flags & ~columns) | (mask & columns);
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
 * installation that is not being restored.  On a standby, which cannot
 * write, it stays pending until the primary's 'restored' arrives.  Runs a
 * transaction of its own.
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
			else if (RecoveryInProgress())
			{
				/* A standby writes nothing: the primary's worker marks it. */
				pending = true;
				snprintf(detail, len,
						 "the restored tables are whole; waiting for the primary's worker to mark the "
						 "installation restored");
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
	now = tables_with_rows(ALL_TABLES);
	pg_atomic_write_u32(&engine_shm->log_emptied, 0);
	if (!read_manifest(&mask) || mask != now)
		write_manifest(now, ALL_TABLES);
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
	uint32		now;

	/* The writer's prune emptied the log (and said so) since the last batch. */
	if (pg_atomic_read_u32(&engine_shm->log_emptied) != 0 &&
		pg_atomic_exchange_u32(&engine_shm->log_emptied, 0) != 0)
		kept_flags &= ~BIT(MT_COMMAND_LOG);
	now = kept_flags;
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
		write_manifest(now, now & ~kept_flags);
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
		write_manifest(now, SNAPSHOT_TABLES);
}

/*
 * The snapshot writer, in the transaction that wrote a snapshot, before it
 * commits: engine.snapshots and engine.snapshot_chunks hold rows.  Sets
 * only flags that were false, so the row is locked (and a batch that sets
 * a flag waits for this commit) at most once per installation.
 */
void
manifest_note_snapshot_written(void)
{
	uint32		mask;
	uint32		add = BIT(MT_SNAPSHOTS) | BIT(MT_SNAPSHOT_CHUNKS);

	if (!read_manifest(&mask) || (mask & add) == add)
		return;
	write_manifest(mask | add, add);
}

/*
 * The snapshot writer, in the transaction that pruned, before it commits:
 * which snapshot tables and whether the log still hold rows.  Only a
 * snapshot's prune deletes rows, and one runs at a time, so a table this
 * transaction sees non-empty stays so; an empty log is looked at again
 * with the worker's inserts locked out until this commits.
 */
void
manifest_note_prune(void)
{
	uint32		mask;
	uint32		now;

	if (!read_manifest(&mask))
		return;
	now = tables_with_rows(SNAPSHOT_TABLES);
	if (!(now & BIT(MT_COMMAND_LOG)) && (mask & BIT(MT_COMMAND_LOG)))
	{
		if (SPI_execute("LOCK TABLE engine.command_log IN SHARE MODE", false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "engine: could not lock engine.command_log");
		now = tables_with_rows(SNAPSHOT_TABLES);
		if (!(now & BIT(MT_COMMAND_LOG)))
			pg_atomic_write_u32(&engine_shm->log_emptied, 1);
	}
	if ((now & SNAPSHOT_TABLES) != (mask & SNAPSHOT_TABLES))
		write_manifest(now, SNAPSHOT_TABLES);
}
