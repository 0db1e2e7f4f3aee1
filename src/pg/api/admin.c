/*
 * admin.c — engine.status, engine.ready, engine.verify,
 * engine.state_digest, and the CREATE EXTENSION guard (library preloaded,
 * the right database, a schema "engine" nobody else controls).
 *
 * Owns: what the engine says about itself.
 * Must never: hold the state lock for a long read.  status() and ready()
 * answer in every state, even when the library is not preloaded and
 * without waiting; verify() and state_digest() read a copy of the state
 * (shadow.h) and wait like a command for the worker to make it.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/xlog.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"

#include "api.h"

PG_FUNCTION_INFO_V1(engine_status_fn);
PG_FUNCTION_INFO_V1(engine_ready);
PG_FUNCTION_INFO_V1(engine_verify);
PG_FUNCTION_INFO_V1(engine_state_digest);
PG_FUNCTION_INFO_V1(engine_install_check);
PG_FUNCTION_INFO_V1(engine_snapshot);

#define STATUS_COLS 38

/* status() columns 31-37: role, applied_seq, lag, follower counters. */
static void
status_role_columns(const engine_status *st, bool have_state, Datum *v, bool *n)
{
	engine_role role = st->worker_pid != 0 ? st->role
		: RecoveryInProgress() ? ENGINE_ROLE_FOLLOWER : ENGINE_ROLE_LEADER;
	int64		lag_records = 0;
	int64		lag_ms = 0;
	bool		have_lag = have_state;

	if (have_state && role == ENGINE_ROLE_FOLLOWER)
		have_lag = follower_lag(st->last_seq, &lag_records, &lag_ms);
	v[31] = CStringGetTextDatum(engine_role_name(role));
	n[32] = !have_state && st->state != ENGINE_FAILED;
	v[32] = Int64GetDatum(st->last_seq);
	n[33] = n[34] = !have_lag;
	v[33] = Int64GetDatum(lag_records);
	v[34] = Int64GetDatum(lag_ms);
	v[35] = Int64GetDatum(st->follower_reloads);
	v[36] = Int64GetDatum(st->follower_retries);
	n[37] = st->promote_ms < 0;
	v[37] = Int64GetDatum(st->promote_ms);
}

/*
 * engine.status() RETURNS TABLE(state, worker_pid, last_seq, snapshot_seq,
 * snapshot_at, replayed, recovery_ms, resting_orders, accounts,
 * replay_total, detail, worker_starts, started_at, batches, commands,
 * duplicates, database, snapshot_ms, snapshot_rows, library_version,
 * snapshot_running_seq, snapshot_items_written, snapshot_items_total,
 * snapshot_started_at, snapshot_writer_pid, snapshot_write_ms,
 * snapshot_copy_us, recovery_phase, recovery_done, recovery_total,
 * recovery_rate, role, applied_seq, lag_records, lag_ms, follower_reloads,
 * follower_retries, promote_ms)
 *
 * snapshot_ms is how long the last snapshot paused the worker (the copy,
 * snapshot_copy_us in microseconds; a shutdown snapshot, written by the
 * worker itself, pauses it for the whole write), snapshot_write_ms how long
 * writing it took.  The snapshot_running_* columns describe a snapshot
 * being written now (NULL when none), the recovery_* ones the worker's last
 * recovery, phase by phase.
 *
 * role: leader or follower (no worker: what this server's would be);
 * applied_seq: the seq served (failed: where it stopped); lag_records and
 * lag_ms (lag.c): 0 on a leader, NULL without a state; promote_ms: the
 * follower's last promotion, from noticing it to leading (NULL: never).
 *
 * Releases only append columns, and the row has the columns the installed
 * catalog declares: a catalog of an earlier release (before ALTER EXTENSION
 * engine UPDATE) gets the first ones, a later one gets NULLs for the rest.
 */
