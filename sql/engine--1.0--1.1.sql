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
 *     before and after the update (a column it adds has a constant default,
 *     which rows written before read without being rewritten; rows it
 *     inserts go into tables it creates);
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
	              library_version text)
	AS 'MODULE_PATHNAME', 'engine_status_fn' LANGUAGE C VOLATILE ROWS 1;

--------------------------------------------- reference data: min_notional

-- engine.create_symbol gains min_notional, appended: the least value
-- price x qty a limit order on the symbol may have, in whole quote units;
-- NULL (or 0) means no minimum beyond the one quote unit every limit order
-- must be worth.  An order below it is an ERROR (22023) before anything is
-- logged, like one below min_qty.  engine.symbols and the snapshot rows
-- carry it in quote units; rows written by release 1.0 read 0.
DROP FUNCTION engine.create_symbol(text, text, text, numeric, numeric, numeric, numeric, numeric);
CREATE FUNCTION engine.create_symbol(symbol text, base text, quote text,
                                     tick_size numeric, lot_size numeric,
                                     maker_fee numeric DEFAULT 0, taker_fee numeric DEFAULT 0,
                                     min_qty numeric DEFAULT NULL,
                                     min_notional numeric DEFAULT NULL) RETURNS integer
	AS 'MODULE_PATHNAME', 'engine_create_symbol' LANGUAGE C VOLATILE;

ALTER TABLE engine.symbols ADD COLUMN min_notional bigint NOT NULL DEFAULT 0;
ALTER TABLE engine.snapshot_symbols ADD COLUMN min_notional bigint NOT NULL DEFAULT 0;

------------------------------------------ cancel and amend: refused orders

-- A cancel or amend of an order that is not one of the caller's resting
-- orders is answered without being logged, in the units of the order it
-- names: for one of the caller's finished orders, its figures come from
-- engine.order_events and engine.trades.  The two functions read them on
-- the caller's behalf, as engine."order" does.
ALTER FUNCTION engine.cancel_order(bigint, bigint)
	SECURITY DEFINER SET search_path = pg_catalog, engine, pg_temp;
ALTER FUNCTION engine.amend_order(bigint, bigint, numeric, numeric)
	SECURITY DEFINER SET search_path = pg_catalog, engine, pg_temp;

--------------------------------------------------------------- Restores

-- A restored installation is not served until it is whole (README,
-- "Guarantees"; src/pg/worker/manifest.c).
--
-- engine.installation: how this installation came to be, one row, not
-- dumped.  'created' by CREATE EXTENSION, 'updated' by ALTER EXTENSION
-- from release 1.0, 'restoring' by a CREATE EXTENSION run with
-- check_function_bodies off — which is how pg_restore and the scripts of
-- pg_dump run every statement — and 'restored' once the worker found the
-- restored data whole.
CREATE TABLE engine.installation (
	one        boolean     PRIMARY KEY DEFAULT true CHECK (one),
	state      text        NOT NULL CHECK (state IN ('created', 'updated', 'restoring', 'restored')),
	changed_at timestamptz NOT NULL
);

-- engine.manifest: which history and recovery tables hold rows, one row,
-- dumped with them.  The worker keeps it in the transaction that changes
-- what it says (first row of a table, a prune that empties one), and
-- pg_dump reads every table in one snapshot, so a dump's manifest row
-- matches its tables.  A restored installation waits until the row has
-- arrived and every table it calls non-empty has rows.
CREATE TABLE engine.manifest (
	one               boolean PRIMARY KEY DEFAULT true CHECK (one),
	command_log       boolean NOT NULL DEFAULT false,
	order_events      boolean NOT NULL DEFAULT false,
	trades            boolean NOT NULL DEFAULT false,
	client_keys       boolean NOT NULL DEFAULT false,
	assets            boolean NOT NULL DEFAULT false,
	symbols           boolean NOT NULL DEFAULT false,
	snapshots         boolean NOT NULL DEFAULT false,
	snapshot_assets   boolean NOT NULL DEFAULT false,
	snapshot_symbols  boolean NOT NULL DEFAULT false,
	snapshot_balances boolean NOT NULL DEFAULT false,
	snapshot_orders   boolean NOT NULL DEFAULT false
);
SELECT pg_catalog.pg_extension_config_dump('engine.manifest', '');

-- pg_restore -j loads the tables' data in parallel, in any order: a
-- foreign key between two of them makes a restore fail (engine.symbols
-- arriving before engine.assets).  Only the worker writes these rows, after
-- the core has checked every reference, so the keys add no safety.
ALTER TABLE engine.symbols DROP CONSTRAINT symbols_base_asset_id_fkey,
                           DROP CONSTRAINT symbols_quote_asset_id_fkey;

CREATE FUNCTION engine._install_origin() RETURNS text
	AS 'MODULE_PATHNAME', 'engine_install_origin' LANGUAGE C VOLATILE;

INSERT INTO engine.installation (state, changed_at)
	VALUES (engine._install_origin(), pg_catalog.now());

-- Not a restore: the manifest says what the tables hold now (nothing after
-- CREATE EXTENSION; release 1.0's rows after ALTER EXTENSION UPDATE).  A
-- restore gets its row from the dump.
INSERT INTO engine.manifest (command_log, order_events, trades, client_keys, assets, symbols,
                             snapshots, snapshot_assets, snapshot_symbols, snapshot_balances,
                             snapshot_orders)
SELECT EXISTS (SELECT FROM engine.command_log), EXISTS (SELECT FROM engine.order_events),
       EXISTS (SELECT FROM engine.trades), EXISTS (SELECT FROM engine.client_keys),
       EXISTS (SELECT FROM engine.assets), EXISTS (SELECT FROM engine.symbols),
       EXISTS (SELECT FROM engine.snapshots), EXISTS (SELECT FROM engine.snapshot_assets),
       EXISTS (SELECT FROM engine.snapshot_symbols), EXISTS (SELECT FROM engine.snapshot_balances),
       EXISTS (SELECT FROM engine.snapshot_orders)
 WHERE (SELECT i.state FROM engine.installation i) OPERATOR(pg_catalog.<>) 'restoring';

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
