/*
 * recovery.c — rebuild the engine state from the tables at every worker
 * start: newest snapshot (none yet: the empty engine at seq 0), then every
 * log record after it, in seq order, through the same redo as live
 * processing (replay.c), then the invariant checks.
 *
 * Owns: the order of the phases, their progress (engine.status() and a
 * server log line every RECOVERY_PROGRESS_SECS), and the verdict.
 * Must never: write to any table; skip or repair a bad row; hold the state
 * lock (no backend reads the arena while the state is "recovering").
 *
 * The invariants are checked as the state is rebuilt, never by a whole
 * core_verify afterwards: the snapshot's orders are checked as they are
 * restored (snapshot_load), and after the replay core_verify_global runs
 * (linear in balances and levels) with core_verify_accounts for the users
 * whose accounts the replayed records changed, or, when they are more than
 * replay_touched_limit, core_verify_all_accounts over every account in one
 * pass.  engine.verify() runs every check on demand.
 *
 * A failed check is not an ERROR: the worker enters state "failed" with a
 * reason naming the seq or the check, refuses commands and stays up, so
 * engine.status() can say what is wrong.  Repair the cause and restart the
 * worker (pg_terminate_backend) to try again.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "records.h"
#include "settings.h"
#include "shmem.h"
#include "snapshot.h"
#include "status.h"
#include "worker.h"

/* Seconds between progress lines in the server log. */
#define RECOVERY_PROGRESS_SECS 3

typedef struct verify_failure
{
	bool		failed;
	char		reason[ENGINE_DETAIL_MAX];
} verify_failure;

/* One phase's progress: engine.status() always, the log every few seconds. */
typedef struct phase
{
	const char *name;
	int64		total;
	TimestampTz started;
	TimestampTz logged;
} phase;

static void
phase_begin(phase *p, const char *name, int64 total)
{
	p->name = name;
	p->total = total;
	p->started = p->logged = GetCurrentTimestamp();
	status_note_recovery_phase(name, 0, total, 0);
}

/* Per second, from the phase's start. */
static int64
phase_rate(const phase *p, int64 done)
{
	int64		us = GetCurrentTimestamp() - p->started;

	return us > 0 ? (int64) ((double) done * 1000000.0 / us) : 0;
}

static void
phase_progress(void *arg, int64 done)
{
	phase	   *p = arg;
	int64		rate = phase_rate(p, done);

	status_note_recovery_phase(p->name, done, p->total, rate);
	if (strcmp(p->name, "replaying") == 0)
		status_note_replay(done, p->total);
	if (TimestampDifferenceExceeds(p->logged, GetCurrentTimestamp(), RECOVERY_PROGRESS_SECS * 1000))
	{
		p->logged = GetCurrentTimestamp();
		elog(LOG, "engine: recovery: %s, " INT64_FORMAT " of " INT64_FORMAT " done (" INT64_FORMAT "/s)",
			 p->name, done, p->total, rate);
	}
}

/* Make c the empty engine again (after a snapshot that did not load). */
static void
recreate_engine(core_engine *c)
{
	if (shmem_create_core() != c)
		elog(ERROR, "engine: could not recreate the engine in its arena");
}

/*
 * Load the newest usable snapshot into c (freshly created, empty) and
 * return its seq; 0 means "no usable snapshot: start from the empty
 * engine".  A snapshot that does not load — a chunk or row missing or
 * damaged, a broken invariant, or a state whose digest differs from the
 * recorded one — is reported in the server log and the one before it is
 * tried.  metas: the n snapshots, newest first (snapshot_list).
 */
static int64
load_newest_snapshot(core_engine *c, snapshot_meta *metas, int n, TimestampTz *snapshot_at)
{
	*snapshot_at = 0;
	for (int i = 0; i < n; i++)
	{
		const char *why;
		phase		p;
		TimestampTz t0 = GetCurrentTimestamp();
		int64		cpu0 = process_cpu_ms();
		int64		items = metas[i].assets + metas[i].symbols + metas[i].balances + metas[i].orders;

		status_set_detail("loading snapshot at seq %lld", (long long) metas[i].seq);
		phase_begin(&p, "loading snapshot", items);
		why = snapshot_load(c, &metas[i], phase_progress, &p);
		if (why == NULL)
		{
			int64		ms = ms_since(t0);

			phase_progress(&p, items);
			elog(LOG, "engine: loaded snapshot at seq " INT64_FORMAT " (format %d): " INT64_FORMAT
				 " items in " INT64_FORMAT " ms, CPU " INT64_FORMAT " ms (" INT64_FORMAT "/s), checked as restored",
				 metas[i].seq, metas[i].format, items, ms, process_cpu_ms() - cpu0, phase_rate(&p, items));
			*snapshot_at = metas[i].taken_at;
			return metas[i].seq;
		}
		ereport(WARNING,
				(errmsg("engine: snapshot at seq " INT64_FORMAT " is unusable: %s", metas[i].seq, why),
				 errdetail(i + 1 < n ? "Falling back to the snapshot before it and a longer replay." :
						   "Falling back to replaying the command log from the start.")));
		recreate_engine(c);
	}
	return 0;
}

