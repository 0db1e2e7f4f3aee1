# 015_corrupt_snapshot.pl — a damaged row of the newest snapshot: recovery
# refuses that snapshot, says so in the server log, falls back to the one
# before it and replays a longer tail, and reaches the same state.
#
# Snapshots A and B (engine.snapshot_keep = 2, engine.keep_log = off, so the
# log before A is pruned).  The worker is restarted with
# pg_terminate_backend: its shutdown snapshot would be B again, which exists,
# so nothing new is written.
#   1. one row of B's engine.snapshot_orders changed: snapshot_seq = A,
#      replayed = B - A, WARNING "snapshot at seq B is unusable", same digest;
#   2. the same with one row of B's engine.snapshot_balances;
#   3. B repaired: recovery uses B again and replays nothing;
#   4. A and B both damaged: no usable snapshot and the log before A is
#      pruned, so replay from seq 1 meets a gap: state failed, naming it
#      (never a silently different state); repaired, it recovers.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EngineNode;
use SnapNode;

my $DB = 'postgres';

my $node = SnapNode::new_node('corrupt_snap', keep_log => 'off', snapshot_keep => 2);
my %total;
EngineNode::setup_market($node);
EngineNode::fund($node, [ 1 .. 30 ], 10**8, 100_000 * 10**6, \%total);
$node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 60) i,
  engine.place_order(1 + i % 30, 'BTC_USDT', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END,
                     0.001 * (1 + i % 9), 30000 + (i % 13) * 0.5)});
my $A = $node->safe_psql($DB, 'SELECT engine.snapshot()');
$node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 80) i,
  engine.place_order(1 + i % 30, 'BTC_USDT', CASE WHEN i % 3 = 0 THEN 'buy' ELSE 'sell' END,
                     0.001 * (1 + i % 7), 30000 + (i % 17) * 0.5);
SELECT count(*) FROM generate_series(1, 20) i, engine.cancel_order(1 + i % 30, (60 + i)::bigint);
SELECT count(*) FROM generate_series(1, 10) i, engine.deposit(40 + i, 'USDT', 5)});
my $B = $node->safe_psql($DB, 'SELECT engine.snapshot()');
cmp_ok($B, '>', $A, "two snapshots: A = $A, B = $B");
is($node->safe_psql($DB, 'SELECT min(seq) FROM engine.command_log'), $A + 1,
	'the log rows snapshot A covers are pruned (engine.keep_log = off)');
cmp_ok(SnapNode::snapshot_rows($node, $B)->{snapshot_orders}, '>', 0, 'B holds resting orders');

my $digest = SnapNode::digest($node);

# Restart the worker with pg_terminate_backend and return its status; the
# server log written meanwhile goes to $$log.
sub restart_worker
{
	my ($log) = @_;
	my $off = -s $node->logfile;
	my ($pid, $st) = SnapNode::terminate_worker($node);
	$$log = slurp_file($node->logfile, $off);
	return $st;
}

sub falls_back
{
	my ($label, $st, $log) = @_;
	is($st->{state}, 'ready', "$label: ready");
	is($st->{snapshot_seq}, $A, "$label: recovery fell back to the previous snapshot A");
	is($st->{replayed}, $B - $A, "$label: and replayed the longer tail (B - A records)");
	like($log, qr/WARNING:  engine: snapshot at seq $B is unusable: \S.*\n.*DETAIL:  Falling back to the snapshot before it/,
		"$label: the server log says snapshot B is unusable and why");
	is(SnapNode::digest($node), $digest, "$label: digest unchanged");
	is(EngineNode::verify_failures($node), '', "$label: verify() all ok");
	is(join(',', SnapNode::snapshot_seqs($node)), "$A,$B", "$label: no new snapshot was written");
	return;
}

my $log;

# 1. an order row of B
$node->safe_psql($DB, "UPDATE engine.snapshot_orders SET remaining_qty = remaining_qty + 10000 "
	  . "WHERE snapshot_seq = $B AND pos = 0");
my $st = restart_worker(\$log);
falls_back('order row of B changed', $st, $log);
note($_) for $log =~ /(snapshot at seq \d+ is unusable: .*)/g;
$node->safe_psql($DB, "UPDATE engine.snapshot_orders SET remaining_qty = remaining_qty - 10000 "
	  . "WHERE snapshot_seq = $B AND pos = 0");

# 2. a balance row of B
$node->safe_psql($DB, "UPDATE engine.snapshot_balances SET available = available + 1 "
	  . "WHERE snapshot_seq = $B AND pos = 3");
$st = restart_worker(\$log);
falls_back('balance row of B changed', $st, $log);
note($_) for $log =~ /(snapshot at seq \d+ is unusable: .*)/g;
$node->safe_psql($DB, "UPDATE engine.snapshot_balances SET available = available - 1 "
	  . "WHERE snapshot_seq = $B AND pos = 3");

# 3. repaired
$st = restart_worker(\$log);
is("$st->{state} $st->{snapshot_seq} $st->{replayed}", "ready $B 0",
	'B repaired: recovery uses B again and replays nothing');
unlike($log, qr/is unusable/, 'and warns about no snapshot');
is(SnapNode::digest($node), $digest, 'digest unchanged');

# 4. both damaged, log before A pruned
$node->safe_psql($DB, "UPDATE engine.snapshot_balances SET frozen = frozen + 1 "
	  . "WHERE snapshot_seq = $A AND pos = 1");
$node->safe_psql($DB, "DELETE FROM engine.snapshot_orders WHERE snapshot_seq = $B AND pos = 1");
$st = restart_worker(\$log);
is($st->{state}, 'failed', 'A and B both unusable, log pruned: state failed');
like($st->{detail}, qr/gap: expected seq 1, found seq @{[ $A + 1 ]}/, "detail names the gap: $st->{detail}");
like($log, qr/snapshot at seq $B is unusable.*\n(.*\n)*.*snapshot at seq $A is unusable.*\n.*Falling back to replaying the command log from the start/,
	'the server log names both unusable snapshots');
my ($ret, $out, $err) = $node->psql($DB, q{SELECT * FROM engine.deposit(1, 'USDT', 1)});
like($err, qr/engine has failed/, 'commands are refused');
note("both snapshots unusable: $st->{detail}");

$node->safe_psql($DB, "UPDATE engine.snapshot_balances SET frozen = frozen - 1 "
	  . "WHERE snapshot_seq = $A AND pos = 1");
$st = restart_worker(\$log);
is("$st->{state} $st->{snapshot_seq} $st->{replayed}", "ready $A " . ($B - $A),
	'A repaired (B still damaged): recovers from A');
is(SnapNode::digest($node), $digest, 'digest unchanged');

$node->stop;
done_testing();
