/*
 * settings.h — every engine.* setting (settings.c).
 *
 * Capacities (engine.max_*) and engine.database are PGC_POSTMASTER: they
 * exist only when the library is preloaded and size shared memory at server
 * start.  The rest reload on SIGHUP; engine.request_timeout is also
 * settable per session, engine.max_batch by superusers per session.
 */
#ifndef ENGINE_PG_SETTINGS_H
#define ENGINE_PG_SETTINGS_H

#include "postgres.h"

#include "core.h"

#define ENGINE_EXTENSION_NAME "engine"
#define ENGINE_SCHEMA         "engine"

/*
 * The version of the extension's SQL objects this library serves: the
 * default_version of engine.control it ships with.  The worker serves only
 * an installed extension at this version; after a new library is installed,
 * ALTER EXTENSION engine UPDATE brings the catalog to it.
 */
#define ENGINE_SQL_VERSION    "1.1"

extern char *engine_database;

/* engine.database, also as postgresql.conf sets it when not preloaded. */
const char *engine_database_name(void);
extern int	engine_max_orders;
extern int	engine_max_accounts;
extern int	engine_max_symbols;
extern int	engine_max_assets;
extern int	engine_max_balances;
extern int	engine_request_timeout_ms;
extern int	engine_synchronous_commit;
extern int	engine_snapshot_interval_s;
extern int	engine_snapshot_every;
extern int	engine_snapshot_keep;
extern int	engine_snapshot_max_rate_kb;	/* kB/s; 0: unpaced */
extern bool engine_keep_log;
extern bool engine_recovery_log_reader;	/* recovery reads the log in a second process */
extern int	engine_max_batch;
extern int	engine_max_open_orders;

/*
 * engine.max_open_orders' default.  Large exchanges publish limits of a few
 * hundred open orders per market (200 per symbol, 500 per product); a user
 * at such limits on a few markets stays below 1000 over all of them, and
 * with the default engine.max_orders (1,000,000) it takes a thousand funded
 * accounts, not one, to fill the order pool.
 */
#define ENGINE_MAX_OPEN_ORDERS_DEFAULT 1000

/* True when _PG_init ran while shared_preload_libraries was being processed. */
extern bool engine_preloaded;

/* Define the settings (from _PG_init). */
void		settings_init(void);

/* Capacities the arena is built with, from the PGC_POSTMASTER settings. */
core_limits engine_limits(void);

/* The synchronous_commit value the worker sets for its own transactions. */
const char *engine_synchronous_commit_name(void);

/* False only for engine.synchronous_commit = off: commits need no flush. */
bool		engine_synchronous_commit_flushes(void);

#endif							/* ENGINE_PG_SETTINGS_H */
