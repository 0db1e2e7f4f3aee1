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
-- Snapshots off the worker's path add the snapshot_* columns after it (a
-- snapshot being written: its seq, items written of total, start and
-- writer; the last one's write time and the worker's pause for its copy, in
-- microseconds) and the recovery_* ones (the last recovery's phase, done of
-- total, per second).
DROP FUNCTION engine.status();
CREATE FUNCTION engine.status()
	RETURNS TABLE(state text, worker_pid integer, last_seq bigint, snapshot_seq bigint,
	              snapshot_at timestamptz, replayed bigint, recovery_ms bigint,
	              resting_orders bigint, accounts bigint,
	              replay_total bigint, detail text, worker_starts integer,
	              started_at timestamptz, batches bigint, commands bigint,
	              duplicates bigint, database text, snapshot_ms bigint, snapshot_rows bigint,
	              library_version text,
	              snapshot_running_seq bigint, snapshot_items_written bigint,
	              snapshot_items_total bigint, snapshot_started_at timestamptz,
	              snapshot_writer_pid integer, snapshot_write_ms bigint, snapshot_copy_us bigint,
	              recovery_phase text, recovery_done bigint, recovery_total bigint,
	              recovery_rate bigint,
	              -- followers (see "status: role, lag" below)
	              role text, applied_seq bigint, lag_records bigint, lag_ms bigint,
	              follower_reloads bigint, follower_retries bigint, promote_ms bigint)
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

---------------------------------------- snapshots: format 2, off the worker's path

-- Snapshots are written by the "engine snapshot writer" from a copy of the
-- state while the worker goes on serving (src/pg/worker/checkpoint.c), in
-- format 2: the engine's canonical walk as items in bytes, in chunks of one
-- kind each, in walk order.  kind: 1 assets, 2 symbols, 3 balances,
-- 4 orders; first_item is the chunk's first item's place within its kind;
-- crc is CRC-32C over data (engine.crc32c).  data is stored inline (STORAGE
-- PLAIN: a chunk is at most 8000 bytes), so recovery reads a chunk as one
-- heap page.  engine.snapshots keeps one row per snapshot, format 2 for
-- these; release 1.0's row tables (format 1) are still read and pruned.
CREATE TABLE engine.snapshot_chunks (
	snapshot_seq bigint   NOT NULL,
	chunk        integer  NOT NULL,
	kind         smallint NOT NULL,
	first_item   bigint   NOT NULL,
	items        integer  NOT NULL,
	crc          integer  NOT NULL,
	data         bytea    NOT NULL,
	PRIMARY KEY (snapshot_seq, chunk)
);
ALTER TABLE engine.snapshot_chunks ALTER COLUMN data SET STORAGE PLAIN;
SELECT pg_catalog.pg_extension_config_dump('engine.snapshot_chunks', '');

CREATE FUNCTION engine.crc32c(data bytea) RETURNS integer
	AS 'MODULE_PATHNAME', 'engine_crc32c' LANGUAGE C IMMUTABLE STRICT;

-- One chunk's items as rows; n is the item's place in the chunk.
CREATE FUNCTION engine._snapshot_assets(data bytea)
	RETURNS TABLE(n integer, asset_id integer, code text, decimals smallint, supply bigint)
	AS 'MODULE_PATHNAME', 'engine_snapshot_assets' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION engine._snapshot_symbols(data bytea)
	RETURNS TABLE(n integer, symbol_id integer, symbol text, base_asset_id integer,
	              quote_asset_id integer, tick_size bigint, lot_size bigint, min_qty bigint,
	              maker_fee_ppm integer, taker_fee_ppm integer, status smallint,
	              min_notional bigint)
	AS 'MODULE_PATHNAME', 'engine_snapshot_symbols' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION engine._snapshot_balances(data bytea)
	RETURNS TABLE(n integer, user_id bigint, asset_id integer, available bigint, frozen bigint)
	AS 'MODULE_PATHNAME', 'engine_snapshot_balances' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION engine._snapshot_orders(data bytea)
	RETURNS TABLE(n integer, order_id bigint, user_id bigint, symbol_id integer, side smallint,
	              price bigint, filled_qty bigint, remaining_qty bigint, locked bigint,
	              notional_hi bigint, notional_lo bigint, created_ts bigint, queued_seq bigint,
	              stp smallint, post_only boolean, client_order_id text)
	AS 'MODULE_PATHNAME', 'engine_snapshot_orders' LANGUAGE C IMMUTABLE STRICT;

