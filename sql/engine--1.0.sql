/*
 * engine--1.0.sql — the engine extension's objects.
 *
 * Tables are written only by the engine worker; the install script inserts
 * no rows.  Every table whose rows matter is marked with
 * pg_extension_config_dump, so pg_dump carries the whole engine: restore it
 * into the database named by engine.database and the worker rebuilds the
 * same state from the log.
 *
 * Amounts in tables are raw int64 counts of an asset's smallest unit; the
 * *_v views show them as numeric at the asset's scale.
 */
\echo Use "CREATE EXTENSION engine" to load this file. \quit

-- The guard: the library must be preloaded and this must be engine.database.
CREATE FUNCTION engine._install_check() RETURNS void
	AS 'MODULE_PATHNAME', 'engine_install_check' LANGUAGE C;
SELECT engine._install_check();

------------------------------------------------------------------------ tables

-- The journal: every sequenced command, rejected ones included.  seq is
-- gapless from 1 and is the exchange's total order.  crc = CRC-32C over
-- seq (8 bytes LE) || ts (8 bytes LE, microseconds since 2000-01-01) ||
-- payload, as a signed 32-bit integer.
CREATE TABLE engine.command_log (
	seq      bigint      PRIMARY KEY,
	rectype  smallint    NOT NULL,
	ts       timestamptz NOT NULL,
	payload  bytea       NOT NULL,
	crc      integer     NOT NULL
);

-- One row per order state change: ev_no orders the events of one command.
CREATE TABLE engine.order_events (
	seq             bigint      NOT NULL,
	ev_no           integer     NOT NULL,
	order_id        bigint      NOT NULL,
	user_id         bigint      NOT NULL,
	symbol_id       integer     NOT NULL,
	side            text        NOT NULL,
	event           text        NOT NULL,   -- new, partially_filled, filled, canceled, expired, rejected, amended
	price           bigint      NOT NULL,   -- 0 for a market order
	qty             bigint      NOT NULL,   -- filled + remaining
	filled_qty      bigint      NOT NULL,
	remaining_qty   bigint      NOT NULL,
	reason          text,
	client_order_id text,                   -- set on the event of the PLACE that created the order
	ts              timestamptz NOT NULL,
	PRIMARY KEY (seq, ev_no)
);
CREATE INDEX order_events_order_id ON engine.order_events (order_id);

CREATE TABLE engine.trades (
	trade_id        bigint      PRIMARY KEY,
	seq             bigint      NOT NULL,
	symbol_id       integer     NOT NULL,
	price           bigint      NOT NULL,   -- the resting order's price
	qty             bigint      NOT NULL,   -- base units
	quote_qty       bigint      NOT NULL,   -- quote units
	taker_side      text        NOT NULL,
	taker_order_id  bigint      NOT NULL,
	taker_user_id   bigint      NOT NULL,
	maker_order_id  bigint      NOT NULL,
	maker_user_id   bigint      NOT NULL,
	taker_fee       bigint      NOT NULL,   -- in the asset the taker received
	maker_fee       bigint      NOT NULL,   -- in the asset the maker received
	ts              timestamptz NOT NULL
);
CREATE INDEX trades_seq ON engine.trades (seq);

-- Idempotency keys, kept for ever: client_order_id (kind 'o') and
-- deposit/withdraw ref (kind 'r'), per user.
CREATE TABLE engine.client_keys (
	user_id    bigint      NOT NULL,
	kind       "char"      NOT NULL,
	key        text        NOT NULL,
	order_id   bigint,
	seq        bigint      NOT NULL,
	created_at timestamptz NOT NULL,
	PRIMARY KEY (user_id, kind, key)
);

