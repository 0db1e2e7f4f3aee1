/*
 * checkpoint.c — the worker's side of snapshots and copies: when a snapshot
 * is due, taking the copy it is written from, starting the snapshot writer
 * and following it, answering engine.snapshot() callers, copies for long
 * readers, and the shutdown snapshot.
 *
 * Owns: the snapshot triggers (engine.snapshot_interval, snapshot_every,
 * on demand, clean shutdown), the job's life on the worker's side, and the
 * worker-local memory of the last snapshot.  The rows are snapshot.c's,
 * the writer process snapshot_writer.c's, the copy shadow.c's.
 * Must never: run inside a batch (copies are taken between batches, so a
 * copy is always a committed state that covers whole batches); wait for the
 * writer or a reader while serving (only the shutdown snapshot waits);
 * start a second writer while one runs.
 *
 * A snapshot costs the worker one copy of the used part of its arena into
 * the shadow (engine.status().snapshot_ms; a few ms per 100k orders): the
 * writer then writes it in its own transaction while the worker serves.
 * Only the shutdown snapshot is written by the worker itself (it serves no
 * more by then), and so is one whose writer cannot start (no free
 * max_worker_processes slot), saying so in the server log.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "shadow.h"
#include "snapshot.h"
#include "status.h"
#include "worker.h"

static int64 last_snapshot_seq;		/* the newest snapshot loaded or written */
static bool last_snapshot_exists;	/* ... is in the tables (not just seq 0) */
static TimestampTz last_snapshot_time;	/* when it was taken or loaded */
static TimestampTz last_job_end;	/* when the last job ended */
static bool job_noted;			/* the current job's commit was reported */
static TimestampTz last_reader_copy;	/* the last copy made for readers */
static bool claimed;			/* a snapshot's copy keeps new readers out */

/*
 * Copies for readers (engine.verify(), engine.state_digest()) at most this
 * often: each costs the worker a pause of a memcpy, and each verify() a
 * core of CPU for as long as it checks, which on a small machine is what
 * the worker needs.  Readers of an unchanged state need no new copy.
 */
#define READER_COPY_MIN_GAP_MS 500
static BackgroundWorkerHandle *writer;	/* the writer this worker started, if any */

typedef struct job_args
{
	int64		seq;
	TimestampTz at;
	uint64		requests;
	const char *why;
	int64		items;
	uint32		id;
	bool		done;
} job_args;

/*
 * A wake-up: the worker sleeps until its latch is set or a second passes;
 * when something becomes due sooner (a gap that ends), a timer sets the
 * latch then.
 */
static TimeoutId wake_timer;
static bool wake_timer_registered = false;

static void
wake_up(void)
{
	SetLatch(MyLatch);
}

static void
wake_after(int64 ms)
{
	if (!wake_timer_registered)
	{
		wake_timer = RegisterTimeout(USER_TIMEOUT, wake_up);
		wake_timer_registered = true;
	}
	if (!get_timeout_active(wake_timer))
		enable_timeout_after(wake_timer, (int) Max(ms, 1));
}

/* ------------------------------------------------------------ settling a job */

static void
end_job(snapshot_job *job, void *arg pg_attribute_unused())
{
	job->state = JOB_NONE;
	job->writer_pid = 0;
}

static void
cancel_queued(snapshot_job *job, void *arg)
{
	*(bool *) arg = job->state == JOB_QUEUED;
	if (job->state == JOB_QUEUED)
		job->state = JOB_CANCELLED;
}

/*
 * Has the job's writer exited?  Asked of the postmaster for a writer this
 * worker started; a job a previous worker left is followed by its writer's
 * pid (a queued one was cancelled by checkpoint_init).
 */
static bool
writer_gone(const snapshot_job *job)
{
	pid_t		pid;

	if (writer != NULL)
		return GetBackgroundWorkerPid(writer, &pid) == BGWH_STOPPED;
	return job->writer_pid == 0 || kill(job->writer_pid, 0) != 0;
}

/* A committed job: report it once. */
static void
note_commit(const snapshot_job *job)
{
	int64		copy_us;
	int64		seq;
	TimestampTz at;
	Size		bytes;

	if (job_noted)
		return;
	job_noted = true;
	shadow_figures(&seq, &at, &copy_us, &bytes);
	status_note_snapshot_written(job->seq, job->started_at, copy_us / 1000,
								 job->existed ? 0 : job->items_written, job->requests);
	status_note_snapshot_write(job->write_ms, copy_us);
	if (!job->existed)
		ereport(LOG,
				(errmsg("engine: snapshot at seq " INT64_FORMAT " (%s): " INT64_FORMAT " items written in "
						INT64_FORMAT " ms by the snapshot writer; the worker paused %.1f ms to copy %zu MB",
						job->seq, job->why, job->items_written, job->write_ms, copy_us / 1000.0,
						(size_t) (bytes >> 20))));
	last_snapshot_seq = job->seq;
	last_snapshot_exists = true;
	last_snapshot_time = job->started_at;
}

