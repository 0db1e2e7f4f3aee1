--
-- 03_orders: limit orders crossing the book, with exact balances, fees,
-- trades and order events; gtc and ioc; price-time priority; depth order;
-- engine.order for open and finished orders; open_orders; cancel by id and
-- by client_order_id; duplicate client_order_id; cancel_all; a command
-- stands after the caller's ROLLBACK.
--
-- Users 301..305.  Symbol OBTC_OUSD: OBTC 8 decimals, OUSD 6, tick 0.01,
-- lot 0.001, maker fee 0.1 %, taker fee 0.2 %.
--
SELECT seq AS s0 FROM last_seq \gset
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
SELECT coalesce(max(trade_id), 0) AS t0 FROM engine.trades \gset
\set R 'order_id - ' :o0 ' AS oid, client_order_id, status, filled_qty, remaining_qty, avg_price, trades, reason'
\set T 'trade_id - ' :t0 ' AS tid, symbol, price, qty, quote_qty, taker_side, taker_order_id - ' :o0 ' AS taker_oid, taker_user_id AS taker, maker_order_id - ' :o0 ' AS maker_oid, maker_user_id AS maker, taker_fee, taker_fee_asset, maker_fee, maker_fee_asset'
\set E 'seq - ' :s0 ' AS seq, ev_no, order_id - ' :o0 ' AS oid, user_id, side, event, price, qty, filled_qty, remaining_qty, reason, client_order_id'

SELECT engine.create_asset('OBTC', 8) > 0 AS ok;
SELECT engine.create_asset('OUSD', 6) > 0 AS ok;
SELECT engine.create_symbol('OBTC_OUSD', 'OBTC', 'OUSD', 0.01, 0.001, maker_fee => 0.001, taker_fee => 0.002) > 0 AS ok;
SELECT asset, available, frozen, status FROM engine.deposit(301, 'OBTC', 10);
SELECT asset, available, frozen, status FROM engine.deposit(302, 'OUSD', 100000);
SELECT asset, available, frozen, status FROM engine.deposit(303, 'OUSD', 50000);
SELECT asset, available, frozen, status FROM engine.deposit(303, 'OBTC', 5);

-- A resting book: asks 1.000 @ 30000 (o1), 0.500 @ 30100 (o2),
-- 0.250 @ 30000 (o3, behind o1); bids 0.100 @ 29900 (o4), 0.200 @ 29950 (o5).
SELECT :R FROM engine.place_order(301, 'OBTC_OUSD', 'sell', 1, 30000);
SELECT :R FROM engine.place_order(301, 'OBTC_OUSD', 'sell', 0.5, 30100);
SELECT :R FROM engine.place_order(301, 'OBTC_OUSD', 'sell', 0.25, 30000.00, client_order_id => 's-3');
SELECT :R FROM engine.place_order(303, 'OBTC_OUSD', 'buy', 0.1, 29900);
SELECT :R FROM engine.place_order(303, 'OBTC_OUSD', 'buy', 0.2, 29950, tif => 'gtc');
-- Depth: bids best (highest) first, then asks best (lowest) first.
SELECT * FROM engine.depth('OBTC_OUSD');
SELECT * FROM engine.depth('OBTC_OUSD', 1);
SELECT * FROM engine.depth('OBTC_OUSD', levels => 2);
-- Sells freeze base, buys freeze floor(price x qty) quote.
SELECT * FROM engine.balances(301) ORDER BY asset;
SELECT * FROM engine.balances(303) ORDER BY asset;
SELECT order_id - :o0 AS oid, client_order_id, symbol, side, price, qty, remaining_qty, status
  FROM engine.open_orders(301);
SELECT order_id - :o0 AS oid, side, price, remaining_qty, status
  FROM engine.open_orders(303, 'OBTC_OUSD');

-- A buy 1.2 @ 30100 takes o1 (1.0) then o3 (0.2) at the makers' price 30000,
-- in time priority, and never reaches o2.  It locked 36120 and spent 36000:
-- the improvement goes back at once.  Taker (buyer) pays 0.2 % in OBTC,
-- maker (seller) 0.1 % in OUSD.
SELECT seq AS s1 FROM last_seq \gset
SELECT :R FROM engine.place_order(302, 'OBTC_OUSD', 'buy', 1.2, 30100, client_order_id => 'b-1');
SELECT :T FROM engine.trades_v WHERE trade_id > :t0 ORDER BY trade_id;
SELECT :E FROM engine.order_events_v WHERE seq > :s1 ORDER BY seq, ev_no;
SELECT * FROM engine.balances(302) ORDER BY asset;
SELECT * FROM engine.balances(301) ORDER BY asset;
SELECT * FROM engine.balances(0) WHERE asset LIKE 'O%' ORDER BY asset;
SELECT * FROM engine.depth('OBTC_OUSD');

