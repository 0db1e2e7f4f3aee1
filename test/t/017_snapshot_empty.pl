# 017_snapshot_empty.pl — the edges: a cold start with no snapshot, the
# snapshot and recovery of an empty engine, and snapshots with no new
# command since the last one.
#
#   1. A fresh engine: ready at seq 0, no snapshot rows, nothing replayed;
#      killed with SIGKILL before any snapshot exists it comes back the same.
#   2. engine.snapshot() of the empty engine returns 0 and writes one
#      engine.snapshots row (seq 0, no orders) whose content rows match what
#      it announces; a clean restart loads it and replays nothing.
#   3. engine.snapshot() again with no new command: returns 0, no new row in
#      any snapshot table, no new "snapshot at seq" log line.
#   4. After commands: engine.snapshot() returns the last seq; called again
#      with nothing new it returns the same seq and writes nothing; a kill -9
#      then recovers from it with nothing to replay.
# (A cold start that replays a whole log without any snapshot is what the
# fresh replay nodes of 011 and 012 do: snapshot_seq 0, replayed = every row.)

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EngineNode;
use SnapNode;

my $DB = 'postgres';

my $node = SnapNode::new_node('empty', keep_log => 'off');
my $empty_counts = { snapshots => 0, snapshot_chunks => 0, map { $_ => 0 } @SnapNode::SNAPSHOT_TABLES };

# 1. cold start
my $st = SnapNode::status($node);
is("$st->{state} $st->{last_seq} $st->{snapshot_seq} $st->{replayed}", 'ready 0 0 0',
	'fresh engine: ready at seq 0, no snapshot, nothing replayed');
is_deeply(SnapNode::snapshot_table_counts($node), $empty_counts, 'no snapshot rows');
is($st->{resting_orders}, 0, 'no resting orders');
my $d0 = SnapNode::digest($node);
ok($node->log_contains(qr/engine: recovery started: snapshot seq 0, 0 log records to replay/),
	'the cold start recovered from nothing');

my ($pid);
($pid, $st) = SnapNode::kill9_worker($node);
is("$st->{state} $st->{last_seq} $st->{snapshot_seq} $st->{replayed}", 'ready 0 0 0',
	'kill -9 of the empty engine with no snapshot: ready at seq 0 again');
is(SnapNode::digest($node), $d0, 'same (empty) digest');
is_deeply(SnapNode::snapshot_table_counts($node), $empty_counts, 'still no snapshot rows');

# 2. snapshot of the empty engine
is($node->safe_psql($DB, 'SELECT engine.snapshot()'), '0', 'engine.snapshot() of an empty engine returns 0');
is($node->safe_psql($DB, 'SELECT seq, orders, digest FROM engine.snapshots'), "0|0|$d0",
	'one engine.snapshots row: seq 0, no orders, the empty digest');
is_deeply(SnapNode::snapshot_rows($node, 0), SnapNode::snapshot_announced($node, 0),
	'its content rows match what it announces');
is(SnapNode::status($node)->{snapshot_seq}, 0, 'status().snapshot_seq = 0');
my $counts0 = SnapNode::snapshot_table_counts($node);

$node->restart;
$st = SnapNode::wait_verdict($node);
is("$st->{state} $st->{last_seq} $st->{snapshot_seq} $st->{replayed}", 'ready 0 0 0',
	'clean restart of the empty engine: ready at seq 0 from snapshot 0');
ok($node->log_contains(qr/engine: loaded snapshot at seq 0\b/), 'it loaded the empty snapshot');
is(SnapNode::digest($node), $d0, 'same (empty) digest');
is(EngineNode::verify_failures($node), '', 'verify() all ok');

# 3. no new command since the last snapshot
my $lines = () = slurp_file($node->logfile) =~ /engine: snapshot at seq/g;
is($node->safe_psql($DB, 'SELECT engine.snapshot()'), '0', 'engine.snapshot() again: 0');
is_deeply(SnapNode::snapshot_table_counts($node), $counts0, 'no new snapshot rows');
my $lines2 = () = slurp_file($node->logfile) =~ /engine: snapshot at seq/g;
is($lines2, $lines, 'no new "snapshot at seq" line in the server log');

# 4. after commands
my %total;
EngineNode::setup_market($node);
EngineNode::fund($node, [ 1 .. 5 ], 10**8, 10_000 * 10**6, \%total);
$node->safe_psql($DB, q{
SELECT engine.place_order(1, 'BTC_USDT', 'buy', 0.01, 30000);
SELECT engine.place_order(2, 'BTC_USDT', 'sell', 0.02, 30010);
SELECT engine.place_order(3, 'BTC_USDT', 'sell', 0.005, 30000)});
my $last = SnapNode::last_seq($node);
my $d1   = SnapNode::digest($node);
is($node->safe_psql($DB, 'SELECT engine.snapshot()'), $last, "engine.snapshot() after commands returns the last seq ($last)");
my $rows = SnapNode::snapshot_rows($node, $last);
is_deeply($rows, SnapNode::snapshot_announced($node, $last), 'and is whole');
is($rows->{snapshot_orders}, 2, 'with the two resting orders');
my $counts1 = SnapNode::snapshot_table_counts($node);
my $taken   = $node->safe_psql($DB, "SELECT taken_at FROM engine.snapshots WHERE seq = $last");
$lines = () = slurp_file($node->logfile) =~ /engine: snapshot at seq/g;

is($node->safe_psql($DB, 'SELECT engine.snapshot()'), $last, 'engine.snapshot() with nothing new: the same seq');
is_deeply(SnapNode::snapshot_table_counts($node), $counts1, 'no new snapshot rows');
is($node->safe_psql($DB, "SELECT taken_at FROM engine.snapshots WHERE seq = $last"), $taken,
	'the snapshot row is the same one');
$lines2 = () = slurp_file($node->logfile) =~ /engine: snapshot at seq/g;
is($lines2, $lines, 'no new "snapshot at seq" line in the server log');

($pid, $st) = SnapNode::kill9_worker($node);
is("$st->{state} $st->{snapshot_seq} $st->{replayed}", "ready $last 0",
	'kill -9: recovered from that snapshot with nothing to replay');
is(SnapNode::digest($node), $d1, 'same digest');

$node->stop;
done_testing();
