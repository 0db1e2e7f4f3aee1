/*
 * lag.c — how far a follower's state is behind the log this server can
 * see, for engine.status().
 *
 * Owns: reading the newest visible engine.command_log row and the first
 * one after the applied seq, by the table's primary-key index.
 * Must never: take the state lock or wait for the worker; depend on the
 * caller's privileges on the table (engine.status() belongs to the
 * operations profile, which reads no engine table: the index is read
 * directly, and only seq and ts leave this file).
 *
 * The lag has two measures:
 *   lag_records  newest visible seq − the follower's seq (0 when caught up);
 *   lag_ms       how long the oldest record the follower has not applied
 *                has been waiting: now − its engine timestamp (the primary's
 *                clock when it sequenced the batch, just before the commit);
 *                0 when caught up.  Across machines this includes any
 *                difference between the two clocks.
 * Neither counts WAL that this standby has not replayed yet: PostgreSQL
 * reports that (pg_stat_replication.replay_lag on the primary).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "api.h"

/*
 * One row of engine.command_log by its primary-key index: the newest
 * (after = -1), or the first with seq > after.  False if there is none.
 */
static bool
log_row(Relation heap, Relation index, int64 after, int64 *seq, TimestampTz *ts)
{
	ScanKeyData key;
	IndexScanDesc scan;
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	bool		found;

	ScanKeyInit(&key, 1, BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(after));
	scan = index_beginscan(heap, index, GetActiveSnapshot(), after < 0 ? 0 : 1, 0);
	index_rescan(scan, after < 0 ? NULL : &key, after < 0 ? 0 : 1, NULL, 0);
	found = index_getnext_slot(scan, after < 0 ? BackwardScanDirection : ForwardScanDirection, slot);
	if (found)
	{
		bool		isnull;

		*seq = DatumGetInt64(slot_getattr(slot, 1, &isnull));
		*ts = DatumGetTimestampTz(slot_getattr(slot, 3, &isnull));
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	return found;
}

/*
 * The lag of a state at applied_seq behind the log this transaction sees
 * (see the header).  False (nothing set) if engine.command_log cannot be
 * found.
 */
bool
follower_lag(int64 applied_seq, int64 *lag_records, int64 *lag_ms)
{
	Oid			nsp = get_namespace_oid(ENGINE_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("command_log", nsp) : InvalidOid;
	Relation	heap;
	Relation	index;
	Oid			pk;
	int64		seq = 0;
	TimestampTz ts = 0;

	if (!OidIsValid(relid) || !ActiveSnapshotSet())
		return false;
	heap = table_open(relid, AccessShareLock);
	pk = RelationGetPrimaryKeyIndex(heap);
	if (!OidIsValid(pk))
	{
		table_close(heap, AccessShareLock);
		return false;
	}
	index = index_open(pk, AccessShareLock);
	*lag_records = 0;
	*lag_ms = 0;
	if (log_row(heap, index, -1, &seq, &ts) && seq > applied_seq)
	{
		*lag_records = seq - applied_seq;
		if (log_row(heap, index, applied_seq, &seq, &ts))
		{
			long		secs;
			int			usecs;

			TimestampDifference(ts, GetCurrentTimestamp(), &secs, &usecs);
			*lag_ms = (int64) secs * 1000 + usecs / 1000;
		}
	}
	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
	return true;
}
