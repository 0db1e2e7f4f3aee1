/*
 * engine--1.0--1.1.sql — release 1.1 of the engine's SQL objects, applied
 * on top of release 1.0.  A fresh CREATE EXTENSION engine runs
 * engine--1.0.sql and then this script; ALTER EXTENSION engine UPDATE runs
 * this script alone on a 1.0 installation.
 *
 * Rules for this script:
 *   - it never changes a row of an engine table: the command log, the
 *     history and the snapshots that 1.0 wrote are what the 1.1 library
 *     recovers from, so the state and engine.state_digest() are the same
 *     before and after the update;
 *   - every change of the SQL surface is a section of its own, under a
 *     heading;
 *   - the section "Privileges" stays last: it takes every privilege on every
 *     object of the extension away from everyone but the owner and grants
 *     the profiles again, so an object created after it would keep
 *     PostgreSQL's defaults (EXECUTE for PUBLIC on a function).
 */
\echo Use "CREATE EXTENSION engine" or "ALTER EXTENSION engine UPDATE" to load this file. \quit

--------------------------------------------------- status: library_version

-- engine.status() gains library_version: the SQL version the loaded library
-- serves (ENGINE_SQL_VERSION in src/pg/engine.h).  Columns are only ever
-- appended, so the library answers a catalog of an earlier release too.
DROP FUNCTION engine.status();
CREATE FUNCTION engine.status()
	RETURNS TABLE(state text, worker_pid integer, last_seq bigint, snapshot_seq bigint,
	              snapshot_at timestamptz, replayed bigint, recovery_ms bigint,
	              resting_orders bigint, accounts bigint,
	              replay_total bigint, detail text, worker_starts integer,
	              started_at timestamptz, batches bigint, commands bigint,
	              duplicates bigint, database text, snapshot_ms bigint, snapshot_rows bigint,
	              library_version text,
	              -- followers (see the next section)
	              role text, applied_seq bigint, lag_records bigint, lag_ms bigint,
	              follower_reloads bigint, follower_retries bigint, promote_ms bigint)
	AS 'MODULE_PATHNAME', 'engine_status_fn' LANGUAGE C VOLATILE ROWS 1;

---------------------------------------------- status: role, lag (followers)

-- On a hot standby the worker is a follower: it applies the primary's
-- command log as WAL replay makes it visible and serves every read; it
-- becomes the leader in place when the standby is promoted.  status() says
-- which (role: 'leader' | 'follower'), the seq of the state it serves
-- (applied_seq), how far that is behind the log this server sees
-- (lag_records, and lag_ms: how long the oldest record not yet applied has
-- waited since the primary stamped it; 0 on a leader and when caught up),
-- how often the follower reloaded from a snapshot because the rows it
-- needed were pruned (follower_reloads) or retried a read cancelled by a
-- recovery conflict (follower_retries), and how long its last promotion
-- took from noticing it to leading (promote_ms, NULL if never promoted).
-- The columns are in the status() definition above.

------------------------------------------------------------- Privileges
--
-- Keep this section last (see the header).
--
-- Three profiles, each a NOLOGIN group role; a role gets a profile by
-- membership (GRANT engine_trading TO app).  Why roles and not grant
-- functions: a later release's update script grants its new functions to
-- the same three roles, so members get them without anyone re-running a
-- grant; pg_dump carries the grants on extension objects; and membership is
-- what PostgreSQL's own tools show and audit (\du, pg_auth_members).  Roles
-- are shared by the cluster and outlive DROP EXTENSION; an existing role of
-- that name is used as it is.
--
--   engine_trading     place, cancel, amend, cancel_all; the live reads
--                      (balances, open_orders, order, depth, ready)
--   engine_operations  reference data (create_asset, create_symbol,
--                      set_symbol_status), deposit, withdraw, snapshot,
--                      status, verify, state_digest, ready
--   engine_reading     the live reads, and SELECT on the history tables and
--                      views (command_log, trades, order_events, client_keys,
--                      assets, symbols and their views)
--
-- Nobody else gets anything: no function is executable by PUBLIC, and no
-- role but the extension's owner has any privilege on a table beyond the
-- SELECTs above.  engine.order() and engine.cancel_order(user_id,
-- client_order_id) read engine.order_events / engine.client_keys on the
-- caller's behalf: they are SECURITY DEFINER with a fixed search_path, so a
-- trading role needs no table privilege.

DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['engine_trading', 'engine_operations', 'engine_reading'] LOOP
		IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$$;
COMMENT ON ROLE engine_trading IS 'engine profile: place, cancel and amend orders; live reads';
COMMENT ON ROLE engine_operations IS 'engine profile: reference data, deposits and withdrawals, halts, snapshots, status and verify';
COMMENT ON ROLE engine_reading IS 'engine profile: live reads, history tables and views';

ALTER FUNCTION engine."order"(bigint)
	SECURITY DEFINER SET search_path = pg_catalog, engine, pg_temp;
ALTER FUNCTION engine.cancel_order(bigint, text)
	SECURITY DEFINER SET search_path = pg_catalog, engine, pg_temp;

-- Take every privilege on the extension's functions, tables and views away
-- from PUBLIC and from every role but the owner, whatever put it there:
-- PostgreSQL's defaults, ALTER DEFAULT PRIVILEGES of the role running this
-- script, or earlier grants.
DO $$
DECLARE
	obj record;
	grantee name;
BEGIN
	FOR obj IN
		SELECT 'FUNCTION' AS kind,
		       pg_catalog.format('%I.%I(%s)', n.nspname, p.proname,
		                         pg_catalog.pg_get_function_identity_arguments(p.oid)) AS name,
		       p.proacl AS acl, p.proowner AS owner
		  FROM pg_catalog.pg_proc p
		  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
		                             AND d.objid = p.oid AND d.deptype = 'e'
		  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'engine'
		UNION ALL
		SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
		       pg_catalog.format('%I.%I', n.nspname, c.relname),
		       c.relacl, c.relowner
		  FROM pg_catalog.pg_class c
		  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
		                             AND d.objid = c.oid AND d.deptype = 'e'
		  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'engine'
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM PUBLIC CASCADE', obj.kind, obj.name);
		FOR grantee IN
			SELECT DISTINCT a.rolname
			  FROM pg_catalog.aclexplode(obj.acl) x
			  JOIN pg_catalog.pg_roles a ON a.oid = x.grantee
			 WHERE x.grantee <> obj.owner
		LOOP
			EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM %I CASCADE', obj.kind, obj.name, grantee);
		END LOOP;
	END LOOP;
END
$$;

GRANT USAGE ON SCHEMA engine TO engine_trading, engine_operations, engine_reading;

GRANT EXECUTE ON FUNCTION
	engine.place_order, engine.cancel_order(bigint, bigint), engine.cancel_order(bigint, text),
	engine.cancel_all, engine.amend_order,
	engine.balances, engine.open_orders, engine."order", engine.depth, engine.ready
	TO engine_trading;

GRANT EXECUTE ON FUNCTION
	engine.create_asset, engine.create_symbol, engine.set_symbol_status,
	engine.deposit, engine.withdraw,
	engine.snapshot, engine.status, engine.verify, engine.state_digest, engine.ready
	TO engine_operations;

-- The views call from_units, log_desc, log_crc and rectype_name, and a view
-- checks EXECUTE on the functions it calls as its reader.
GRANT EXECUTE ON FUNCTION
	engine.balances, engine.open_orders, engine."order", engine.depth, engine.ready,
	engine.from_units, engine.log_desc, engine.log_crc, engine.rectype_name
	TO engine_reading;
GRANT SELECT ON
	engine.command_log, engine.command_log_decoded,
	engine.trades, engine.trades_v,
	engine.order_events, engine.order_events_v,
	engine.client_keys, engine.assets, engine.symbols
	TO engine_reading;
