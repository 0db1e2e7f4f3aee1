# 019_hostile_settings.pl — a worker that no setting can subvert.
#
# A database owner who is not a superuser ("mallory") plants objects named
# like everything the worker's statements use — operators =, <>, <, >, <=,
# >= on bigint, integer, smallint, numeric, text, "char" and boolean (and
# bigint against integer), the functions and aggregates max, min, count,
# sum, string_agg, unnest, concat, concat_ws, length, get_byte, floor,
# now, and tables and views named like the engine's — in schemas evil and
# public, and makes them come first: ALTER DATABASE ... SET search_path.
# Every planted function writes a row into evil.marker when it runs.  The
# database also gets default_transaction_read_only, statement_timeout,
# lock_timeout, idle_in_transaction_session_timeout, idle_session_timeout
# and default_transaction_isolation = serializable; a superuser adds, by
# mistake, session_replication_role = replica for the database and a
# search_path and lock_timeout for the role the worker connects as.
#
# The worker restarts (pg_terminate_backend) under all of that and serves:
# reference data, deposits, orders that trade, client_order_id duplicates,
# cancels and amends, reads and calls by mallory herself (a trading and
# operations role whose own search_path puts evil first), snapshots with
# pruning, a restart that loads a snapshot and replays a tail, a kill -9.
# At the end evil.marker holds only the rows of the control calls that
# show the traps work, and engine.status() is ready with an empty detail.
#
# Then mallory closes the database to connections: the worker that starts
# next waits, says why in the server log, and serves again with the same
# digest once the database allows connections.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EngineNode;
use SnapNode;

my $DB = 'postgres';
my $node = EngineNode::new_node('hostile', extra_conf => qq{
engine.keep_log = off
engine.snapshot_keep = 1
engine.snapshot_interval = '1h'
engine.snapshot_every = 2000000000
});

# The test's own sessions (a superuser) override the hostile settings for
# themselves on the command line; the worker cannot.
my $SAFE = '-c search_path=pg_catalog -c default_transaction_read_only=off '
  . '-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0 '
  . '-c idle_session_timeout=0 -c default_transaction_isolation=read\ committed '
  . '-c session_replication_role=origin';
$ENV{PGOPTIONS} = $SAFE;

sub sql { return $node->safe_psql($DB, $_[0]) }

# mallory's sessions: her own settings (the database's and her role's),
# only the timeouts overridden so that the test can run.
sub as_mallory
{
	my ($query) = @_;
	local $ENV{PGOPTIONS} = '-c statement_timeout=0 -c lock_timeout=0 '
	  . '-c idle_in_transaction_session_timeout=0 -c idle_session_timeout=0';
	return $node->safe_psql($DB, $query, extra_params => [ '-U', 'mallory' ]);
}

my $bootstrap = sql('SELECT rolname FROM pg_roles WHERE oid = 10');
sql(q{
CREATE ROLE mallory LOGIN;
ALTER DATABASE postgres OWNER TO mallory;
GRANT engine_trading, engine_operations TO mallory});

