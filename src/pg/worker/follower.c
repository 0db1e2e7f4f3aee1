/*
 * follower.c — the worker on a hot standby: a follower engine that applies
 * the primary's command log as WAL replay makes its rows visible, serves
 * every read from its own shared memory, and becomes the leader in place
 * when the server is promoted.
 *
 * Owns: the follower's loop (when to read the log, what a cancelled read
 * does, when to reload from a snapshot, when to give up), and the end of
 * following at promotion.
 * Must never: write a table, take a request slot or start the snapshot
 * writer (a standby writes nothing and commands fail at once there:
 * ready.c); let a reader see a half-applied record (each record is applied
 * whole under the state lock); go on past a bad log row.
 *
 * Following: every FOLLOWER_POLL_MS the follower reads the replay position
 * (GetXLogReplayRecPtr, a shared-memory read).  Only when it moved does it
 * open a short read-only transaction and apply every log row after its
 * seq, through replay.c's index scan and the same redo as recovery, so it
 * is at the same state, bit for bit, as the leader was at that seq.
 *
 * Recovery conflicts: WAL replay may cancel the follower's read (VACUUM on
 * the primary removing row versions its snapshot could see, an ACCESS
 * EXCLUSIVE lock, a pinned buffer; see max_standby_streaming_delay and
 * hot_standby_feedback), and so may pg_cancel_backend().  The follower
 * catches that ERROR, aborts its transaction and reads again after
 * FOLLOWER_RETRY_MS: the records applied before the cancel are whole (the
 * cancel can only come between records), so the state is exactly the one
 * at its seq and the next read goes on from there.  The one exception, an
 * ERROR while a capacity refusal it applied is not yet compared with the
 * live outcome (replay compares them in batches), reloads the state.  Restarting the process is never the answer to a
 * conflict.  engine.status().follower_retries counts them.
 *
 * Behind a prune: when the rows after its seq are gone (the primary pruned
 * them after a newer snapshot) or any row it needs is bad while a snapshot
 * newer than its state exists, the follower reloads from the newest
 * snapshot (state "recovering" meanwhile: reads fail until it is ready
 * again).  A gap or a bad row that no newer snapshot covers puts it in
 * state "failed" with the reason, as it would the leader; it tries again
 * when a newer snapshot appears, and a promotion restarts the worker as
 * the leader, whose recovery judges the tables again.
 *
 * Promotion: when RecoveryInProgress() turns false the follower reads the
 * log to its end once more (nothing can be added to it before the leader
 * takes commands) and returns; worker.c then serves as the leader from
 * that state, without a rebuild.  Commands that arrive meanwhile wait for
 * the leader (ready.c).
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlogrecovery.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ready.h"
#include "settings.h"
#include "shadow.h"
#include "status.h"
#include "worker.h"

/* How often the follower looks at the replay position (ms). */
#define FOLLOWER_POLL_MS       10
/* First wait after a cancelled read; doubles while reads keep failing. */
#define FOLLOWER_RETRY_MS      100
#define FOLLOWER_RETRY_MAX_MS  5000
/* How often a failed follower looks for a snapshot that covers the bad row. */
#define FOLLOWER_FAILED_POLL_MS 1000
/* Copies of the state for readers at most this often (as the leader's). */
#define FOLLOWER_COPY_MIN_GAP_MS 500

typedef enum follow_step
{
	STEP_OK,					/* applied everything visible */
	STEP_RETRY,					/* the read was cancelled: read again */
	STEP_RELOAD,				/* rows it needs are gone: load the newest snapshot */
	STEP_BAD					/* a bad row no newer snapshot covers: state "failed" */
} follow_step;

/*
 * The seam with recovery: the follower's only two calls into it.
 *
 * Load the newest usable snapshot into c (freshly laid out, empty) and
 * apply the log after it to the visible end, checking the invariants, as
 * a leader's start does (recovery_run); false (state "failed", with the
 * reason) if it cannot.  The caller is outside any transaction.
 */
static bool
load_newest_state(core_engine *c, TimestampTz *last_ts)
{
	return recovery_run(c, last_ts);
}

/* The last replay_log's figures; in memory when an ERROR leaves it. */
static replay_result tail;

/*
 * Apply the log rows after core_seq(c) up to the end this transaction
 * sees (replay_log), each record whole under the state lock: the state is
 * served meanwhile.  The caller runs a transaction with an active snapshot
 * and is SPI-connected.  Returns the number applied, or -1 with a reason
 * on a bad row (gap, CRC, format, payload, capacity outcome).  After an
 * ERROR out of it, tail.unchecked_seq says whether a capacity refusal was
 * applied without its comparison (then the state must be reloaded).
 */
static int64
apply_rows_after_seq(core_engine *c, TimestampTz *last_ts, char *reason, size_t len)
{
	replay_options opt;
	bool		ok;

	memset(&opt, 0, sizeof(opt));
	opt.serving = true;
	memset(&tail, 0, sizeof(tail));
	ok = replay_log(c, &opt, &tail);
	if (tail.replayed > 0)
		*last_ts = tail.last_ts;
	if (!ok)
		strlcpy(reason, tail.reason, len);
	return ok ? tail.replayed : -1;
}

