--
-- 15_batches: engine.place_orders and engine.cancel_orders.  One call is
-- one request: its commands get consecutive seqs, each is applied on its
-- own (refused, duplicate and accepted orders side by side), and the rows
-- come back in the array's order.  Malformed input anywhere is an ERROR
-- naming the element (CONTEXT) and nothing is logged; engine.max_batch
-- bounds a call, at the limit and one above it.
--
-- Users 1301..1303 (1399 never has funds).  Symbol BTB_BTQ: BTB 8 decimals, BTQ 2, tick 0.01,
-- lot 0.001, min_qty 0.002, no fees.
--
SELECT seq AS s0 FROM last_seq \gset
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
SELECT coalesce(max(trade_id), 0) AS t0 FROM engine.trades \gset
\set R 'ordinality AS n, order_id - ' :o0 ' AS oid, client_order_id, status, filled_qty, remaining_qty, avg_price, trades, reason'

SELECT engine.create_asset('BTB', 8) > 0 AS ok;
SELECT engine.create_asset('BTQ', 2) > 0 AS ok;
SELECT engine.create_symbol('BTB_BTQ', 'BTB', 'BTQ', 0.01, 0.001, min_qty => 0.002) > 0 AS ok;
SELECT status FROM engine.deposit(1301, 'BTB', 10);
SELECT status FROM engine.deposit(1302, 'BTQ', 1000);
SELECT seq - :s0 AS s1 FROM last_seq \gset

-- A ladder of asks in one call, one with a client_order_id.
SELECT :R FROM engine.place_orders(1301, ARRAY[
	engine.order_request('BTB_BTQ', 'sell', 1, 100),
	engine.order_request('BTB_BTQ', 'sell', 1, 101, client_order_id => 'ask-2'),
	engine.order_request('BTB_BTQ', 'sell', 1, 102)]) WITH ORDINALITY;
-- One request: three consecutive seqs, one ticket, one batch.
SELECT seq - :s0 AS seq, rectype, decoded->>'price' AS price, decoded->>'client_order_id' AS coid
  FROM engine.command_log_decoded WHERE seq > :s0 + :s1 ORDER BY seq;

