--
-- 04_money: the money rules at the edges: rounding dust of a buy lock is
-- released at once, the one-unit minimum fee, 128-bit products, and an
-- order value that does not fit int64.
--
-- Users 401..404.  MA_MQ: MA 3 decimals, MQ 2, tick 0.01, lot 0.001,
-- maker fee 0.01 %, taker fee 0.05 %.  M18_M0: M18 18 decimals, M0 0
-- decimals, tick 1, lot 1e-18, no fees.
--
SELECT seq AS s0 FROM last_seq \gset
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
SELECT coalesce(max(trade_id), 0) AS t0 FROM engine.trades \gset
\set R 'order_id - ' :o0 ' AS oid, client_order_id, status, filled_qty, remaining_qty, avg_price, trades, reason'
\set T 'trade_id - ' :t0 ' AS tid, symbol, price, qty, quote_qty, taker_side, taker_order_id - ' :o0 ' AS taker_oid, taker_user_id AS taker, maker_order_id - ' :o0 ' AS maker_oid, maker_user_id AS maker, taker_fee, taker_fee_asset, maker_fee, maker_fee_asset'

SELECT engine.create_asset('MA', 3) > 0 AS ok;
SELECT engine.create_asset('MQ', 2) > 0 AS ok;
SELECT engine.create_symbol('MA_MQ', 'MA', 'MQ', 0.01, 0.001, maker_fee => 0.0001, taker_fee => 0.0005) > 0 AS ok;
SELECT asset, available, frozen, status FROM engine.deposit(401, 'MQ', 100);
SELECT asset, available, frozen, status FROM engine.deposit(402, 'MA', 10);

-- Buy 0.333 @ 1.01 locks floor(1.01 x 0.333 = 0.33633) = 0.33 MQ.
SELECT :R FROM engine.place_order(401, 'MA_MQ', 'buy', 0.333, 1.01);
SELECT * FROM engine.balances(401) ORDER BY asset;
-- A sell 0.107 takes it at 1.01: quote floor(0.10807) = 0.10 MQ.  The
-- remaining 0.226 needs floor(0.22826) = 0.22, so of the 0.33 lock 0.10 is
-- paid and 0.01 of dust goes back to available in the same command.
-- Fees round down to zero units and are raised to one unit: the seller
-- (taker) pays 0.01 MQ, the buyer (maker) 0.001 MA.
SELECT :R FROM engine.place_order(402, 'MA_MQ', 'sell', 0.107, 1);
SELECT :T FROM engine.trades_v WHERE trade_id > :t0 ORDER BY trade_id;
SELECT * FROM engine.balances(401) ORDER BY asset;
SELECT * FROM engine.balances(402) ORDER BY asset;
SELECT * FROM engine.balances(0) WHERE asset IN ('MA', 'MQ') ORDER BY asset;
SELECT order_id - :o0 AS oid, price, qty, remaining_qty, status FROM engine.open_orders(401);
SELECT * FROM engine_ok;
-- Cancelling releases exactly the remaining lock.
SELECT :R FROM engine.cancel_order(401, :o0 + 1);
SELECT * FROM engine.balances(401) ORDER BY asset;

-- 128-bit products: buy 5 M18 (5e18 units) @ 3 M0 locks
-- floor(3 x 5e18 / 1e18) = 15 M0, though 3 x 5e18 does not fit int64.
SELECT engine.create_asset('M18', 18) > 0 AS ok;
SELECT engine.create_asset('M0', 0) > 0 AS ok;
SELECT engine.create_symbol('M18_M0', 'M18', 'M0', 1, 0.000000000000000001) > 0 AS ok;
SELECT asset, available, frozen, status FROM engine.deposit(403, 'M0', 100);
SELECT asset, available, frozen, status FROM engine.deposit(404, 'M18', 9);
SELECT :R FROM engine.place_order(403, 'M18_M0', 'buy', 5, 3);
SELECT * FROM engine.balances(403) ORDER BY asset;
SELECT :R FROM engine.place_order(404, 'M18_M0', 'sell', 5, 2);
SELECT :T FROM engine.trades_v WHERE symbol = 'M18_M0' ORDER BY trade_id;
SELECT * FROM engine.balances(403) ORDER BY asset;
SELECT * FROM engine.balances(404) ORDER BY asset;
-- The smallest lot: one unit of M18 at 1 M0 is worth floor(1e-18) = 0 M0,
-- less than one quote unit: malformed (an ERROR), nothing logged, no order.
SELECT * FROM try($$SELECT engine.place_order(404, 'M18_M0', 'sell', 0.000000000000000001, 1)$$);
SELECT * FROM engine.depth('M18_M0');
-- A level's total is a 128-bit sum: two bids of 5 M18 at 1 M0 (each worth
-- and locking 5 M0) rest 1e19 units, more than int64 holds.
SELECT :R FROM engine.place_order(403, 'M18_M0', 'buy', 5, 1);
SELECT :R FROM engine.place_order(403, 'M18_M0', 'buy', 5, 1);
SELECT * FROM engine.depth('M18_M0');
SELECT engine.cancel_all(403, 'M18_M0') AS canceled;

-- An order whose quote value does not fit int64 units is malformed:
-- 9 M18 @ 2e18 M0 is worth 1.8e19 M0.  Nothing is logged.
SELECT cmd, r.* FROM (VALUES
	($$SELECT engine.place_order(403, 'M18_M0', 'buy', 9, 2000000000000000000)$$),
	($$SELECT engine.place_order(404, 'M18_M0', 'sell', 9, 2000000000000000000)$$),
	($$SELECT engine.place_order(403, 'M18_M0', 'buy', 9.223372036854775808, 1)$$),
	($$SELECT engine.place_order(403, 'M18_M0', 'buy', 1, 9223372036854775808)$$)
) AS t(cmd), LATERAL try(cmd) AS r;
-- The largest price that fits is fine (and refused for funds).
SELECT :R FROM engine.place_order(403, 'M18_M0', 'buy', 1, 9223372036854775807);
SELECT * FROM engine.balances(403) ORDER BY asset;

SELECT b.asset, sum(b.available + b.frozen) AS total
  FROM (SELECT u FROM generate_series(0, 404) u) users,
       LATERAL engine.balances(users.u) b
 WHERE b.asset IN ('MA', 'MQ', 'M18', 'M0')
 GROUP BY b.asset ORDER BY b.asset;

SELECT * FROM engine_ok;