-- What a snapshot holds, in plain SQL, whatever its format: the columns of
-- release 1.0's row tables (raw smallest units; pos is the item's place in
-- the canonical walk, so ORDER BY snapshot_seq, pos gives account creation
-- order for balances and, for orders, each book by symbol, bids then asks,
-- best level first, each level in queue order).
CREATE VIEW engine.snapshot_assets_v AS
	SELECT snapshot_seq, asset_id, code, decimals, supply FROM engine.snapshot_assets
	UNION ALL
	SELECT c.snapshot_seq, i.asset_id, i.code, i.decimals, i.supply
	  FROM engine.snapshot_chunks c, engine._snapshot_assets(c.data) i
	 WHERE c.kind OPERATOR(pg_catalog.=) 1;
CREATE VIEW engine.snapshot_symbols_v AS
	SELECT snapshot_seq, symbol_id, symbol, base_asset_id, quote_asset_id, tick_size, lot_size,
	       min_qty, maker_fee_ppm, taker_fee_ppm, status, min_notional
	  FROM engine.snapshot_symbols
	UNION ALL
	SELECT c.snapshot_seq, i.symbol_id, i.symbol, i.base_asset_id, i.quote_asset_id, i.tick_size,
	       i.lot_size, i.min_qty, i.maker_fee_ppm, i.taker_fee_ppm, i.status, i.min_notional
	  FROM engine.snapshot_chunks c, engine._snapshot_symbols(c.data) i
	 WHERE c.kind OPERATOR(pg_catalog.=) 2;
CREATE VIEW engine.snapshot_balances_v AS
	SELECT snapshot_seq, pos::bigint AS pos, user_id, asset_id, available, frozen
	  FROM engine.snapshot_balances
	UNION ALL
	SELECT c.snapshot_seq, c.first_item OPERATOR(pg_catalog.+) i.n, i.user_id, i.asset_id,
	       i.available, i.frozen
	  FROM engine.snapshot_chunks c, engine._snapshot_balances(c.data) i
	 WHERE c.kind OPERATOR(pg_catalog.=) 3;
CREATE VIEW engine.snapshot_orders_v AS
	SELECT snapshot_seq, pos::bigint AS pos, order_id, user_id, symbol_id, side, price,
	       filled_qty, remaining_qty, locked, notional_hi, notional_lo, created_ts, queued_seq,
	       stp, post_only, client_order_id
	  FROM engine.snapshot_orders
	UNION ALL
	SELECT c.snapshot_seq, c.first_item OPERATOR(pg_catalog.+) i.n, i.order_id, i.user_id,
	       i.symbol_id, i.side, i.price, i.filled_qty, i.remaining_qty, i.locked, i.notional_hi,
	       i.notional_lo, i.created_ts, i.queued_seq, i.stp, i.post_only, i.client_order_id
	  FROM engine.snapshot_chunks c, engine._snapshot_orders(c.data) i
	 WHERE c.kind OPERATOR(pg_catalog.=) 4;

