/*
 * snapshot_writer.c — the "engine snapshot writer": a dynamic background
 * worker that writes one snapshot from the shadow copy, in its own
 * transaction, while the engine worker goes on serving.
 *
 * Owns: the writer process's life: claiming its job, writing the snapshot
 * (snapshot.c) from the copy, committing it durably, reporting progress
 * and the outcome in the job (shadow.h), then pruning in a second
 * transaction.
 * Must never: write anything but the snapshot tables and the log rows it
 * prunes; touch the engine's arena; run without a job (a writer whose job
 * was given up exits at once); prune before its snapshot is durable.
 *
 * One job at a time: the worker starts a writer only when no job is
 * active, and a job ends only when its writer has exited.  The job holds a
 * reader count on the copy until the writer has walked it, so the worker
 * cannot overwrite it meanwhile.
 *
 * Crashes: an ERROR or SIGTERM aborts the transaction (exit code 1; the job
 * says FAILED and the worker tries again later); a kill -9 makes the
 * postmaster restart every process.  Either way the snapshot's rows were
 * never committed, so the previous snapshot stays in force.
 *
 * It runs at a lower CPU priority (nice SNAPSHOT_WRITER_NICE) than the
 * worker, so on a busy machine the worker's commands come first.
 */
#include "postgres.h"

#include <sys/resource.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "shadow.h"
#include "shmem.h"
#include "snapshot.h"
#include "status.h"
#include "worker.h"

/* How much nicer than the worker the writer runs. */
#define SNAPSHOT_WRITER_NICE 10
/* Seconds between progress lines in the server log. */
#define SNAPSHOT_WRITER_LOG_SECS 3

typedef struct job_arg
{
	uint32		id;				/* the job */
	int64		i64;			/* its seq (claim), the items written (commit) */
	int64		ms;				/* the write's duration (commit) */
	bool		ok;
} job_arg;

static uint32 my_job = 0;		/* the job this process claimed (0: none) */

/* ------------------------------------------------------------ the worker's side */

BackgroundWorkerHandle *
snapshot_writer_start(uint32 job_id)
{
	BackgroundWorkerHandle *h;
	MemoryContext old;

	/*
	 * Never on a standby: it writes nothing (its follower takes no
	 * snapshots), and a writer registered there would only start after a
	 * promotion, for a job long gone (BgWorkerStart_RecoveryFinished).
	 */
	if (RecoveryInProgress())
		return NULL;
	old = MemoryContextSwitchTo(TopMemoryContext);
	h = session_start_helper("snapshot_writer_main", "engine snapshot writer", UInt32GetDatum(job_id));
	MemoryContextSwitchTo(old);
	return h;
}

/* ------------------------------------------------------------ the writer */

static void
claim(snapshot_job *job, void *arg)
{
	job_arg    *a = arg;

	a->ok = job->id == a->id && job->state == JOB_QUEUED;
	if (a->ok)
	{
		job->state = JOB_WRITING;
		job->writer_pid = MyProcPid;
		a->i64 = job->seq;
	}
}

static void
note_progress(snapshot_job *job, void *arg)
{
	job->items_written = *(int64 *) arg;
}

/*
 * Keep to engine.snapshot_max_rate: wait until the bytes written so far are
 * no more than the rate allows since the write began.  The wait is cut into
 * latch waits of at most a second, so that SIGTERM is seen at once, and a
 * reloaded rate (0: no limit) or a worker that is stopping and waits for
 * this snapshot (job->unpaced) ends the wait within a second.
 */
