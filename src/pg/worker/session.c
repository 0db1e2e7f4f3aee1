/*
 * session.c — the worker's database session: connecting to
 * engine.database, the settings the worker pins for itself, and what the
 * database offers it to serve (whether it allows connections, which
 * version of extension "engine" it holds).
 *
 * Owns: the one table of (setting, value) the worker runs with and why
 * each is in it; what engine.status() says when the worker cannot connect.
 * Must never: pin a resource or cost setting an operator tunes on purpose
 * (work_mem, random_page_cost, ...): those change how fast, never what, the
 * worker's statements do.
 *
 * Pinned settings.  The worker is a superuser.  A database owner who is
 * not one can set any user-settable parameter for everyone who connects to
 * their database, the worker included; so can a superuser, for a role or a
 * database, by mistake.  Pinned at PGC_S_OVERRIDE right after the worker
 * connects (and again after every configuration reload), these values beat
 * every other source.  Together with schema-qualified names and
 * OPERATOR(pg_catalog.op) in every statement the worker runs, they make
 * each statement resolve every name in pg_catalog or schema engine only,
 * and run to completion in a read-write transaction as it was written.
 *
 * statement_timeout and the idle_*_timeouts are armed only by a client
 * backend's protocol loop, so today they cannot reach the worker; they are
 * pinned anyway, so that a PostgreSQL that arms them elsewhere changes
 * nothing.  Not pinned: local_ and session_preload_libraries (loaded only
 * by client backends) and exit_on_error (it only turns an ERROR into
 * FATAL, and any ERROR already ends the worker).
 *
 * Connecting.  The worker connects even when the database does not allow
 * connections (ALTER DATABASE ... ALLOW_CONNECTIONS false, which its owner
 * may do), so that it can wait and say so instead of failing every second;
 * a connection that fails all the same (no such database) leaves its error
 * in engine.status() for the worker that tries next.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "settings.h"
#include "status.h"
#include "worker.h"

typedef struct pinned_setting
{
	const char *name;
	const char *value;
} pinned_setting;

static const pinned_setting pinned[] = {
	/*
	 * Names.  pg_catalog first and no user schema: a name the worker left
	 * unqualified would resolve in pg_catalog or fail, never in a schema
	 * someone else can write to (pg_temp last: the worker makes no
	 * temporary objects, and operators and functions are never looked up
	 * there).
	 */
	{"search_path", "pg_catalog, pg_temp"},

	/* Every statement runs to completion, in a read-write transaction. */
	{"default_transaction_read_only", "off"},
	{"transaction_read_only", "off"},
	{"default_transaction_isolation", "read committed"},
	{"default_transaction_deferrable", "off"},
	{"statement_timeout", "0"},
	{"lock_timeout", "0"},
	{"idle_in_transaction_session_timeout", "0"},
	{"idle_session_timeout", "0"},

	/* Triggers, foreign keys and row security on the engine's tables apply. */
	{"session_replication_role", "origin"},
	{"row_security", "on"},

	/* Texts the worker parses or writes mean one thing. */
	{"standard_conforming_strings", "on"},
	{"transform_null_equals", "off"},
	{"check_function_bodies", "on"},
	{"DateStyle", "ISO, MDY"},
	{"IntervalStyle", "postgres"},
	{"TimeZone", "UTC"},
	{"bytea_output", "hex"},
	{"extra_float_digits", "1"},
	{"client_min_messages", "notice"},

	/*
	 * Plans.  Every query of a batch is a key lookup on an indexed column,
	 * prepared once, when the tables may still be empty and never analyzed:
	 * a plan made then would scan engine.client_keys whole for ever after,
	 * slower with every order.  Keep the planner on the indexes, in this
	 * process, without JIT or parallel workers, and with the plan cache's
	 * own choice between generic and custom plans.
	 */
	{"enable_seqscan", "off"},
	{"enable_indexscan", "on"},
	{"enable_indexonlyscan", "on"},
	{"enable_bitmapscan", "on"},
	{"enable_tidscan", "on"},
	{"enable_nestloop", "on"},
	{"enable_hashjoin", "on"},
	{"enable_mergejoin", "on"},
	{"enable_hashagg", "on"},
	{"enable_sort", "on"},
	{"enable_incremental_sort", "on"},
	{"enable_material", "on"},
	{"enable_memoize", "on"},
	{"plan_cache_mode", "auto"},
	{"jit", "off"},
	{"force_parallel_mode", "off"},
	{"max_parallel_workers_per_gather", "0"},
};

/*
 * Pin every setting of the table for this process.  Returns NULL, or a
 * text naming the setting that could not be pinned (the worker then does
 * not serve, and says so in engine.status()).
 */
