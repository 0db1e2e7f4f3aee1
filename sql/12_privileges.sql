--
-- 12_privileges: who may call what.  After CREATE EXTENSION nothing of the
-- engine is usable by PUBLIC; three NOLOGIN group roles carry the profiles
-- (engine_trading, engine_operations, engine_reading) and a role gets one by
-- membership.  Pinned here:
--   * the profile roles and their attributes;
--   * every function, table and view of the extension with every privilege
--     anyone but its owner holds (a new object shows up here and needs a
--     decision);
--   * the SECURITY DEFINER functions and their fixed search_path;
--   * each profile, a plain role with USAGE on the schema and a role with
--     nothing make every call: allowed ones run, refused ones fail with
--     42501 naming the function, table or schema;
--   * a trading role reads engine.order_events (engine.order) and
--     engine.client_keys (cancel by client_order_id) through the functions
--     only, and nobody but the owner writes any engine table.
--
-- Users 1201, 1202, 1203.  PRVB_PRVQ: PRVB 8 decimals, PRVQ 2, tick 0.01,
-- lot 0.0001.
--
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset

-- The profiles: group roles that cannot log in and have no attributes.
SELECT rolname, rolcanlogin, rolsuper, rolinherit, rolcreaterole, rolcreatedb,
       rolreplication, rolbypassrls, shobj_description(oid, 'pg_authid') AS comment
  FROM pg_roles WHERE rolname LIKE 'engine\_%' ORDER BY rolname;

-- Every object of the extension, with every privilege held by anyone but
-- its owner (PUBLIC included).  Functions not listed for a profile are the
-- owner's only.
WITH ext AS (SELECT oid, extowner FROM pg_extension WHERE extname = 'engine'),
members AS (
	SELECT 'function' AS kind,
	       p.pronamespace::regnamespace || '.' || quote_ident(p.proname)
	       || '(' || oidvectortypes(p.proargtypes) || ')' AS name,
	       p.proacl AS acl, p.proowner AS owner
	  FROM pg_proc p
	  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	 WHERE d.refobjid = (SELECT oid FROM ext)
	UNION ALL
	SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'r' THEN 'table' ELSE c.relkind::text END,
	       c.relnamespace::regnamespace || '.' || quote_ident(c.relname), c.relacl, c.relowner
	  FROM pg_class c
	  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
	 WHERE d.refobjid = (SELECT oid FROM ext))
SELECT m.kind, m.name, m.owner = (SELECT extowner FROM ext) AS owner_is_extowner,
       coalesce((SELECT string_agg(CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
	                               || ':' || a.privilege_type, ', '
	                               ORDER BY a.grantee::regrole::text, a.privilege_type)
	           FROM aclexplode(coalesce(m.acl, acldefault(CASE WHEN m.kind = 'function' THEN 'f' ELSE 'r' END::"char",
	                                                      m.owner))) a
	          WHERE a.grantee <> m.owner), '') AS granted
  FROM members m
 ORDER BY m.kind, m.name;

-- The schema: USAGE for the three profiles, CREATE for nobody but its owner.
SELECT a.grantee::regrole::text AS grantee, a.privilege_type
  FROM pg_namespace n, aclexplode(n.nspacl) a
 WHERE n.nspname = 'engine' AND a.grantee <> n.nspowner
 ORDER BY 1, 2;

-- SECURITY DEFINER functions: the two that read tables on the caller's
-- behalf, each resolving names in pg_catalog and the engine's schema only.
SELECT p.pronamespace::regnamespace || '.' || quote_ident(p.proname)
       || '(' || oidvectortypes(p.proargtypes) || ')' AS function, p.proconfig
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'engine'
 WHERE p.prosecdef
 ORDER BY 1;