static void
pace(TimestampTz began, int64 bytes)
{
	for (;;)
	{
		snapshot_job job;
		int64		due_ms;
		int64		spent_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (engine_snapshot_max_rate_kb <= 0)
			return;
		shadow_job_get(&job);
		if (job.unpaced)
			return;				/* the worker is stopping and waits for us */
		/* bytes / (rate kB/s) seconds, in ms */
		due_ms = bytes * 1000 / ((int64) engine_snapshot_max_rate_kb * 1024);
		spent_ms = (GetCurrentTimestamp() - began) / 1000;
		if (due_ms <= spent_ms)
			return;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 (long) Min(due_ms - spent_ms, 1000), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * Progress in the job (engine.status()) and every few seconds in the log,
 * and the writer's pace.
 */
static void
progress(void *arg, int64 items, int64 bytes)
{
	TimestampTz began = *(TimestampTz *) arg;	/* when the write began */

	static TimestampTz logged = 0;
	snapshot_job job;

	shadow_job_update(note_progress, &items);
	if (logged == 0)
		logged = GetCurrentTimestamp();
	else if (TimestampDifferenceExceeds(logged, GetCurrentTimestamp(), SNAPSHOT_WRITER_LOG_SECS * 1000))
	{
		logged = GetCurrentTimestamp();
		shadow_job_get(&job);
		elog(LOG, "engine: writing the snapshot at seq " INT64_FORMAT ": " INT64_FORMAT " of " INT64_FORMAT " items",
			 job.seq, items, job.items_total);
	}
	pace(began, bytes);
}

static void
note_committed(snapshot_job *job, void *arg)
{
	job_arg    *a = arg;

	job->state = JOB_COMMITTED;
	job->existed = a->i64 == 0;
	if (a->i64 > 0)
		job->items_written = a->i64;
	job->write_ms = a->ms;
}

static void
note_pruned(snapshot_job *job, void *arg)
{
	job->pruned = *(int64 *) arg;
}

static void
note_failed(snapshot_job *job, void *arg)
{
	if (job->id != my_job || job->state != JOB_WRITING)
		return;
	job->state = JOB_FAILED;
	strlcpy(job->error, (const char *) arg, sizeof(job->error));
}

/* Exit before the commit (ERROR, FATAL, SIGTERM): the job failed. */
static void
writer_on_exit(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
{
	shadow_job_update(note_failed, "the snapshot writer exited before its snapshot committed (see the server log)");
	shadow_release_job_hold();
	status_wake_worker();
}

void
snapshot_writer_main(Datum arg)
{
	job_arg		a;
	int64		seq;
	int64		items;
	int64		pruned;
	TimestampTz started;
	snapshot_job job;
	const core_engine *copy;
	snapshot_summary sum;
	long		secs;
	int			usecs;

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();

	memset(&a, 0, sizeof(a));
	a.id = DatumGetUInt32(arg);
	shadow_job_update(claim, &a);
	if (!a.ok)
		proc_exit(0);			/* the job was given up: nothing to do */
	my_job = a.id;
	seq = a.i64;
	before_shmem_exit(writer_on_exit, 0);
	if (setpriority(PRIO_PROCESS, 0, SNAPSHOT_WRITER_NICE) != 0)
		elog(DEBUG1, "engine: the snapshot writer could not lower its priority: %m");

	/*
	 * Connected as the bootstrap superuser, like the worker (even to a
	 * database closed to connections), with the worker's pinned settings,
	 * whatever the database or a role says (session.c).
	 */
	session_connect_helper("engine snapshot writer");
	started = GetCurrentTimestamp();

	copy = (const core_engine *) shmem_shadow_base();
	if (core_seq(copy) != seq)
		elog(ERROR, "engine: the shadow copy is at seq " INT64_FORMAT ", not the job's " INT64_FORMAT,
			 core_seq(copy), seq);
	shadow_job_get(&job);

	pgstat_report_activity(STATE_RUNNING, "engine: writing a snapshot");
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (snapshot_write_chunks(copy, progress, &started, &sum))
	{
		shadow_release_job_hold();	/* the copy is no longer needed */
		snapshot_write_row(&sum, job.started_at);
		manifest_note_snapshot_written();
		items = sum.items;
	}
	else
	{
		shadow_release_job_hold();
		items = 0;				/* a snapshot of that seq exists */
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	XLogFlush(XactLastCommitEnd);

	TimestampDifference(started, GetCurrentTimestamp(), &secs, &usecs);
	a.i64 = items;
	a.ms = (int64) secs * 1000 + usecs / 1000;
	shadow_job_update(note_committed, &a);
	my_job = 0;					/* committed: exiting now is no failure */
	status_wake_worker();

	/* Only now that the snapshot is durable: drop what it makes unneeded. */
	pgstat_report_activity(STATE_RUNNING, "engine: pruning after a snapshot");
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pruned = snapshot_prune(engine_snapshot_keep, engine_keep_log);
	manifest_note_prune();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	shadow_job_update(note_pruned, &pruned);
	if (pruned > 0)
		elog(LOG, "engine: pruned " INT64_FORMAT " command_log rows no kept snapshot needs", pruned);
	status_wake_worker();
	proc_exit(0);
}
