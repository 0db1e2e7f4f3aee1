--
-- 17_snapshots: snapshots of format 2 read with plain SQL, and the long
-- reads that run on a copy of the state.  Users 1501..1540.
--
-- engine.snapshot() is written by the snapshot writer from a copy of the
-- state; its chunks are decoded by the engine.snapshot_*_v views, which show
-- exactly what the engine holds: every balance and every resting order, in
-- the canonical walk's order, and the counters of engine.snapshots.
-- engine.verify() and engine.state_digest() read a copy made after the
-- call and verify() names the seq it checked.
--
SELECT engine.create_asset('SNB', 4);
SELECT engine.create_asset('SNQ', 2);
SELECT engine.create_symbol('SNB_SNQ', 'SNB', 'SNQ', 0.01, 0.0001);
SELECT count(*) FROM generate_series(1501, 1540) u,
       LATERAL engine.deposit(u, 'SNQ', 100000) d1, LATERAL engine.deposit(u, 'SNB', 100) d2;
-- 400 resting orders on 20 levels per side, a few partly filled.
SELECT count(*) FROM generate_series(1, 400) i,
       LATERAL engine.place_order(1501 + i % 40, 'SNB_SNQ', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END,
                                  0.01 * (1 + i % 3),
                                  CASE WHEN i % 2 = 0 THEN 90 - (i % 20) * 0.5 ELSE 110 + (i % 20) * 0.5 END,
                                  client_order_id => 'sn-' || i) r
 WHERE r.status = 'new';
SELECT status, filled_qty FROM engine.place_order(1501, 'SNB_SNQ', 'buy', 0.015, 110.5);

SELECT engine.snapshot() AS snap \gset
SELECT :snap = seq AS snapshot_is_last_seq FROM last_seq;
SELECT format, chunks > 0 AS has_chunks, chunks_ok, bytes > 0 AS has_bytes,
       orders = (SELECT count(*) FROM engine.snapshot_orders_v WHERE snapshot_seq = :snap) AS orders_ok,
       balances = (SELECT count(*) FROM engine.snapshot_balances_v WHERE snapshot_seq = :snap) AS balances_ok,
       assets = (SELECT count(*) FROM engine.snapshot_assets_v WHERE snapshot_seq = :snap) AS assets_ok,
       symbols = (SELECT count(*) FROM engine.snapshot_symbols_v WHERE snapshot_seq = :snap) AS symbols_ok
  FROM engine.snapshots_v WHERE seq = :snap;
-- what the worker reported about it: the items written, a pause (the copy)
-- and the writer's time
SELECT snapshot_seq = :snap AS status_seq, snapshot_rows = (SELECT assets + symbols + balances + orders
         FROM engine.snapshots WHERE seq = :snap) AS items_ok,
       snapshot_copy_us >= 0 AS has_copy_us, snapshot_write_ms >= 0 AS has_write_ms,
       snapshot_running_seq IS NULL AS none_running
  FROM engine.status();

-- The snapshot's balances are the live balances, user by user.
SELECT count(*) AS balances_differ
  FROM (SELECT u AS user_id, a.asset_id, b.available * 10::numeric ^ a.decimals AS available,
               b.frozen * 10::numeric ^ a.decimals AS frozen
          FROM generate_series(1501, 1540) u, LATERAL engine.balances(u) b
          JOIN engine.assets a ON a.code = b.asset) live
  FULL JOIN (SELECT * FROM engine.snapshot_balances_v
              WHERE snapshot_seq = :snap AND user_id BETWEEN 1501 AND 1540) s USING (user_id, asset_id)
 WHERE live.available IS DISTINCT FROM s.available OR live.frozen IS DISTINCT FROM s.frozen;
-- Its orders are the live open orders; bids come best first, each level in
-- queue order (order ids rise within a level: nothing was amended).
SELECT count(*) AS orders_differ
  FROM (SELECT o.order_id, o.remaining_qty FROM generate_series(1501, 1540) u, LATERAL engine.open_orders(u) o
         WHERE o.symbol = 'SNB_SNQ') live
  FULL JOIN (SELECT s.order_id, s.remaining_qty FROM engine.snapshot_orders_v s
              JOIN engine.symbols y ON y.symbol_id = s.symbol_id AND y.symbol = 'SNB_SNQ'
             WHERE s.snapshot_seq = :snap) snap USING (order_id)
 WHERE live.order_id IS NULL OR snap.order_id IS NULL OR live.remaining_qty * 10000 <> snap.remaining_qty;
SELECT bool_and(ok) AS book_order_ok FROM (
  SELECT CASE WHEN lag(side) OVER w = side AND lag(price) OVER w = price
              THEN lag(queued_seq) OVER w < queued_seq
              WHEN lag(side) OVER w = side
              THEN (side = 0 AND lag(price) OVER w > price) OR (side = 1 AND lag(price) OVER w < price)
              ELSE true END AS ok
    FROM engine.snapshot_orders_v s JOIN engine.symbols y ON y.symbol_id = s.symbol_id AND y.symbol = 'SNB_SNQ'
   WHERE s.snapshot_seq = :snap
  WINDOW w AS (ORDER BY pos)) x;
SELECT side, price, filled_qty, remaining_qty, client_order_id
  FROM engine.snapshot_orders_v s JOIN engine.symbols y ON y.symbol_id = s.symbol_id AND y.symbol = 'SNB_SNQ'
 WHERE s.snapshot_seq = :snap ORDER BY pos LIMIT 4;

-- A second call with nothing new shares the snapshot: same seq, no new row.
SELECT count(*) AS snapshots_before FROM engine.snapshots \gset
SELECT engine.snapshot() = :snap AS same_snapshot;
SELECT count(*) = :snapshots_before AS no_new_row FROM engine.snapshots;

-- The decoders refuse bytes that are not items, naming where.
SELECT try($$SELECT * FROM engine._snapshot_orders('\x0102'::bytea)$$);
SELECT try($$SELECT * FROM engine._snapshot_balances(substring((SELECT data FROM engine.snapshot_chunks
              WHERE snapshot_seq = $$ || :snap || $$ AND kind = 3 ORDER BY chunk LIMIT 1) FROM 1 FOR 30))$$);
SELECT engine.crc32c('\x'::bytea) AS crc_of_nothing, engine.crc32c('123456789'::bytea) AS crc_check_value;

-- verify() checks a copy at least as new as the call and says which seq.
SELECT count(*) AS checks, bool_and(ok) AS all_ok, min(seq) = max(seq) AS one_seq,
       min(seq) = (SELECT seq FROM last_seq) AS seq_is_last
  FROM engine.verify();
SELECT engine.state_digest() AS d1 \gset
SELECT asset, available FROM engine.deposit(1501, 'SNQ', 1);
SELECT engine.state_digest() <> :'d1' AS digest_follows_commands;
SELECT min(seq) = (SELECT seq FROM last_seq) AS verify_sees_the_deposit FROM engine.verify();
