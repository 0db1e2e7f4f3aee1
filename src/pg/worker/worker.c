/*
 * worker.c — the engine's background worker: the only process that changes
 * the engine state and the only writer of the engine tables.
 *
 * Owns: registration, signals, the life cycle (starting -> waiting ->
 * [restoring ->] recovering -> ready | failed), the waits for a database
 * that allows connections, for the extension at the library's SQL version
 * and for a restore to be whole, the choice of role at start (a standby's
 * worker follows the primary until promoted: follower.c), and the main loop.
 * Must never: trust the shared arena it finds at start (it always rebuilds:
 * after a crash-restart the arena is zeroed, after an exit(1) it may be
 * half-updated); catch an ERROR to carry on (any ERROR ends the process with
 * exit code 1, the postmaster restarts it after bgw_restart_time = 1 s, and
 * the new worker rebuilds from what committed); exit with code 0 (the
 * postmaster would never restart it).
 *
 * Signals: SIGTERM finishes the current batch and exits with code 1 (so a
 * pg_terminate_backend() restarts it; at server shutdown the code does not
 * matter).  SIGHUP reloads the configuration at the next loop.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ready.h"
#include "settings.h"
#include "slots.h"
#include "status.h"
#include "worker.h"

/* Idle wake-up: how often the worker checks that its tables are unchanged. */
#define WORKER_IDLE_MS        1000
/* How often a worker waiting for CREATE EXTENSION looks again. */
#define WORKER_EXT_POLL_MS    100
/* How often a failed worker wakes (to notice SIGTERM / SIGHUP). */
#define WORKER_FAILED_POLL_MS 1000

static void failed_loop(void) pg_attribute_noreturn();

void
worker_init(void)
{
	BackgroundWorker w;

	if (!engine_preloaded)
		return;
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	/* On a hot standby too, as a follower (follower.c). */
	w.bgw_start_time = BgWorkerStart_ConsistentState;
	w.bgw_restart_time = 1;
	strlcpy(w.bgw_library_name, "engine", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "worker_main", BGW_MAXLEN);
	strlcpy(w.bgw_name, "engine worker", BGW_MAXLEN);
	strlcpy(w.bgw_type, "engine", BGW_MAXLEN);
	RegisterBackgroundWorker(&w);
}

/*
 * A reload (SIGHUP) re-reads postgresql.conf and pins the worker's own
 * settings again (session.c); the values the worker stamps into records
 * (engine.max_open_orders) apply from the next batch on, and the log line
 * says which are in force.
 */
static void
handle_signals(void)
{
	if (session_reload_if_requested())
		elog(LOG, "engine: configuration reloaded: engine.max_open_orders = %d", engine_max_open_orders);
	if (ShutdownRequestPending)
		proc_exit(1);
}

