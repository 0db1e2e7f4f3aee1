/*
 * settings.c — every engine.* setting: its variable, its default, its unit,
 * its documentation string, and the values derived from the settings.
 *
 * Owns: the GUC definitions (settings_init, called from _PG_init).
 * Must never: define a PGC_POSTMASTER setting when the library is loaded by a
 * backend after start-up (that is FATAL in PG15): loaded any other way than
 * from shared_preload_libraries, only the reloadable settings exist, and
 * the CREATE EXTENSION guard (api/admin.c) explains exactly what to add to
 * postgresql.conf.
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/guc.h"

#include "settings.h"

/* Capacities: fixed at server start, they size the arena. */
char	   *engine_database = NULL;
int			engine_max_orders = 1000000;
int			engine_max_accounts = 100000;
int			engine_max_symbols = 1000;
int			engine_max_assets = 1000;
int			engine_max_balances = 0;

/* Tunables. */
int			engine_request_timeout_ms = 30000;
int			engine_synchronous_commit = 0;	/* index into sync_commit_options */
int			engine_snapshot_interval_s = 600;
int			engine_snapshot_every = 1000000;
int			engine_snapshot_keep = 2;
int			engine_snapshot_max_rate_kb = 16 * 1024;
bool		engine_recovery_log_reader = true;
bool		engine_keep_log = false;
int			engine_max_batch = 1000;
int			engine_max_open_orders = ENGINE_MAX_OPEN_ORDERS_DEFAULT;

bool		engine_preloaded = false;

/* The values of the server's synchronous_commit the worker may use. */
static const struct config_enum_entry sync_commit_options[] = {
	{"on", 0, false},
	{"off", 1, false},
	{"local", 2, false},
	{"remote_write", 3, false},
	{"remote_apply", 4, false},
	{NULL, 0, false}
};

/* Largest engine.max_batch accepted (about 42 MB of shared memory per call). */
#define ENGINE_MAX_BATCH_LIMIT 100000

/* Largest capacity a GUC accepts; the core's own ceiling is 2^30 slots. */
#define ENGINE_CAPACITY_MAX (1 << 29)