static int64
log_max_seq(void)
{
	bool		isnull;
	Datum		d;
	int			ret = SPI_execute("SELECT pg_catalog.max(seq) FROM engine.command_log", true, 1);
	int64		seq;

	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "engine: could not read the command log: %s", SPI_result_code_string(ret));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	seq = isnull ? 0 : DatumGetInt64(d);
	SPI_freetuptable(SPI_tuptable);
	return seq;
}

/*
 * Whether the log after the newest snapshot starts with a record in a
 * format this release replays (a release writes only its own format, so
 * older records can only come first).  Used before an extension update, so
 * that the operator hears about records of the previous release while that
 * release can still be started; recovery itself checks every record.
 * Runs in a transaction of its own.
 */
bool
recovery_log_replayable(char *reason, size_t len)
{
	bool		ok = true;
	int			ret;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	ret = SPI_execute("SELECT seq, CASE WHEN pg_catalog.length(payload) OPERATOR(pg_catalog.>) 0 "
					  "THEN pg_catalog.get_byte(payload, 0) END FROM engine.command_log "
					  "WHERE seq OPERATOR(pg_catalog.>) (SELECT COALESCE(pg_catalog.max(seq), 0) FROM engine.snapshots) "
					  "ORDER BY seq LIMIT 1", true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: could not read the command log: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		bool		isnull;
		int64		seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		Datum		f = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		if (!isnull && DatumGetInt32(f) < ENGINE_REPLAY_MIN_FORMAT)
		{
			replay_old_format_reason(seq, DatumGetInt32(f), reason, len);
			ok = false;
		}
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return ok;
}

static void
verify_cb(void *ctx, const char *check, bool ok, const char *detail)
{
	verify_failure *f = ctx;

	if (ok || f->failed)
		return;
	f->failed = true;
	snprintf(f->reason, sizeof(f->reason), "invariant check \"%s\" failed: %s",
			 check, detail ? detail : "(no detail)");
}

/*
 * The checks after the replay: the global ones, and every account the
 * replayed records changed, one by one (core_verify_accounts), or, when
 * the replay changed more of them than replay_touched_limit (the set
 * then says "all"), every account in one pass (core_verify_all_accounts,
 * its scratch from recovery_scratch_get).  A replay of nothing needs none
 * (the snapshot was checked as it loaded).
 */
static bool
check_after_replay(core_engine *c, user_set *touched, int64 replayed, char *reason, size_t len)
{
	verify_failure vf;
	uint64		n = 0;
	phase		p;
	int64		ms;
	TimestampTz t0 = GetCurrentTimestamp();
	int64		cpu0 = process_cpu_ms();

	if (replayed == 0)
		return true;
	memset(&vf, 0, sizeof(vf));
	if (touched->all)
	{
		core_limits limits = core_get_limits(c);
		void	   *scratch;

		n = core_get_counters(c).accounts;
		phase_begin(&p, "checking", (int64) n);
		scratch = recovery_scratch_get(core_verify_all_accounts_size(&limits));
		if (core_verify_global(c, verify_cb, &vf))
			(void) core_verify_all_accounts(c, scratch, verify_cb, &vf);
		recovery_scratch_release();
	}
	else
	{
		int64	   *ids;

		phase_begin(&p, "checking", (int64) touched->n);
		ids = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(touched->n, 1));
		for (uint64 i = 0; i < touched->cap; i++)
			if (touched->used[i])
				ids[n++] = touched->ids[i];
		if (core_verify_global(c, verify_cb, &vf))
			(void) core_verify_accounts(c, ids, n, verify_cb, &vf);
		pfree(ids);
	}
	ms = ms_since(t0);
	phase_progress(&p, (int64) n);
	if (touched->all)
		elog(LOG, "engine: recovery checks: global, and " UINT64_FORMAT " accounts (every one, in one pass: "
			 "the replay changed more than " UINT64_FORMAT "), in " INT64_FORMAT " ms, CPU " INT64_FORMAT " ms",
			 n, touched->limit, ms, process_cpu_ms() - cpu0);
	else
		elog(LOG, "engine: recovery checks: global, and " UINT64_FORMAT " accounts the replay changed, in "
			 INT64_FORMAT " ms, CPU " INT64_FORMAT " ms", n, ms, process_cpu_ms() - cpu0);
	if (vf.failed)
		strlcpy(reason, vf.reason, len);
	return !vf.failed;
}

