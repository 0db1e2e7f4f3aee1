--
-- 06_stp: self-trade prevention: none, cancel_taker, cancel_maker,
-- cancel_both, with the user's own order in the middle of the book, and
-- FOK counting only the liquidity it could really take.
--
-- Users 601 (trades with itself) and 602.  SBTC_SUSD: SBTC 8 decimals,
-- SUSD 2, tick 1, lot 0.1, no fees.
--
SELECT seq AS s0 FROM last_seq \gset
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
SELECT coalesce(max(trade_id), 0) AS t0 FROM engine.trades \gset
\set R 'order_id - ' :o0 ' AS oid, client_order_id, status, filled_qty, remaining_qty, avg_price, trades, reason'
\set T 'trade_id - ' :t0 ' AS tid, price, qty, taker_side, taker_order_id - ' :o0 ' AS taker_oid, taker_user_id AS taker, maker_order_id - ' :o0 ' AS maker_oid, maker_user_id AS maker'
\set E 'seq - ' :s0 ' AS seq, ev_no, order_id - ' :o0 ' AS oid, user_id, side, event, price, qty, filled_qty, remaining_qty, reason'

SELECT engine.create_asset('SBTC', 8) > 0 AS ok;
SELECT engine.create_asset('SUSD', 2) > 0 AS ok;
SELECT engine.create_symbol('SBTC_SUSD', 'SBTC', 'SUSD', 1, 0.1) > 0 AS ok;
SELECT asset, available, frozen, status FROM engine.deposit(601, 'SBTC', 100);
SELECT asset, available, frozen, status FROM engine.deposit(601, 'SUSD', 100000);
SELECT asset, available, frozen, status FROM engine.deposit(602, 'SBTC', 100);
SELECT asset, available, frozen, status FROM engine.deposit(602, 'SUSD', 100000);

-- none (the default): the order trades with its own resting order.
SELECT seq AS s1 FROM last_seq \gset
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'sell', 1, 100);
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'buy', 1, 100);
SELECT :T FROM engine.trades_v WHERE seq > :s1 ORDER BY trade_id;
SELECT * FROM engine.balances(601) ORDER BY asset;

-- cancel_taker: asks 1 @ 100 (602, o3), 1 @ 101 (601, o4), 1 @ 102 (602, o5).
-- A buy 3 @ 102 takes o3, reaches its own o4 and stops: the remainder
-- expires (reason self_trade, although gtc); o4 and o5 stay.
SELECT :R FROM engine.place_order(602, 'SBTC_SUSD', 'sell', 1, 100);
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'sell', 1, 101);
SELECT :R FROM engine.place_order(602, 'SBTC_SUSD', 'sell', 1, 102);
SELECT seq AS s2 FROM last_seq \gset
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'buy', 3, 102, stp => 'cancel_taker');
SELECT :T FROM engine.trades_v WHERE seq > :s2 ORDER BY trade_id;
SELECT :E FROM engine.order_events_v WHERE seq > :s2 ORDER BY seq, ev_no;
SELECT * FROM engine.depth('SBTC_SUSD');
SELECT * FROM engine.balances(601) ORDER BY asset;

-- cancel_maker: a buy 2 @ 102 cancels its own o4 and goes on to take o5,
-- then rests its remainder 1 @ 102.
SELECT seq AS s3 FROM last_seq \gset
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'buy', 2, 102, stp => 'cancel_maker');
SELECT :T FROM engine.trades_v WHERE seq > :s3 ORDER BY trade_id;
SELECT :E FROM engine.order_events_v WHERE seq > :s3 ORDER BY seq, ev_no;
SELECT order_id - :o0 AS oid, status, filled_qty, remaining_qty FROM engine.order(:o0 + 4);
SELECT * FROM engine.depth('SBTC_SUSD');
SELECT * FROM engine.balances(601) ORDER BY asset;
SELECT :R FROM engine.cancel_order(601, :o0 + 7);

