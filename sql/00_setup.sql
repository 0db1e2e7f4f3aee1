--
-- 00_setup: install the extension in the temporary instance, wait for the
-- engine worker, and create the helpers the other files use.
--
-- Files run in name order in one instance and one database and share the
-- engine's state.  Every file uses its own assets, symbols and users, and
-- shows order, trade and seq numbers relative to what existed when it began,
-- so a file's output does not depend on how many orders earlier files made.
--
CREATE EXTENSION engine;
-- The worker waits for the extension, then rebuilds (nothing) and is ready.
DO $$
BEGIN
	FOR i IN 1..300 LOOP
		EXIT WHEN engine.ready();
		PERFORM pg_sleep(0.1);
	END LOOP;
END
$$;
SELECT engine.ready();
SELECT state, last_seq, snapshot_seq, replayed, resting_orders, accounts
  FROM engine.status();
-- On a primary the worker is the leader: no lag, never promoted.
SELECT role, applied_seq, lag_records, lag_ms, follower_reloads, follower_retries, promote_ms
  FROM engine.status();

-- try(cmd): run one statement and report how it failed, as
-- 'SQLSTATE: message', plus whether the engine logged a command meanwhile
-- (every malformed input must be refused before anything is logged).
CREATE FUNCTION public.try(cmd text, OUT result text, OUT logged boolean)
LANGUAGE plpgsql AS $$
DECLARE
	before bigint;
	st text;
	msg text;
BEGIN
	SELECT coalesce(max(seq), 0) INTO before FROM engine.command_log;
	BEGIN
		EXECUTE cmd;
		result := 'no error';
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
		result := st || ': ' || msg;
	END;
	logged := (SELECT coalesce(max(seq), 0) FROM engine.command_log) <> before;
END
$$;

-- engine_ok: every invariant engine.verify() checks holds.
CREATE VIEW public.engine_ok AS
SELECT count(*) > 0 AS has_checks,
       coalesce(bool_and(ok), false) AS all_ok,
       string_agg(check_name || coalesce(': ' || detail, ''), '; ')
           FILTER (WHERE NOT ok) AS failed
  FROM engine.verify();

-- last_seq: the newest command in the log.
CREATE VIEW public.last_seq AS
SELECT coalesce(max(seq), 0) AS seq FROM engine.command_log;

-- A fresh engine: nothing logged, no accounts, no orders, a fee account
-- without balances (no assets yet), a well-formed digest.
SELECT count(*) AS log_rows FROM engine.command_log;
SELECT count(*) AS trades FROM engine.trades;
SELECT count(*) AS order_events FROM engine.order_events;
SELECT * FROM engine.balances(0);
SELECT engine.state_digest() ~ '^[0-9a-f]{32}$' AS digest_is_hex;
SELECT * FROM engine_ok;