-- Each snapshot's counters (engine.snapshots) with what its chunks hold:
-- chunks, bytes, and chunks_ok = every chunk's bytes match its CRC.
CREATE VIEW engine.snapshots_v AS
	SELECT s.seq, s.taken_at, s.format, s.digest, s.next_order_id, s.next_trade_id,
	       s.assets, s.symbols, s.accounts, s.balances, s.orders,
	       pg_catalog.count(c.chunk) AS chunks,
	       pg_catalog.sum(pg_catalog.length(c.data)) AS bytes,
	       pg_catalog.bool_and(engine.crc32c(c.data) OPERATOR(pg_catalog.=) c.crc) AS chunks_ok
	  FROM engine.snapshots s
	  LEFT JOIN engine.snapshot_chunks c ON c.snapshot_seq OPERATOR(pg_catalog.=) s.seq
	 GROUP BY s.seq;

-------------------------------------------------------- verify: on a copy

-- engine.verify() checks a copy of the state, never under the state lock,
-- and says which seq it checked (src/pg/api/admin.c).
DROP FUNCTION engine.verify();
CREATE FUNCTION engine.verify()
	RETURNS TABLE(check_name text, ok boolean, detail text, seq bigint)
	AS 'MODULE_PATHNAME', 'engine_verify' LANGUAGE C VOLATILE;

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
	snapshot_orders   boolean NOT NULL DEFAULT false,
	snapshot_chunks   boolean NOT NULL DEFAULT false
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
                             snapshot_orders, snapshot_chunks)
SELECT EXISTS (SELECT FROM engine.command_log), EXISTS (SELECT FROM engine.order_events),
       EXISTS (SELECT FROM engine.trades), EXISTS (SELECT FROM engine.client_keys),
       EXISTS (SELECT FROM engine.assets), EXISTS (SELECT FROM engine.symbols),
       EXISTS (SELECT FROM engine.snapshots), EXISTS (SELECT FROM engine.snapshot_assets),
       EXISTS (SELECT FROM engine.snapshot_symbols), EXISTS (SELECT FROM engine.snapshot_balances),
       EXISTS (SELECT FROM engine.snapshot_orders), EXISTS (SELECT FROM engine.snapshot_chunks)
 WHERE (SELECT i.state FROM engine.installation i) OPERATOR(pg_catalog.<>) 'restoring';

------------------------------------------------------------- batches