-- cancel_both, own order in the middle of a level: at 100, 602's o8, then
-- 601's o9, then 602's o10.  A buy 3 @ 100 takes o8, then cancels o9 and
-- stops; o10 stays.
SELECT :R FROM engine.place_order(602, 'SBTC_SUSD', 'sell', 1, 100);
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'sell', 1, 100);
SELECT :R FROM engine.place_order(602, 'SBTC_SUSD', 'sell', 1, 100);
SELECT * FROM engine.depth('SBTC_SUSD');
SELECT seq AS s4 FROM last_seq \gset
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'buy', 3, 100, stp => 'cancel_both');
SELECT :T FROM engine.trades_v WHERE seq > :s4 ORDER BY trade_id;
SELECT :E FROM engine.order_events_v WHERE seq > :s4 ORDER BY seq, ev_no;
SELECT * FROM engine.depth('SBTC_SUSD');
SELECT * FROM engine.balances(601) ORDER BY asset;

-- FOK counts only what it could take.  Asks: 602's o10 1 @ 100, 601's
-- o12 1 @ 101, 602's o13 1 @ 102.
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'sell', 1, 101);
SELECT :R FROM engine.place_order(602, 'SBTC_SUSD', 'sell', 1, 102);
-- cancel_maker skips its own order: 2 available, 3 wanted: rejected, and
-- o12 is not canceled (a rejected FOK has no effect at all).
SELECT seq AS s5 FROM last_seq \gset
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'buy', 3, 102, tif => 'fok', stp => 'cancel_maker');
SELECT :E FROM engine.order_events_v WHERE seq > :s5 ORDER BY seq, ev_no;
SELECT * FROM engine.depth('SBTC_SUSD');
-- 2 wanted: fills, canceling o12 on the way.
SELECT seq AS s6 FROM last_seq \gset
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'buy', 2, 102, tif => 'fok', stp => 'cancel_maker');
SELECT :T FROM engine.trades_v WHERE seq > :s6 ORDER BY trade_id;
SELECT :E FROM engine.order_events_v WHERE seq > :s6 ORDER BY seq, ev_no;
SELECT count(*) AS levels FROM engine.depth('SBTC_SUSD');
-- cancel_taker counts only up to its first own order.  Asks: 602's o16
-- 1 @ 100, 601's o17 1 @ 101, 602's o18 1 @ 102.
SELECT :R FROM engine.place_order(602, 'SBTC_SUSD', 'sell', 1, 100);
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'sell', 1, 101);
SELECT :R FROM engine.place_order(602, 'SBTC_SUSD', 'sell', 1, 102);
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'buy', 2, 102, tif => 'fok', stp => 'cancel_taker');
SELECT * FROM engine.depth('SBTC_SUSD');
-- With none, the own order counts (and trades).
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'buy', 2, 102, tif => 'fok', stp => 'none');
SELECT * FROM engine.depth('SBTC_SUSD');
-- cancel_both also counts only up to its first own order: 601's o21 1 @ 101
-- comes before 602's o18 1 @ 102, so nothing is available.
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'sell', 1, 101);
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'buy', 1, 102, tif => 'fok', stp => 'cancel_both');
SELECT * FROM engine.depth('SBTC_SUSD');
-- ioc with cancel_both meets o21 first: o21 canceled, the taker expired
-- with nothing filled.
SELECT seq AS s7 FROM last_seq \gset
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'buy', 1, 102, tif => 'ioc', stp => 'cancel_both');
SELECT :E FROM engine.order_events_v WHERE seq > :s7 ORDER BY seq, ev_no;
SELECT * FROM engine.depth('SBTC_SUSD');

-- A sell taker with cancel_maker: 601 bids 1 @ 90 (o24), 602 bids 1 @ 89
-- (o25); 601 sells 2 @ 89: o24 canceled, o25 taken, remainder rests.
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'buy', 1, 90);
SELECT :R FROM engine.place_order(602, 'SBTC_SUSD', 'buy', 1, 89);
SELECT :R FROM engine.place_order(601, 'SBTC_SUSD', 'sell', 2, 89, stp => 'cancel_maker');
SELECT * FROM engine.depth('SBTC_SUSD');

SELECT engine.cancel_all(601) AS canceled_601, engine.cancel_all(602) AS canceled_602;
SELECT * FROM engine.balances(601) ORDER BY asset;
SELECT * FROM engine.balances(602) ORDER BY asset;
SELECT * FROM engine_ok;