const char *
session_pin_settings(void)
{
	static char why[256];
	bool		own_xact = !IsTransactionState();
	bool		identity;

	/*
	 * Identity first.  A database or role setting of session_authorization
	 * or role (which the database's owner may make) would have the process
	 * act as another role from its first statement on; it acts as the
	 * superuser it connected as.  Both look the role up in the catalog, so
	 * they are pinned inside a transaction; a SET outlives its commit.
	 */
	if (own_xact)
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
	}
	identity = set_config_option("session_authorization",
								 GetUserNameFromId(GetAuthenticatedUserId(), false),
								 PGC_SUSET, PGC_S_OVERRIDE, GUC_ACTION_SET, true, WARNING, false) > 0 &&
		set_config_option("role", "none", PGC_SUSET, PGC_S_OVERRIDE,
						  GUC_ACTION_SET, true, WARNING, false) > 0;
	if (own_xact)
		CommitTransactionCommand();
	if (!identity)
		return "the worker cannot act as the superuser it connected as (see the server log)";

	for (int i = 0; i < (int) lengthof(pinned); i++)
	{
		const pinned_setting *p = &pinned[i];

		if (set_config_option(p->name, p->value, PGC_SUSET, PGC_S_OVERRIDE,
							  GUC_ACTION_SET, true, WARNING, false) <= 0)
		{
			snprintf(why, sizeof(why),
					 "the worker cannot pin its setting %s = '%s' (see the server log)",
					 p->name, p->value);
			return why;
		}
	}

	/*
	 * synchronous_commit follows engine.synchronous_commit, so it is pinned
	 * here rather than in the table.  The worker's commits flush their WAL
	 * locally (one flush per batch) and never wait for standbys: callers do
	 * that (batch.c, api/submit.c).  With engine.synchronous_commit = off
	 * they do not flush at all.  A local commit also spares the wake-up of
	 * the WAL writer that every asynchronous commit sends (a kill() per
	 * batch).
	 */
	if (set_config_option("synchronous_commit",
						  engine_synchronous_commit_flushes() ? "local" : "off",
						  PGC_SUSET, PGC_S_OVERRIDE, GUC_ACTION_SET, true, WARNING, false) <= 0)
		return "the worker cannot pin its setting synchronous_commit (see the server log)";
	return NULL;
}

/*
 * A reload (SIGHUP) re-reads postgresql.conf, which resets what the file
 * sets; the pinned settings are pinned again at once.
 */
bool
session_reload_if_requested(void)
{
	const char *why;

	if (!ConfigReloadPending)
		return false;
	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);
	if ((why = session_pin_settings()) != NULL)
		elog(ERROR, "engine: %s", why);
	return true;
}

/* ------------------------------------------------------------ connecting */

/* The error that ended the connection attempt, for engine.status(). */
static char connect_error[ENGINE_DETAIL_MAX];
static emit_log_hook_type prev_emit_log_hook = NULL;

static void
remember_connect_error(ErrorData *edata)
{
	if (edata->elevel >= FATAL && edata->message != NULL)
		strlcpy(connect_error, edata->message, sizeof(connect_error));
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * Connect to engine.database as the bootstrap superuser, in state
 * "starting"; a failure ends the process (FATAL) and session_exiting puts
 * its error into the status.  Then pin the settings: NULL, or why they
 * could not be pinned.
 */
const char *
session_connect(void)
{
	engine_status st;

	/* A predecessor's failure stays visible while this worker tries again. */
	status_snapshot(&st);
	if (st.state == ENGINE_STOPPED && st.detail[0] != '\0')
		status_set_state(ENGINE_STARTING, "connecting to database \"%s\" (%s)", engine_database,
						 st.detail);
	else
		status_set_state(ENGINE_STARTING, "connecting to database \"%s\"", engine_database);

	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = remember_connect_error;
	BackgroundWorkerInitializeConnection(engine_database, NULL, BGWORKER_BYPASS_ALLOWCONN);
	emit_log_hook = prev_emit_log_hook;
	connect_error[0] = '\0';
	pgstat_report_appname("engine");
	return session_pin_settings();
}

BackgroundWorkerHandle *
session_start_helper(const char *function, const char *name, Datum arg)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(w.bgw_library_name, "engine", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, function, BGW_MAXLEN);
	strlcpy(w.bgw_name, name, BGW_MAXLEN);
	strlcpy(w.bgw_type, name, BGW_MAXLEN);
	w.bgw_main_arg = arg;
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &h))
		return NULL;
	return h;
}

void
session_connect_helper(const char *appname)
{
	const char *why;

	BackgroundWorkerInitializeConnection(engine_database, NULL, BGWORKER_BYPASS_ALLOWCONN);
	pgstat_report_appname(appname);
	why = session_pin_settings();
	if (why != NULL)
		elog(ERROR, "engine: %s", why);
}

/*
 * The worker is exiting (after the status says "stopped"): if it never
 * connected, say why.
 */
void
session_exiting(void)
{
	if (connect_error[0] != '\0')
		status_set_detail("the last attempt to connect failed: %s", connect_error);
}

/*
 * Whether engine.database accepts connections; if not, why not in detail.
 * Runs a transaction of its own.
 */
bool
session_database_allows_connections(char *detail, size_t len)
{
	HeapTuple	tup;
	bool		allowed = true;

	StartTransactionCommand();
	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	if (HeapTupleIsValid(tup))
	{
		allowed = ((Form_pg_database) GETSTRUCT(tup))->datallowconn;
		ReleaseSysCache(tup);
	}
	CommitTransactionCommand();
	if (!allowed)
		snprintf(detail, len,
				 "database \"%s\" does not allow connections: ALTER DATABASE \"%s\" ALLOW_CONNECTIONS true",
				 engine_database, engine_database);
	return allowed;
}

/*
 * The installed extension's oid (InvalidOid: not created) and its version
 * into version (at most len bytes), read from pg_extension.  Call inside a
 * transaction.
 */
Oid
session_extension(char *version, size_t len)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			oid = InvalidOid;

	version[0] = '\0';
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(ENGINE_EXTENSION_NAME));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_extension_extversion, RelationGetDescr(rel), &isnull);

		oid = ((Form_pg_extension) GETSTRUCT(tup))->oid;
		if (!isnull)
			text_to_cstring_buffer(DatumGetTextPP(d), version, len);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return oid;
}