static void
define_capacity(const char *name, const char *desc, int *var, int boot, int min)
{
	DefineCustomIntVariable(name, desc,
							"Sizes the engine's shared memory; takes effect at server start.",
							var, boot, min, ENGINE_CAPACITY_MAX,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
}

void
settings_init(void)
{
	engine_preloaded = process_shared_preload_libraries_in_progress;

	DefineCustomIntVariable("engine.request_timeout",
							"How long a command waits for an engine worker that is not ready.",
							"The request is withdrawn when this runs out; it never runs later.",
							&engine_request_timeout_ms, 30000, 1, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomEnumVariable("engine.synchronous_commit",
							 "Durability a command reaches before its caller is answered (a synchronous_commit level).",
							 "The worker flushes each batch before answering (unless off); callers wait for synchronous standbys at remote levels.",
							 &engine_synchronous_commit, 0, sync_commit_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("engine.snapshot_interval",
							"Time between automatic snapshots of the engine state.",
							NULL, &engine_snapshot_interval_s, 600, 1, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("engine.snapshot_every",
							"Commands between automatic snapshots of the engine state.",
							NULL, &engine_snapshot_every, 1000000, 1, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("engine.snapshot_keep",
							"Snapshots kept; older ones and the log they cover are pruned.",
							NULL, &engine_snapshot_keep, 2, 1, 1000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);

	/*
	 * The snapshot writer's pace, in kB of chunk data per second (as
	 * pg_basebackup's --max-rate): its WAL goes through the same log as
	 * every command's commit, so an unpaced writer slows the commits that
	 * wait for a WAL flush behind it.  0: no limit.
	 */
	DefineCustomIntVariable("engine.snapshot_max_rate",
							"Most snapshot data the snapshot writer writes per second.",
							"0 means no limit. Snapshots taken at shutdown are never paced.",
							&engine_snapshot_max_rate_kb, 16 * 1024, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_KB, NULL, NULL, NULL);

	/*
	 * A batch request holds its commands in shared memory while it is in
	 * flight (about 420 bytes each): the limit is the operator's, so only a
	 * superuser may change it for a session.
	 */
	DefineCustomIntVariable("engine.max_batch",
							"Most commands in one engine.place_orders or engine.cancel_orders call.",
							"A larger call is an error and submits nothing.",
							&engine_max_batch, 1000, 1, ENGINE_MAX_BATCH_LIMIT,
							PGC_SUSET, 0, NULL, NULL, NULL);
	/*
	 * Reloadable: the worker stamps the value in force into each PLACE
	 * record when it sequences it, so replay applies the limit that was
	 * live, whatever the setting is now (records.c, place_stamp).
	 */
	DefineCustomIntVariable("engine.max_open_orders",
							"Resting orders one user may have, over all symbols; 0 means no limit.",
							"An order whose remainder would rest beyond it is rejected with reason open_orders_limit.",
							&engine_max_open_orders, ENGINE_MAX_OPEN_ORDERS_DEFAULT, 0, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);

	/*
	 * Recovery reads the command log's tail in a second process (the log
	 * reader, log_reader.c), which needs a free background worker slot;
	 * off, or without a slot, the worker reads it itself.  The outcome is
	 * the same either way; only the time differs.
	 */
	DefineCustomBoolVariable("engine.recovery_log_reader",
							 "Read the command log in a second process while the worker recovers.",
							 "The replayed state is the same either way.",
							 &engine_recovery_log_reader, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomBoolVariable("engine.keep_log",
							 "Keep every command_log row (full audit history) instead of pruning what snapshots cover.",
							 NULL, &engine_keep_log, false,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);

	/*
	 * PGC_POSTMASTER variables can only be defined while preloading (a
	 * backend that loads the library later gets FATAL otherwise); without
	 * them the library cannot run anyway, and the CREATE EXTENSION guard
	 * says what to add to postgresql.conf.
	 */
	if (!engine_preloaded)
		return;

	DefineCustomStringVariable("engine.database",
							   "The one database the engine worker serves.",
							   "CREATE EXTENSION engine is only allowed in this database.",
							   &engine_database, "postgres",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	define_capacity("engine.max_orders", "Resting orders the engine can hold, over all books.",
					&engine_max_orders, 1000000, 1);
	define_capacity("engine.max_accounts", "Accounts (users with any balance), fee account included.",
					&engine_max_accounts, 100000, 1);
	define_capacity("engine.max_symbols", "Symbols (markets) the engine can hold.",
					&engine_max_symbols, 1000, 1);
	define_capacity("engine.max_assets", "Assets the engine can hold.",
					&engine_max_assets, 1000, 1);
	DefineCustomIntVariable("engine.max_balances",
							"(user, asset) balance rows over all accounts; 0 means 4 x engine.max_accounts.",
							"Never less than engine.max_assets: the fee account has a row per asset.",
							&engine_max_balances, 0, 0, ENGINE_CAPACITY_MAX,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);

	MarkGUCPrefixReserved("engine");
}

const char *
engine_synchronous_commit_name(void)
{
	for (const struct config_enum_entry *e = sync_commit_options; e->name; e++)
		if (e->val == engine_synchronous_commit)
			return e->name;
	return "on";
}

bool
engine_synchronous_commit_flushes(void)
{
	return strcmp(engine_synchronous_commit_name(), "off") != 0;
}

core_limits
engine_limits(void)
{
	core_limits l;
	int64		balances = engine_max_balances > 0 ? engine_max_balances
		: (int64) engine_max_accounts * 4;

	if (balances < engine_max_assets)
		balances = engine_max_assets;
	if (balances > ENGINE_CAPACITY_MAX)
		balances = ENGINE_CAPACITY_MAX;

	l.max_assets = (uint32) engine_max_assets;
	l.max_symbols = (uint32) engine_max_symbols;
	l.max_accounts = (uint32) engine_max_accounts;
	l.max_balances = (uint32) balances;
	l.max_orders = (uint32) engine_max_orders;
	return l;
}

/*
 * The database the worker serves, for messages.  Without preloading,
 * engine.database is not defined: a value in postgresql.conf is then a
 * placeholder, which is read as it is; without one, "postgres" (the
 * setting's default).
 */
const char *
engine_database_name(void)
{
	const char *v;

	if (engine_preloaded && engine_database != NULL)
		return engine_database;
	v = GetConfigOption("engine.database", true, false);
	return v != NULL && v[0] != '\0' ? v : "postgres";
}
