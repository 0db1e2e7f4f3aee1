--
-- 11_history: what the tables and views keep: engine.command_log and
-- engine.command_log_decoded (one row per sequenced command, every record
-- type, gapless seq, CRCs), engine.trades / engine.trades_v,
-- engine.order_events, engine.status, engine.state_digest, engine.verify.
--
-- Users 1101, 1102.  LBTC_LUSD: LBTC 8 decimals, LUSD 2, tick 1, lot 0.1,
-- maker fee 0.1 %, taker fee 0.2 %.
--
SELECT seq AS s0 FROM last_seq \gset
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
SELECT coalesce(max(trade_id), 0) AS t0 FROM engine.trades \gset
\set R 'order_id - ' :o0 ' AS oid, client_order_id, status, filled_qty, remaining_qty, avg_price, trades, reason'

-- One command of every kind.
SELECT engine.create_asset('LBTC', 8) > 0 AS ok;
SELECT engine.create_asset('LUSD', 2) > 0 AS ok;
SELECT engine.create_symbol('LBTC_LUSD', 'LBTC', 'LUSD', 1, 0.1, 0.001, 0.002, 0.2) > 0 AS ok;
SELECT engine.set_symbol_status('LBTC_LUSD', 'halted');
SELECT engine.set_symbol_status('LBTC_LUSD', 'trading');
SELECT asset, available, frozen, status FROM engine.deposit(1101, 'LUSD', 1000, 'h-dep');
SELECT asset, available, frozen, status FROM engine.deposit(1102, 'LBTC', 2);
SELECT asset, available, frozen, status FROM engine.withdraw(1101, 'LUSD', 0.5, 'h-wd');
SELECT :R FROM engine.place_order(1101, 'LBTC_LUSD', 'buy', 1, 100, client_order_id => 'h-1');
SELECT :R FROM engine.amend_order(1101, :o0 + 1, qty => 2, price => 101);
SELECT :R FROM engine.place_order(1102, 'LBTC_LUSD', 'sell', 0.5, 99, tif => 'ioc', stp => 'cancel_both');
SELECT :R FROM engine.place_order(1102, 'LBTC_LUSD', 'sell', 1, 150, post_only => true);
SELECT :R FROM engine.place_order(1101, 'LBTC_LUSD', 'buy', NULL, quote_qty => 10);
SELECT :R FROM engine.cancel_order(1101, 'h-1');
SELECT engine.cancel_all(1102, 'LBTC_LUSD');

-- The journal: gapless, one row per command, every CRC right.  Ids that
-- other files' data decide (assets, symbols, orders) are shown relative.
SELECT count(*) AS rows, max(seq) - min(seq) + 1 AS span, bool_and(crc_ok) AS crc_ok
  FROM engine.command_log_decoded WHERE seq > :s0;
SELECT seq - :s0 AS seq, rectype,
       decoded - 'type' - 'asset' - 'symbol' - 'base_asset' - 'quote_asset' - 'order_id' AS decoded,
       (decoded->>'order_id')::bigint - :o0 AS oid
  FROM engine.command_log_decoded WHERE seq > :s0 ORDER BY seq;
SELECT DISTINCT rectype, decoded->>'type' AS decoded_type FROM engine.command_log_decoded
 WHERE seq > :s0 ORDER BY 1;
-- The whole log is gapless from 1 and every CRC checks out.
SELECT min(seq) AS first, max(seq) = count(*) AS gapless, bool_and(crc_ok) AS crc_ok
  FROM engine.command_log_decoded;
SELECT count(*) = 0 AS rectypes_known FROM engine.command_log_decoded WHERE rectype IS NULL;

-- Trades: the raw table in units, the view in numeric, both the same trade.
SELECT trade_id - :t0 AS tid, seq - :s0 AS seq, price, qty, quote_qty, taker_side,
       taker_order_id - :o0 AS taker_oid, maker_order_id - :o0 AS maker_oid, taker_fee, maker_fee
  FROM engine.trades WHERE trade_id > :t0 ORDER BY trade_id;
SELECT trade_id - :t0 AS tid, seq - :s0 AS seq, symbol, price, qty, quote_qty, taker_side,
       taker_user_id, maker_user_id, taker_fee, taker_fee_asset, maker_fee, maker_fee_asset
  FROM engine.trades_v WHERE trade_id > :t0 ORDER BY trade_id;
SELECT count(*) AS trades_without_view_row
  FROM engine.trades t LEFT JOIN engine.trades_v v USING (trade_id) WHERE v.trade_id IS NULL;

-- Order events, in command order.
SELECT seq - :s0 AS seq, ev_no, order_id - :o0 AS oid, user_id, side, event,
       price, qty, filled_qty, remaining_qty, reason, client_order_id
  FROM engine.order_events WHERE seq > :s0 ORDER BY seq, ev_no;
-- Every order id ever used (1 .. the largest) has events.
SELECT count(DISTINCT order_id) = max(order_id) AS every_order_has_events
  FROM engine.order_events;

-- engine.order answers for finished orders from their last event.
SELECT order_id - :o0 AS oid, user_id, client_order_id, symbol, side, price, qty, filled_qty,
       remaining_qty, status
  FROM generate_series(:o0 + 1, :o0 + 4) o, LATERAL engine.order(o) ORDER BY o;

-- engine.status: ready, the last seq is the log's, the counts are the
-- engine's.
SELECT state, last_seq = (SELECT max(seq) FROM engine.command_log) AS last_seq_ok,
       worker_pid IS NOT NULL AS has_worker
  FROM engine.status();
SELECT resting_orders = (SELECT count(*) FROM generate_series(1, 1200) u, LATERAL engine.open_orders(u)) AS resting_orders_ok
  FROM engine.status();
SELECT accounts = (SELECT count(*) FROM generate_series(1, 1200) u
                    WHERE EXISTS (SELECT FROM engine.balances(u))) AS accounts_ok
  FROM engine.status();

-- engine.state_digest: stable while nothing changes, different after a
-- command that changes the state.
SELECT engine.state_digest() AS d1 \gset
SELECT engine.state_digest() = :'d1' AS same_digest;
SELECT engine.ready();
SELECT asset, available, frozen, status FROM engine.deposit(1102, 'LUSD', 1);
SELECT engine.state_digest() <> :'d1' AS digest_changed;

-- engine.verify: every check passes.
SELECT count(*) > 5 AS several_checks FROM engine.verify();
SELECT * FROM engine_ok;