-- A market, funds, a finished order (placed with a client_order_id, then
-- canceled) and three resting ones.
SELECT engine.create_asset('PRVB', 8) > 0 AS ok;
SELECT engine.create_asset('PRVQ', 2) > 0 AS ok;
SELECT engine.create_symbol('PRVB_PRVQ', 'PRVB', 'PRVQ', 0.01, 0.0001) > 0 AS ok;
SELECT status FROM engine.deposit(1201, 'PRVQ', 10000);
SELECT status FROM engine.deposit(1202, 'PRVB', 10);
SELECT order_id - :o0 AS oid, status FROM engine.place_order(1202, 'PRVB_PRVQ', 'sell', 0.5, 100, client_order_id => 'p-done');
SELECT order_id - :o0 AS oid, status FROM engine.cancel_order(1202, 'p-done');
SELECT order_id - :o0 AS oid, status FROM engine.place_order(1201, 'PRVB_PRVQ', 'buy', 0.1, 90, client_order_id => 'p-rest');
SELECT order_id - :o0 AS oid, status FROM engine.place_order(1201, 'PRVB_PRVQ', 'buy', 0.01, 2, client_order_id => 'p-c1');
SELECT order_id - :o0 AS oid, status FROM engine.place_order(1201, 'PRVB_PRVQ', 'buy', 0.01, 3, client_order_id => 'p-c2');

CREATE ROLE regress_trader;
CREATE ROLE regress_operator;
CREATE ROLE regress_reader;
CREATE ROLE regress_plain;
CREATE ROLE regress_nobody;
-- Applying a profile is a membership.
GRANT engine_trading TO regress_trader;
GRANT engine_operations TO regress_operator;
GRANT engine_reading TO regress_reader;
-- A plain role that may look into the schema but holds no profile.
GRANT USAGE ON SCHEMA engine TO regress_plain;

