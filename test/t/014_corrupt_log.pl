# 014_corrupt_log.pl — a damaged command_log row after the newest snapshot
# stops recovery in state 'failed'; nothing is accepted or written until the
# row is repaired and the worker restarted, which then recovers the same state.
#
#   1. One payload byte of row N (after the newest snapshot) flipped as
#      superuser, then the worker killed with SIGKILL (a clean stop would
#      first write a shutdown snapshot covering N, and recovery would never
#      read the row): state 'failed', detail names seq N and the CRC;
#      commands and engine.snapshot() fail with an error naming seq N; the
#      log, the history tables and the snapshots are unchanged, also across
#      a restart of the failed worker.  Restoring the byte and restarting the
#      worker (pg_terminate_backend) recovers: ready, same digest, same
#      last_seq, replayed from the same snapshot.
#   2. Row N deleted (a gap in seq): 'failed' naming the gap at seq N;
#      re-inserting the row and restarting the worker recovers.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EngineNode;
use SnapNode;

my $DB = 'postgres';

my $node = SnapNode::new_node('corrupt_log', keep_log => 'off');
my %total;
EngineNode::setup_market($node);
EngineNode::fund($node, [ 1 .. 20 ], 10**8, 100_000 * 10**6, \%total);
$node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 20) i,
  engine.place_order(i, 'BTC_USDT', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END,
                     0.01 * i, 30000 + (i % 7) * 1.5)});
my $snap = $node->safe_psql($DB, 'SELECT engine.snapshot()');
$node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 40) i,
  engine.place_order(1 + i % 20, 'BTC_USDT', CASE WHEN i % 3 = 0 THEN 'buy' ELSE 'sell' END,
                     0.001 * i, 30000 + (i % 11) * 1.5);
SELECT count(*) FROM generate_series(1, 10) i, engine.deposit(i, 'USDT', 10, 'late-' || i)});

my $digest = SnapNode::digest($node);
my $last   = SnapNode::last_seq($node);
my $bad    = $snap + 15;
cmp_ok($last, '>', $bad, "row $bad is after the newest snapshot ($snap), before the end ($last)");

# Everything the engine writes, to show that nothing is written while failed.
my $footprint_sql = q{
SELECT (SELECT count(*) || '/' || max(seq) FROM engine.command_log) || ' '
    || (SELECT count(*) FROM engine.order_events) || ' '
    || (SELECT count(*) FROM engine.trades) || ' '
    || (SELECT count(*) || '/' || coalesce(max(seq), -1) FROM engine.snapshots) || ' '
    || (SELECT count(*) FROM engine.snapshot_orders) || ' '
    || (SELECT count(*) FROM engine.client_keys)};
my $footprint = $node->safe_psql($DB, $footprint_sql);

# Commands a failed engine must refuse; each must fail naming the seq.
sub refused
{
	my ($label, $what) = @_;
	for my $sql (
		q{SELECT * FROM engine.place_order(1, 'BTC_USDT', 'buy', 0.001, 29000, client_order_id => 'while-failed')},
		q{SELECT * FROM engine.deposit(1, 'USDT', 1, 'while-failed')},
		q{SELECT * FROM engine.cancel_order(2, 1::bigint)},
		q{SELECT engine.snapshot()})
	{
		my ($ret, $out, $err) = $node->psql($DB, "SET engine.request_timeout = '2s'; $sql");
		(my $short = $sql) =~ s/\(.*//s;
		isnt($ret, 0, "$label: $short fails");
		like($err, qr/engine has failed: .*$what/, "$label: $short names the cause ($what)");
	}
	is($node->safe_psql($DB, $footprint_sql), $footprint, "$label: nothing was written");
	return;
}

# ---------------------------------------------------------------------------
# 1. a flipped payload byte
# ---------------------------------------------------------------------------
{
	my $orig = $node->safe_psql($DB, "SELECT get_byte(payload, 5) FROM engine.command_log WHERE seq = $bad");
	$node->safe_psql($DB,
		"UPDATE engine.command_log SET payload = set_byte(payload, 5, get_byte(payload, 5) # 1) WHERE seq = $bad");
	is(SnapNode::status($node)->{state}, 'ready', 'the running engine does not notice (it never rereads the log)');

	my ($pid, $st) = SnapNode::kill9_worker($node);
	ok($st, 'the new worker reached a verdict');
	is($st->{state}, 'failed', 'recovery over a corrupted log row ends in state failed');
	like($st->{detail}, qr/\bseq $bad\b.*CRC/, "status().detail names seq $bad and the CRC: $st->{detail}");
	is($st->{snapshot_seq}, $snap, 'it had started from the newest snapshot');
	ok($node->log_contains(qr/engine: recovery failed: .*seq $bad\b/), 'the server log says why');
	refused('failed', "seq $bad");

	# A restart of the failed worker fails the same way and writes nothing
	# (no shutdown snapshot of a failed engine).
	($pid, $st) = SnapNode::terminate_worker($node);
	is($st->{state}, 'failed', 'restarting the worker without repairing: still failed');
	like($st->{detail}, qr/\bseq $bad\b/, 'naming the same seq');
	is($node->safe_psql($DB, $footprint_sql), $footprint, 'the failed worker wrote nothing when it was stopped');

	$node->safe_psql($DB,
		"UPDATE engine.command_log SET payload = set_byte(payload, 5, $orig) WHERE seq = $bad");
	($pid, $st) = SnapNode::terminate_worker($node);
	is($st->{state}, 'ready', 'byte restored and worker restarted: ready');
	is("$st->{snapshot_seq} $st->{replayed}", "$snap " . ($last - $snap), 'replayed the tail after the snapshot');
	is($st->{last_seq}, $last, 'last_seq as before');
	is(SnapNode::digest($node), $digest, 'digest as before the corruption');
	is(EngineNode::verify_failures($node), '', 'verify() all ok');
}

# ---------------------------------------------------------------------------
# 2. a missing row (gap in seq)
# ---------------------------------------------------------------------------
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	$node->safe_psql($DB, "COPY (SELECT * FROM engine.command_log WHERE seq = $bad) TO '$dir/row'");
	$node->safe_psql($DB, "DELETE FROM engine.command_log WHERE seq = $bad");
	my ($pid, $st) = SnapNode::kill9_worker($node);
	is($st->{state}, 'failed', 'recovery over a gap in the log ends in state failed');
	like($st->{detail}, qr/gap: expected seq $bad\b/, "status().detail names the gap at seq $bad: $st->{detail}");
	$footprint = $node->safe_psql($DB, $footprint_sql);
	refused('gap', "seq $bad");

	$node->safe_psql($DB, "COPY engine.command_log FROM '$dir/row'");
	($pid, $st) = SnapNode::terminate_worker($node);
	is($st->{state}, 'ready', 'row re-inserted and worker restarted: ready');
	is(SnapNode::digest($node), $digest, 'digest as before');
	is(EngineNode::verify_failures($node), '', 'verify() all ok');
	is($node->safe_psql($DB, q{SELECT status FROM engine.deposit(1, 'USDT', 1, 'after-repair')}), 'ok',
		'commands are accepted again');
}

$node->stop;
done_testing();