Datum
engine_status_fn(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum	   *v;
	bool	   *n;
	int			ncols;
	engine_status st;
	core_counters k;
	bool		have_counters = false;

	InitMaterializedSRF(fcinfo, 0);
	ncols = Max(rsinfo->setDesc->natts, STATUS_COLS);
	v = palloc0(sizeof(Datum) * ncols);
	n = palloc(sizeof(bool) * ncols);
	memset(n, true, sizeof(bool) * ncols);
	/* library_version, the column release 1.1 added */
	n[19] = false;
	v[19] = CStringGetTextDatum(ENGINE_SQL_VERSION);
	if (!shmem_attached())
	{
		n[0] = n[10] = n[16] = false;
		v[0] = CStringGetTextDatum("not_loaded");
		v[10] = CStringGetTextDatum("the engine library is not in shared_preload_libraries");
		v[16] = CStringGetTextDatum(engine_database_name());
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
		return (Datum) 0;
	}
	memset(n, false, sizeof(bool) * STATUS_COLS);

	LWLockAcquire(engine_state_lock, LW_SHARED);
	status_snapshot(&st);
	if (st.state == ENGINE_READY)
	{
		k = core_get_counters(shmem_core());
		have_counters = true;
	}
	LWLockRelease(engine_state_lock);

	v[0] = CStringGetTextDatum(engine_state_name(st.state));
	n[1] = st.worker_pid == 0;
	v[1] = Int32GetDatum(st.worker_pid);
	v[2] = Int64GetDatum(st.last_seq);
	v[3] = Int64GetDatum(st.snapshot_seq);
	n[4] = st.snapshot_at == 0;
	v[4] = TimestampTzGetDatum(st.snapshot_at);
	v[5] = Int64GetDatum(st.replayed);
	v[6] = Int64GetDatum(st.recovery_ms);
	n[7] = n[8] = !have_counters;
	v[7] = have_counters ? Int64GetDatum((int64) k.orders) : (Datum) 0;
	/* Accounts of users; the fee account is not counted. */
	v[8] = have_counters ? Int64GetDatum((int64) k.accounts - 1) : (Datum) 0;
	v[9] = Int64GetDatum(st.replay_total);
	n[10] = st.detail[0] == '\0';
	v[10] = n[10] ? (Datum) 0 : CStringGetTextDatum(st.detail);
	v[11] = Int32GetDatum((int32) st.worker_starts);
	n[12] = st.started_at == 0;
	v[12] = TimestampTzGetDatum(st.started_at);
	v[13] = Int64GetDatum(st.batches);
	v[14] = Int64GetDatum(st.commands);
	v[15] = Int64GetDatum(st.duplicates);
	v[16] = CStringGetTextDatum(engine_database);
	n[17] = n[18] = st.snapshot_rows == 0;
	v[17] = Int64GetDatum(st.snapshot_ms);
	v[18] = Int64GetDatum(st.snapshot_rows);
	{
		snapshot_job job;
		bool		running;

		shadow_job_get(&job);
		running = job.state == JOB_QUEUED || job.state == JOB_WRITING;
		n[20] = n[21] = n[22] = n[23] = n[24] = !running;
		v[20] = Int64GetDatum(job.seq);
		v[21] = Int64GetDatum(job.items_written);
		v[22] = Int64GetDatum(job.items_total);
		v[23] = TimestampTzGetDatum(job.started_at);
		n[24] = !running || job.writer_pid == 0;
		v[24] = Int32GetDatum(job.writer_pid);
	}
	n[25] = n[26] = st.snapshot_rows == 0 && st.snapshot_write_ms == 0;
	v[25] = Int64GetDatum(st.snapshot_write_ms);
	v[26] = Int64GetDatum(st.snapshot_copy_us);
	n[27] = n[28] = n[29] = n[30] = st.recovery_phase[0] == '\0';
	v[27] = n[27] ? (Datum) 0 : CStringGetTextDatum(st.recovery_phase);
	v[28] = Int64GetDatum(st.recovery_done);
	v[29] = Int64GetDatum(st.recovery_total);
	v[30] = Int64GetDatum(st.recovery_rate);
	status_role_columns(&st, have_counters, v, n);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	return (Datum) 0;
}

/* engine.ready() RETURNS boolean: state = 'ready'. */
Datum
engine_ready(PG_FUNCTION_ARGS)
{
	engine_status st;

	if (!shmem_attached())
		PG_RETURN_BOOL(false);
	status_snapshot(&st);
	PG_RETURN_BOOL(st.state == ENGINE_READY && serving_current_extension());
}

/* What core_verify reported, in fixed storage: nothing can fail while
 * the copy is read. */
#define CHECKS_MAX 32

