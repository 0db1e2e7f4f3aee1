--
-- 02_funds: engine.deposit, engine.withdraw, engine.balances; ref
-- idempotency; withdrawals take from available only; supply overflow;
-- malformed funds arguments.
--
-- Users 201..204.  Assets FBTC (8 decimals), FUSD (2), FBIG (0).
--
SELECT seq AS s0 FROM last_seq \gset
SELECT coalesce(max(order_id), 0) AS o0 FROM engine.order_events \gset
SELECT engine.create_asset('FBTC', 8) > 0 AS ok;
SELECT engine.create_asset('FUSD', 2) > 0 AS ok;
SELECT engine.create_asset('FBIG', 0) > 0 AS ok;
SELECT engine.create_symbol('FBTC_FUSD', 'FBTC', 'FUSD', 0.01, 0.001) > 0 AS ok;

-- Accounts appear on first deposit.
SELECT * FROM engine.balances(201);
SELECT * FROM engine.deposit(201, 'FUSD', 100.5);
SELECT * FROM engine.deposit(201, 'FUSD', 0.25, ref => 'dep-1');
SELECT * FROM engine.deposit(201, 'FBTC', 1.00000001);
SELECT * FROM engine.balances(201) ORDER BY asset;

-- The same ref again: nothing happens, the answer is the current balance.
SELECT seq AS s1 FROM last_seq \gset
SELECT * FROM engine.deposit(201, 'FUSD', 999, ref => 'dep-1');
SELECT * FROM engine.deposit(201, 'FUSD', 0.25, ref => 'dep-1');
SELECT seq - :s1 AS new_log_rows FROM last_seq;
SELECT * FROM engine.balances(201) ORDER BY asset;
-- A ref is per user: user 202 may use 'dep-1' too.
SELECT * FROM engine.deposit(202, 'FUSD', 7, ref => 'dep-1');
SELECT * FROM engine.deposit(202, 'FUSD', 7, ref => 'dep-1');
SELECT * FROM engine.balances(202) ORDER BY asset;

-- Withdraw, with and without a ref; a repeated withdraw ref is a duplicate.
SELECT * FROM engine.withdraw(201, 'FUSD', 0.75, ref => 'wd-1');
SELECT * FROM engine.withdraw(201, 'FUSD', 0.75, ref => 'wd-1');
SELECT * FROM engine.withdraw(201, 'FBTC', 0.00000001);
SELECT * FROM engine.balances(201) ORDER BY asset;

-- More than available is refused (not an error), logged, and changes nothing.
SELECT seq AS s2 FROM last_seq \gset
SELECT * FROM engine.withdraw(201, 'FUSD', 100.01);
SELECT seq - :s2 AS new_log_rows FROM last_seq;
SELECT rectype, decoded->>'amount' AS amount FROM engine.command_log_decoded WHERE seq = :s2 + 1;
-- A user without an account, or without that asset, has nothing to withdraw.
SELECT * FROM engine.withdraw(203, 'FUSD', 1);
SELECT * FROM engine.withdraw(202, 'FBTC', 1);
SELECT * FROM engine.balances(203);
SELECT * FROM engine.balances(202) ORDER BY asset;

-- Withdraw takes from available only: a resting buy of 1 FBTC at 60 FUSD
-- freezes 60.00 FUSD of user 201's 100.00.
SELECT order_id - :o0 AS oid, status, remaining_qty FROM engine.place_order(201, 'FBTC_FUSD', 'buy', 1, 60);
SELECT * FROM engine.balances(201) ORDER BY asset;
SELECT * FROM engine.withdraw(201, 'FUSD', 40.01);
SELECT * FROM engine.withdraw(201, 'FUSD', 40);
SELECT * FROM engine.withdraw(201, 'FUSD', 0.01);
SELECT order_id - :o0 AS oid, status, remaining_qty, reason FROM engine.cancel_order(201, :o0 + 1);
SELECT * FROM engine.balances(201) ORDER BY asset;

