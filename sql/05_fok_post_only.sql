--
-- 05_fok_post_only: fill-or-kill and post-only orders.
--
-- Users 501..503.  PBTC_PUSD: PBTC 8 decimals, PUSD 2, tick 0.5, lot 0.01,
-- no fees.
--
SELECT seq AS s0 FROM last_seq \gset
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
SELECT coalesce(max(trade_id), 0) AS t0 FROM engine.trades \gset
\set R 'order_id - ' :o0 ' AS oid, client_order_id, status, filled_qty, remaining_qty, avg_price, trades, reason'
\set T 'trade_id - ' :t0 ' AS tid, price, qty, quote_qty, taker_side, taker_order_id - ' :o0 ' AS taker_oid, taker_user_id AS taker, maker_order_id - ' :o0 ' AS maker_oid, maker_user_id AS maker'
\set E 'seq - ' :s0 ' AS seq, ev_no, order_id - ' :o0 ' AS oid, user_id, side, event, price, qty, filled_qty, remaining_qty, reason'

SELECT engine.create_asset('PBTC', 8) > 0 AS ok;
SELECT engine.create_asset('PUSD', 2) > 0 AS ok;
SELECT engine.create_symbol('PBTC_PUSD', 'PBTC', 'PUSD', 0.5, 0.01) > 0 AS ok;
SELECT asset, available, frozen, status FROM engine.deposit(501, 'PBTC', 10);
SELECT asset, available, frozen, status FROM engine.deposit(502, 'PUSD', 1000);
SELECT asset, available, frozen, status FROM engine.deposit(503, 'PUSD', 1000);
SELECT asset, available, frozen, status FROM engine.deposit(503, 'PBTC', 1);

-- Book: asks 1.00 @ 100 (o1), 1.00 @ 101 (o2); bid 1.00 @ 99 (o3).
SELECT :R FROM engine.place_order(501, 'PBTC_PUSD', 'sell', 1, 100);
SELECT :R FROM engine.place_order(501, 'PBTC_PUSD', 'sell', 1, 101);
SELECT :R FROM engine.place_order(503, 'PBTC_PUSD', 'buy', 1, 99);

-- FOK that the book cannot fill: rejected whole, no trade, nothing moves.
SELECT seq AS s1 FROM last_seq \gset
SELECT :R FROM engine.place_order(502, 'PBTC_PUSD', 'buy', 2.5, 101, tif => 'fok');
SELECT :R FROM engine.place_order(502, 'PBTC_PUSD', 'buy', 1.5, 100.5, tif => 'fok');
SELECT count(*) AS trades FROM engine.trades WHERE seq > :s1;
SELECT :E FROM engine.order_events_v WHERE seq > :s1 ORDER BY seq, ev_no;
SELECT * FROM engine.balances(502) ORDER BY asset;
SELECT * FROM engine.depth('PBTC_PUSD');
-- FOK that can fill: takes two levels at once.
-- avg_price = (100 + 50.50) / 1.5 = 100.333.. truncated to 100.33.
SELECT seq AS s2 FROM last_seq \gset
SELECT :R FROM engine.place_order(502, 'PBTC_PUSD', 'buy', 1.5, 101, tif => 'fok');
SELECT :T FROM engine.trades_v WHERE seq > :s2 ORDER BY trade_id;
SELECT :E FROM engine.order_events_v WHERE seq > :s2 ORDER BY seq, ev_no;
SELECT * FROM engine.balances(502) ORDER BY asset;
SELECT * FROM engine.balances(501) ORDER BY asset;
-- FOK sells: one fills exactly against the bid, one finds no bid at all.
SELECT :R FROM engine.place_order(502, 'PBTC_PUSD', 'sell', 1, 99, tif => 'fok');
SELECT :R FROM engine.place_order(502, 'PBTC_PUSD', 'sell', 0.5, 98, tif => 'fok');
SELECT * FROM engine.balances(502) ORDER BY asset;
SELECT * FROM engine.balances(503) ORDER BY asset;
SELECT * FROM engine.depth('PBTC_PUSD');

-- post_only: rejected whole if any part would trade on arrival, whoever owns
-- the resting order; rests otherwise.
SELECT seq AS s3 FROM last_seq \gset
SELECT :R FROM engine.place_order(503, 'PBTC_PUSD', 'buy', 1, 101, post_only => true);
SELECT :R FROM engine.place_order(503, 'PBTC_PUSD', 'buy', 1, 100.5, post_only => true);
SELECT :R FROM engine.place_order(501, 'PBTC_PUSD', 'sell', 0.5, 100.5, post_only => true);
SELECT :R FROM engine.place_order(501, 'PBTC_PUSD', 'sell', 0.5, 101, post_only => true);
SELECT :R FROM engine.place_order(503, 'PBTC_PUSD', 'sell', 0.5, 100.5, post_only => true);
SELECT count(*) AS trades FROM engine.trades WHERE seq > :s3;
SELECT :E FROM engine.order_events_v WHERE seq > :s3 ORDER BY seq, ev_no;
SELECT * FROM engine.depth('PBTC_PUSD');
SELECT * FROM engine.balances(503) ORDER BY asset;
SELECT * FROM engine.balances(501) ORDER BY asset;
-- A rejected order is a finished order: engine.order shows it.
SELECT order_id - :o0 AS oid, user_id, side, price, qty, filled_qty, remaining_qty, status
  FROM engine.order(:o0 + 9);

SELECT engine.cancel_all(501) AS canceled_501, engine.cancel_all(503) AS canceled_503;
SELECT count(*) AS levels FROM engine.depth('PBTC_PUSD');
SELECT * FROM engine_ok;