# ---------------------------------------------------------------- the traps
as_mallory(q{
CREATE SCHEMA evil;
CREATE TABLE evil.marker (what text NOT NULL, at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp());
GRANT USAGE ON SCHEMA evil TO PUBLIC;
GRANT SELECT, INSERT ON evil.marker TO PUBLIC;
CREATE FUNCTION evil.mark(what text) RETURNS void LANGUAGE sql
	AS $$ INSERT INTO evil.marker (what) VALUES (what) $$;
GRANT EXECUTE ON FUNCTION evil.mark(text) TO PUBLIC;

DO $plant$
DECLARE
	s text;
	t text;
	op text;
	pair text[];
	f text;
BEGIN
	FOREACH s IN ARRAY ARRAY['evil', 'public'] LOOP
		-- operators on every type the worker compares
		FOREACH pair SLICE 1 IN ARRAY ARRAY[ARRAY['bigint', 'bigint'], ARRAY['integer', 'integer'],
		                            ARRAY['smallint', 'smallint'], ARRAY['numeric', 'numeric'],
		                            ARRAY['text', 'text'], ARRAY['"char"', '"char"'],
		                            ARRAY['boolean', 'boolean'], ARRAY['bigint', 'integer'],
		                            ARRAY['integer', 'bigint']] LOOP
			FOREACH op IN ARRAY ARRAY['=', '<>', '<', '>', '<=', '>='] LOOP
				f := 'op_' || pg_catalog.left(pg_catalog.md5(op || ' ' || pair[1] || ' ' || pair[2]), 20);
				EXECUTE pg_catalog.format(
					'CREATE FUNCTION %I.%I(a %s, b %s) RETURNS boolean LANGUAGE plpgsql AS '
					'$f$BEGIN PERFORM evil.mark(%L); RETURN a OPERATOR(pg_catalog.%s) b; END$f$',
					s, f, pair[1], pair[2], s || ' operator ' || op || ' ' || pair[1], op);
				EXECUTE pg_catalog.format('CREATE OPERATOR %I.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %I.%I)',
					s, op, pair[1], pair[2], s, f);
			END LOOP;
		END LOOP;
		-- functions
		EXECUTE pg_catalog.format($f$
			CREATE FUNCTION %1$I.unnest(a anyarray) RETURNS SETOF anyelement LANGUAGE plpgsql
				AS $b$BEGIN PERFORM evil.mark('%1$s unnest'); RETURN QUERY SELECT * FROM pg_catalog.unnest(a); END$b$;
			CREATE FUNCTION %1$I.length(b bytea) RETURNS integer LANGUAGE plpgsql
				AS $b$BEGIN PERFORM evil.mark('%1$s length'); RETURN pg_catalog.length(b); END$b$;
			CREATE FUNCTION %1$I.get_byte(b bytea, n integer) RETURNS integer LANGUAGE plpgsql
				AS $b$BEGIN PERFORM evil.mark('%1$s get_byte'); RETURN pg_catalog.get_byte(b, n); END$b$;
			CREATE FUNCTION %1$I.concat_ws(sep text, VARIADIC a text[]) RETURNS text LANGUAGE plpgsql
				AS $b$BEGIN PERFORM evil.mark('%1$s concat_ws'); RETURN pg_catalog.array_to_string(a, sep); END$b$;
			CREATE FUNCTION %1$I.concat(VARIADIC a text[]) RETURNS text LANGUAGE plpgsql
				AS $b$BEGIN PERFORM evil.mark('%1$s concat'); RETURN pg_catalog.array_to_string(a, ''); END$b$;
			CREATE FUNCTION %1$I.floor(x numeric) RETURNS numeric LANGUAGE plpgsql
				AS $b$BEGIN PERFORM evil.mark('%1$s floor'); RETURN pg_catalog.floor(x); END$b$;
			CREATE FUNCTION %1$I.now() RETURNS timestamptz LANGUAGE plpgsql
				AS $b$BEGIN PERFORM evil.mark('%1$s now'); RETURN pg_catalog.now(); END$b$;
			CREATE FUNCTION %1$I.step_int8(s bigint, v bigint) RETURNS bigint LANGUAGE plpgsql
				AS $b$BEGIN PERFORM evil.mark('%1$s aggregate'); RETURN pg_catalog.int8larger(s, v); END$b$;
			CREATE FUNCTION %1$I.step_count(s bigint) RETURNS bigint LANGUAGE plpgsql
				AS $b$BEGIN PERFORM evil.mark('%1$s count'); RETURN s OPERATOR(pg_catalog.+) 1; END$b$;
			CREATE FUNCTION %1$I.step_numeric(s numeric, v numeric) RETURNS numeric LANGUAGE plpgsql
				AS $b$BEGIN PERFORM evil.mark('%1$s sum'); RETURN s; END$b$;
			CREATE FUNCTION %1$I.step_text(s text, v text, d text) RETURNS text LANGUAGE plpgsql
				AS $b$BEGIN PERFORM evil.mark('%1$s string_agg'); RETURN v; END$b$;
			CREATE AGGREGATE %1$I.max(bigint) (SFUNC = %1$I.step_int8, STYPE = bigint);
			CREATE AGGREGATE %1$I.min(bigint) (SFUNC = %1$I.step_int8, STYPE = bigint);
			CREATE AGGREGATE %1$I.count(*) (SFUNC = %1$I.step_count, STYPE = bigint, INITCOND = '0');
			CREATE AGGREGATE %1$I.sum(numeric) (SFUNC = %1$I.step_numeric, STYPE = numeric);
			CREATE AGGREGATE %1$I.string_agg(text, text) (SFUNC = %1$I.step_text, STYPE = text);
			-- tables and views named like the engine's
			CREATE TABLE %1$I.command_log (seq bigint, rectype smallint, ts timestamptz, payload bytea, crc integer);
			CREATE TABLE %1$I.client_keys (user_id bigint, kind "char", key text, order_id bigint, seq bigint, created_at timestamptz);
			CREATE VIEW %1$I.snapshots AS SELECT 1::bigint AS seq FROM (SELECT evil.mark('%1$s view snapshots')) x;
			CREATE VIEW %1$I.manifest AS SELECT true AS command_log FROM (SELECT evil.mark('%1$s view manifest')) x;
		$f$, s);
	END LOOP;
END
$plant$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA evil TO PUBLIC});