-- The fee account earned nothing yet: it may withdraw (not deposit), but
-- there is nothing to take.
SELECT * FROM engine.withdraw(0, 'FUSD', 0.01);
SELECT * FROM engine.balances(0) WHERE asset LIKE 'F%' ORDER BY asset;

-- Each asset's total supply must fit int64 units: the largest deposit fits,
-- one unit more is refused with reason overflow.
SELECT * FROM engine.deposit(204, 'FBIG', 9223372036854775807);
SELECT * FROM engine.deposit(203, 'FBIG', 1);
SELECT * FROM engine.balances(203);
SELECT * FROM engine.withdraw(204, 'FBIG', 9223372036854775807);
SELECT * FROM engine.deposit(203, 'FBIG', 1);
SELECT * FROM engine.balances(204) ORDER BY asset;

SELECT seq AS s3 FROM last_seq \gset
-- Malformed funds arguments: an ERROR and nothing logged.
SELECT cmd, r.* FROM (VALUES
	-- user_id
	($$SELECT * FROM engine.deposit(NULL, 'FUSD', 1)$$),
	($$SELECT * FROM engine.deposit(0, 'FUSD', 1)$$),
	($$SELECT * FROM engine.deposit(-1, 'FUSD', 1)$$),
	($$SELECT * FROM engine.withdraw(NULL, 'FUSD', 1)$$),
	($$SELECT * FROM engine.withdraw(-5, 'FUSD', 1)$$),
	-- asset
	($$SELECT * FROM engine.deposit(201, NULL, 1)$$),
	($$SELECT * FROM engine.deposit(201, 'NOPE', 1)$$),
	($$SELECT * FROM engine.deposit(201, 'fusd', 1)$$),
	($$SELECT * FROM engine.deposit(201, '', 1)$$),
	($$SELECT * FROM engine.withdraw(201, 'NOPE', 1)$$),
	-- amount
	($$SELECT * FROM engine.deposit(201, 'FUSD', NULL)$$),
	($$SELECT * FROM engine.deposit(201, 'FUSD', 0)$$),
	($$SELECT * FROM engine.deposit(201, 'FUSD', -1)$$),
	($$SELECT * FROM engine.deposit(201, 'FUSD', 0.001)$$),
	($$SELECT * FROM engine.deposit(201, 'FUSD', 1.005)$$),
	($$SELECT * FROM engine.deposit(201, 'FBTC', 0.000000001)$$),
	($$SELECT * FROM engine.deposit(201, 'FBIG', 0.5)$$),
	($$SELECT * FROM engine.deposit(201, 'FUSD', 92233720368547758.08)$$),
	($$SELECT * FROM engine.deposit(201, 'FBIG', 9223372036854775808)$$),
	($$SELECT * FROM engine.deposit(201, 'FUSD', 'NaN')$$),
	($$SELECT * FROM engine.deposit(201, 'FUSD', '-Infinity')$$),
	($$SELECT * FROM engine.withdraw(201, 'FUSD', NULL)$$),
	($$SELECT * FROM engine.withdraw(201, 'FUSD', 0)$$),
	($$SELECT * FROM engine.withdraw(201, 'FUSD', -0.01)$$),
	($$SELECT * FROM engine.withdraw(201, 'FUSD', 0.011)$$),
	-- ref
	($$SELECT * FROM engine.deposit(201, 'FUSD', 1, ref => '')$$),
	-- balances
	($$SELECT * FROM engine.balances(NULL)$$),
	($$SELECT * FROM engine.balances(-1)$$)
) AS t(cmd), LATERAL try(cmd) AS r;
SELECT seq - :s3 AS new_log_rows FROM last_seq;

-- Conservation: per asset, all balances (fee account included) equal
-- deposits minus withdrawals.
SELECT b.asset, sum(b.available + b.frozen) AS total
  FROM (SELECT u FROM generate_series(0, 204) u) users,
       LATERAL engine.balances(users.u) b
 WHERE b.asset LIKE 'F%'
 GROUP BY b.asset ORDER BY b.asset;

SELECT * FROM engine_ok;
