--
-- 14_refusals: input and answers.
--
--   * A malformed argument of amend_order is an ERROR whatever the order:
--     the caller's own, another user's, or an id nobody has (its shape is
--     checked before any lookup).
--   * A cancel or amend of an order that is not one of the caller's
--     resting orders is refused without consuming a seq: nothing is logged
--     (doc/semantics.md, "Cancel and amend").  The answer is in the units
--     of the order it names: for one of the caller's finished orders its
--     figures at its symbol's scale, for any other id NULL quantities.
--   * A retried client_order_id answers in the units of its original
--     order, whatever symbol the retry names.
--   * Error messages quote at most 64 bytes of any argument.
--
-- Users 1401 and 1402.  RB12 (12 decimals), RB8 (8), RQ (2): RB12_RQ (tick
-- 0.01, lot 0.000000001) and RB8_RQ (tick 0.01, lot 0.00000001).
--
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
\set R 'order_id - ' :o0 ' AS oid, client_order_id, status, filled_qty, remaining_qty, avg_price, trades, reason'

SELECT engine.create_asset('RB12', 12) > 0 AS ok;
SELECT engine.create_asset('RB8', 8) > 0 AS ok;
SELECT engine.create_asset('RQ', 2) > 0 AS ok;
SELECT engine.create_symbol('RB12_RQ', 'RB12', 'RQ', 0.01, 0.000000001) > 0 AS ok;
SELECT engine.create_symbol('RB8_RQ', 'RB8', 'RQ', 0.01, 0.00000001) > 0 AS ok;
SELECT asset, available, frozen, status FROM engine.deposit(1401, 'RQ', 1000);
SELECT asset, available, frozen, status FROM engine.deposit(1402, 'RQ', 1000);
SELECT asset, available, frozen, status FROM engine.deposit(1402, 'RB12', 100);

-- o1: 1401's resting bid; o2: 1402's.
SELECT :R FROM engine.place_order(1401, 'RB8_RQ', 'buy', 1, 10, client_order_id => 'r-1');
SELECT :R FROM engine.place_order(1402, 'RB8_RQ', 'buy', 1, 10);

------------------------------------------------------------ malformed, whatever the order

-- Each malformed qty or price is the same ERROR for 1401's own order (o1),
-- another user's (o2) and an id nobody has; nothing is logged.
SELECT which, cmd, r.* FROM (VALUES ('own', 1), ('other', 2), ('none', 100000)) AS o(which, n),
  (VALUES
	($$SELECT engine.amend_order(1401, :oid, qty => -1)$$),
	($$SELECT engine.amend_order(1401, :oid, qty => 0)$$),
	($$SELECT engine.amend_order(1401, :oid, qty => 'NaN')$$),
	($$SELECT engine.amend_order(1401, :oid, qty => 'Infinity')$$),
	($$SELECT engine.amend_order(1401, :oid, qty => 0.0000000000000000001)$$),
	($$SELECT engine.amend_order(1401, :oid, qty => 9223372036854775808)$$),
	($$SELECT engine.amend_order(1401, :oid, price => -10)$$),
	($$SELECT engine.amend_order(1401, :oid, price => 'NaN')$$)
  ) AS t(cmd),
  LATERAL try(replace(cmd, ':oid', (:o0 + o.n)::text)) AS r
 ORDER BY t.cmd, o.n;

------------------------------------------------------------ refusals log nothing

