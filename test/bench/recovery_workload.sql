-- recovery_workload.sql — server-side load generators for bench_recovery.sh.
--
-- Each function is run by one of several parallel sessions (session s of k
-- takes every k-th index from s) and stops at its deadline.  They call the
-- engine's SQL API one command at a time, exactly as clients do; only the
-- loop runs in the server, so the load is limited by the engine and the
-- durable commit, not by a client.  No call may raise an ERROR (that would
-- end the session's loop): every argument is well-formed, and market
-- refusals come back as 'rejected' rows.
--
-- Market: BTC_USDT and ETH_USDT (tick 0.01, lot 0.0001, fees 0.1 % / 0.2 %).
-- Book:   build order i (0-based) belongs to user 1 + i % accounts, carries
--         client_order_id 'b' || i, rests on BTC_USDT when (i / accounts) is
--         even (else ETH_USDT), buys when i is even at 100.00..149.99 and
--         sells when odd at 200.00..249.99, qty 0.001: nothing crosses.

-- Fund accounts s+1, s+1+k, ... with USDT, BTC and ETH (refs make a rerun
-- harmless).  Returns the deposits made.
CREATE FUNCTION bench_fund(s int, k int, accounts int, deadline timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	u bigint := s + 1;
	n bigint := 0;
BEGIN
	WHILE u <= accounts LOOP
		IF n % 300 = 0 AND clock_timestamp() > deadline THEN
			EXIT;
		END IF;
		PERFORM engine.deposit(u, 'USDT', 100000, 'fund-usdt-' || u);
		PERFORM engine.deposit(u, 'BTC', 10, 'fund-btc-' || u);
		PERFORM engine.deposit(u, 'ETH', 10, 'fund-eth-' || u);
		n := n + 3;
		u := u + k;
	END LOOP;
	RETURN n;
END $$;

-- Place build orders s, s+k, ... < n.  Returns the orders that rest.
CREATE FUNCTION bench_build(s int, k int, n bigint, accounts int, deadline timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	i bigint := s;
	done bigint := 0;
	rested bigint := 0;
	r engine.order_result;
BEGIN
	WHILE i < n LOOP
		IF done % 500 = 0 AND clock_timestamp() > deadline THEN
			EXIT;
		END IF;
		r := engine.place_order(1 + i % accounts,
				CASE WHEN (i / accounts) % 2 = 0 THEN 'BTC_USDT' ELSE 'ETH_USDT' END,
				CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END,
				0.001,
				CASE WHEN i % 2 = 0 THEN 100 ELSE 200 END + ((i / 2) % 5000) * 0.01,
				client_order_id => 'b' || i);
		IF r.status = 'new' THEN
			rested := rested + 1;
		END IF;
		done := done + 1;
		i := i + k;
	END LOOP;
	RETURN rested;
END $$;

-- Tail commands t = s, s+k, ... < n, by t % 20:
--   0..7   place a resting gtc order (client_order_id 't' || t)
--   8..14  cancel build order j = (t * 104729) % nbuild by client_order_id
--          (distinct j for distinct t: 104729 is a prime that divides no
--          round nbuild; an order already gone is a 'rejected' cancel)
--   15..17 amend the user's oldest open order to a new price on its side
--          (cancel-and-replace; a user without open orders places instead)
--   18..19 an ioc that crosses the spread (trades and fees)
-- Returns the commands sent.
CREATE FUNCTION bench_tail(s int, k int, n bigint, accounts int, nbuild bigint, deadline timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	t bigint := s;
	done bigint := 0;
	m int;
	u bigint;
	j bigint;
	sym text;
	oid bigint;
	oside text;
	px numeric;
BEGIN
	WHILE t < n LOOP
		IF done % 500 = 0 AND clock_timestamp() > deadline THEN
			EXIT;
		END IF;
		m := t % 20;
		u := 1 + (t * 7919) % accounts;
		sym := CASE WHEN t % 2 = 0 THEN 'BTC_USDT' ELSE 'ETH_USDT' END;
		oid := NULL;
		IF m BETWEEN 15 AND 17 THEN
			SELECT o.order_id, o.side INTO oid, oside
			  FROM engine.open_orders(u) o ORDER BY o.order_id LIMIT 1;
			IF oid IS NOT NULL THEN
				px := CASE WHEN oside = 'buy' THEN 100 ELSE 200 END + ((t * 37) % 5000) * 0.01;
				PERFORM engine.amend_order(u, oid, price => px);
			END IF;
		END IF;
		IF m < 8 OR (m BETWEEN 15 AND 17 AND oid IS NULL) THEN
			PERFORM engine.place_order(u, sym,
					CASE WHEN (t / 2) % 2 = 0 THEN 'buy' ELSE 'sell' END,
					0.001,
					CASE WHEN (t / 2) % 2 = 0 THEN 100 ELSE 200 END + ((t * 31) % 5000) * 0.01,
					client_order_id => 't' || t);
		ELSIF m BETWEEN 8 AND 14 THEN
			j := (t * 104729) % nbuild;
			PERFORM engine.cancel_order(1 + j % accounts, 'b' || j);
		ELSIF m >= 18 THEN
			IF m = 18 THEN
				PERFORM engine.place_order(u, sym, 'buy', 0.003, 200.20, 'ioc');
			ELSE
				PERFORM engine.place_order(u, sym, 'sell', 0.003, 149.80, 'ioc');
			END IF;
		END IF;
		done := done + 1;
		t := t + k;
	END LOOP;
	RETURN done;
END $$;

-- The snapshot-pause probe: deposits of one unit in a loop until the
-- deadline or until table bench_flag has a row; returns the longest single
-- call in milliseconds and the number of calls.
CREATE FUNCTION bench_probe(deadline timestamptz, OUT max_ms numeric, OUT calls bigint)
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	ms numeric;
BEGIN
	max_ms := 0;
	calls := 0;
	WHILE clock_timestamp() < deadline AND NOT EXISTS (SELECT 1 FROM bench_flag) LOOP
		t0 := clock_timestamp();
		PERFORM engine.deposit(1, 'USDT', 0.000001);
		ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
		max_ms := greatest(max_ms, ms);
		calls := calls + 1;
	END LOOP;
END $$;