-- engine.place_orders takes an array of engine.order_request (one element
-- per order, fields as engine.place_order's arguments) and returns one
-- engine.order_result per element, in order; engine.cancel_orders the same
-- for order ids.  One call is one request to the worker: consecutive seqs,
-- each command applied on its own; malformed input anywhere is an ERROR
-- for the whole call and nothing is submitted; at most engine.max_batch
-- elements.  See src/pg/api/batches.c.
CREATE TYPE engine.order_request AS (
	symbol          text,
	side            text,
	qty             numeric,
	price           numeric,
	tif             text,       -- NULL: 'gtc'
	post_only       boolean,    -- NULL: false
	client_order_id text,
	stp             text,       -- NULL: 'none'
	quote_qty       numeric
);

-- An engine.order_request with engine.place_order's argument names and
-- defaults: ARRAY[engine.order_request('BTC_USDT', 'buy', 0.5, 30000, client_order_id => 'q-1'), ...]
CREATE FUNCTION engine.order_request(symbol text, side text, qty numeric,
                                     price numeric DEFAULT NULL,
                                     tif text DEFAULT 'gtc',
                                     post_only boolean DEFAULT false,
                                     client_order_id text DEFAULT NULL,
                                     stp text DEFAULT 'none',
                                     quote_qty numeric DEFAULT NULL)
	RETURNS engine.order_request
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN ROW(symbol, side, qty, price, tif, post_only, client_order_id, stp, quote_qty)::engine.order_request;

CREATE FUNCTION engine.place_orders(user_id bigint, orders engine.order_request[])
	RETURNS SETOF engine.order_result
	AS 'MODULE_PATHNAME', 'engine_place_orders' LANGUAGE C VOLATILE ROWS 100;

CREATE FUNCTION engine.cancel_orders(user_id bigint, order_ids bigint[])
	RETURNS SETOF engine.order_result
	AS 'MODULE_PATHNAME', 'engine_cancel_orders' LANGUAGE C VOLATILE ROWS 100;

-- Requests in flight (every request slot that is not free), for operators:
-- what is waiting in the engine, and whether anything is stuck.
CREATE FUNCTION engine.requests()
	RETURNS TABLE(pid integer, state text, commands integer, ticket bigint, seq bigint,
	              attempts integer)
	AS 'MODULE_PATHNAME', 'engine_requests' LANGUAGE C VOLATILE;

------------------------------------------------------------- market data

-- Candles, ticker and recent trades are read from engine.trades.  They
-- look up a bucket's first and last trade by trade_id in scalar subqueries
-- (a join let the planner scan the whole primary key when it misjudged a
-- window's size), and run without JIT (planned for short reads).  This
-- index serves all three: a symbol's trades in time order (trade_id breaks
-- ties within one batch), with the amounts inside the index so that
-- aggregates over a window read the index alone once the table's
-- visibility map is set (autovacuum does that for an append-only table).
CREATE INDEX trades_symbol_ts ON engine.trades (symbol_id, ts, trade_id)
	INCLUDE (price, qty, quote_qty);

-- units (an integer, or a sum of integers) of an asset with `decimals`
-- decimal places, as an exact numeric at that scale: multiplying by
-- 1e-decimals never rounds (dividing could).
CREATE FUNCTION engine.units_numeric(units numeric, decimals integer) RETURNS numeric
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN units OPERATOR(pg_catalog.*) CAST(pg_catalog.concat('1e-', decimals) AS pg_catalog.numeric);

-- The symbol's id and scales; ERROR P0002 if there is no such symbol.
CREATE FUNCTION engine._market(symbol text, OUT symbol_id integer, OUT base_decimals integer,
                               OUT quote_decimals integer)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF symbol IS NULL THEN
		RAISE EXCEPTION 'symbol must not be null' USING ERRCODE = '22004';
	END IF;
	SELECT s.symbol_id, b.decimals, q.decimals INTO symbol_id, base_decimals, quote_decimals
	  FROM engine.symbols s
	  JOIN engine.assets b ON b.asset_id = s.base_asset_id
	  JOIN engine.assets q ON q.asset_id = s.quote_asset_id
	 WHERE s.symbol = _market.symbol;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown symbol "%"', pg_catalog.left(symbol, 64) USING ERRCODE = 'P0002';
	END IF;
END
$$;

-- engine.candles(symbol, interval, from, to): OHLCV candles from
-- engine.trades.  interval is one of 1m, 5m, 15m, 1h, 4h, 1d; buckets are
-- aligned to UTC (to whole minutes, hours, and to 00:00 UTC for 1d and the
-- 4h buckets 00-04-...-20 UTC), whatever the session's time zone.  Every
-- bucket that overlaps [from, to) is returned whole (from rounds down to
-- its bucket's start, to up to its bucket's end); buckets without trades
-- are left out.  open is the price of the bucket's first trade (by
-- trade_id), close of its last; volume is in base, quote_volume in quote,
-- both at the asset's scale; prices at the quote asset's scale.
CREATE FUNCTION engine.candles(symbol text, "interval" text, "from" timestamptz, "to" timestamptz)
	RETURNS TABLE(open_time timestamptz, open numeric, high numeric, low numeric, close numeric,
	              volume numeric, quote_volume numeric, trades bigint)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	SET jit = off
	AS $$
DECLARE
	m record;
	stride interval;
	origin constant timestamptz := '2000-01-01 00:00:00+00';
	lo timestamptz;
	hi timestamptz;