typedef struct check_rows
{
	int			n;
	char		name[CHECKS_MAX][64];
	bool		ok[CHECKS_MAX];
	bool		has_detail[CHECKS_MAX];
	char		detail[CHECKS_MAX][256];
} check_rows;

static void
add_check(void *arg, const char *check, bool ok, const char *detail)
{
	check_rows *r = arg;

	if (r->n >= CHECKS_MAX)
		return;
	strlcpy(r->name[r->n], check, sizeof(r->name[r->n]));
	r->ok[r->n] = ok;
	r->has_detail[r->n] = detail != NULL;
	if (detail)
		strlcpy(r->detail[r->n], detail, sizeof(r->detail[r->n]));
	r->n++;
}

/*
 * engine.verify() RETURNS TABLE(check_name text, ok boolean, detail text,
 * seq bigint): every invariant (core_verify), checked on a copy of the
 * state made after the call (shadow.h), never under the state lock; seq is
 * the seq of the state it checked (at least the committed seq when the
 * call began).  Waits like a command (engine.request_timeout) for the
 * worker to be ready and to make the copy.  A catalog of release 1.0
 * declares the first three columns only.
 */
Datum
engine_verify(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	check_rows *rows = palloc(sizeof(check_rows));
	int64		seq = 0;
	const core_engine *copy;

	rows->n = 0;
	copy = shadow_read_fresh(request_deadline(), &seq);
	/* Nothing between the two can fail: add_check only copies. */
	core_verify(copy, add_check, rows);
	shadow_read_end();

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < rows->n; i++)
	{
		Datum		v[4];
		bool		n[4] = {false, false, !rows->has_detail[i], false};

		v[0] = CStringGetTextDatum(rows->name[i]);
		v[1] = BoolGetDatum(rows->ok[i]);
		v[2] = n[2] ? (Datum) 0 : CStringGetTextDatum(rows->detail[i]);
		v[3] = Int64GetDatum(seq);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

/*
 * engine.state_digest() RETURNS text: 32 hex digits of the canonical
 * state, computed on a copy made after the call (like engine.verify()).
 */
Datum
engine_state_digest(PG_FUNCTION_ARGS)
{
	char		hex[33];
	int64		seq;
	core_digest d = core_state_digest(shadow_read_fresh(request_deadline(), &seq));

	shadow_read_end();
	core_digest_hex(d, hex);
	PG_RETURN_TEXT_P(cstring_to_text(hex));
}

/*
 * How much of the description of a foreign object a refusal quotes: a
 * description is made of fixed words and names of at most 63 bytes; only a
 * function's argument list can make it long.
 */
#define SCHEMA_EXAMPLE_MAX 160

/* The hint of every refusal of the schema: what to do with it. */
#define SCHEMA_HINT "Drop or rename that schema (DROP SCHEMA engine, or ALTER SCHEMA engine RENAME TO ...), " \
	"then run CREATE EXTENSION engine, which creates the schema itself."

/*
 * The extension's objects go into schema "engine", the schema of
 * engine.control.  When it does not exist, CREATE EXTENSION creates it,
 * owned by the role running CREATE EXTENSION (a superuser: the extension is
 * not trusted) and with no privileges for anyone else; the schema is not a
 * member of the extension (DROP EXTENSION leaves it).  An existing schema is
 * used as it is, so it must give nobody but superusers a way to change what
 * the engine's names resolve to, in the worker (a superuser) or in the
 * SECURITY DEFINER functions.  Refused: a schema owned by a role that is not
 * a superuser (its owner could drop and replace the engine's objects), one
 * where a role that is not a superuser may CREATE, and one holding any
 * object that is not this extension's own.  A pg_dump of an engine database
 * re-creates the schema (owned by a superuser, empty) before CREATE
 * EXTENSION; that passes.
 */
static void
check_engine_schema(void)
{
	Oid			nsp = get_namespace_oid(ENGINE_SCHEMA, false);
	Oid			ext = creating_extension ? CurrentExtensionObject
		: get_extension_oid(ENGINE_EXTENSION_NAME, true);
	HeapTuple	tup;
	Oid			owner;
	Datum		acl;
	bool		isnull;
	Relation	dep;
	ScanKeyData key[2];
	SysScanDesc scan;
	int			foreign = 0;
	char	   *example = NULL;

	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "engine: cache lookup failed for schema %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	acl = SysCacheGetAttr(NAMESPACEOID, tup, Anum_pg_namespace_nspacl, &isnull);
	if (!superuser_arg(owner))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_SCHEMA),
				 errmsg("schema \"engine\" already exists and is owned by role \"%s\", which is not a superuser",
						GetUserNameFromId(owner, false)),
				 errdetail("The owner of the engine's schema could drop and replace the engine's objects, which the engine worker uses as a superuser."),
				 errhint(SCHEMA_HINT)));
	if (!isnull)
	{
		Acl		   *a = DatumGetAclP(acl);
		AclItem    *items = ACL_DAT(a);

		for (int i = 0; i < ACL_NUM(a); i++)
		{
			Oid			grantee = items[i].ai_grantee;

			if ((ACLITEM_GET_PRIVS(items[i]) & ACL_CREATE) == 0 || grantee == owner ||
				(grantee != ACL_ID_PUBLIC && superuser_arg(grantee)))
				continue;
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_SCHEMA),
					 errmsg("schema \"engine\" already exists and grants CREATE to %s%s%s",
							grantee == ACL_ID_PUBLIC ? "PUBLIC" : "role \"",
							grantee == ACL_ID_PUBLIC ? "" : GetUserNameFromId(grantee, false),
							grantee == ACL_ID_PUBLIC ? "" : "\""),
					 errdetail("Objects created in the engine's schema could take the place of the engine's own."),
					 errhint(SCHEMA_HINT)));
		}
	}
	ReleaseSysCache(tup);

	/* Everything in a schema depends on it: look for what is not ours. */
	dep = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(NamespaceRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(nsp));
	scan = systable_beginscan(dep, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);
		ObjectAddress obj;

		if (OidIsValid(ext) &&
			((d->classid == ExtensionRelationId && d->objid == ext) ||
			 getExtensionOfObject(d->classid, d->objid) == ext))
			continue;
		if (foreign++ == 0)
		{
			ObjectAddressSubSet(obj, d->classid, d->objid, d->objsubid);
			example = getObjectDescription(&obj, true);
			if (example != NULL && strlen(example) > SCHEMA_EXAMPLE_MAX)
				example = psprintf("%.*s...", pg_mbcliplen(example, strlen(example), SCHEMA_EXAMPLE_MAX),
								   example);
		}
	}
	systable_endscan(scan);
	table_close(dep, AccessShareLock);
	if (foreign > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_SCHEMA),
				 errmsg("schema \"engine\" already exists and holds %d object%s that %s not the extension's, such as %s",
						foreign, foreign == 1 ? "" : "s", foreign == 1 ? "is" : "are",
						example ? example : "an object being dropped"),
				 errdetail("Objects in the engine's schema could take the place of the engine's own."),
				 errhint(SCHEMA_HINT)));
}

