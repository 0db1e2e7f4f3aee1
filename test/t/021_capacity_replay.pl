# 021_capacity_replay.pl — replaying records the core refused for capacity.
#
# Replay refuses a PLACE for capacity exactly when the live engine did, or
# the replayed state would silently differ; recovery checks every such
# refusal against the order events the live engine wrote, a batch of them
# per query (so many refusals cost about what ordinary records do).
#   1. A pool of 8 orders, full; 30 more places refused for capacity live.
#      kill -9 (no snapshot: the whole log is replayed): the refusals match,
#      the engine is ready with the same digest.
#   2. engine.max_orders lowered to 6 and the server restarted: the
#      shutdown snapshot (8 orders) no longer fits and is refused, the log
#      is replayed from seq 1, and the 7th order, accepted live, is now
#      refused for capacity: state failed, naming its seq, never a
#      different state.
#   3. engine.max_orders back to 8: ready, same digest.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EngineNode;
use SnapNode;

my $DB = 'postgres';

my $node = SnapNode::new_node('capacity', keep_log => 'on', max_orders => 8);
my %total;
EngineNode::setup_market($node);
EngineNode::fund($node, [ 1 .. 4 ], 10**8, 100_000 * 10**6, \%total);
my $rested = $node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 8) i,
  engine.place_order(1 + i % 4, 'BTC_USDT', 'buy', 0.001, 100 + i) r WHERE r.status = 'new'});
is($rested, 8, 'eight orders fill the pool');
my $seventh = $node->safe_psql($DB, q{
SELECT seq FROM engine.command_log_decoded WHERE rectype = 'PLACE' ORDER BY seq OFFSET 6 LIMIT 1});
my $refused = $node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 30) i,
  engine.place_order(1 + i % 4, 'BTC_USDT', 'sell', 0.001, 300 + i) r
 WHERE r.status = 'rejected' AND r.reason = 'capacity'});
is($refused, 30, 'thirty more places are refused for capacity');
my $digest = SnapNode::digest($node);
my $last   = SnapNode::last_seq($node);

# 1. replay the refusals
my ($pid, $st) = SnapNode::kill9_worker($node);
is("$st->{state} $st->{snapshot_seq} $st->{replayed}", "ready 0 $last",
	'kill -9: the whole log replayed, refusals included');
is(SnapNode::digest($node), $digest, 'same digest');
is(EngineNode::verify_failures($node), '', 'verify() all ok');

# 2. fewer slots than the live engine had
$node->append_conf('postgresql.conf', "engine.max_orders = 6\n");
my $off = -s $node->logfile;
$node->restart;
$st = SnapNode::wait_verdict($node);
is($st->{state}, 'failed', 'engine.max_orders lowered below what the log needs: failed');
like($st->{detail}, qr/^replay diverged at seq $seventh: PLACE was accepted live but is rejected for capacity now/,
	"the detail names the seventh order's seq ($seventh): $st->{detail}");
my $log = slurp_file($node->logfile, $off);
like($log, qr/snapshot at seq $last is unusable: .*capacity/, 'the shutdown snapshot was refused: it does not fit');

# 3. repaired
$node->append_conf('postgresql.conf', "engine.max_orders = 8\n");
$node->restart;
$st = SnapNode::wait_verdict($node);
is("$st->{state} $st->{snapshot_seq} $st->{replayed}", "ready $last 0", 'max_orders back: ready from the snapshot');
is(SnapNode::digest($node), $digest, 'same digest');

$node->stop;
done_testing();
