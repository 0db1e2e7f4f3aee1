# 010_snapshot_restart.pl — a clean stop takes a snapshot, so a clean restart
# replays nothing and keeps the state digest.
#
#   1. pg_ctl restart with a book, trades, fees and finished orders: the
#      shutdown snapshot covers the last seq (its stored digest is the
#      digest before the stop, its order rows are the resting orders); after
#      the restart status().replayed = 0, snapshot_seq = last_seq, same digest.
#   2. More commands, then pg_terminate_backend of the worker (SIGTERM: finish
#      the batch, snapshot, exit): the same.
#   3. A restart with no command since the last snapshot writes no new
#      snapshot and replays nothing.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EngineNode;
use SnapNode;

my $DB = 'postgres';

my $node = SnapNode::new_node('restart', keep_log => 'off');
my %total;
EngineNode::setup_market($node);
EngineNode::fund($node, [ 1 .. 30 ], 10**8, 100_000 * 10**6, \%total);

# Resting orders on both sides, crossing ones (trades, fees to user 0),
# cancels and a halted second symbol.
$node->safe_psql($DB, q{
SELECT engine.create_asset('ETH', 8);
SELECT engine.create_symbol('ETH_USDT', 'ETH', 'USDT', 0.01, 0.001, 0.0005, 0.001);
SELECT count(*) FROM generate_series(1, 30) u, engine.deposit(u, 'ETH', 50);
SELECT count(*) FROM generate_series(1, 120) i,
  engine.place_order(1 + i % 30, 'BTC_USDT', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END,
                     0.001 * (1 + i % 5), 30000 + (i % 21 - 10) * 0.5,
                     client_order_id => 'r' || i);
SELECT count(*) FROM generate_series(1, 60) i,
  engine.place_order(1 + i % 30, 'ETH_USDT', CASE WHEN i % 3 = 0 THEN 'buy' ELSE 'sell' END,
                     0.01 * (1 + i % 4), 2000 + (i % 9 - 4) * 0.25);
SELECT count(*) FROM generate_series(1, 20) i, engine.cancel_order(1 + i % 30, 'r' || (i * 3));
SELECT engine.set_symbol_status('ETH_USDT', 'halted')});

my $st0 = SnapNode::status($node);
cmp_ok($st0->{resting_orders}, '>', 0, "resting orders before the restart: $st0->{resting_orders}");
cmp_ok($node->safe_psql($DB, 'SELECT count(*) FROM engine.trades'), '>', 0, 'trades happened');

# ---------------------------------------------------------------------------
# 1. pg_ctl restart
# ---------------------------------------------------------------------------
{
	my $d    = SnapNode::digest($node);
	my $last = $st0->{last_seq};
	my $off  = -s $node->logfile;
	$node->restart;
	my $st = SnapNode::wait_verdict($node);
	is($st->{state}, 'ready', 'ready after a clean restart');
	is($st->{replayed}, 0, 'status().replayed = 0');
	is($st->{snapshot_seq}, $st->{last_seq}, 'status().snapshot_seq = last_seq');
	is($st->{last_seq}, $last, 'last_seq as before the restart');
	is(SnapNode::digest($node), $d, 'state digest equal before and after');
	is(EngineNode::verify_failures($node), '', 'verify() all ok');
	is($node->safe_psql($DB, "SELECT digest FROM engine.snapshots WHERE seq = $last"), $d,
		'the shutdown snapshot recorded the digest');
	is(SnapNode::snapshot_rows($node, $last)->{snapshot_orders}, $st0->{resting_orders},
		'the shutdown snapshot holds every resting order');
	my $log = slurp_file($node->logfile, $off);
	like($log, qr/engine: snapshot at seq $last \(shutdown\)/, 'the server log shows the shutdown snapshot');
	like($log, qr/engine: recovery started: snapshot seq $last, 0 log records to replay/,
		'and a recovery with nothing to replay');
}

# ---------------------------------------------------------------------------
# 2. pg_terminate_backend of the worker
# ---------------------------------------------------------------------------
{
	$node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 40) i,
  engine.place_order(1 + i % 30, 'BTC_USDT', CASE WHEN i % 2 = 1 THEN 'buy' ELSE 'sell' END,
                     0.002, 30000 + (i % 11 - 5) * 0.5);
SELECT count(*) FROM generate_series(1, 5) u, engine.withdraw(u, 'USDT', 1)});
	my $d    = SnapNode::digest($node);
	my $last = SnapNode::last_seq($node);
	my ($pid, $st) = SnapNode::terminate_worker($node);
	is($st->{state}, 'ready', 'ready after pg_terminate_backend of the worker');
	is("$st->{replayed} $st->{snapshot_seq} $st->{last_seq}", "0 $last $last",
		'replayed = 0, snapshot_seq = last_seq = the seq before');
	is(SnapNode::digest($node), $d, 'state digest equal before and after');
	ok(!$node->log_contains('all server processes terminated'), 'a worker restart, not a crash-restart');
}

# ---------------------------------------------------------------------------
# 3. clean restart with nothing new: no new snapshot
# ---------------------------------------------------------------------------
{
	my $d      = SnapNode::digest($node);
	my $counts = SnapNode::snapshot_table_counts($node);
	my $taken  = $node->safe_psql($DB, 'SELECT max(taken_at) FROM engine.snapshots');
	$node->restart;
	my $st = SnapNode::wait_verdict($node);
	is("$st->{state} $st->{replayed}", 'ready 0', 'restart without new commands: ready, nothing replayed');
	is_deeply(SnapNode::snapshot_table_counts($node), $counts, 'no snapshot rows were written');
	is($node->safe_psql($DB, 'SELECT max(taken_at) FROM engine.snapshots'), $taken, 'the newest snapshot is the same one');
	is(SnapNode::digest($node), $d, 'state digest equal');
}

$node->stop;
done_testing();