BEGIN
	m := engine._market(symbol);
	stride := CASE candles."interval"
		WHEN '1m' THEN interval '1 minute' WHEN '5m' THEN interval '5 minutes'
		WHEN '15m' THEN interval '15 minutes' WHEN '1h' THEN interval '1 hour'
		WHEN '4h' THEN interval '4 hours' WHEN '1d' THEN interval '24 hours' END;
	IF candles."interval" IS NULL THEN
		RAISE EXCEPTION 'interval must not be null' USING ERRCODE = '22004';
	END IF;
	IF stride IS NULL THEN
		RAISE EXCEPTION 'invalid interval "%"', pg_catalog.left(candles."interval", 64)
			USING ERRCODE = '22023', HINT = 'interval is 1m, 5m, 15m, 1h, 4h or 1d.';
	END IF;
	IF candles."from" IS NULL OR candles."to" IS NULL THEN
		RAISE EXCEPTION '% must not be null', CASE WHEN candles."from" IS NULL THEN 'from' ELSE 'to' END
			USING ERRCODE = '22004';
	END IF;
	IF candles."from" >= candles."to" THEN
		RAISE EXCEPTION 'from % is not earlier than to %', candles."from", candles."to"
			USING ERRCODE = '22023';
	END IF;
	lo := date_bin(stride, candles."from", origin);
	hi := date_bin(stride, candles."to", origin);
	IF hi < candles."to" THEN
		hi := hi + stride;
	END IF;
	RETURN QUERY
	WITH b AS (
		SELECT date_bin(stride, t.ts, origin) AS t0, min(t.trade_id) AS first_id,
		       max(t.trade_id) AS last_id, max(t.price) AS hi_price, min(t.price) AS lo_price,
		       sum(t.qty) AS base_sum, sum(t.quote_qty) AS quote_sum, count(*) AS n
		  FROM engine.trades t
		 WHERE t.symbol_id = m.symbol_id AND t.ts >= lo AND t.ts < hi
		 GROUP BY 1)
	SELECT b.t0,
	       engine.from_units((SELECT o.price FROM engine.trades o WHERE o.trade_id = b.first_id),
	                         m.quote_decimals),
	       engine.from_units(b.hi_price, m.quote_decimals),
	       engine.from_units(b.lo_price, m.quote_decimals),
	       engine.from_units((SELECT c.price FROM engine.trades c WHERE c.trade_id = b.last_id),
	                         m.quote_decimals),
	       engine.units_numeric(b.base_sum, m.base_decimals),
	       engine.units_numeric(b.quote_sum, m.quote_decimals),
	       b.n
	  FROM b
	 ORDER BY b.t0;
END
$$;

-- engine.ticker(symbol): the last 24 hours of trades (ts >= now() - 24 h;
-- now() is the transaction's start) and the best levels of the live book.
-- open/high/low are NULL and volume 0 when nothing traded in the window;
-- last is the price of the symbol's latest trade, however old (NULL if it
-- never traded).  best_bid/best_ask (and their quantities) come from
-- engine.depth(symbol, 1), NULL for an empty side.
CREATE FUNCTION engine.ticker(symbol text)
	RETURNS TABLE(open numeric, high numeric, low numeric, last numeric,
	              volume numeric, quote_volume numeric, trades bigint,
	              best_bid numeric, best_bid_qty numeric, best_ask numeric, best_ask_qty numeric,
	              window_start timestamptz)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	SET jit = off
	AS $$
DECLARE
	m record;
	since constant timestamptz := now() - interval '24 hours';