/*
 * Follow the job: report its commit, and end it once its writer has
 * exited.  A writer that exited without committing is reported; the
 * snapshot is tried again later.
 */
static void
advance_job(void)
{
	snapshot_job job;

	shadow_job_get(&job);
	if (job.state == JOB_NONE)
		return;
	if (job.state == JOB_COMMITTED)
		note_commit(&job);
	/* A cancelled job's writer, if it ever starts, finds no job and exits. */
	if (job.state != JOB_CANCELLED && !writer_gone(&job))
		return;
	if (job.state != JOB_COMMITTED && job.state != JOB_CANCELLED)
		ereport(WARNING,
				(errmsg("engine: the snapshot at seq " INT64_FORMAT " was not written: %s", job.seq,
						job.error[0] ? job.error : "the snapshot writer exited before it committed"),
				 errdetail("The previous snapshot stays in force; the worker tries again later.")));
	shadow_release_job_hold();
	shadow_job_update(end_job, NULL);
	if (writer != NULL)
	{
		pfree(writer);
		writer = NULL;
	}
	last_job_end = GetCurrentTimestamp();
}

/* ------------------------------------------------------------ writing in the worker */

/*
 * Write the snapshot of the live state in this process (nothing else is
 * applied meanwhile): at shutdown, or when no writer could be started.
 */
static void
write_here(core_engine *c, const char *why)
{
	uint64		requests = status_snapshot_requests();
	TimestampTz started = GetCurrentTimestamp();
	int64		items;
	int64		pruned;
	int64		ms;

	pgstat_report_activity(STATE_RUNNING, "engine: writing a snapshot");
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	items = snapshot_write(c, started, NULL, NULL);
	pruned = snapshot_prune(engine_snapshot_keep, engine_keep_log);
	manifest_note_snapshot();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	/* The worker may commit asynchronously; a snapshot is answered durable. */
	XLogFlush(XactLastCommitEnd);
	ms = ms_since(started);
	status_note_snapshot_written(core_seq(c), started, ms, items, requests);
	status_note_snapshot_write(ms, ms * 1000);
	if (items > 0)
		ereport(LOG,
				(errmsg("engine: snapshot at seq " INT64_FORMAT " (%s): " INT64_FORMAT " items written in "
						INT64_FORMAT " ms by the worker, which served nothing meanwhile; " INT64_FORMAT
						" log rows pruned", core_seq(c), why, items, ms, pruned)));
	last_snapshot_seq = core_seq(c);
	last_snapshot_exists = true;
	last_snapshot_time = started;
	last_job_end = GetCurrentTimestamp();
	pgstat_report_activity(STATE_IDLE, "engine: serving");
}

/* ------------------------------------------------------------ starting a job */

static void
set_up_job(snapshot_job *job, void *arg)
{
	job_args   *a = arg;

	memset(job->why, 0, sizeof(job->why));
	job->id++;
	job->state = JOB_QUEUED;
	job->seq = a->seq;
	job->started_at = a->at;
	job->requests = a->requests;
	strlcpy(job->why, a->why, sizeof(job->why));
	job->writer_pid = 0;
	job->items_total = a->items;
	job->items_written = 0;
	job->write_ms = 0;
	job->pruned = 0;
	job->existed = false;
	job->unpaced = false;
	job->error[0] = '\0';
	a->id = job->id;
}

/*
 * Copy the state and hand it to a new writer.  Nothing happens when the
 * copy is being read (a long engine.verify()): the next loop tries again.
 */
static void
start_job(core_engine *c, const char *why)
{
	job_args	a;
	core_counters k = core_get_counters(c);
	bool		cancelled;

	a.requests = status_snapshot_requests();
	a.at = GetCurrentTimestamp();
	claimed = !shadow_copy(c, true);
	if (claimed)
		return;					/* after the next batch, when the readers are done */
	a.seq = core_seq(c);
	a.why = why;
	a.items = (int64) k.assets + k.symbols + k.balances + k.orders;
	shadow_job_update(set_up_job, &a);
	shadow_hold_for_job();
	job_noted = false;
	writer = snapshot_writer_start(a.id);
	if (writer != NULL)
		return;
	shadow_job_update(cancel_queued, &cancelled);
	shadow_release_job_hold();
	shadow_job_update(end_job, NULL);
	ereport(LOG,
			(errmsg("engine: no background worker slot is free for the snapshot writer; the worker writes the snapshot itself"),
			 errhint("Raise max_worker_processes: the engine needs three (worker, prewarm, snapshot writer).")));
	write_here(c, why);
}