/* The ends of the tables as this transaction sees them (SPI-connected). */
static void
visible_ends(int64 *log_end, int64 *snapshot_seq, TimestampTz *snapshot_at)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute("SELECT (SELECT pg_catalog.max(seq) FROM engine.command_log), s.seq, s.taken_at "
					"FROM (SELECT NULL) x LEFT JOIN LATERAL (SELECT seq, taken_at FROM engine.snapshots "
					"ORDER BY seq DESC LIMIT 1) s ON true", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "engine: could not read the ends of the engine tables");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*log_end = isnull ? 0 : DatumGetInt64(d);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	*snapshot_seq = isnull ? 0 : DatumGetInt64(d);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	*snapshot_at = isnull ? 0 : DatumGetTimestampTz(d);
}

/*
 * A caught ERROR: abort the transaction, count and log it.  The state is
 * at a whole record; STEP_RELOAD if a capacity comparison was cut short.
 */
static follow_step
read_cancelled(MemoryContext cxt, const core_engine *c, const char *what)
{
	ErrorData  *edata;
	int64		unchecked;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	AbortCurrentTransaction();
	unchecked = tail.unchecked_seq;
	tail.unchecked_seq = 0;
	status_note_follower_retry();
	ereport(LOG,
			(errmsg("engine: follower %s at seq " INT64_FORMAT " was cancelled: %s",
					what, core_seq(c), edata->message),
			 errdetail(unchecked ? "The capacity outcome of seq " INT64_FORMAT " was not compared; the follower reloads."
					   : "The state is whole at that seq; the follower reads again.", unchecked)));
	FreeErrorData(edata);
	return unchecked ? STEP_RELOAD : STEP_RETRY;
}

/*
 * Apply every log row that is visible now after core_seq(c).  Exits the
 * process if the extension was re-created or the tables went back behind
 * the state (a restore on the primary: the next worker rebuilds).
 */
static follow_step
read_tail(core_engine *c, Oid ext_oid, TimestampTz *last_ts, char *reason, size_t len)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile follow_step step = STEP_OK;

	PG_TRY();
	{
		int64		applied;
		int64		log_end;
		int64		snapshot_seq;
		TimestampTz snapshot_at;

		CHECK_FOR_INTERRUPTS();
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		if (get_extension_oid(ENGINE_EXTENSION_NAME, true) != ext_oid)
		{
			elog(LOG, "engine: extension \"engine\" was dropped or re-created; the worker restarts");
			proc_exit(1);
		}
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		applied = apply_rows_after_seq(c, last_ts, reason, len);
		visible_ends(&log_end, &snapshot_seq, &snapshot_at);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();

		status_note_applied(core_seq(c));
		if (snapshot_seq > 0)
			status_note_snapshot_loaded(snapshot_seq, snapshot_at);
		if (snapshot_seq > core_seq(c) && (applied < 0 || log_end < snapshot_seq))
			step = STEP_RELOAD; /* behind a prune, or a bad row a snapshot covers */
		else if (applied < 0)
			step = STEP_BAD;
		else if (Max(log_end, snapshot_seq) < core_seq(c))
		{
			elog(LOG, "engine: engine.command_log ends at seq " INT64_FORMAT " but the follower is at seq " INT64_FORMAT
				 "; the worker restarts to rebuild from the tables", log_end, core_seq(c));
			proc_exit(1);
		}
	}
	PG_CATCH();
	{
		if (tail.replayed > 0)
			*last_ts = tail.last_ts;
		step = read_cancelled(cxt, c, "read");
	}
	PG_END_TRY();
	return step;
}

/*
 * (Re)load the state: the newest usable snapshot and the log after it, as
 * at a leader's start (state "recovering", then "ready" as a follower).
 * STEP_BAD if recovery failed (it set state "failed").
 */
static follow_step
load_state(core_engine **c, Oid ext_oid, TimestampTz *last_ts)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile follow_step step = STEP_OK;

	pgstat_report_activity(STATE_RUNNING, "engine: follower loading");
	PG_TRY();
	{
		CHECK_FOR_INTERRUPTS();
		*c = ready_begin_recovery();
		if (!load_newest_state(*c, last_ts))
			step = STEP_BAD;
	}
	PG_CATCH();
	{
		step = read_cancelled(cxt, *c, "load");
		if (step == STEP_RELOAD)
			step = STEP_RETRY;	/* a load that fails is retried whole anyway */
	}
	PG_END_TRY();
	if (step == STEP_OK)
	{
		ready_serve(ext_oid, ENGINE_ROLE_FOLLOWER);
		pgstat_report_activity(STATE_IDLE, "engine: following");
	}
	return step;
}

/*
 * Between reads: a copy of the whole state for readers who asked for one
 * (engine.verify(), engine.state_digest(): shadow.h), as the leader's.
 */
static void
copy_for_readers(const core_engine *c)
{
	static TimestampTz last_copy = 0;

	if (!shadow_warm_step() || !shadow_copy_requested() ||
		!TimestampDifferenceExceeds(last_copy, GetCurrentTimestamp(), FOLLOWER_COPY_MIN_GAP_MS))
		return;
	if (shadow_copy(c, false))
		last_copy = GetCurrentTimestamp();
}