-- Mixed outcomes in one call, each order on its own: a buy that trades
-- through two levels; a post-only that would cross (rejected); a fok that
-- cannot fill (rejected); a buy beyond the user's funds (rejected); a
-- repeat of a client_order_id used earlier in this very call (duplicate:
-- the original's current state); a repeat of one used by an earlier call
-- of the same user (ask-2 is 1301's, so for 1302 it is new); an ioc that
-- takes 0.2 more at 101.
SELECT seq AS s2 FROM last_seq \gset
SELECT :R FROM engine.place_orders(1302, ARRAY[
	engine.order_request('BTB_BTQ', 'buy', 1.5, 101, client_order_id => 'b-1'),
	engine.order_request('BTB_BTQ', 'buy', 0.1, 102, post_only => true, client_order_id => 'b-2'),
	engine.order_request('BTB_BTQ', 'buy', 5, 102, tif => 'fok'),
	engine.order_request('BTB_BTQ', 'buy', 10, 99),
	engine.order_request('BTB_BTQ', 'buy', 0.01, 90, client_order_id => 'b-1'),
	engine.order_request('BTB_BTQ', 'buy', 0.01, 90, client_order_id => 'ask-2'),
	engine.order_request('BTB_BTQ', 'buy', 0.2, 102, tif => 'ioc')]) WITH ORDINALITY;
-- Six log records for seven orders (the duplicate is not sequenced), seqs
-- consecutive, all with the one engine timestamp of their batch; the
-- trades they made.
SELECT seq - :s2 AS seq, rectype, decoded->>'client_order_id' AS coid
  FROM engine.command_log_decoded WHERE seq > :s2 ORDER BY seq;
SELECT count(DISTINCT ts) AS timestamps FROM engine.command_log WHERE seq > :s2;
SELECT trade_id - :t0 AS tid, seq - :s2 AS seq, price, qty, taker_order_id - :o0 AS taker,
       maker_order_id - :o0 AS maker
  FROM engine.trades_v WHERE trade_id > :t0 ORDER BY trade_id;
SELECT * FROM engine.balances(1302) ORDER BY asset;

-- A second call repeating client_order_ids of the first: duplicates, with
-- the originals' state now (b-1 has filled 1.5; b-2 was rejected).
SELECT seq AS s3 FROM last_seq \gset
SELECT :R FROM engine.place_orders(1302, ARRAY[
	engine.order_request('BTB_BTQ', 'buy', 0.01, 90, client_order_id => 'b-2'),
	engine.order_request('BTB_BTQ', 'buy', 0.01, 90, client_order_id => 'b-1')]) WITH ORDINALITY;
SELECT seq - :s3 AS new_log_records FROM last_seq;

-- The composite's text form works as well: NULL tif, post_only and stp
-- mean 'gtc', false and 'none'.
SELECT :R FROM engine.place_orders(1302, '{"(BTB_BTQ,buy,0.005,95,,,,,)"}') WITH ORDINALITY;
SELECT order_id - :o0 AS oid, price, qty, status FROM engine.open_orders(1302);

-- cancel_orders: a resting order of the user, one of another user, one
-- already finished, one that never existed, and the first again (by then
-- canceled): one CANCEL record, for the resting one; the others are
-- answered unknown_order without a seq, and without amounts.
SELECT seq AS s4 FROM last_seq \gset
SELECT :R FROM engine.cancel_orders(1301, ARRAY[:o0 + 3, :o0 + 10, :o0 + 1, :o0 + 1000000, :o0 + 3]::bigint[])
  WITH ORDINALITY;
SELECT seq - :s4 AS seq, rectype, (decoded->>'order_id')::bigint - :o0 AS oid
  FROM engine.command_log_decoded WHERE seq > :s4 ORDER BY seq;

-- Empty arrays: no rows, nothing logged.
SELECT seq AS s5 FROM last_seq \gset
SELECT count(*) FROM engine.place_orders(1302, '{}');
SELECT count(*) FROM engine.cancel_orders(1302, '{}');
SELECT seq - :s5 AS new_log_records FROM last_seq;

-- Malformed input anywhere: an ERROR for the whole call, naming the
-- element (with the array's own subscripts), and nothing is logged, not
-- even the well-formed elements before it.
SELECT seq AS s6 FROM last_seq \gset
SELECT * FROM engine.place_orders(1302, ARRAY[
	engine.order_request('BTB_BTQ', 'buy', 0.01, 90),
	engine.order_request('BTB_BTQ', 'buy', 0.0015, 90)]);
SELECT * FROM engine.place_orders(1302, ARRAY[
	engine.order_request('BTB_BTQ', 'buy', 0.01, 90),
	engine.order_request('BTB_BTQ', 'buy', 0.01, 90.001)]);
SELECT * FROM engine.place_orders(1302, ARRAY[
	engine.order_request('BTB_BTQ', 'buy', 0.01, 90),
	engine.order_request('BTB_BTQ', 'buy', 0.001, 90)]);
SELECT * FROM engine.place_orders(1302, ARRAY[
	engine.order_request('BTB_BTQ', 'buy', 0.01, 90),
	engine.order_request('NO_SUCH', 'buy', 0.01, 90)]);
SELECT * FROM engine.place_orders(1302, ARRAY[
	engine.order_request('BTB_BTQ', 'buy', 0.01, 90),
	engine.order_request('BTB_BTQ', 'bye', 0.01, 90)]);
SELECT * FROM engine.place_orders(1302, ARRAY[
	engine.order_request('BTB_BTQ', 'buy', 0.01, 90),
	engine.order_request('BTB_BTQ', 'buy', 0.01, NULL, post_only => true)]);
SELECT * FROM engine.place_orders(1302, ARRAY[
	engine.order_request('BTB_BTQ', 'buy', 0.01, 90, client_order_id => 'has space')]);
SELECT * FROM engine.place_orders(1302, '[5:6]={"(BTB_BTQ,buy,0.01,90,,,,,)","(,buy,0.01,90,,,,,)"}');
SELECT * FROM engine.place_orders(1302, ARRAY[engine.order_request('BTB_BTQ', 'buy', 0.01, 90), NULL]);
SELECT * FROM engine.place_orders(1302, ARRAY[ARRAY[engine.order_request('BTB_BTQ', 'buy', 0.01, 90)]]);
SELECT * FROM engine.place_orders(1302, NULL);
SELECT * FROM engine.place_orders(0, '{}');
SELECT * FROM engine.cancel_orders(1301, ARRAY[:o0 + 2, NULL]::bigint[]);
SELECT * FROM engine.cancel_orders(1301, ARRAY[:o0 + 2, 0]::bigint[]);
SELECT seq - :s6 AS new_log_records FROM last_seq;

-- engine.max_batch: a call of exactly the limit runs; one above it is an
-- ERROR that submits nothing.  Only a superuser may change it for a
-- session.
SET engine.max_batch = 3;
SELECT seq AS s7 FROM last_seq \gset
SELECT count(*) FROM engine.place_orders(1302, ARRAY(
	SELECT engine.order_request('BTB_BTQ', 'buy', 0.01, 80) FROM generate_series(1, 3)));
SELECT count(*) FROM engine.place_orders(1302, ARRAY(
	SELECT engine.order_request('BTB_BTQ', 'buy', 0.01, 80) FROM generate_series(1, 4)));
SELECT count(*) FROM engine.cancel_orders(1302, ARRAY[1, 2, 3, 4]::bigint[]);
SELECT seq - :s7 AS new_log_records FROM last_seq;
RESET engine.max_batch;
SHOW engine.max_batch;
-- Its own range: 1 to 100000.  A call of 100000 commands (about 42 MB of
-- shared memory while it is in flight) is one request.  100000 cancels of
-- orders that do not exist are each answered unknown_order and take no
-- seq; 100000 orders of a user without funds are each refused by the
-- market, with 100000 consecutive seqs and the batch's one timestamp.
SET engine.max_batch = 100000;
SELECT seq AS s8 FROM last_seq \gset
SELECT count(*), count(*) FILTER (WHERE reason = 'unknown_order') AS unknown
  FROM engine.cancel_orders(1303, ARRAY(SELECT :o0 + 1000000 + i FROM generate_series(1, 100000) i));
SELECT seq - :s8 AS new_log_records FROM last_seq;
SELECT count(*), count(*) FILTER (WHERE reason = 'insufficient_funds') AS refused
  FROM engine.place_orders(1399, ARRAY(
	SELECT engine.order_request('BTB_BTQ', 'buy', 0.01, 80) FROM generate_series(1, 100000)));
SELECT count(*) AS records, max(seq) - min(seq) AS span, count(DISTINCT ts) AS timestamps
  FROM engine.command_log WHERE seq > :s8;
SET engine.max_batch = 100001;
SET engine.max_batch = 0;
RESET engine.max_batch;
CREATE ROLE regress_batcher;
SET ROLE regress_batcher;
SET engine.max_batch = 5000;
RESET ROLE;
DROP ROLE regress_batcher;

-- Nothing is left in flight.
SELECT count(*) AS requests FROM engine.requests();
SELECT * FROM engine_ok;