static void
wait_latch(long ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms,
					 PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/*
 * before_shmem_exit: say there is no worker.  Registered before connecting,
 * so it runs after the transaction clean-up of InitPostgres's callback.
 */
static void
worker_on_exit(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
{
	LWLockReleaseAll();
	ready_worker_gone();
	session_exiting();
}

/* Is version v (major.minor) older than `than`?  False if either does not parse. */
static bool
version_older(const char *v, const char *than)
{
	int			a1, a2, b1, b2;

	if (sscanf(v, "%d.%d", &a1, &a2) != 2 || sscanf(than, "%d.%d", &b1, &b2) != 2)
		return false;
	return a1 < b1 || (a1 == b1 && a2 < b2);
}

/*
 * Idle check that nobody else changed the tables under the worker: the
 * extension is still the one it serves, and the log (or, once a snapshot
 * pruned all of it, the newest snapshot) ends where its state ends.
 * DROP/CREATE EXTENSION, pg_restore or COPY into the log, or a TRUNCATE
 * break that; the worker then exits and the next one rebuilds from the
 * tables as they are.
 */
static void
check_tables_unchanged(Oid ext_oid, int64 seq)
{
	Oid			oid;
	char		version[EXT_VERSION_MAX];
	int64		log_seq = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	oid = session_extension(version, sizeof(version));
	if (oid == ext_oid && strcmp(version, ENGINE_SQL_VERSION) == 0)
	{
		bool		isnull;
		Datum		d;

		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		/* A snapshot may have pruned every row of the log: it ends there. */
		if (SPI_execute("SELECT pg_catalog.max(s) FROM ("
						"SELECT pg_catalog.max(seq) FROM engine.command_log UNION ALL "
						"SELECT pg_catalog.max(seq) FROM engine.snapshots) t(s)",
						true, 1) != SPI_OK_SELECT)
			elog(ERROR, "engine: could not read the command log");
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		log_seq = isnull ? 0 : DatumGetInt64(d);
		SPI_finish();
		PopActiveSnapshot();
	}
	CommitTransactionCommand();

	if (oid != ext_oid)
	{
		elog(LOG, "engine: extension \"engine\" was dropped or re-created; the worker restarts");
		proc_exit(1);
	}
	if (strcmp(version, ENGINE_SQL_VERSION) != 0)
	{
		elog(LOG, "engine: extension \"engine\" is now at version %s; the worker restarts", version);
		proc_exit(1);
	}
	if (log_seq != seq)
	{
		elog(LOG, "engine: engine.command_log ends at seq " INT64_FORMAT " but the engine state is at seq " INT64_FORMAT
			 "; the worker restarts to rebuild from the tables", log_seq, seq);
		proc_exit(1);
	}
}

/*
 * What keeps the worker from serving extension "engine" at the version
 * this library serves (ENGINE_SQL_VERSION), into detail; InvalidOid then,
 * else the extension's oid.  Runs transactions of its own.
 *
 * While an update is pending, the log is checked first for records of the
 * previous release that no snapshot covers (a crash of that release):
 * this release refuses to replay them (recovery.c), and the fix needs the
 * previous release's library, so the worker fails now, before the update,
 * rather than after it.
 */
static Oid
extension_to_serve(char *detail, size_t len)
{
	char		version[EXT_VERSION_MAX];
	Oid			oid;

	StartTransactionCommand();
	oid = session_extension(version, sizeof(version));
	CommitTransactionCommand();
	if (OidIsValid(oid) && strcmp(version, ENGINE_SQL_VERSION) == 0)
		return oid;
	if (!OidIsValid(oid))
		snprintf(detail, len, "extension \"engine\" is not created in database \"%s\"",
				 engine_database);
	else if (version_older(version, ENGINE_SQL_VERSION))
	{
		if (!recovery_log_replayable(detail, len))
		{
			elog(LOG, "engine: the update cannot go on: %s", detail);
			status_set_state(ENGINE_FAILED, "%s", detail);
			failed_loop();
		}
		snprintf(detail, len,
				 "extension \"engine\" is at version %s and this library serves version %s: "
				 "run ALTER EXTENSION engine UPDATE in database \"%s\"",
				 version, ENGINE_SQL_VERSION, engine_database);
	}
	else
		snprintf(detail, len,
				 "extension \"engine\" is at version %s and this library serves version %s: "
				 "install the engine library of version %s and restart the server",
				 version, ENGINE_SQL_VERSION, version);
	return InvalidOid;
}

/*
 * Sleep until engine.database allows connections and extension "engine"
 * exists there at the version this library serves, in state "waiting" with
 * a detail saying what is missing.  The catalog is read again every
 * WORKER_EXT_POLL_MS, so the worker goes on as soon as ALTER DATABASE,
 * CREATE EXTENSION or ALTER EXTENSION engine UPDATE commits.
 */
static Oid
wait_for_extension(void)
{
	char		announced[ENGINE_DETAIL_MAX] = "";

	for (;;)
	{
		char		detail[ENGINE_DETAIL_MAX];

		if (session_database_allows_connections(detail, sizeof(detail)))
		{
			Oid			oid = extension_to_serve(detail, sizeof(detail));

			if (OidIsValid(oid))
				return oid;
		}
		if (strcmp(detail, announced) != 0)
		{
			status_set_state(ENGINE_WAITING, "%s", detail);
			elog(LOG, "engine: waiting: %s", detail);
			strlcpy(announced, detail, sizeof(announced));
		}
		wait_latch(WORKER_EXT_POLL_MS);
		handle_signals();
	}
}

/*
 * A restored installation is recovered only once it is whole: sleep in
 * state "restoring", with a detail naming what is missing, until the
 * restore has brought the manifest row and every table it calls non-empty
 * (manifest.c).  Returns at once for an installation that is not a
 * restore.
 */
static void
wait_for_restore(void)
{
	char		announced[ENGINE_DETAIL_MAX] = "";
	char		detail[ENGINE_DETAIL_MAX];

	while (manifest_restore_pending(detail, sizeof(detail)))
	{
		if (strcmp(detail, announced) != 0)
		{
			status_set_state(ENGINE_RESTORING, "%s", detail);
			elog(LOG, "engine: restoring: %s", detail);
			strlcpy(announced, detail, sizeof(announced));
		}
		wait_latch(WORKER_EXT_POLL_MS);
		handle_signals();
	}
	if (announced[0] != '\0')
		elog(LOG, "engine: the restore is whole; recovering from the restored tables");
}

/*
 * The worker cannot run with the settings it needs: say why, and wait for
 * a reload or a restart to try again.
 */
static void
unpinned_loop(const char *why)
{
	elog(LOG, "engine: %s", why);
	status_set_state(ENGINE_FAILED, "%s", why);
	for (;;)
	{
		wait_latch(WORKER_FAILED_POLL_MS);
		if (ShutdownRequestPending)
			proc_exit(1);
		if (ConfigReloadPending)
			proc_exit(1);		/* the next worker tries again */
	}
}

/*
 * What recovery read, in a few cheap numbers: the extension, where the log
 * starts and ends, and which snapshots exist.  A change means someone
 * repaired or restored the tables.
 */
static void
tables_fingerprint(char *out, size_t len)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_execute("SELECT pg_catalog.concat_ws(' ', (SELECT oid FROM pg_catalog.pg_extension "
					"WHERE extname OPERATOR(pg_catalog.=) 'engine'), "
					"(SELECT pg_catalog.min(seq) FROM engine.command_log), "
					"(SELECT pg_catalog.max(seq) FROM engine.command_log), "
					"(SELECT pg_catalog.string_agg(pg_catalog.concat(seq, ':', digest), ',' ORDER BY seq) "
					"FROM engine.snapshots))",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "engine: could not read the engine tables");
	strlcpy(out, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), len);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * Recovery failed: refuse everything and write nothing.  Restarting the
 * worker (pg_terminate_backend) tries again; so does any change to where
 * the log starts or ends or to the set of snapshots — which is what a
 * pg_restore that was still loading the tables looks like.
 */
static void
failed_loop(void)
{
	char		at_failure[ENGINE_DETAIL_MAX];
	char		now[ENGINE_DETAIL_MAX];

	tables_fingerprint(at_failure, sizeof(at_failure));
	for (;;)
	{
		wait_latch(WORKER_FAILED_POLL_MS);
		handle_signals();
		tables_fingerprint(now, sizeof(now));
		if (strcmp(now, at_failure) != 0)
		{
			elog(LOG, "engine: the engine tables changed since recovery failed; the worker restarts to recover again");
			proc_exit(1);
		}
	}
}

void
worker_main(Datum arg pg_attribute_unused())
{
	Oid			ext_oid;
	core_engine *c;
	TimestampTz last_ts;
	TimestampTz last_ext_check;
	TimestampTz started;
	int		   *taken;
	const char *why;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	before_shmem_exit(worker_on_exit, 0);

	started = GetCurrentTimestamp();
	status_worker_started();
	if ((why = session_connect()) != NULL)
		unpinned_loop(why);

	slots_reclaim_before_recovery();
	ext_oid = wait_for_extension();
	wait_for_restore();

	recovery_map_arena();
	c = ready_begin_recovery();
	pgstat_report_activity(STATE_RUNNING, "engine: recovering");
	if (RecoveryInProgress())
		c = follow_until_promoted(c, ext_oid, &last_ts);
	else if (!recovery_run(c, &last_ts))
	{
		slots_reclaim_after_recovery(core_seq(c), false);
		pgstat_report_activity(STATE_IDLE, "engine: failed");
		failed_loop();
	}
	slots_reclaim_after_recovery(core_seq(c), true);
	manifest_load();
	checkpoint_init();

	ready_serve(ext_oid, ENGINE_ROLE_LEADER);
	pgstat_report_activity(STATE_IDLE, "engine: serving");
	elog(LOG, "engine: ready at seq " INT64_FORMAT " as the leader, " INT64_FORMAT " ms after the worker started",
		 core_seq(c), (int64) TimestampDifferenceMilliseconds(started, GetCurrentTimestamp()));

	taken = MemoryContextAlloc(TopMemoryContext, sizeof(int) * slots_count());
	last_ext_check = GetCurrentTimestamp();
	for (;;)
	{
		int			n;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
		{
			/* Between batches: everything applied is committed. */
			checkpoint_shutdown(c);
			proc_exit(1);
		}
		handle_signals();

		n = slots_take(taken);
		if (n > 0)
			batch_run(c, taken, n, ext_oid, &last_ts);
		checkpoint_between_batches(c);
		if (n > 0)
			continue;

		if (status_extension_recheck_requested() ||
			TimestampDifferenceExceeds(last_ext_check, GetCurrentTimestamp(), WORKER_IDLE_MS))
		{
			check_tables_unchanged(ext_oid, core_seq(c));
			last_ext_check = GetCurrentTimestamp();
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 WORKER_IDLE_MS, PG_WAIT_EXTENSION);
	}
}