static void
follower_signals(void)
{
	(void) session_reload_if_requested();
	if (ShutdownRequestPending)
		proc_exit(1);
}

static void
follower_sleep(long ms)
{
	/* Its reads and recovery conflicts into pg_stat_* (at most once a second). */
	pgstat_report_stat(false);
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms,
					 PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	follower_signals();
}

/*
 * State "failed": wait for a snapshot newer than the state (which covers
 * the bad row) and return to reload from it; a promotion restarts the
 * worker as the leader.
 */
static void
wait_while_failed(core_engine *c, Oid ext_oid, const char *reason)
{
	ereport(LOG,
			(errmsg("engine: follower failed: %s", reason),
			 errdetail("The follower serves nothing until a snapshot newer than seq " INT64_FORMAT
					   " appears, or the worker is restarted.", core_seq(c))));
	status_set_state(ENGINE_FAILED, "%s", reason);
	pgstat_report_activity(STATE_IDLE, "engine: failed");
	for (;;)
	{
		MemoryContext cxt = CurrentMemoryContext;
		volatile int64 newest = 0;

		follower_sleep(FOLLOWER_FAILED_POLL_MS);
		if (!RecoveryInProgress())
		{
			elog(LOG, "engine: promoted while the follower had failed; the worker restarts as the leader");
			proc_exit(1);
		}
		PG_TRY();
		{
			int64		log_end;
			int64		seq;
			TimestampTz at;

			StartTransactionCommand();
			if (get_extension_oid(ENGINE_EXTENSION_NAME, true) != ext_oid)
				proc_exit(1);
			SPI_connect();
			PushActiveSnapshot(GetTransactionSnapshot());
			visible_ends(&log_end, &seq, &at);
			SPI_finish();
			PopActiveSnapshot();
			CommitTransactionCommand();
			newest = seq;
		}
		PG_CATCH();
		{
			(void) read_cancelled(cxt, c, "look for a snapshot");
		}
		PG_END_TRY();
		if (newest > core_seq(c))
			return;
	}
}

/*
 * Follow the primary until this server is promoted.  c is the empty
 * engine worker.c laid out (state "recovering"); returns the engine, at the
 * end of the log, with *last_ts the timestamp of its last record, for the
 * leader to go on from.
 */
core_engine *
follow_until_promoted(core_engine *c, Oid ext_oid, TimestampTz *last_ts)
{
	XLogRecPtr	seen = InvalidXLogRecPtr;
	bool		loaded = false;
	long		retry_ms = 0;
	char		reason[ENGINE_DETAIL_MAX];

	elog(LOG, "engine: this server is a standby: the worker follows the primary's command log");
	for (;;)
	{
		bool		promoted;
		XLogRecPtr	replayed;
		follow_step step = STEP_OK;
		TimestampTz noticed;

		follower_signals();
		if (!loaded)
		{
			step = load_state(&c, ext_oid, last_ts);
			if (step == STEP_BAD)
			{
				/* load_newest_state said why; keep it, wait for a way out */
				engine_status st;

				status_snapshot(&st);
				wait_while_failed(c, ext_oid, st.detail);
				status_note_follower_reload();
				continue;
			}
			loaded = step == STEP_OK;
		}

		promoted = !RecoveryInProgress();
		noticed = GetCurrentTimestamp();
		replayed = GetXLogReplayRecPtr(NULL);
		if (loaded && (promoted || replayed != seen || retry_ms > 0))
		{
			reason[0] = '\0';
			step = read_tail(c, ext_oid, last_ts, reason, sizeof(reason));
			if (step == STEP_OK)
				seen = replayed;
		}
		switch (step)
		{
			case STEP_OK:
				retry_ms = 0;
				if (promoted && loaded)
				{
					long		secs;
					int			usecs;

					TimestampDifference(noticed, GetCurrentTimestamp(), &secs, &usecs);
					status_note_promoted((int64) secs * 1000 + usecs / 1000);
					elog(LOG, "engine: promoted: the follower leads from seq " INT64_FORMAT
						 " (the last tail took %ld ms)", core_seq(c), secs * 1000 + usecs / 1000);
					return c;
				}
				break;
			case STEP_RETRY:
				retry_ms = retry_ms == 0 ? FOLLOWER_RETRY_MS : Min(retry_ms * 2, FOLLOWER_RETRY_MAX_MS);
				follower_sleep(retry_ms);
				continue;
			case STEP_RELOAD:
				elog(LOG, "engine: follower at seq " INT64_FORMAT " reloads from the newest snapshot (%s)",
					 core_seq(c), reason[0] ? reason : "the log rows after it were pruned");
				status_note_follower_reload();
				loaded = false;
				continue;
			case STEP_BAD:
				wait_while_failed(c, ext_oid, reason);
				status_note_follower_reload();
				loaded = false;
				continue;
		}
		copy_for_readers(c);
		follower_sleep(FOLLOWER_POLL_MS);
	}
}