-- Reference data as accepted by the engine (for views; the engine itself
-- rebuilds from the log).
CREATE TABLE engine.assets (
	asset_id   integer     PRIMARY KEY,
	code       text        NOT NULL UNIQUE,
	decimals   integer     NOT NULL,
	seq        bigint      NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE engine.symbols (
	symbol_id      integer     PRIMARY KEY,
	symbol         text        NOT NULL UNIQUE,
	base_asset_id  integer     NOT NULL REFERENCES engine.assets,
	quote_asset_id integer     NOT NULL REFERENCES engine.assets,
	tick_size      bigint      NOT NULL,
	lot_size       bigint      NOT NULL,
	min_qty        bigint      NOT NULL,
	maker_fee_ppm  integer     NOT NULL,
	taker_fee_ppm  integer     NOT NULL,
	status         text        NOT NULL,
	seq            bigint      NOT NULL,   -- last command that changed the row
	created_at     timestamptz NOT NULL
);

SELECT pg_catalog.pg_extension_config_dump('engine.command_log', '');
SELECT pg_catalog.pg_extension_config_dump('engine.order_events', '');
SELECT pg_catalog.pg_extension_config_dump('engine.trades', '');
SELECT pg_catalog.pg_extension_config_dump('engine.client_keys', '');
SELECT pg_catalog.pg_extension_config_dump('engine.assets', '');
SELECT pg_catalog.pg_extension_config_dump('engine.symbols', '');

------------------------------------------------------------------------ types

CREATE TYPE engine.order_result AS (
	order_id        bigint,
	client_order_id text,
	status          text,
	filled_qty      numeric,
	remaining_qty   numeric,
	avg_price       numeric,
	trades          integer,
	reason          text
);

------------------------------------------------------------------------ helpers

CREATE FUNCTION engine.from_units(units bigint, decimals integer) RETURNS numeric
	AS 'MODULE_PATHNAME', 'engine_from_units'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION engine.log_desc(payload bytea) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'engine_log_desc'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION engine.log_crc(seq bigint, ts timestamptz, payload bytea) RETURNS integer
	AS 'MODULE_PATHNAME', 'engine_log_crc'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION engine.rectype_name(rectype smallint) RETURNS text
	AS 'MODULE_PATHNAME', 'engine_rectype_name'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

------------------------------------------------------------------------ views

CREATE VIEW engine.command_log_decoded AS
SELECT l.seq,
       l.ts,
       engine.rectype_name(l.rectype) AS rectype,
       engine.log_desc(l.payload) AS decoded,
       engine.log_crc(l.seq, l.ts, l.payload) OPERATOR(pg_catalog.=) l.crc AS crc_ok
  FROM engine.command_log l;

CREATE VIEW engine.trades_v AS
SELECT t.trade_id,
       t.seq,
       s.symbol,
       engine.from_units(t.price, q.decimals) AS price,
       engine.from_units(t.qty, b.decimals) AS qty,
       engine.from_units(t.quote_qty, q.decimals) AS quote_qty,
       t.taker_side,
       t.taker_order_id,
       t.taker_user_id,
       t.maker_order_id,
       t.maker_user_id,
       engine.from_units(t.taker_fee, CASE WHEN t.taker_side OPERATOR(pg_catalog.=) 'buy'
                                           THEN b.decimals ELSE q.decimals END) AS taker_fee,
       CASE WHEN t.taker_side OPERATOR(pg_catalog.=) 'buy' THEN b.code ELSE q.code END AS taker_fee_asset,
       engine.from_units(t.maker_fee, CASE WHEN t.taker_side OPERATOR(pg_catalog.=) 'buy'
                                           THEN q.decimals ELSE b.decimals END) AS maker_fee,
       CASE WHEN t.taker_side OPERATOR(pg_catalog.=) 'buy' THEN q.code ELSE b.code END AS maker_fee_asset,
       t.ts
  FROM engine.trades t
  JOIN engine.symbols s ON s.symbol_id OPERATOR(pg_catalog.=) t.symbol_id
  JOIN engine.assets b ON b.asset_id OPERATOR(pg_catalog.=) s.base_asset_id
  JOIN engine.assets q ON q.asset_id OPERATOR(pg_catalog.=) s.quote_asset_id;

CREATE VIEW engine.order_events_v AS
SELECT e.seq,
       e.ev_no,
       e.order_id,
       e.user_id,
       s.symbol,
       e.side,
       e.event,
       CASE WHEN e.price OPERATOR(pg_catalog.<>) 0 THEN engine.from_units(e.price, q.decimals) END AS price,
       engine.from_units(e.qty, b.decimals) AS qty,
       engine.from_units(e.filled_qty, b.decimals) AS filled_qty,
       engine.from_units(e.remaining_qty, b.decimals) AS remaining_qty,
       e.reason,
       e.client_order_id,
       e.ts
  FROM engine.order_events e
  JOIN engine.symbols s ON s.symbol_id OPERATOR(pg_catalog.=) e.symbol_id
  JOIN engine.assets b ON b.asset_id OPERATOR(pg_catalog.=) s.base_asset_id
  JOIN engine.assets q ON q.asset_id OPERATOR(pg_catalog.=) s.quote_asset_id;

------------------------------------------------------------------------ reference data

CREATE FUNCTION engine.create_asset(code text, decimals integer) RETURNS integer
	AS 'MODULE_PATHNAME', 'engine_create_asset' LANGUAGE C VOLATILE;

CREATE FUNCTION engine.create_symbol(symbol text, base text, quote text,
                                     tick_size numeric, lot_size numeric,
                                     maker_fee numeric DEFAULT 0, taker_fee numeric DEFAULT 0,
                                     min_qty numeric DEFAULT NULL) RETURNS integer
	AS 'MODULE_PATHNAME', 'engine_create_symbol' LANGUAGE C VOLATILE;

CREATE FUNCTION engine.set_symbol_status(symbol text, status text) RETURNS void
	AS 'MODULE_PATHNAME', 'engine_set_symbol_status' LANGUAGE C VOLATILE;

------------------------------------------------------------------------ funds

CREATE FUNCTION engine.deposit(user_id bigint, asset text, amount numeric, ref text DEFAULT NULL)
	RETURNS TABLE(asset text, available numeric, frozen numeric, status text, reason text)
	AS 'MODULE_PATHNAME', 'engine_deposit' LANGUAGE C VOLATILE ROWS 1;

CREATE FUNCTION engine.withdraw(user_id bigint, asset text, amount numeric, ref text DEFAULT NULL)
	RETURNS TABLE(asset text, available numeric, frozen numeric, status text, reason text)
	AS 'MODULE_PATHNAME', 'engine_withdraw' LANGUAGE C VOLATILE ROWS 1;

------------------------------------------------------------------------ orders

CREATE FUNCTION engine.place_order(user_id bigint, symbol text, side text, qty numeric,
                                   price numeric DEFAULT NULL,
                                   tif text DEFAULT 'gtc',
                                   post_only boolean DEFAULT false,
                                   client_order_id text DEFAULT NULL,
                                   stp text DEFAULT 'none',
                                   quote_qty numeric DEFAULT NULL)
	RETURNS engine.order_result
	AS 'MODULE_PATHNAME', 'engine_place_order' LANGUAGE C VOLATILE;

CREATE FUNCTION engine.cancel_order(user_id bigint, order_id bigint) RETURNS engine.order_result
	AS 'MODULE_PATHNAME', 'engine_cancel_order' LANGUAGE C VOLATILE;

CREATE FUNCTION engine.cancel_order(user_id bigint, client_order_id text) RETURNS engine.order_result
	AS 'MODULE_PATHNAME', 'engine_cancel_order_by_client_id' LANGUAGE C VOLATILE;

CREATE FUNCTION engine.cancel_all(user_id bigint, symbol text DEFAULT NULL) RETURNS integer
	AS 'MODULE_PATHNAME', 'engine_cancel_all' LANGUAGE C VOLATILE;

CREATE FUNCTION engine.amend_order(user_id bigint, order_id bigint,
                                   qty numeric DEFAULT NULL, price numeric DEFAULT NULL)
	RETURNS engine.order_result
	AS 'MODULE_PATHNAME', 'engine_amend_order' LANGUAGE C VOLATILE;

------------------------------------------------------------------------ reads

CREATE FUNCTION engine.balances(user_id bigint)
	RETURNS TABLE(asset text, available numeric, frozen numeric)
	AS 'MODULE_PATHNAME', 'engine_balances' LANGUAGE C VOLATILE;

CREATE FUNCTION engine.open_orders(user_id bigint, symbol text DEFAULT NULL)
	RETURNS TABLE(order_id bigint, client_order_id text, symbol text, side text,
	              price numeric, qty numeric, remaining_qty numeric, status text,
	              created_at timestamptz)
	AS 'MODULE_PATHNAME', 'engine_open_orders' LANGUAGE C VOLATILE;

CREATE FUNCTION engine."order"(order_id bigint)
	RETURNS TABLE(order_id bigint, user_id bigint, client_order_id text, symbol text, side text,
	              price numeric, qty numeric, filled_qty numeric, remaining_qty numeric, status text)
	AS 'MODULE_PATHNAME', 'engine_order' LANGUAGE C VOLATILE ROWS 1;

CREATE FUNCTION engine.depth(symbol text, levels integer DEFAULT 20)
	RETURNS TABLE(side text, price numeric, qty numeric, orders integer)
	AS 'MODULE_PATHNAME', 'engine_depth' LANGUAGE C VOLATILE;

CREATE FUNCTION engine.status()
	RETURNS TABLE(state text, worker_pid integer, last_seq bigint, snapshot_seq bigint,
	              snapshot_at timestamptz, replayed bigint, recovery_ms bigint,
	              resting_orders bigint, accounts bigint,
	              replay_total bigint, detail text, worker_starts integer,
	              started_at timestamptz, batches bigint, commands bigint,
	              duplicates bigint, database text, snapshot_ms bigint, snapshot_rows bigint)
	AS 'MODULE_PATHNAME', 'engine_status_fn' LANGUAGE C VOLATILE ROWS 1;

CREATE FUNCTION engine.ready() RETURNS boolean
	AS 'MODULE_PATHNAME', 'engine_ready' LANGUAGE C VOLATILE;

CREATE FUNCTION engine.verify()
	RETURNS TABLE(check_name text, ok boolean, detail text)
	AS 'MODULE_PATHNAME', 'engine_verify' LANGUAGE C VOLATILE;

CREATE FUNCTION engine.state_digest() RETURNS text
	AS 'MODULE_PATHNAME', 'engine_state_digest' LANGUAGE C VOLATILE;

-------------------------------------------------------------------- snapshots

-- Snapshots: one row per complete snapshot, plus its content as rows.
-- A snapshot is written in one transaction by the engine worker; the row in
-- engine.snapshots is what makes it count.  The content tables have no
-- indexes on purpose (they are written with bulk inserts and read back with
-- one sequential scan each); pos is the row's place in the engine's
-- canonical walk, which keeps account creation order and queue order.
CREATE TABLE engine.snapshots (
    seq            bigint PRIMARY KEY,
    taken_at       timestamptz NOT NULL,
    format         int NOT NULL,
    digest         text NOT NULL,
    next_order_id  bigint NOT NULL,
    next_trade_id  bigint NOT NULL,
    assets         int NOT NULL,
    symbols        int NOT NULL,
    accounts       int NOT NULL,
    balances       int NOT NULL,
    orders         int NOT NULL
);

CREATE TABLE engine.snapshot_assets (
    snapshot_seq   bigint NOT NULL,
    asset_id       int NOT NULL,
    code           text NOT NULL,
    decimals       smallint NOT NULL,
    supply         bigint NOT NULL
);

CREATE TABLE engine.snapshot_symbols (
    snapshot_seq   bigint NOT NULL,
    symbol_id      int NOT NULL,
    symbol         text NOT NULL,
    base_asset_id  int NOT NULL,
    quote_asset_id int NOT NULL,
    tick_size      bigint NOT NULL,
    lot_size       bigint NOT NULL,
    min_qty        bigint NOT NULL,
    maker_fee_ppm  int NOT NULL,
    taker_fee_ppm  int NOT NULL,
    status         smallint NOT NULL
);

CREATE TABLE engine.snapshot_balances (
    snapshot_seq   bigint NOT NULL,
    pos            int NOT NULL,
    user_id        bigint NOT NULL,
    asset_id       int NOT NULL,
    available      bigint NOT NULL,
    frozen         bigint NOT NULL
);

CREATE TABLE engine.snapshot_orders (
    snapshot_seq   bigint NOT NULL,
    pos            int NOT NULL,
    order_id       bigint NOT NULL,
    user_id        bigint NOT NULL,
    symbol_id      int NOT NULL,
    side           smallint NOT NULL,
    price          bigint NOT NULL,
    filled_qty     bigint NOT NULL,
    remaining_qty  bigint NOT NULL,
    locked         bigint NOT NULL,
    notional_hi    bigint NOT NULL,
    notional_lo    bigint NOT NULL,
    created_ts     bigint NOT NULL,
    queued_seq     bigint NOT NULL,
    stp            smallint NOT NULL,
    post_only      boolean NOT NULL,
    client_order_id text
);

SELECT pg_catalog.pg_extension_config_dump('engine.snapshots', '');
SELECT pg_catalog.pg_extension_config_dump('engine.snapshot_assets', '');
SELECT pg_catalog.pg_extension_config_dump('engine.snapshot_symbols', '');
SELECT pg_catalog.pg_extension_config_dump('engine.snapshot_balances', '');
SELECT pg_catalog.pg_extension_config_dump('engine.snapshot_orders', '');

CREATE FUNCTION engine.snapshot() RETURNS bigint
	AS 'MODULE_PATHNAME', 'engine_snapshot' LANGUAGE C VOLATILE;
