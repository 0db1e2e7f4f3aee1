--
-- 16_market_data: engine.candles, engine.ticker, engine.recent_trades.
--
-- Candles are pinned on trades of chosen timestamps: inside a transaction
-- that is rolled back, rows go straight into engine.trades (negative
-- trade_ids and seqs, which the engine never uses) for symbol MDA_MDQ,
-- which never trades for real.  Buckets are aligned to UTC whatever the
-- session's time zone; amounts are at the assets' scales (MDA 8 decimals,
-- MDQ 2).  The ticker's 24-hour window is relative to now(), the
-- transaction's start, so it is pinned the same way; its best bid and ask
-- come from the live book.  recent_trades and a second ticker run on real
-- trades of symbol MDB_MDQ.
--
-- Users 1401..1403.
--
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
SELECT coalesce(max(trade_id), 0) AS t0 FROM engine.trades \gset

SELECT engine.create_asset('MDA', 8) > 0 AS ok;
SELECT engine.create_asset('MDB', 8) > 0 AS ok;
SELECT engine.create_asset('MDQ', 2) > 0 AS ok;
SELECT engine.create_symbol('MDA_MDQ', 'MDA', 'MDQ', 0.01, 0.01) > 0 AS ok;
SELECT engine.create_symbol('MDB_MDQ', 'MDB', 'MDQ', 0.01, 0.01) > 0 AS ok;
SELECT status FROM engine.deposit(1401, 'MDA', 10);
SELECT status FROM engine.deposit(1401, 'MDB', 10);
SELECT status FROM engine.deposit(1402, 'MDQ', 100000);
-- A live MDA_MDQ book that does not cross: bid 2 @ 95.50, ask 1.5 @ 96.25.
SELECT status FROM engine.place_order(1402, 'MDA_MDQ', 'buy', 2, 95.50);
SELECT status FROM engine.place_order(1401, 'MDA_MDQ', 'sell', 1.5, 96.25);
SELECT status FROM engine.place_order(1401, 'MDA_MDQ', 'sell', 3, 97);

SET TIME ZONE 'UTC';
BEGIN;
SELECT symbol_id AS mda FROM engine.symbols WHERE symbol = 'MDA_MDQ' \gset
-- trade k: id -1000 + k (ids increase with k); price and quote in MDQ
-- cents, qty in MDA units (1e-8).
INSERT INTO engine.trades (trade_id, seq, symbol_id, price, qty, quote_qty, taker_side,
                           taker_order_id, taker_user_id, maker_order_id, maker_user_id,
                           taker_fee, maker_fee, ts)
SELECT -1000 + k, -1000 + k, :mda, price, qty, price::bigint * qty / 100000000, 'buy', 1, 1401, 2, 1402, 0, 0, ts
  FROM (VALUES
	( 1, 10000, 100000000, timestamptz '2024-03-10 09:59:59.999999+00'),
	( 2, 10100,  50000000, '2024-03-10 10:00:00+00'),
	( 3,  9950,  20000000, '2024-03-10 10:00:30+00'),
	( 4, 10050,  10000000, '2024-03-10 10:00:59.999999+00'),
	( 5, 10200, 100000000, '2024-03-10 10:01:00+00'),
	( 6,  9800, 200000000, '2024-03-10 10:07:00+00'),
	( 7,  9700, 100000000, '2024-03-10 13:59:00+00'),
	( 8,  9600, 100000000, '2024-03-10 14:00:00+00'),
	( 9, 11000, 100000000, '2024-03-11 00:00:00+00'),
	-- two trades of one batch (same ts): trade_id orders them
	(10, 11100,  10000000, '2024-03-11 00:30:00+00'),
	(11, 11200,  10000000, '2024-03-11 00:30:00+00')) AS v(k, price, qty, ts);

-- 1m over [10:00, 10:02): the trade at 09:59:59.999999 is out; t2..t4 in
-- the 10:00 candle, opening with t2 and closing with t4.
SELECT * FROM engine.candles('MDA_MDQ', '1m', '2024-03-10 10:00:00+00', '2024-03-10 10:02:00+00');
-- from rounds down to its bucket and to up to its bucket's end: the same.
SELECT * FROM engine.candles('MDA_MDQ', '1m', '2024-03-10 10:00:30+00', '2024-03-10 10:01:00.000001+00');
-- to is exclusive at a boundary: [10:00, 10:01) is the 10:00 candle alone.
SELECT * FROM engine.candles('MDA_MDQ', '1m', '2024-03-10 10:00:00+00', '2024-03-10 10:01:00+00');
SELECT * FROM engine.candles('MDA_MDQ', '5m', '2024-03-10 09:55:00+00', '2024-03-10 10:10:00+00');
SELECT * FROM engine.candles('MDA_MDQ', '15m', '2024-03-10 09:00:00+00', '2024-03-10 11:00:00+00');
SELECT * FROM engine.candles('MDA_MDQ', '1h', '2024-03-10 00:00:00+00', '2024-03-11 00:00:00+00');
-- 4h buckets start at 00, 04, ..., 20 UTC: 13:59 and 14:00 share 12:00.
SELECT * FROM engine.candles('MDA_MDQ', '4h', '2024-03-10 00:00:00+00', '2024-03-12 00:00:00+00');
-- 1d buckets start at 00:00 UTC; the last two trades share a timestamp,
-- trade_id says which opened and which closed.
SELECT * FROM engine.candles('MDA_MDQ', '1d', '2024-03-01 00:00:00+00', '2024-04-01 00:00:00+00');
-- The same day candles in another session time zone: still 00:00 UTC.
SET LOCAL TIME ZONE 'America/New_York';
SELECT open_time, open_time AT TIME ZONE 'UTC' AS open_time_utc, close, trades
  FROM engine.candles('MDA_MDQ', '1d', '2024-03-01 00:00:00+00', '2024-04-01 00:00:00+00');