BEGIN
	m := engine._market(ticker.symbol);
	RETURN QUERY
	WITH w AS (
		SELECT min(t.trade_id) AS first_id, max(t.price) AS hi_price, min(t.price) AS lo_price,
		       sum(t.qty) AS base_sum, sum(t.quote_qty) AS quote_sum, count(*) AS n
		  FROM engine.trades t
		 WHERE t.symbol_id = m.symbol_id AND t.ts >= since),
	     l AS (
		SELECT t.price FROM engine.trades t
		 WHERE t.symbol_id = m.symbol_id
		 ORDER BY t.ts DESC, t.trade_id DESC LIMIT 1),
	     d AS (SELECT * FROM engine.depth(ticker.symbol, 1))
	SELECT engine.from_units((SELECT o.price FROM engine.trades o WHERE o.trade_id = w.first_id),
	                         m.quote_decimals),
	       engine.from_units(w.hi_price, m.quote_decimals),
	       engine.from_units(w.lo_price, m.quote_decimals),
	       engine.from_units(l.price, m.quote_decimals),
	       engine.units_numeric(coalesce(w.base_sum, 0), m.base_decimals),
	       engine.units_numeric(coalesce(w.quote_sum, 0), m.quote_decimals),
	       w.n,
	       (SELECT d.price FROM d WHERE d.side = 'bid'),
	       (SELECT d.qty FROM d WHERE d.side = 'bid'),
	       (SELECT d.price FROM d WHERE d.side = 'ask'),
	       (SELECT d.qty FROM d WHERE d.side = 'ask'),
	       since
	  FROM w
	  LEFT JOIN l ON true;
END
$$;

-- engine.recent_trades(symbol, limit): the symbol's latest trades, newest
-- first; limit 1 to 1000.
CREATE FUNCTION engine.recent_trades(symbol text, "limit" integer DEFAULT 100)
	RETURNS TABLE(trade_id bigint, seq bigint, price numeric, qty numeric, quote_qty numeric,
	              taker_side text, ts timestamptz)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	m record;
BEGIN
	m := engine._market(recent_trades.symbol);
	IF recent_trades."limit" IS NULL THEN
		RAISE EXCEPTION 'limit must not be null' USING ERRCODE = '22004';
	END IF;
	IF recent_trades."limit" NOT BETWEEN 1 AND 1000 THEN
		RAISE EXCEPTION 'invalid limit %', recent_trades."limit"
			USING ERRCODE = '22023', DETAIL = 'limit is 1 to 1000.';
	END IF;
	RETURN QUERY
	SELECT t.trade_id, t.seq,
	       engine.from_units(t.price, m.quote_decimals),
	       engine.from_units(t.qty, m.base_decimals),
	       engine.from_units(t.quote_qty, m.quote_decimals),
	       t.taker_side, t.ts
	  FROM engine.trades t
	 WHERE t.symbol_id = m.symbol_id
	 ORDER BY t.ts DESC, t.trade_id DESC
	 LIMIT recent_trades."limit";
END
$$;

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
--   engine_trading     place, cancel, amend, cancel_all, the batch commands
--                      (place_orders, cancel_orders, order_request); the
--                      live reads (balances, open_orders, order, depth, ready)
--   engine_operations  reference data (create_asset, create_symbol,
--                      set_symbol_status), deposit, withdraw, snapshot,
--                      status, verify, state_digest, requests, ready
--   engine_reading     the live reads, market data (candles, ticker,
--                      recent_trades), and SELECT on the history tables and
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
	engine.place_orders, engine.cancel_orders, engine.order_request,
	engine.balances, engine.open_orders, engine."order", engine.depth, engine.ready
	TO engine_trading;

GRANT EXECUTE ON FUNCTION
	engine.create_asset, engine.create_symbol, engine.set_symbol_status,
	engine.deposit, engine.withdraw,
	engine.snapshot, engine.status, engine.verify, engine.state_digest, engine.ready,
	engine.requests
	TO engine_operations;

-- The views call from_units, log_desc, log_crc and rectype_name, and a view
-- checks EXECUTE on the functions it calls as its reader.
GRANT EXECUTE ON FUNCTION
	engine.balances, engine.open_orders, engine."order", engine.depth, engine.ready,
	engine.from_units, engine.log_desc, engine.log_crc, engine.rectype_name,
	engine.candles, engine.ticker, engine.recent_trades, engine._market, engine.units_numeric
	TO engine_reading;
GRANT SELECT ON
	engine.command_log, engine.command_log_decoded,
	engine.trades, engine.trades_v,
	engine.order_events, engine.order_events_v,
	engine.client_keys, engine.assets, engine.symbols
	TO engine_reading;