/*
 * Is a snapshot due, and why?  One is asked for (engine.snapshot(): at
 * least SNAPSHOT_EXPLICIT_GAP_MS after the last one ended), or there are
 * new commands and either engine.snapshot_every of them or
 * engine.snapshot_interval have passed — but never sooner than
 * SNAPSHOT_MIN_GAP_MS after the last one.  A request when the newest
 * snapshot already covers the state is answered at once.  Returns NULL
 * when none is due.
 */
static const char *
snapshot_due(core_engine *c)
{
	int64		since = core_seq(c) - last_snapshot_seq;

	if (status_snapshot_requested())
	{
		if (since == 0 && last_snapshot_exists)
		{
			status_note_snapshot_written(last_snapshot_seq, last_snapshot_time, 0, 0,
										 status_snapshot_requests());
			return NULL;
		}
		if (ms_since(last_job_end) < SNAPSHOT_EXPLICIT_GAP_MS)
		{
			wake_after(SNAPSHOT_EXPLICIT_GAP_MS - ms_since(last_job_end));
			return NULL;
		}
		return "engine.snapshot()";
	}
	if (since <= 0 || ms_since(last_snapshot_time) < SNAPSHOT_MIN_GAP_MS)
		return NULL;
	if (since >= engine_snapshot_every)
		return "engine.snapshot_every";
	if (ms_since(last_snapshot_time) >= (int64) engine_snapshot_interval_s * 1000)
		return "engine.snapshot_interval";
	return NULL;
}

/* ------------------------------------------------------------ the worker's calls */

/* After recovery: the snapshot it started from is the newest one. */
void
checkpoint_init(void)
{
	engine_status st;
	snapshot_job job;
	bool		cancelled;

	status_snapshot(&st);
	last_snapshot_seq = st.snapshot_seq;
	last_snapshot_exists = st.snapshot_at != 0;
	last_snapshot_time = GetCurrentTimestamp();
	last_job_end = 0;
	/*
	 * A job a previous worker left: one no writer took is given up (if its
	 * writer starts, it finds no job); a running writer is followed until
	 * it exits, and no new job starts before.
	 */
	writer = NULL;
	shadow_drop_claim();
	claimed = false;
	shadow_job_update(cancel_queued, &cancelled);
	shadow_job_get(&job);
	job_noted = job.state != JOB_NONE;	/* its commit answers nobody now */
}

void
checkpoint_between_batches(core_engine *c)
{
	snapshot_job job;
	const char *why;

	advance_job();
	if (!shadow_warm_step())
	{
		/* Copies wait until the shadow is mapped: come back soon. */
		SetLatch(MyLatch);
		return;
	}
	shadow_job_get(&job);
	if (job.state == JOB_NONE && (why = snapshot_due(c)) != NULL)
	{
		start_job(c, why);
		return;
	}
	if (claimed)
	{
		shadow_drop_claim();	/* no longer due (engine.snapshot_interval reloaded) */
		claimed = false;
	}
	if (shadow_copy_requested() && ms_since(last_reader_copy) >= READER_COPY_MIN_GAP_MS)
	{
		if (shadow_copy(c, false))
			last_reader_copy = GetCurrentTimestamp();
	}
	else if (shadow_copy_requested())
		wake_after(READER_COPY_MIN_GAP_MS - ms_since(last_reader_copy));
}

/*
 * SIGTERM, between batches: give up a job no writer has taken yet, wait
 * for a running writer to finish, and write the shutdown snapshot here
 * unless the newest snapshot already covers the state.  When this returns
 * the snapshot is durable.
 */
static void
unpace(snapshot_job *job, void *arg pg_attribute_unused())
{
	job->unpaced = true;
}

void
checkpoint_shutdown(core_engine *c)
{
	bool		cancelled = false;

	shadow_drop_claim();
	shadow_job_update(cancel_queued, &cancelled);
	/* A writer under way stops keeping to engine.snapshot_max_rate. */
	shadow_job_update(unpace, NULL);
	pgstat_report_activity(STATE_RUNNING, "engine: waiting for the snapshot writer to finish");
	for (;;)
	{
		snapshot_job job;

		advance_job();
		shadow_job_get(&job);
		if (job.state == JOB_NONE)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	if (!(last_snapshot_exists && last_snapshot_seq == core_seq(c)))
		write_here(c, "shutdown");
}
