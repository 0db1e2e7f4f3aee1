--
-- 07_market: market orders: buys by qty, by quote_qty, by both; the
-- budget rule (lot rounding, stop at the first fill the budget cuts short);
-- every end state and reason (filled, quote_qty, funds_exhausted,
-- no_liquidity); market sells and their up-front funds check.
--
-- Users 701..704.  KBTC_KUSD: KBTC 8 decimals, KUSD 2, tick 1, lot 0.01,
-- no fees.
--
SELECT seq AS s0 FROM last_seq \gset
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
SELECT coalesce(max(trade_id), 0) AS t0 FROM engine.trades \gset
\set R 'order_id - ' :o0 ' AS oid, client_order_id, status, filled_qty, remaining_qty, avg_price, trades, reason'
\set T 'trade_id - ' :t0 ' AS tid, price, qty, quote_qty, taker_side, taker_order_id - ' :o0 ' AS taker_oid, taker_user_id AS taker, maker_order_id - ' :o0 ' AS maker_oid, maker_user_id AS maker'
\set E 'seq - ' :s0 ' AS seq, ev_no, order_id - ' :o0 ' AS oid, user_id, side, event, price, qty, filled_qty, remaining_qty, reason'

SELECT engine.create_asset('KBTC', 8) > 0 AS ok;
SELECT engine.create_asset('KUSD', 2) > 0 AS ok;
SELECT engine.create_symbol('KBTC_KUSD', 'KBTC', 'KUSD', 1, 0.01) > 0 AS ok;
SELECT asset, available, frozen, status FROM engine.deposit(701, 'KBTC', 10);
SELECT asset, available, frozen, status FROM engine.deposit(702, 'KUSD', 1000);
SELECT asset, available, frozen, status FROM engine.deposit(703, 'KUSD', 30);

-- Asks: 1 @ 100 (o1), 1 @ 110 (o2), 1 @ 120 (o3).
SELECT :R FROM engine.place_order(701, 'KBTC_KUSD', 'sell', 1, 100);
SELECT :R FROM engine.place_order(701, 'KBTC_KUSD', 'sell', 1, 110);
SELECT :R FROM engine.place_order(701, 'KBTC_KUSD', 'sell', 1, 120);

-- Market buy by qty: 1 @ 100 + 0.5 @ 110; avg 155 / 1.5 = 103.33.
SELECT seq AS s1 FROM last_seq \gset
SELECT :R FROM engine.place_order(702, 'KBTC_KUSD', 'buy', 1.5);
SELECT :T FROM engine.trades_v WHERE seq > :s1 ORDER BY trade_id;
SELECT * FROM engine.balances(702) ORDER BY asset;

-- Market buy by quote_qty 60 alone: 0.5 @ 110 (55.00) leaves 5.00, which
-- buys floor(5 / 120) rounded down to the lot = 0.04 @ 120 (4.80); that
-- fill was cut short by the budget, so it stops.  The 0.20 left is less
-- than one lot at 120: the budget is spent, status filled, reason quote_qty.
-- Its event's qty is what it bought.
SELECT seq AS s2 FROM last_seq \gset
SELECT :R FROM engine.place_order(702, 'KBTC_KUSD', 'buy', NULL, quote_qty => 60);
SELECT :T FROM engine.trades_v WHERE seq > :s2 ORDER BY trade_id;
SELECT :E FROM engine.order_events_v WHERE seq > :s2 ORDER BY seq, ev_no;
SELECT * FROM engine.balances(702) ORDER BY asset;
SELECT order_id - :o0 AS oid, side, price, qty, filled_qty, remaining_qty, status FROM engine.order(:o0 + 5);
SELECT * FROM engine.depth('KBTC_KUSD');

-- quote_qty spent exactly: 12.00 buys 0.1 @ 120.
SELECT :R FROM engine.place_order(702, 'KBTC_KUSD', 'buy', NULL, quote_qty => 12);
-- qty and quote_qty: whichever ends first; here qty 0.5 (60.00 of 100).
SELECT :R FROM engine.place_order(702, 'KBTC_KUSD', 'buy', 0.5, quote_qty => 100);
-- A budget below one lot at the best price buys nothing: expired, quote_qty.
SELECT :R FROM engine.place_order(702, 'KBTC_KUSD', 'buy', NULL, quote_qty => 1);
SELECT * FROM engine.balances(702) ORDER BY asset;
SELECT * FROM engine.depth('KBTC_KUSD');

-- The user's available quote is the budget: 703 has 30.00, buys 0.25 @ 120
-- and stops short of qty 1: expired, funds_exhausted.
SELECT :R FROM engine.place_order(703, 'KBTC_KUSD', 'buy', 1, tif => 'ioc');
SELECT * FROM engine.balances(703) ORDER BY asset;
-- The book runs out: 0.11 @ 120 bought, then expired, no_liquidity.
SELECT :R FROM engine.place_order(702, 'KBTC_KUSD', 'buy', 1);
-- On an empty side: expired, nothing filled.
SELECT :R FROM engine.place_order(702, 'KBTC_KUSD', 'buy', 1);
SELECT :R FROM engine.place_order(702, 'KBTC_KUSD', 'buy', NULL, quote_qty => 10);
-- A user without an account cannot buy.
SELECT :R FROM engine.place_order(704, 'KBTC_KUSD', 'buy', 1);
SELECT * FROM engine.balances(702) ORDER BY asset;
SELECT * FROM engine.balances(701) ORDER BY asset;

-- Market sells.  Bids: 1 @ 90 (o14), 1 @ 80 (o15), from user 703.
SELECT asset, available, frozen, status FROM engine.deposit(703, 'KUSD', 200);
SELECT :R FROM engine.place_order(703, 'KBTC_KUSD', 'buy', 1, 90);
SELECT :R FROM engine.place_order(703, 'KBTC_KUSD', 'buy', 1, 80);
-- 1 @ 90 + 0.5 @ 80; avg 130 / 1.5 = 86.66 (truncated).
SELECT :R FROM engine.place_order(702, 'KBTC_KUSD', 'sell', 1.5);
-- More than the available base: rejected up front, nothing trades.
SELECT :R FROM engine.place_order(702, 'KBTC_KUSD', 'sell', 2);
SELECT * FROM engine.depth('KBTC_KUSD');
-- Takes the last 0.5 @ 80, then the book is empty: expired, no_liquidity;
-- the unfilled 0.5 stays with the seller.
SELECT seq AS s3 FROM last_seq \gset
SELECT :R FROM engine.place_order(702, 'KBTC_KUSD', 'sell', 1);
SELECT :E FROM engine.order_events_v WHERE seq > :s3 ORDER BY seq, ev_no;
SELECT * FROM engine.balances(702) ORDER BY asset;
SELECT * FROM engine.balances(703) ORDER BY asset;
SELECT count(*) AS levels FROM engine.depth('KBTC_KUSD');
-- A market order never rests.
SELECT count(*) AS open_orders FROM engine.open_orders(702);

SELECT b.asset, sum(b.available + b.frozen) AS total
  FROM (SELECT u FROM generate_series(0, 704) u) users,
       LATERAL engine.balances(users.u) b
 WHERE b.asset IN ('KBTC', 'KUSD')
 GROUP BY b.asset ORDER BY b.asset;
SELECT * FROM engine_ok;