/*
 * engine._install_check() — called by the extension script: CREATE EXTENSION
 * fails unless the library is preloaded, this is engine.database and the
 * schema "engine" is fit for the engine (check_engine_schema), each with a
 * hint that says what to change.
 */
Datum
engine_install_check(PG_FUNCTION_ARGS)
{
	const char *db = get_database_name(MyDatabaseId);

	if (IsBinaryUpgrade)
		PG_RETURN_VOID();

	if (!engine_preloaded || !shmem_attached())
	{
		const char *libs = GetConfigOption("shared_preload_libraries", true, false);
		char	   *line;

		if (libs == NULL || libs[0] == '\0')
			line = pstrdup("shared_preload_libraries = 'engine'");
		else
			line = psprintf("shared_preload_libraries = '%s, engine'", libs);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"engine\" must be loaded via shared_preload_libraries"),
				 errhint("Add these lines to postgresql.conf and restart the server:\n%s\nengine.database = '%s'",
						 line, db)));
	}
	if (strcmp(db, engine_database) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"engine\" can only be created in database \"%s\", not \"%s\"",
						engine_database, db),
				 errdetail("The engine worker serves the one database named by engine.database."),
				 errhint("To serve this database instead, set this line in postgresql.conf and restart the server:\n"
						 "engine.database = '%s'", db)));
	check_engine_schema();
	PG_RETURN_VOID();
}

/*
 * engine.snapshot() RETURNS bigint: the worker writes a snapshot now (after
 * its current batch) and the call returns the seq it covers.
 */
Datum
engine_snapshot(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(ready_request_snapshot(request_deadline()));
}
