--
-- 13_order_rules: the rules of release 1.1 through SQL, each at its limit.
--
--   * Every limit order is worth at least one quote unit, and at least the
--     symbol's min_notional (create_symbol's last argument, whole quote
--     units): below that it is an ERROR (22023) and nothing is logged.
--   * engine.max_open_orders (10 in this instance, test/engine.conf): an
--     order whose remainder would rest beyond the user's limit, over all
--     symbols, is rejected with reason open_orders_limit before it trades;
--     an order that never rests is not; a cancel frees a place.  The limit
--     in force is stamped into each PLACE record by the worker.
--
-- Users 1301..1312.  NB (8 decimals) / NQ (2 decimals): NB_NQ, tick 0.01,
-- lot 0.00000001 (the issue's smallest failing input); NB_NQ10, the same
-- with min_notional 10.
--
SELECT seq AS s0 FROM last_seq \gset
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
\set R 'order_id - ' :o0 ' AS oid, status, filled_qty, remaining_qty, avg_price, trades, reason'

SELECT engine.create_asset('NB', 8) > 0 AS ok;
SELECT engine.create_asset('NQ', 2) > 0 AS ok;
SELECT engine.create_symbol('NB_NQ', 'NB', 'NQ', 0.01, 0.00000001) > 0 AS ok;
SELECT engine.create_symbol('NB_NQ10', 'NB', 'NQ', 0.01, 0.00000001, min_notional => 10) > 0 AS ok;
-- min_notional is kept in quote units (NULL: 0, none beyond one unit).
SELECT symbol, tick_size, lot_size, min_qty, min_notional FROM engine.symbols
 WHERE symbol LIKE 'NB_NQ%' ORDER BY symbol;
SELECT decoded->>'name' AS name, decoded->'min_notional' AS min_notional
  FROM engine.command_log_decoded WHERE seq > :s0 AND rectype = 'CREATE_SYMBOL' ORDER BY seq;
-- Malformed min_notional: an ERROR, nothing logged.
SELECT cmd, r.* FROM (VALUES
	($$SELECT engine.create_symbol('NB_NQX', 'NB', 'NQ', 0.01, 0.00000001, min_notional => -0.01)$$),
	($$SELECT engine.create_symbol('NB_NQX', 'NB', 'NQ', 0.01, 0.00000001, min_notional => 0.001)$$),
	($$SELECT engine.create_symbol('NB_NQX', 'NB', 'NQ', 0.01, 0.00000001, min_notional => 'NaN')$$),
	($$SELECT engine.create_symbol('NB_NQX', 'NB', 'NQ', 0.01, 0.00000001, min_notional => 100000000000000000)$$)
) AS t(cmd), LATERAL try(cmd) AS r;

------------------------------------------------------------ order value

-- The issue's smallest failing input: a resting sell of 1 NB at 30000.00;
-- 1302 holds no NQ.  A buy of 0.00000033 at 30000.00 is worth
-- floor(30000.00 x 0.00000033) = 0.00 NQ: an ERROR, nothing logged, no
-- trade.  0.00000034 is worth 0.01, exactly one unit: accepted (and
-- refused for funds, which is a market refusal, logged).
SELECT asset, available, frozen, status FROM engine.deposit(1301, 'NB', 2);
SELECT :R FROM engine.place_order(1301, 'NB_NQ', 'sell', 1, 30000.00);
SELECT seq AS s1 FROM last_seq \gset
SELECT * FROM try($$SELECT engine.place_order(1302, 'NB_NQ', 'buy', 0.00000033, 30000.00)$$);
SELECT seq - :s1 AS new_log_rows FROM last_seq;
SELECT :R FROM engine.place_order(1302, 'NB_NQ', 'buy', 0.00000034, 30000.00);
-- With 0.01 NQ, 1303 buys exactly one unit's worth, and pays 0.01.
SELECT asset, available, frozen, status FROM engine.deposit(1303, 'NQ', 0.01);
SELECT :R FROM engine.place_order(1303, 'NB_NQ', 'buy', 0.00000034, 30000.00);
SELECT price, qty, quote_qty FROM engine.trades_v WHERE seq > :s1 ORDER BY trade_id;
SELECT * FROM engine.balances(1303) ORDER BY asset;

-- min_notional 10 on NB_NQ10: 0.1 at 100.00 is worth exactly 10.00 and
-- rests; 0.09999999 at 100.00 is worth 9.99, one unit below: an ERROR.  An
-- amend is held to the same minimum, for its new price or quantity.
SELECT asset, available, frozen, status FROM engine.deposit(1304, 'NQ', 1000);
SELECT seq AS s2 FROM last_seq \gset
SELECT cmd, r.* FROM (VALUES
	($$SELECT engine.place_order(1304, 'NB_NQ10', 'buy', 0.09999999, 100.00)$$),
	($$SELECT engine.place_order(1304, 'NB_NQ10', 'buy', 0.1, 99.99)$$)
) AS t(cmd), LATERAL try(cmd) AS r;
SELECT :R FROM engine.place_order(1304, 'NB_NQ10', 'buy', 0.1, 100.00);
SELECT cmd, r.* FROM (VALUES
	($$SELECT engine.amend_order(1304, :oid, qty => 0.09999999)$$),
	($$SELECT engine.amend_order(1304, :oid, price => 99.99)$$)
) AS t(cmd), LATERAL try(replace(cmd, ':oid', (:o0 + 4)::text)) AS r;
SELECT :R FROM engine.amend_order(1304, :o0 + 4, price => 100.01);
SELECT seq - :s2 AS new_log_rows FROM last_seq;
-- A market order has no price and no value to check.
SELECT :R FROM engine.place_order(1304, 'NB_NQ10', 'buy', NULL, quote_qty => 0.01);
SELECT engine.cancel_all(1304) AS canceled;

------------------------------------------------------------ open orders per user

SELECT current_setting('engine.max_open_orders') AS max_open_orders;
SELECT asset, available, frozen, status FROM engine.deposit(1311, 'NQ', 10000);
SELECT asset, available, frozen, status FROM engine.deposit(1312, 'NB', 1);
SELECT coalesce(max(order_id), 0) AS o1 FROM engine.order_events \gset
\set R 'order_id - ' :o1 ' AS oid, status, filled_qty, remaining_qty, trades, reason'
-- 1311's tenth resting order, over two symbols, rests; the eleventh is
-- refused (logged, with an order id, no trade), on either symbol.
SELECT count(*) FILTER (WHERE r.status = 'new') AS rested, count(*) AS placed
  FROM generate_series(1, 9) i,
       LATERAL engine.place_order(1311, 'NB_NQ', 'buy', 0.001, 100 + i) r;
SELECT :R FROM engine.place_order(1311, 'NB_NQ10', 'buy', 0.1, 100);
SELECT :R FROM engine.place_order(1311, 'NB_NQ', 'buy', 0.001, 90);
SELECT :R FROM engine.place_order(1311, 'NB_NQ10', 'buy', 0.1, 100, post_only => true);
SELECT count(*) AS open_orders FROM engine.open_orders(1311);
SELECT decoded->'max_open_orders' AS stamped, count(*)
  FROM engine.command_log_decoded WHERE seq > :s0 AND rectype = 'PLACE' GROUP BY 1;
-- An order that never rests needs no place: an ioc that finds nothing
-- expires, a gtc that fills completely trades.  One whose remainder would
-- rest is refused before it trades.
SELECT :R FROM engine.place_order(1311, 'NB_NQ', 'buy', 0.001, 90, tif => 'ioc');
SELECT :R FROM engine.place_order(1312, 'NB_NQ', 'sell', 0.002, 120);
SELECT :R FROM engine.place_order(1311, 'NB_NQ', 'buy', 0.003, 120);
SELECT :R FROM engine.place_order(1311, 'NB_NQ', 'buy', 0.002, 120);
SELECT count(*) AS open_orders FROM engine.open_orders(1311);
-- An amend needs no place.  A cancel frees one: the next order rests.
SELECT :R FROM engine.amend_order(1311, :o1 + 1, qty => 0.002);
SELECT :R FROM engine.cancel_order(1311, :o1 + 1);
SELECT :R FROM engine.place_order(1311, 'NB_NQ', 'buy', 0.001, 90);
SELECT :R FROM engine.place_order(1311, 'NB_NQ', 'buy', 0.001, 91);
SELECT count(*) AS open_orders FROM engine.open_orders(1311);
SELECT engine.cancel_all(1311) AS canceled;
SELECT * FROM engine_ok;