-- engine.order: a finished order (from its events), a partly filled resting
-- one, the taker, and an id never used (no row).
SELECT order_id - :o0 AS oid, user_id, client_order_id, symbol, side, price, qty, filled_qty, remaining_qty, status
  FROM engine.order(:o0 + 1);
SELECT order_id - :o0 AS oid, user_id, client_order_id, symbol, side, price, qty, filled_qty, remaining_qty, status
  FROM engine.order(:o0 + 3);
SELECT order_id - :o0 AS oid, user_id, client_order_id, symbol, side, price, qty, filled_qty, remaining_qty, status
  FROM engine.order(:o0 + 6);
SELECT count(*) AS no_such_order FROM engine.order(:o0 + 1000);

-- ioc: takes what its limit allows (o3's last 0.05 @ 30000), expires the
-- rest without resting; o2 @ 30100 is above its limit.
SELECT seq AS s2 FROM last_seq \gset
SELECT :R FROM engine.place_order(302, 'OBTC_OUSD', 'buy', 1, 30000, tif => 'ioc');
SELECT :T FROM engine.trades_v WHERE seq > :s2 ORDER BY trade_id;
SELECT :E FROM engine.order_events_v WHERE seq > :s2 ORDER BY seq, ev_no;
SELECT * FROM engine.balances(302) ORDER BY asset;
SELECT * FROM engine.balances(301) ORDER BY asset;
-- An ioc that cannot trade at all expires with nothing filled.
SELECT :R FROM engine.place_order(302, 'OBTC_OUSD', 'buy', 0.001, 29000, tif => 'ioc');
SELECT * FROM engine.depth('OBTC_OUSD');

-- A sell 0.3 @ 29900 takes the bids best first: o5 0.2 @ 29950, then
-- o4 0.1 @ 29900.  avg_price = 8980 / 0.3, truncated to OUSD's 6 decimals.
-- Now the taker is the seller (0.2 % in OUSD), the maker the buyer (0.1 %
-- in OBTC).
SELECT seq AS s3 FROM last_seq \gset
SELECT :R FROM engine.place_order(301, 'OBTC_OUSD', 'sell', 0.3, 29900);
SELECT :T FROM engine.trades_v WHERE seq > :s3 ORDER BY trade_id;
SELECT :E FROM engine.order_events_v WHERE seq > :s3 ORDER BY seq, ev_no;
SELECT * FROM engine.balances(301) ORDER BY asset;
SELECT * FROM engine.balances(303) ORDER BY asset;
SELECT * FROM engine.balances(0) WHERE asset LIKE 'O%' ORDER BY asset;
SELECT * FROM engine.depth('OBTC_OUSD');

-- A gtc that trades partly rests its remainder as partially_filled:
-- buy 0.8 @ 30100 takes o2 (0.5 @ 30100) and rests 0.3 @ 30100.
SELECT :R FROM engine.place_order(303, 'OBTC_OUSD', 'buy', 0.8, 30100, client_order_id => 'c-1');
SELECT order_id - :o0 AS oid, client_order_id, price, qty, remaining_qty, status FROM engine.open_orders(303);
SELECT * FROM engine.balances(303) ORDER BY asset;
SELECT * FROM engine.depth('OBTC_OUSD');

-- Cancel by client_order_id: the remainder's lock comes back.
SELECT :R FROM engine.cancel_order(303, 'c-1');
SELECT order_id - :o0 AS oid, client_order_id, qty, filled_qty, remaining_qty, status
  FROM engine.order(:o0 + 10);
SELECT * FROM engine.balances(303) ORDER BY asset;
-- Cancelling it again, or a finished order, or another user's order, or an
-- unknown id, is a refusal (not an error) that logs nothing.  For one of
-- the caller's finished orders the answer carries its figures at its
-- symbol's scale; for any other id the quantities are NULL, the same
-- whether or not the order exists.  (Of the commands below, only 304's two
-- orders and its deposit are logged.)
SELECT seq AS s3r FROM last_seq \gset
SELECT :R FROM engine.cancel_order(303, 'c-1');
SELECT :R FROM engine.cancel_order(303, :o0 + 10);
SELECT :R FROM engine.cancel_order(301, :o0 + 1);
SELECT :R FROM engine.cancel_order(303, 'never-used');
SELECT :R FROM engine.place_order(304, 'OBTC_OUSD', 'buy', 0.001, 100);
SELECT asset, available, frozen, status FROM engine.deposit(304, 'OUSD', 1000);
SELECT :R FROM engine.place_order(304, 'OBTC_OUSD', 'buy', 0.001, 100, client_order_id => 'mine');
SELECT :R FROM engine.cancel_order(303, :o0 + 12);
SELECT :R FROM engine.cancel_order(303, 'mine');
SELECT :R FROM engine.cancel_order(303, :o0 + 100000);
SELECT seq - :s3r AS new_log_rows FROM last_seq;
SELECT order_id - :o0 AS oid, status, remaining_qty FROM engine.open_orders(304);

-- client_order_id is unique per user for ever: a second place with 'b-1'
-- (filled long ago) creates nothing, logs nothing, and answers the original
-- order's current state with reason 'duplicate'; so does a retry of a
-- resting order's id.  Another user may use the same id.
SELECT seq AS s4 FROM last_seq \gset
SELECT :R FROM engine.place_order(302, 'OBTC_OUSD', 'buy', 5, 20000, client_order_id => 'b-1');
SELECT :R FROM engine.place_order(304, 'OBTC_OUSD', 'sell', 1, 99999, client_order_id => 'mine');
SELECT :R FROM engine.place_order(301, 'OBTC_OUSD', 'sell', 0.25, 30000, client_order_id => 's-3');
SELECT seq - :s4 AS new_log_rows FROM last_seq;
SELECT :R FROM engine.place_order(305, 'OBTC_OUSD', 'buy', 0.001, 100, client_order_id => 'mine');
-- (User 305 has no funds.)  A rejected order uses its client_order_id up
-- as well: the retry gets the rejection back, even after a deposit.
SELECT asset, available, frozen, status FROM engine.deposit(305, 'OUSD', 1000);
SELECT :R FROM engine.place_order(305, 'OBTC_OUSD', 'buy', 0.001, 100, client_order_id => 'mine');
SELECT :R FROM engine.cancel_order(304, 'mine');
SELECT count(*) AS orders_of_305 FROM engine.order_events WHERE user_id = 305;

-- A command stands even when the caller's transaction rolls back.
BEGIN;
SELECT :R FROM engine.place_order(304, 'OBTC_OUSD', 'buy', 0.002, 200, client_order_id => 'rolled-back');
ROLLBACK;
SELECT order_id - :o0 AS oid, client_order_id, price, qty, status FROM engine.open_orders(304);
SELECT * FROM engine.balances(304) ORDER BY asset;
SELECT count(*) AS logged FROM engine.order_events WHERE client_order_id = 'rolled-back';
-- Even an aborted transaction's cancel stands.
BEGIN;
SELECT :R FROM engine.cancel_order(304, 'rolled-back');
SELECT 1 / 0;
ROLLBACK;
SELECT count(*) AS open_orders_304 FROM engine.open_orders(304);

-- cancel_all: per symbol or everywhere, counting what it canceled.
SELECT engine.create_symbol('OBTC_OUSD2', 'OBTC', 'OUSD', 1, 0.01) > 0 AS ok;
SELECT status FROM engine.place_order(303, 'OBTC_OUSD', 'buy', 0.01, 100);
SELECT status FROM engine.place_order(303, 'OBTC_OUSD', 'sell', 0.01, 90000);
SELECT status FROM engine.place_order(303, 'OBTC_OUSD2', 'buy', 0.01, 100);
SELECT symbol, side, price, qty FROM engine.open_orders(303);
SELECT engine.cancel_all(303, 'OBTC_OUSD2');
SELECT symbol, side, price, qty FROM engine.open_orders(303);
SELECT engine.cancel_all(303);
SELECT engine.cancel_all(303);
SELECT count(*) AS open_orders_303 FROM engine.open_orders(303);
SELECT * FROM engine.balances(303) ORDER BY asset;
SELECT engine.cancel_all(301, 'OBTC_OUSD');
SELECT engine.cancel_all(399);
SELECT * FROM engine.depth('OBTC_OUSD');
SELECT count(*) AS levels FROM engine.depth('OBTC_OUSD2');

-- Conservation: per asset, all balances equal deposits minus withdrawals.
SELECT b.asset, sum(b.available + b.frozen) AS total
  FROM (SELECT u FROM generate_series(0, 305) u) users,
       LATERAL engine.balances(users.u) b
 WHERE b.asset IN ('OBTC', 'OUSD')
 GROUP BY b.asset ORDER BY b.asset;

SELECT * FROM engine_ok;
