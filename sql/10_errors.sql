--
-- 10_errors: every class of malformed input to the order functions and the
-- reads, with its SQLSTATE and exact message; none of them logs anything
-- or creates an order.  (Reference data and funds: 01_refdata, 02_funds;
-- amend: 08_amend.)
--
-- User 1001.  EBTC_EUSD: EBTC 8 decimals, EUSD 2, tick 0.05, lot 0.001,
-- min_qty 0.01.
--
SELECT engine.create_asset('EBTC', 8) > 0 AS ok;
SELECT engine.create_asset('EUSD', 2) > 0 AS ok;
SELECT engine.create_symbol('EBTC_EUSD', 'EBTC', 'EUSD', 0.05, 0.001, min_qty => 0.01) > 0 AS ok;
SELECT asset, available, frozen, status FROM engine.deposit(1001, 'EUSD', 1000);
SELECT asset, available, frozen, status FROM engine.deposit(1001, 'EBTC', 1);
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
SELECT seq AS s0 FROM last_seq \gset

-- place_order
SELECT cmd, r.* FROM (VALUES
	-- a well-formed order, for comparison: it is placed and logged
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10)$$),
	-- user_id
	($$SELECT engine.place_order(NULL, 'EBTC_EUSD', 'buy', 0.01, 10)$$),
	($$SELECT engine.place_order(0, 'EBTC_EUSD', 'buy', 0.01, 10)$$),
	($$SELECT engine.place_order(-1, 'EBTC_EUSD', 'buy', 0.01, 10)$$),
	-- symbol
	($$SELECT engine.place_order(1001, NULL, 'buy', 0.01, 10)$$),
	($$SELECT engine.place_order(1001, 'NOPE', 'buy', 0.01, 10)$$),
	($$SELECT engine.place_order(1001, 'ebtc_eusd', 'buy', 0.01, 10)$$),
	($$SELECT engine.place_order(1001, '', 'buy', 0.01, 10)$$),
	-- side
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', NULL, 0.01, 10)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'BUY', 0.01, 10)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'bid', 0.01, 10)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', '', 0.01, 10)$$),
	-- qty
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', NULL, 10)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'sell', NULL)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', NULL)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0, 10)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', -0.01, 10)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.010000001, 10)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.0105, 10)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.009, 10)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'sell', 0.009)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 100000000000, 10)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 'NaN', 10)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 'Infinity', 10)$$),
	-- price
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 0)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, -10)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10.001)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10.01)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 100000000000000000)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 'NaN')$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 2, 92233720368547758.05)$$),
	-- tif
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, NULL)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, 'GTC')$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, 'day')$$),
	-- post_only
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, post_only => NULL)$$),
	-- client_order_id
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, client_order_id => '')$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, client_order_id => 'two words')$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, client_order_id => 'a"b')$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, client_order_id => 'a\b')$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, client_order_id => repeat('x', 37))$$),
	-- stp
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, stp => NULL)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, stp => 'cancel')$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, stp => 'CANCEL_MAKER')$$),
	-- market orders: no post_only, no fok
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, post_only => true)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'sell', 0.01, post_only => true)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, tif => 'fok')$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'sell', 0.01, tif => 'fok')$$),
	-- quote_qty: only on a market buy
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', 0.01, 10, quote_qty => 5)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'sell', 0.01, 10, quote_qty => 5)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'sell', 0.01, quote_qty => 5)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', NULL, quote_qty => 0)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', NULL, quote_qty => -5)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', NULL, quote_qty => 5.001)$$),
	($$SELECT engine.place_order(1001, 'EBTC_EUSD', 'buy', NULL, quote_qty => 100000000000000000)$$)
) AS t(cmd), LATERAL try(cmd) AS r;
-- Only the well-formed order was logged and created.
SELECT seq - :s0 AS new_log_rows FROM last_seq;
SELECT count(*) AS new_orders FROM engine.order_events WHERE order_id > :o0;
SELECT * FROM engine.balances(1001) ORDER BY asset;
SELECT seq AS s1 FROM last_seq \gset

-- cancel_order, cancel_all
SELECT cmd, r.* FROM (VALUES
	($$SELECT engine.cancel_order(NULL, :oid)$$),
	($$SELECT engine.cancel_order(0, :oid)$$),
	($$SELECT engine.cancel_order(-1001, :oid)$$),
	($$SELECT engine.cancel_order(1001, NULL::bigint)$$),
	($$SELECT engine.cancel_order(1001, 0)$$),
	($$SELECT engine.cancel_order(1001, -1)$$),
	($$SELECT engine.cancel_order(NULL, 'x')$$),
	($$SELECT engine.cancel_order(0, 'x')$$),
	($$SELECT engine.cancel_order(1001, NULL::text)$$),
	($$SELECT engine.cancel_order(1001, '')$$),
	($$SELECT engine.cancel_order(1001, 'a b')$$),
	($$SELECT engine.cancel_order(1001, repeat('x', 37))$$),
	($$SELECT engine.cancel_all(NULL)$$),
	($$SELECT engine.cancel_all(0)$$),
	($$SELECT engine.cancel_all(-1)$$),
	($$SELECT engine.cancel_all(1001, 'NOPE')$$)
) AS t(cmd), LATERAL try(replace(cmd, ':oid', (:o0 + 1)::text)) AS r;

-- reads
SELECT cmd, r.* FROM (VALUES
	($$SELECT * FROM engine.open_orders(NULL)$$),
	($$SELECT * FROM engine.open_orders(-1)$$),
	($$SELECT * FROM engine.open_orders(1001, 'NOPE')$$),
	($$SELECT * FROM engine.order(NULL)$$),
	($$SELECT * FROM engine.depth(NULL)$$),
	($$SELECT * FROM engine.depth('NOPE')$$),
	($$SELECT * FROM engine.depth('EBTC_EUSD', NULL)$$),
	($$SELECT * FROM engine.depth('EBTC_EUSD', 0)$$),
	($$SELECT * FROM engine.depth('EBTC_EUSD', -1)$$)
) AS t(cmd), LATERAL try(cmd) AS r;
SELECT seq - :s1 AS new_log_rows FROM last_seq;
-- Unknown ids are not errors for the reads: no row.
SELECT count(*) AS rows FROM engine.order(0);
SELECT count(*) AS rows FROM engine.order(-1);
SELECT count(*) AS rows FROM engine.open_orders(999999);
SELECT count(*) AS rows FROM engine.balances(999999);

-- The order placed above is the only one of user 1001.
SELECT order_id - :o0 AS oid, symbol, side, price, qty, status FROM engine.open_orders(1001);
SELECT engine.cancel_all(1001);
SELECT * FROM engine.balances(1001) ORDER BY asset;
SELECT * FROM engine_ok;