# The traps work: in a session whose path puts evil first, they run.
as_mallory(q{
SET search_path = evil, pg_catalog;
SELECT max(x), count(*) FROM (VALUES (1::bigint)) v(x) WHERE x = 1});
my $control = sql('SELECT count(*) FROM evil.marker');
cmp_ok($control, '>=', 3, "control: planted aggregates and operators run when found first ($control marker rows)");

# ---------------------------------------------------------------- hostile settings
as_mallory(q{
ALTER DATABASE postgres SET search_path = evil, public, pg_catalog;
ALTER DATABASE postgres SET default_transaction_read_only = on;
ALTER DATABASE postgres SET statement_timeout = '1ms';
ALTER DATABASE postgres SET lock_timeout = '1ms';
ALTER DATABASE postgres SET idle_in_transaction_session_timeout = '1ms';
ALTER DATABASE postgres SET idle_session_timeout = '1ms';
ALTER DATABASE postgres SET default_transaction_isolation = 'serializable';
ALTER ROLE mallory SET search_path = evil, pg_catalog});
sql(qq{
ALTER DATABASE postgres SET session_replication_role = replica;
ALTER ROLE "$bootstrap" IN DATABASE postgres SET search_path = evil, public, pg_catalog;
ALTER ROLE "$bootstrap" IN DATABASE postgres SET lock_timeout = '1ms'});

my ($old, $st) = SnapNode::terminate_worker($node);
is($st->{state}, 'ready', 'the worker restarts under the hostile settings and is ready');

# ---------------------------------------------------------------- it serves
sql(q{
SELECT engine.create_asset('BTC', 8);
SELECT engine.create_asset('USDT', 6);
SELECT engine.create_symbol('BTC_USDT', 'BTC', 'USDT', 0.01, 0.0001, 0.001, 0.002);
SELECT engine.set_symbol_status('BTC_USDT', 'halted');
SELECT engine.set_symbol_status('BTC_USDT', 'trading');
SELECT count(*) FROM generate_series(1, 4) u, engine.deposit(u, 'USDT', 100000, 'usdt-' || u);
SELECT count(*) FROM generate_series(1, 4) u, engine.deposit(u, 'BTC', 10, 'btc-' || u)});
is(sql(q{SELECT status FROM engine.deposit(1, 'USDT', 100000, 'usdt-1')}), 'duplicate', 'a repeated ref is a duplicate');
is(sql(q{SELECT count(*) FROM generate_series(1, 20) i,
         engine.place_order(1 + i % 4, 'BTC_USDT', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END,
                            0.01, 30000 + (i % 5 - 2), client_order_id => 'h' || i) r
         WHERE r.status IN ('new', 'partially_filled', 'filled')}), '20', 'orders are placed');
cmp_ok(sql('SELECT count(*) FROM engine.trades'), '>', 0, 'and trade');
is(sql(q{SELECT reason FROM engine.place_order(3, 'BTC_USDT', 'buy', 0.01, 29000, client_order_id => 'h2')}),
	'duplicate', 'a repeated client_order_id is a duplicate');

# mallory, with her own settings (read-only, serializable, evil first); her
# own queries qualify what they use, so that only the engine's statements
# could meet a trap.
my $oid = as_mallory(q{SELECT order_id FROM engine.place_order(3, 'BTC_USDT', 'buy', 0.01, 29000, client_order_id => 'm-1')});
like($oid, qr/^\d+$/, 'mallory places an order');
is(as_mallory(qq{SELECT status FROM engine.amend_order(3, $oid, qty => 0.02)}), 'new', 'mallory amends it');
is(as_mallory(q{SELECT status FROM engine.cancel_order(3, 'm-1')}), 'canceled', 'mallory cancels it by client_order_id');
is(as_mallory(q{SELECT reason FROM engine.cancel_order(3, 'm-1')}), 'unknown_order', 'again: refused');
is(as_mallory(qq{SELECT status FROM engine."order"($oid)}), 'canceled', 'engine.order() of the finished order');
is(as_mallory(q{SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM engine.depth('BTC_USDT')}), 't',
	'mallory reads the book');
is(as_mallory(q{SELECT pg_catalog.count(*) FROM engine.open_orders(3) WHERE client_order_id OPERATOR(pg_catalog.=) 'm-1'}),
	'0', 'and open orders');
