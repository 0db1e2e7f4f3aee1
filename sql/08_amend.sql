--
-- 08_amend: engine.amend_order both ways: lowering qty keeps queue
-- priority; raising qty or changing price is cancel-and-replace under the
-- same order_id (back of the queue, may trade at once, locks anew, refused
-- when funds are short); post-only and stp survive an amend; only the
-- owner's resting orders can be amended.
--
-- Users 801..804.  ABTC_AUSD: ABTC 8 decimals, AUSD 2, tick 1, lot 0.1,
-- min_qty 0.5, no fees.
--
SELECT seq AS s0 FROM last_seq \gset
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
SELECT coalesce(max(trade_id), 0) AS t0 FROM engine.trades \gset
\set R 'order_id - ' :o0 ' AS oid, client_order_id, status, filled_qty, remaining_qty, avg_price, trades, reason'
\set T 'trade_id - ' :t0 ' AS tid, price, qty, taker_side, taker_order_id - ' :o0 ' AS taker_oid, taker_user_id AS taker, maker_order_id - ' :o0 ' AS maker_oid, maker_user_id AS maker'
\set E 'seq - ' :s0 ' AS seq, ev_no, order_id - ' :o0 ' AS oid, user_id, side, event, price, qty, filled_qty, remaining_qty, reason, client_order_id'
\set O 'order_id - ' :o0 ' AS oid, client_order_id, side, price, qty, remaining_qty, status'

SELECT engine.create_asset('ABTC', 8) > 0 AS ok;
SELECT engine.create_asset('AUSD', 2) > 0 AS ok;
SELECT engine.create_symbol('ABTC_AUSD', 'ABTC', 'AUSD', 1, 0.1, min_qty => 0.5) > 0 AS ok;
SELECT asset, available, frozen, status FROM engine.deposit(801, 'AUSD', 1000);
SELECT asset, available, frozen, status FROM engine.deposit(802, 'AUSD', 1000);
SELECT asset, available, frozen, status FROM engine.deposit(802, 'ABTC', 10);
SELECT asset, available, frozen, status FROM engine.deposit(803, 'AUSD', 100);
SELECT asset, available, frozen, status FROM engine.deposit(804, 'ABTC', 10);

-- Bids at 100: 801's o1 2 (first), 802's o2 1.
SELECT :R FROM engine.place_order(801, 'ABTC_AUSD', 'buy', 2, 100, client_order_id => 'a-1');
SELECT :R FROM engine.place_order(802, 'ABTC_AUSD', 'buy', 1, 100);

-- Lowering qty keeps o1 first in the queue and releases 100.00.
SELECT seq AS s1 FROM last_seq \gset
SELECT :R FROM engine.amend_order(801, :o0 + 1, qty => 1);
SELECT :E FROM engine.order_events_v WHERE seq > :s1 ORDER BY seq, ev_no;
SELECT * FROM engine.balances(801) ORDER BY asset;
SELECT :O FROM engine.open_orders(801);
-- A sell 0.5 @ 100 still meets o1 first.
SELECT :R FROM engine.place_order(804, 'ABTC_AUSD', 'sell', 0.5, 100);
SELECT :T FROM engine.trades_v WHERE trade_id > :t0 ORDER BY trade_id;
-- qty is the new remaining quantity; min_qty does not apply to amends.
SELECT :R FROM engine.amend_order(801, :o0 + 1, 0.2);
SELECT order_id - :o0 AS oid, client_order_id, price, qty, filled_qty, remaining_qty, status FROM engine.order(:o0 + 1);
SELECT * FROM engine.balances(801) ORDER BY asset;

-- Raising qty sends o1 to the back of the queue: the next sell meets o2.
SELECT :R FROM engine.amend_order(801, :o0 + 1, qty => 1);
SELECT * FROM engine.balances(801) ORDER BY asset;
SELECT seq AS s2 FROM last_seq \gset
SELECT :R FROM engine.place_order(804, 'ABTC_AUSD', 'sell', 0.5, 100);
SELECT :T FROM engine.trades_v WHERE seq > :s2 ORDER BY trade_id;
SELECT * FROM engine.depth('ABTC_AUSD');

-- Changing the price may trade at once: with an ask 1 @ 105 (o5), o1
-- amended to 105 takes it and is filled.  avg_price covers the whole life:
-- (0.5 x 100 + 1 x 105) / 1.5 = 103.33.
SELECT :R FROM engine.place_order(804, 'ABTC_AUSD', 'sell', 1, 105);
SELECT seq AS s3 FROM last_seq \gset
SELECT :R FROM engine.amend_order(801, :o0 + 1, price => 105);
SELECT :T FROM engine.trades_v WHERE seq > :s3 ORDER BY trade_id;
SELECT :E FROM engine.order_events_v WHERE seq > :s3 ORDER BY seq, ev_no;
SELECT order_id - :o0 AS oid, client_order_id, price, qty, filled_qty, remaining_qty, status FROM engine.order(:o0 + 1);
SELECT * FROM engine.balances(801) ORDER BY asset;
-- A finished order cannot be amended; nothing is logged.
SELECT seq AS s4 FROM last_seq \gset
SELECT :R FROM engine.amend_order(801, :o0 + 1, qty => 1);
SELECT seq - :s4 AS new_log_rows FROM last_seq;

