/*
 * checkpoint.c — when the worker takes a snapshot, and what it does around
 * one: its own transaction, pruning, a WAL flush, the status block, and
 * answering engine.snapshot() callers.
 *
 * Owns: the snapshot triggers (engine.snapshot_interval, snapshot_every,
 * on demand, clean shutdown) and the worker-local memory of the last
 * snapshot.  The rows themselves are snapshot.c's business.
 * Must never: run inside a batch (a snapshot is taken between batches, so
 * it always covers whole batches); snapshot a state that has not been
 * committed (between batches everything applied is committed).
 *
 * The worker stops serving while it writes a snapshot: the pause is
 * reported in engine.status().snapshot_ms and in the server log.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "snapshot.h"
#include "status.h"
#include "worker.h"

static int64 last_snapshot_seq;		/* seq the newest snapshot covers */
static TimestampTz last_snapshot_time;	/* when it was taken or loaded */

/* After recovery: the snapshot it started from is the newest one. */
void
checkpoint_init(void)
{
	engine_status st;

	status_snapshot(&st);
	last_snapshot_seq = st.snapshot_seq;
	last_snapshot_time = GetCurrentTimestamp();
}

/*
 * Is a snapshot due, and why?  One is asked for, or there are new commands
 * and either engine.snapshot_every of them or engine.snapshot_interval have
 * passed — but never sooner than SNAPSHOT_MIN_GAP_MS after the last one.
 * Returns NULL when none is due.
 */
const char *
checkpoint_due(core_engine *c)
{
	int64		since = core_seq(c) - last_snapshot_seq;
	TimestampTz now;

	if (status_snapshot_requested())
		return "engine.snapshot()";
	if (since <= 0)
		return NULL;
	now = GetCurrentTimestamp();
	if (!TimestampDifferenceExceeds(last_snapshot_time, now, SNAPSHOT_MIN_GAP_MS))
		return NULL;
	if (since >= engine_snapshot_every)
		return "engine.snapshot_every";
	if (TimestampDifferenceExceeds(last_snapshot_time, now, engine_snapshot_interval_s * 1000))
		return "engine.snapshot_interval";
	return NULL;
}

/*
 * Write a snapshot of the current (committed) state, prune what the kept
 * snapshots no longer need, make it durable, and answer every
 * engine.snapshot() call made before it started.
 */
void
checkpoint_take(core_engine *c, const char *why)
{
	uint64		requests = status_snapshot_requests();
	TimestampTz started = GetCurrentTimestamp();
	int64		seq;
	int64		rows;
	int64		pruned;
	long		secs;
	int			usecs;
	int64		ms;

	pgstat_report_activity(STATE_RUNNING, "engine: writing a snapshot");
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	rows = snapshot_write(c, started, &seq);
	pruned = snapshot_prune(engine_snapshot_keep, engine_keep_log);
	manifest_note_snapshot();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	/* The worker may commit asynchronously; a snapshot is answered durable. */
	XLogFlush(XactLastCommitEnd);

	TimestampDifference(started, GetCurrentTimestamp(), &secs, &usecs);
	ms = (int64) secs * 1000 + usecs / 1000;
	status_note_snapshot_written(seq, started, ms, rows, requests);

	if (rows > 0)
		ereport(LOG,
				(errmsg("engine: snapshot at seq " INT64_FORMAT " (%s): " INT64_FORMAT " rows in " INT64_FORMAT " ms; "
						INT64_FORMAT " log rows pruned", seq, why, rows, ms, pruned)));
	last_snapshot_seq = seq;
	last_snapshot_time = started;
	pgstat_report_activity(STATE_IDLE, "engine: serving");
}