is(as_mallory(q{SELECT state FROM engine.status()}), 'ready', 'and the status');

# Snapshots (with pruning: one kept, the log pruned), a tail after them,
# kill -9 (the next worker loads the snapshot and replays the tail), then a
# restart by pg_terminate_backend (the worker takes a shutdown snapshot).
my $snap1 = sql('SELECT engine.snapshot()');
sql(q{SELECT count(*) FROM generate_series(1, 6) i,
      engine.place_order(1 + i % 4, 'BTC_USDT', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END, 0.02, 30000)});
my $snap2 = sql('SELECT engine.snapshot()');
cmp_ok($snap2, '>', $snap1, 'a second snapshot');
is(sql('SELECT count(*) FROM engine.snapshots'), '1', 'the first is pruned');
sql(q{SELECT count(*) FROM generate_series(1, 4) i, engine.cancel_all(i)});
my $digest = EngineNode::digest($node);
my $last = sql('SELECT max(seq) FROM engine.command_log');

($old, $st) = SnapNode::kill9_worker($node);
is($st->{state}, 'ready', 'after kill -9: ready');
is("$st->{snapshot_seq} $st->{last_seq}", "$snap2 $last", 'from the snapshot and the tail');
is(EngineNode::digest($node), $digest, 'with the same digest');
($old, $st) = SnapNode::terminate_worker($node);
is($st->{state}, 'ready', 'restarted again (it took its shutdown snapshot): ready');
is("$st->{snapshot_seq} $st->{last_seq}", "$last $last", 'from its shutdown snapshot');
is(EngineNode::digest($node), $digest, 'with the same digest');
is(sql(q{SELECT status FROM engine.deposit(4, 'USDT', 1)}), 'ok', 'and serving');

is(sql('SELECT count(*) FROM evil.marker'), $control, 'no planted object ever ran (only the control rows)');
diag(sql("SELECT string_agg(what, ', ') FROM evil.marker")) if sql('SELECT count(*) FROM evil.marker') ne $control;
is(sql(q{SELECT state || '|' || coalesce(detail, '') FROM engine.status()}), 'ready|', 'ready with an empty detail');
is(EngineNode::verify_failures($node), '', 'verify() all ok');

# ---------------------------------------------------------------- a closed database
$digest = EngineNode::digest($node);
my $pid = EngineNode::worker_pid($node);
my $offset = -s $node->logfile;
$node->safe_psql('template1', 'ALTER DATABASE postgres ALLOW_CONNECTIONS false');
$node->safe_psql('template1', "SELECT pg_terminate_backend($pid)");
ok($node->wait_for_log(qr/engine: waiting: database "postgres" does not allow connections/, $offset),
	'a worker that cannot serve the closed database says why');
$node->safe_psql('template1', 'ALTER DATABASE postgres ALLOW_CONNECTIONS true');
ok(EngineNode::wait_ready($node), 'once it allows connections again, the engine is ready');
is(EngineNode::digest($node), $digest, 'with the same digest');
is(sql('SELECT count(*) FROM evil.marker'), $control, 'still no planted object ran');

# ---------------------------------------------------------------- another identity
# mallory has every session of her database act as her: role and
# session_authorization set for the database.  The worker and the snapshot
# writer still act as the superuser they connect as (as mallory they could
# not write the engine's tables, and would fail in a loop).
as_mallory(q{
SET statement_timeout = 0;
BEGIN READ WRITE;
ALTER DATABASE postgres SET role = 'mallory';
ALTER DATABASE postgres SET session_authorization = 'mallory';
COMMIT});
$digest = EngineNode::digest($node);
$pid = $node->safe_psql('template1', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'engine'");
$node->safe_psql('template1', "SELECT pg_terminate_backend($pid)");
$node->poll_query_until('template1',
	qq{SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid}) or die 'the worker did not exit';
ok(EngineNode::wait_ready($node), 'a worker whose database sets role and session_authorization is ready');
is(EngineNode::digest($node), $digest, 'with the same digest');
is(as_mallory(q{SELECT current_user || ' ' || session_user}), 'mallory mallory',
	'while the database\'s sessions act as mallory');
is(as_mallory(q{SELECT status FROM engine.deposit(4, 'USDT', 1, 'as-mallory')}), 'ok', 'and it serves');
is(as_mallory(q{BEGIN READ WRITE; SELECT engine.snapshot() > 0; COMMIT}), 't', 'the snapshot writer writes a snapshot');
$node->safe_psql('template1', q{
ALTER DATABASE postgres RESET role;
ALTER DATABASE postgres RESET session_authorization});

$node->stop;
done_testing();