SET LOCAL TIME ZONE 'UTC';
-- A window without trades: no rows.
SELECT count(*) FROM engine.candles('MDA_MDQ', '1m', '2024-03-10 10:02:00+00', '2024-03-10 10:07:00+00');

-- Malformed input.
SELECT try($$SELECT * FROM engine.candles('MDA_MDQ', '2m', now() - interval '1 day', now())$$);
SELECT try($$SELECT * FROM engine.candles('MDA_MDQ', '1m', '2024-03-10 10:00+00', '2024-03-10 09:00+00')$$);
SELECT try($$SELECT * FROM engine.candles('MDA_MDQ', '1m', NULL, now())$$);
SELECT try($$SELECT * FROM engine.candles('MDA_MDQ', NULL, now() - interval '1 day', now())$$);
SELECT try($$SELECT * FROM engine.candles('NO_SUCH', '1m', now() - interval '1 day', now())$$);
SELECT try($$SELECT * FROM engine.candles(NULL, '1m', now() - interval '1 day', now())$$);
ROLLBACK;

-- Ticker: the window is (now() - 24 h, ...], now() being the transaction's
-- start.  A trade 25 hours old is outside (but would be "last" if it were
-- the newest); the window opens at 120.00, and its last trade is 98.00.
BEGIN;
SELECT symbol_id AS mda FROM engine.symbols WHERE symbol = 'MDA_MDQ' \gset
INSERT INTO engine.trades (trade_id, seq, symbol_id, price, qty, quote_qty, taker_side,
                           taker_order_id, taker_user_id, maker_order_id, maker_user_id,
                           taker_fee, maker_fee, ts)
SELECT -1000 + k, -1000 + k, :mda, price, qty, price::bigint * qty / 100000000, 'sell', 1, 1401, 2, 1402, 0, 0,
       now() - age
  FROM (VALUES
	(1,  5000, 100000000, interval '25 hours'),
	(2, 12000,  50000000, interval '23 hours'),
	(3, 13000,  25000000, interval '1 hour'),
	(4,  9000, 100000000, interval '10 minutes'),
	(5,  9800,  10000000, interval '1 minute')) AS v(k, price, qty, age);
SELECT open, high, low, last, volume, quote_volume, trades, best_bid, best_bid_qty,
       best_ask, best_ask_qty, window_start = now() - interval '24 hours' AS window_24h
  FROM engine.ticker('MDA_MDQ');
-- Nothing in the window: open/high/low NULL, volume 0; last is the old trade.
DELETE FROM engine.trades WHERE trade_id BETWEEN -999 AND -995 AND trade_id <> -999;
SELECT open, high, low, last, volume, quote_volume, trades FROM engine.ticker('MDA_MDQ');
ROLLBACK;
-- Never traded: no last either.
SELECT open, high, low, last, volume, quote_volume, trades, best_bid, best_ask
  FROM engine.ticker('MDA_MDQ');
SELECT try($$SELECT * FROM engine.ticker('NO_SUCH')$$);

-- Real trades on MDB_MDQ: 1401 rests three asks, 1402 buys through two
-- of them in one order and the third in another.
SELECT status FROM engine.place_order(1401, 'MDB_MDQ', 'sell', 1, 50);
SELECT status FROM engine.place_order(1401, 'MDB_MDQ', 'sell', 2, 51);
SELECT status FROM engine.place_order(1401, 'MDB_MDQ', 'sell', 0.5, 52.25);
SELECT status, trades FROM engine.place_order(1402, 'MDB_MDQ', 'buy', 2, 51);
SELECT status, trades FROM engine.place_order(1402, 'MDB_MDQ', 'buy', 1.5, 52.25);
-- Newest first (trade_id breaks ties within a batch).
SELECT trade_id - :t0 AS tid, price, qty, quote_qty, taker_side
  FROM engine.recent_trades('MDB_MDQ', 10);
SELECT trade_id - :t0 AS tid, price FROM engine.recent_trades('MDB_MDQ', 2);
SELECT count(*) FROM engine.recent_trades('MDB_MDQ');
SELECT try($$SELECT * FROM engine.recent_trades('MDB_MDQ', 0)$$);
SELECT try($$SELECT * FROM engine.recent_trades('MDB_MDQ', 1001)$$);
SELECT try($$SELECT * FROM engine.recent_trades('MDB_MDQ', NULL)$$);
SELECT count(*) FROM engine.recent_trades('MDB_MDQ', 1000);
-- The ticker over them: all within 24 hours; the book is empty on the ask
-- side and has no bids.
SELECT open, high, low, last, volume, quote_volume, trades, best_bid, best_ask
  FROM engine.ticker('MDB_MDQ');
-- Their candles, whatever minute they fell in: the volumes add up.
SELECT sum(volume) AS volume, sum(quote_volume) AS quote_volume, sum(trades) AS trades,
       min(low) AS low, max(high) AS high
  FROM engine.candles('MDB_MDQ', '1m', now() - interval '1 hour', now() + interval '1 hour');
RESET TIME ZONE;

SELECT * FROM engine_ok;
