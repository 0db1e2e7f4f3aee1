--
-- 09_halted: a halted symbol refuses new orders (every kind) and amends
-- with reason 'halted'; cancels and cancel_all still work; reads still
-- answer; trading resumes.
--
-- Users 901, 902.  HBTC_HUSD: HBTC 8 decimals, HUSD 2, tick 1, lot 0.1.
--
SELECT seq AS s0 FROM last_seq \gset
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
\set R 'order_id - ' :o0 ' AS oid, client_order_id, status, filled_qty, remaining_qty, avg_price, trades, reason'
\set E 'seq - ' :s0 ' AS seq, ev_no, order_id - ' :o0 ' AS oid, user_id, side, event, price, qty, filled_qty, remaining_qty, reason, client_order_id'

SELECT engine.create_asset('HBTC', 8) > 0 AS ok;
SELECT engine.create_asset('HUSD', 2) > 0 AS ok;
SELECT engine.create_symbol('HBTC_HUSD', 'HBTC', 'HUSD', 1, 0.1) > 0 AS ok;
SELECT asset, available, frozen, status FROM engine.deposit(901, 'HUSD', 1000);
SELECT asset, available, frozen, status FROM engine.deposit(902, 'HBTC', 10);
SELECT :R FROM engine.place_order(901, 'HBTC_HUSD', 'buy', 1, 100);
SELECT :R FROM engine.place_order(901, 'HBTC_HUSD', 'buy', 1, 99, client_order_id => 'h-2');
SELECT :R FROM engine.place_order(901, 'HBTC_HUSD', 'buy', 1, 98);

SELECT engine.set_symbol_status('HBTC_HUSD', 'halted');
SELECT seq AS s1 FROM last_seq \gset
-- New orders of every kind are refused (each gets an order id and a
-- 'rejected' event); nothing trades although the sells would cross.
SELECT :R FROM engine.place_order(902, 'HBTC_HUSD', 'sell', 1, 100);
SELECT :R FROM engine.place_order(902, 'HBTC_HUSD', 'sell', 1, 100, tif => 'ioc');
SELECT :R FROM engine.place_order(902, 'HBTC_HUSD', 'sell', 1, 100, tif => 'fok');
SELECT :R FROM engine.place_order(902, 'HBTC_HUSD', 'sell', 1);
SELECT :R FROM engine.place_order(901, 'HBTC_HUSD', 'buy', NULL, quote_qty => 10);
SELECT :R FROM engine.place_order(902, 'HBTC_HUSD', 'sell', 1, 200, post_only => true, client_order_id => 'h-x');
-- Its client_order_id is used up like any other.
SELECT :R FROM engine.place_order(902, 'HBTC_HUSD', 'sell', 1, 200, post_only => true, client_order_id => 'h-x');
-- Amends are refused and change nothing.
SELECT :R FROM engine.amend_order(901, :o0 + 1, qty => 0.5);
SELECT :R FROM engine.amend_order(901, :o0 + 1, price => 101);
SELECT count(*) AS trades FROM engine.trades WHERE seq > :s1;
SELECT :E FROM engine.order_events_v WHERE seq > :s1 ORDER BY seq, ev_no;
SELECT * FROM engine.balances(902) ORDER BY asset;
-- Reads still answer.
SELECT * FROM engine.depth('HBTC_HUSD');
SELECT order_id - :o0 AS oid, client_order_id, price, remaining_qty, status FROM engine.open_orders(901, 'HBTC_HUSD');
-- Cancels work: by id, by client_order_id, all.
SELECT :R FROM engine.cancel_order(901, :o0 + 1);
SELECT :R FROM engine.cancel_order(901, 'h-2');
SELECT engine.cancel_all(901, 'HBTC_HUSD');
SELECT * FROM engine.balances(901) ORDER BY asset;
SELECT count(*) AS levels FROM engine.depth('HBTC_HUSD');

-- Trading again.
SELECT engine.set_symbol_status('HBTC_HUSD', 'trading');
SELECT :R FROM engine.place_order(901, 'HBTC_HUSD', 'buy', 1, 100);
SELECT :R FROM engine.place_order(902, 'HBTC_HUSD', 'sell', 1, 100);
SELECT * FROM engine.balances(901) ORDER BY asset;
SELECT * FROM engine.balances(902) ORDER BY asset;
SELECT * FROM engine_ok;