-- Funds: 803 has 100.00; o6 buys 0.5 @ 100 (50.00 locked).  A replacement
-- needing more than available + its own lock is refused and the order stays
-- exactly as it was; one needing exactly that much is fine.
SELECT :R FROM engine.place_order(803, 'ABTC_AUSD', 'buy', 0.5, 100);
SELECT :R FROM engine.amend_order(803, :o0 + 6, qty => 1.1);
SELECT :R FROM engine.amend_order(803, :o0 + 6, price => 201);
SELECT :O FROM engine.open_orders(803);
SELECT * FROM engine.balances(803) ORDER BY asset;
SELECT :R FROM engine.amend_order(803, :o0 + 6, qty => 1, price => 100);
SELECT :O FROM engine.open_orders(803);
SELECT * FROM engine.balances(803) ORDER BY asset;

-- Only the owner: 801 cannot amend 803's order, nor an unknown one;
-- nothing is logged and the order is unchanged.
SELECT seq AS s5 FROM last_seq \gset
SELECT :R FROM engine.amend_order(801, :o0 + 6, qty => 0.5);
SELECT :R FROM engine.amend_order(801, :o0 + 100000, price => 99);
SELECT seq - :s5 AS new_log_rows FROM last_seq;
SELECT :O FROM engine.open_orders(803);

-- post_only survives an amend: 802's post-only ask o7 1 @ 110 amended to
-- cross the bids at 100 is refused and stays; to 101 it moves.  The
-- answers carry its client_order_id.
SELECT :R FROM engine.place_order(802, 'ABTC_AUSD', 'sell', 1, 110, post_only => true, client_order_id => 'po-7');
SELECT :R FROM engine.amend_order(802, :o0 + 7, price => 100);
SELECT :O FROM engine.open_orders(802);
SELECT :R FROM engine.amend_order(802, :o0 + 7, price => 101);
-- Lowering a sell's qty releases base.
SELECT :R FROM engine.amend_order(802, :o0 + 7, qty => 0.6);
SELECT :O FROM engine.open_orders(802);
SELECT * FROM engine.balances(802) ORDER BY asset;
-- The same qty and price again changes nothing.
SELECT :R FROM engine.amend_order(802, :o0 + 7, qty => 0.6, price => 101);
SELECT :O FROM engine.open_orders(802);

-- stp survives an amend: 802's o8 (sell 0.5 @ 120, cancel_maker) amended to
-- 100 cancels 802's own bid o2 and takes 803's o6.
SELECT * FROM engine.depth('ABTC_AUSD');
SELECT :R FROM engine.place_order(802, 'ABTC_AUSD', 'sell', 0.5, 120, stp => 'cancel_maker');
SELECT seq AS s6 FROM last_seq \gset
SELECT :R FROM engine.amend_order(802, :o0 + 8, price => 100);
SELECT :T FROM engine.trades_v WHERE seq > :s6 ORDER BY trade_id;
SELECT :E FROM engine.order_events_v WHERE seq > :s6 ORDER BY seq, ev_no;
SELECT * FROM engine.depth('ABTC_AUSD');

-- A refused amend of a partly filled order: o6 (filled 0.5, 0.5 left,
-- 50.00 locked, nothing available) cannot grow to 1.  The answer shows the
-- order as it still is.
SELECT :R FROM engine.amend_order(803, :o0 + 6, qty => 1);
SELECT order_id - :o0 AS oid, price, qty, filled_qty, remaining_qty, status FROM engine.order(:o0 + 6);
SELECT * FROM engine.balances(803) ORDER BY asset;

-- Malformed amends: an ERROR, nothing logged (":oid" below is o6).
SELECT cmd, r.* FROM (VALUES
	($$SELECT engine.amend_order(803, :oid)$$),
	($$SELECT engine.amend_order(803, :oid, NULL, NULL)$$),
	($$SELECT engine.amend_order(803, :oid, qty => 0)$$),
	($$SELECT engine.amend_order(803, :oid, qty => -0.5)$$),
	($$SELECT engine.amend_order(803, :oid, qty => 0.55)$$),
	($$SELECT engine.amend_order(803, :oid, qty => 0.000000001)$$),
	($$SELECT engine.amend_order(803, :oid, qty => 100000000000)$$),
	($$SELECT engine.amend_order(803, :oid, price => 0)$$),
	($$SELECT engine.amend_order(803, :oid, price => -100)$$),
	($$SELECT engine.amend_order(803, :oid, price => 100.5)$$),
	($$SELECT engine.amend_order(803, :oid, price => 100.001)$$),
	($$SELECT engine.amend_order(803, :oid, price => 'NaN')$$),
	($$SELECT engine.amend_order(803, :oid, qty => 2, price => 92233720368547758)$$),
	($$SELECT engine.amend_order(803, NULL, qty => 1)$$),
	($$SELECT engine.amend_order(803, 0, qty => 1)$$),
	($$SELECT engine.amend_order(803, -1, qty => 1)$$),
	($$SELECT engine.amend_order(NULL, :oid, qty => 1)$$),
	($$SELECT engine.amend_order(0, :oid, qty => 1)$$),
	($$SELECT engine.amend_order(-803, :oid, qty => 1)$$)
) AS t(cmd), LATERAL try(replace(cmd, ':oid', (:o0 + 6)::text)) AS r;
SELECT :O FROM engine.open_orders(803);

SELECT engine.cancel_all(802) AS canceled_802, engine.cancel_all(803) AS canceled_803,
       engine.cancel_all(804) AS canceled_804;
SELECT u AS user_id, b.* FROM generate_series(801, 804) u, LATERAL engine.balances(u) b ORDER BY u, b.asset;
SELECT * FROM engine_ok;