-- Well-formed, but not 1401's resting order: rejected, unknown_order,
-- NULL quantities, the same for another user's order and for no order.
-- A qty with 10 decimal places fits no scale of RB8, but only the caller's
-- own order's symbol is checked: for o2 it is a refusal like any other.
SELECT seq AS s1 FROM last_seq \gset
SELECT :R FROM engine.amend_order(1401, :o0 + 2, qty => 2);
SELECT :R FROM engine.amend_order(1401, :o0 + 100000, qty => 2);
SELECT :R FROM engine.amend_order(1401, :o0 + 2, qty => 0.0000000001);
SELECT :R FROM engine.cancel_order(1401, :o0 + 2);
SELECT :R FROM engine.cancel_order(1401, :o0 + 100000);
SELECT :R FROM engine.cancel_order(1401, 'never-used');
SELECT seq - :s1 AS new_log_rows FROM last_seq;
-- For its own order, that qty is an ERROR naming the symbol's scale.
SELECT * FROM try($$SELECT engine.amend_order(1401, $$ || (:o0 + 1) || $$, qty => 0.0000000001)$$);
-- 1401's own order, once finished: the refusals carry its figures.
SELECT :R FROM engine.cancel_order(1401, 'r-1');
SELECT seq AS s2 FROM last_seq \gset
SELECT :R FROM engine.cancel_order(1401, 'r-1');
SELECT :R FROM engine.cancel_order(1401, :o0 + 1);
SELECT :R FROM engine.amend_order(1401, :o0 + 1, price => 11);
SELECT seq - :s2 AS new_log_rows FROM last_seq;
SELECT engine.cancel_all(1402) AS canceled;

------------------------------------------------------------ answers in the order's units

-- The issue's example: 1401 buys 60.959758831 RB12 (12 decimals) with
-- client_order_id 'x-1'; a retry of 'x-1' on RB8_RQ (8 decimals) answers
-- 'x-1's figures at RB12's scale, not 609597.58831000.
SELECT :R FROM engine.place_order(1402, 'RB12_RQ', 'sell', 60.959758831, 1.00);
SELECT :R FROM engine.place_order(1401, 'RB12_RQ', 'buy', 60.959758831, 1.00, client_order_id => 'x-1');
SELECT seq AS s3 FROM last_seq \gset
SELECT :R FROM engine.place_order(1401, 'RB8_RQ', 'buy', 1, 1.00, client_order_id => 'x-1');
SELECT :R FROM engine.place_order(1401, 'RB12_RQ', 'buy', 1, 1.00, client_order_id => 'x-1');
SELECT seq - :s3 AS new_log_rows FROM last_seq;

------------------------------------------------------------ quoted input

-- A symbol of 64 bytes is quoted whole, one of 65 as its first 64 bytes and
-- "..."; multibyte text is cut at a character boundary.
SELECT length(n) AS bytes_given, r.* FROM (VALUES (repeat('S', 64)), (repeat('S', 65)), (repeat('é', 40))) AS t(n),
  LATERAL try(format('SELECT engine.place_order(1401, %L, %L, 1, 1)', n, 'buy')) AS r;
-- Every argument whose text a message shows: ref, client_order_id, side,
-- asset, qty as written.  A 10 MB ref gives a message of 81 characters
-- (message_length counts the SQLSTATE prefix too).
SELECT length(r.result) AS message_length, r.* FROM (VALUES
	($$SELECT engine.deposit(1401, 'RQ', 1, repeat('r', 10 * 1024 * 1024))$$),
	($$SELECT engine.place_order(1401, 'RB8_RQ', 'buy', 1, 1, client_order_id => repeat('c', 100))$$),
	($$SELECT engine.place_order(1401, 'RB8_RQ', repeat('b', 100), 1, 1)$$),
	($$SELECT engine.deposit(1401, repeat('A', 100), 1)$$),
	($$SELECT engine.place_order(1401, 'RB8_RQ', 'buy', repeat('9', 100)::numeric, 1)$$),
	($$SELECT engine.place_order(1401, 'RB8_RQ', 'buy', ('0.' || repeat('1', 100))::numeric, 1)$$)
) AS t(cmd), LATERAL try(cmd) AS r;

SELECT engine.cancel_all(1401) AS canceled_1401, engine.cancel_all(1402) AS canceled_1402;
SELECT * FROM engine_ok;