-- attempt_as(role, cmd): run cmd as role; 'ok' or 'SQLSTATE: message'.
CREATE FUNCTION public.attempt_as(r text, cmd text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	msg text;
	res text;
BEGIN
	EXECUTE format('SET ROLE %I', r);
	BEGIN
		EXECUTE cmd;
		res := 'ok';
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
		res := st || ': ' || msg;
	END;
	RESET ROLE;
	RETURN res;
END
$$;

-- Every call, by name.  Calls that change the engine are well-formed and
-- succeed for the role allowed to make them (each runs once): the trader
-- places an order, cancels p-c1 by order_id and p-c2 by client_order_id,
-- and amends p-rest.
CREATE TABLE public.priv_calls (n int PRIMARY KEY, name text NOT NULL, cmd text NOT NULL);
INSERT INTO public.priv_calls VALUES
	-- trading
	( 1, 'place_order', $$SELECT engine.place_order(1201, 'PRVB_PRVQ', 'buy', 0.01, 1)$$),
	( 2, 'cancel_order(order_id)', format('SELECT engine.cancel_order(1201, %s::bigint)', :o0 + 3)),
	( 3, 'cancel_order(client_order_id)', $$SELECT engine.cancel_order(1201, 'p-c2'::text)$$),
	( 4, 'cancel_all', $$SELECT engine.cancel_all(1203)$$),
	( 5, 'amend_order', format('SELECT engine.amend_order(1201, %s, qty => 0.09)', :o0 + 2)),
	( 6, 'place_orders', $$SELECT engine.place_orders(1201, '{"(PRVB_PRVQ,buy,0.01,1,,,,,)"}')$$),
	( 7, 'cancel_orders', $$SELECT engine.cancel_orders(1201, ARRAY[999999999])$$),
	( 8, 'order_request', $$SELECT engine.order_request('PRVB_PRVQ', 'buy', 0.01, 1)$$),
	-- live reads
	(10, 'balances', $$SELECT engine.balances(1201)$$),
	(11, 'open_orders', $$SELECT engine.open_orders(1201)$$),
	(12, 'order', $$SELECT engine."order"(1)$$),
	(13, 'depth', $$SELECT engine.depth('PRVB_PRVQ')$$),
	(14, 'ready', $$SELECT engine.ready()$$),
	-- market data
	(15, 'candles', $$SELECT engine.candles('PRVB_PRVQ', '1h', now() - interval '1 day', now())$$),
	(16, 'ticker', $$SELECT engine.ticker('PRVB_PRVQ')$$),
	(17, 'recent_trades', $$SELECT engine.recent_trades('PRVB_PRVQ', 5)$$),
	-- operations
	(20, 'create_asset', $$SELECT engine.create_asset('PRVX', 2)$$),
	(21, 'create_symbol', $$SELECT engine.create_symbol('PRVX_PRVQ', 'PRVX', 'PRVQ', 0.01, 0.01)$$),
	(22, 'set_symbol_status', $$SELECT engine.set_symbol_status('PRVX_PRVQ', 'halted')$$),
	(23, 'deposit', $$SELECT engine.deposit(1203, 'PRVQ', 5)$$),
	(24, 'withdraw', $$SELECT engine.withdraw(1203, 'PRVQ', 2)$$),
	(25, 'snapshot', $$SELECT engine.snapshot()$$),
	(26, 'status', $$SELECT engine.status()$$),
	(27, 'verify', $$SELECT engine.verify()$$),
	(28, 'state_digest', $$SELECT engine.state_digest()$$),
	(29, 'requests', $$SELECT engine.requests()$$),
	-- the helpers the views call
	(30, 'from_units', $$SELECT engine.from_units(1, 2)$$),
	(31, 'log_desc', $$SELECT engine.log_desc('\x00'::bytea)$$),
	(32, 'log_crc', $$SELECT engine.log_crc(1, now(), '\x00'::bytea)$$),
	(33, 'rectype_name', $$SELECT engine.rectype_name(1::smallint)$$),
	(34, '_install_check', $$SELECT engine._install_check()$$),
	(35, 'units_numeric', $$SELECT engine.units_numeric(1, 2)$$),
	(36, '_market', $$SELECT engine._market('PRVB_PRVQ')$$),
	(37, 'crc32c', $$SELECT engine.crc32c('\x00'::bytea)$$),
	-- history tables and views
	(40, 'SELECT command_log', $$SELECT count(*) FROM engine.command_log$$),
	(41, 'SELECT command_log_decoded', $$SELECT count(*) FROM engine.command_log_decoded$$),
	(42, 'SELECT trades', $$SELECT count(*) FROM engine.trades$$),
	(43, 'SELECT trades_v', $$SELECT count(*) FROM engine.trades_v$$),
	(44, 'SELECT order_events', $$SELECT count(*) FROM engine.order_events$$),
	(45, 'SELECT order_events_v', $$SELECT count(*) FROM engine.order_events_v$$),
	(46, 'SELECT client_keys', $$SELECT count(*) FROM engine.client_keys$$),
	(47, 'SELECT assets', $$SELECT count(*) FROM engine.assets$$),
	(48, 'SELECT symbols', $$SELECT count(*) FROM engine.symbols$$),
	-- snapshot content: the owner's only
	(50, 'SELECT snapshots', $$SELECT count(*) FROM engine.snapshots$$),
	(51, 'SELECT snapshot_assets', $$SELECT count(*) FROM engine.snapshot_assets$$),
	(52, 'SELECT snapshot_symbols', $$SELECT count(*) FROM engine.snapshot_symbols$$),
	(53, 'SELECT snapshot_balances', $$SELECT count(*) FROM engine.snapshot_balances$$),
	(54, 'SELECT snapshot_orders', $$SELECT count(*) FROM engine.snapshot_orders$$),
	(55, 'SELECT snapshot_chunks', $$SELECT count(*) FROM engine.snapshot_chunks$$),
	(56, 'SELECT snapshots_v', $$SELECT count(*) FROM engine.snapshots_v$$),
	(57, 'SELECT snapshot_orders_v', $$SELECT count(*) FROM engine.snapshot_orders_v$$),
	(58, 'SELECT snapshot_balances_v', $$SELECT count(*) FROM engine.snapshot_balances_v$$),
	(59, '_snapshot_orders', $$SELECT count(*) FROM engine._snapshot_orders('\x'::bytea)$$),
	-- writes: nobody but the owner, not even to forge a log row
	(60, 'INSERT command_log', $$INSERT INTO engine.command_log VALUES (999999999, 1, now(), '\x01'::bytea, 0)$$),
	(61, 'UPDATE assets', $$UPDATE engine.assets SET decimals = 0 WHERE false$$),
	(62, 'DELETE trades', $$DELETE FROM engine.trades WHERE false$$),
	(63, 'TRUNCATE client_keys', $$TRUNCATE engine.client_keys$$),
	(64, 'INSERT snapshots', $$INSERT INTO engine.snapshots SELECT * FROM engine.snapshots WHERE false$$),
	(65, 'DELETE order_events', $$DELETE FROM engine.order_events WHERE false$$);
GRANT SELECT ON public.priv_calls TO PUBLIC;

SELECT seq AS s_before FROM last_seq \gset
SELECT c.name, r.role, attempt_as(r.role, c.cmd) AS outcome
  FROM public.priv_calls c,
       (VALUES (1, 'regress_trader'), (2, 'regress_operator'), (3, 'regress_reader'),
               (4, 'regress_plain'), (5, 'regress_nobody')) AS r(k, role)
 ORDER BY c.n, r.k;

-- Exactly the allowed commands reached the engine, once each: the
-- trader's place, two cancels, cancel_all, amend, batch place and batch
-- cancel, and the operator's create_asset, create_symbol,
-- set_symbol_status, deposit and withdraw.
SELECT seq - :s_before AS n, rectype, decoded->>'user_id' AS user_id
  FROM engine.command_log_decoded WHERE seq > :s_before ORDER BY seq;
SELECT asset, available, frozen FROM engine.balances(1203);
SELECT count(*) AS forged FROM engine.command_log WHERE seq = 999999999;

-- A trading session: it reads a finished order's last event and finds an
-- order by client_order_id without any privilege on the tables.
SET SESSION AUTHORIZATION regress_trader;
SELECT current_user, session_user;
SELECT order_id - :o0 AS oid, user_id, client_order_id, symbol, side, price, qty,
       filled_qty, remaining_qty, status
  FROM engine."order"(:o0 + 1);
SELECT order_id - :o0 AS oid, client_order_id, status, reason
  FROM engine.cancel_order(1202, 'p-done');
SELECT order_id - :o0 AS oid, client_order_id, status, remaining_qty
  FROM engine.open_orders(1201);
SELECT count(*) FROM engine.order_events;
SELECT count(*) FROM engine.client_keys;
-- A search_path of the caller's choosing changes nothing inside them.
SET search_path = pg_temp, public;
CREATE TEMP TABLE order_events (order_id bigint);
SELECT order_id - :o0 AS oid, status FROM engine."order"(:o0 + 1);
RESET search_path;
SELECT engine.deposit(1201, 'PRVQ', 1);
RESET SESSION AUTHORIZATION;

-- An operations session: reference data and funds, no orders, no history.
SET SESSION AUTHORIZATION regress_operator;
SELECT status, available FROM engine.deposit(1203, 'PRVQ', 1, ref => 'p-op-1');
SELECT state, library_version FROM engine.status();
SELECT engine.place_order(1203, 'PRVB_PRVQ', 'buy', 0.01, 1);
SELECT count(*) FROM engine.trades_v;
RESET SESSION AUTHORIZATION;

-- A reading session: history and live reads, no commands.
SET SESSION AUTHORIZATION regress_reader;
SELECT count(*) > 0 AS has_history FROM engine.order_events_v WHERE client_order_id = 'p-done';
SELECT side, price, qty, orders FROM engine.depth('PRVB_PRVQ');
SELECT engine.cancel_all(1201);
SELECT engine.withdraw(1201, 'PRVQ', 1);
RESET SESSION AUTHORIZATION;

SELECT * FROM engine_ok;

DROP FUNCTION public.attempt_as(text, text);
DROP TABLE public.priv_calls;
DROP OWNED BY regress_trader, regress_operator, regress_reader, regress_plain, regress_nobody;
DROP ROLE regress_trader, regress_operator, regress_reader, regress_plain, regress_nobody;