/*
 * Map the whole arena into this process's page tables in one call
 * (shmem_populate), before anything lays it out or fills it: core_create
 * clears the hash buckets and the account and balance tables, and every
 * page a process touches first costs a fault of its own (several us on a
 * virtual machine).  Called by the worker once, before the first
 * core_create, as a leader or as a follower.
 */
void
recovery_map_arena(void)
{
	TimestampTz t0 = GetCurrentTimestamp();
	int64		cpu0 = process_cpu_ms();

	status_note_recovery_phase("mapping the arena", 0, (int64) shmem_arena_bytes(), 0);
	shmem_populate(shmem_arena_base(), shmem_arena_bytes(), true);
	elog(LOG, "engine: recovery: mapped the %zu MB arena in " INT64_FORMAT " ms, CPU " INT64_FORMAT " ms",
		 (size_t) (shmem_arena_bytes() >> 20), ms_since(t0), process_cpu_ms() - cpu0);
}

/*
 * Rebuild c (freshly created, empty) from the tables.  Returns true when the
 * state is whole and every invariant holds; otherwise sets the status to
 * "failed" with the reason and returns false.  *last_ts gets the timestamp
 * of the last record replayed.  Exits the process on SIGTERM.
 */
bool
recovery_run(core_engine *c, TimestampTz *last_ts)
{
	TimestampTz started = GetCurrentTimestamp();
	TimestampTz t0;
	TimestampTz snapshot_at;
	int64		from_seq;
	int64		total;
	char		reason[ENGINE_DETAIL_MAX];
	bool		ok;
	phase		p;
	user_set	touched;
	replay_options opt;
	replay_result rr;
	int64		replay_ms;
	int64		cpu0;
	snapshot_meta *metas;
	int			nmetas;

	reason[0] = '\0';
	*last_ts = 0;
	memset(&touched, 0, sizeof(touched));
	memset(&opt, 0, sizeof(opt));

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());

	/*
	 * The log reader starts on the rows after the newest snapshot while it
	 * loads; if an older one loads instead, replay reads the log itself
	 * (the stream does not start at the next seq).
	 */
	nmetas = snapshot_list(&metas);
	opt.reader = log_reader_start(nmetas > 0 ? metas[0].seq : 0);
	from_seq = load_newest_snapshot(c, metas, nmetas, &snapshot_at);
	total = Max(log_max_seq() - from_seq, 0);
	status_note_snapshot_loaded(from_seq, snapshot_at);
	status_note_replay(0, total);
	status_set_detail("replaying the command log after seq %lld", (long long) from_seq);
	elog(LOG, "engine: recovery started: snapshot seq " INT64_FORMAT ", " INT64_FORMAT " log records to replay",
		 from_seq, total);

	t0 = GetCurrentTimestamp();
	cpu0 = process_cpu_ms();
	phase_begin(&p, "replaying", total);
	touched.limit = replay_touched_limit(c);
	opt.touched = &touched;
	opt.progress = phase_progress;
	opt.progress_arg = &p;
	ok = replay_log(c, &opt, &rr);
	replay_ms = ms_since(t0);
	phase_progress(&p, rr.replayed);
	if (rr.replayed > 0)
	{
		*last_ts = rr.last_ts;
		elog(LOG, "engine: recovery: replayed " INT64_FORMAT " log records (" INT64_FORMAT
			 " read by the log reader) in " INT64_FORMAT " ms, CPU " INT64_FORMAT " ms (" INT64_FORMAT "/s)",
			 rr.replayed, rr.streamed, replay_ms, process_cpu_ms() - cpu0, phase_rate(&p, rr.replayed));
	}
	if (!ok)
		strlcpy(reason, rr.reason, sizeof(reason));
	else
		ok = check_after_replay(c, &touched, rr.replayed, reason, sizeof(reason));
	user_set_free(&touched);

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();

	status_note_recovery_done(ms_since(started), rr.replayed, core_seq(c));
	status_note_recovery_phase(ok ? "done" : "failed", rr.replayed, total, 0);

	if (!ok)
	{
		ereport(LOG,
				(errmsg("engine: recovery failed: %s", reason),
				 errdetail("The engine refuses commands until the cause is repaired and the worker restarted.")));
		status_set_state(ENGINE_FAILED, "%s", reason);
		return false;
	}
	elog(LOG, "engine: recovery finished at seq " INT64_FORMAT ": " INT64_FORMAT " records replayed",
		 core_seq(c), rr.replayed);
	return true;
}
