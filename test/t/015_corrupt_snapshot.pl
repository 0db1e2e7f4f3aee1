# 015_corrupt_snapshot.pl — a damaged row of the newest snapshot: recovery
# refuses that snapshot, says so in the server log, falls back to the one
# before it and replays a longer tail, and reaches the same state.
#
# Snapshots A and B (engine.snapshot_keep = 2, engine.keep_log = off, so the
# log before A is pruned), format 2: chunks of items in
# engine.snapshot_chunks.  The worker is restarted with pg_terminate_backend:
# its shutdown snapshot would be B again, which exists, so nothing new is
# written.  In every case below: snapshot_seq = A, replayed = B - A,
# WARNING "snapshot at seq B is unusable" with the reason, same digest:
#   1. one byte of an order chunk of B changed: its CRC no longer matches;
#   2. an order's remaining changed and the chunk's CRC recomputed: the
#      restore refuses the order;
#   3. a balance's available changed, CRC recomputed: the global checks
#      (conservation) refuse the state;
#   4. a chunk of B deleted: the chunks have a gap;
#   5. B repaired: recovery uses B again and replays nothing;
#   6. A and B both damaged: no usable snapshot and the log before A is
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

# The first chunk of B of a kind (3 balances, 4 orders).
sub chunk_of
{
	my ($seq, $kind) = @_;
	return $node->safe_psql($DB, "SELECT min(chunk) FROM engine.snapshot_chunks WHERE snapshot_seq = $seq AND kind = $kind");
}

# XOR one byte of a chunk with $x; with $fix_crc the crc is made to match.
sub flip
{
	my ($seq, $chunk, $byte, $x, $fix_crc) = @_;
	$node->safe_psql($DB, "UPDATE engine.snapshot_chunks SET data = set_byte(data, $byte, get_byte(data, $byte) # $x) "
		  . "WHERE snapshot_seq = $seq AND chunk = $chunk");
	$node->safe_psql($DB, "UPDATE engine.snapshot_chunks SET crc = engine.crc32c(data) "
		  . "WHERE snapshot_seq = $seq AND chunk = $chunk") if $fix_crc;
	return;
}

my $oc = chunk_of($B, 4);
my $bc = chunk_of($B, 3);
ok(defined $oc && $oc ne '' && defined $bc && $bc ne '', "B has order ($oc) and balance ($bc) chunks");
is($node->safe_psql($DB, "SELECT bool_and(chunks_ok) FROM engine.snapshots_v"), 't', 'every chunk matches its CRC');

# 1. a byte of an order chunk: the CRC catches it
flip($B, $oc, 50, 1, 0);
is($node->safe_psql($DB, "SELECT chunks_ok FROM engine.snapshots_v WHERE seq = $B"), 'f',
	'engine.snapshots_v shows the damaged chunk');
my $st = restart_worker(\$log);
falls_back('order chunk byte changed', $st, $log);
like($log, qr/snapshot at seq $B is unusable: engine.snapshot_chunks chunk $oc: CRC mismatch/, 'the reason is the CRC');
flip($B, $oc, 50, 1, 0);

# 2. an order's remaining (byte 39: its lowest byte), CRC recomputed
flip($B, $oc, 39, 1, 1);
$st = restart_worker(\$log);
falls_back('order remaining changed, CRC recomputed', $st, $log);
note($_) for $log =~ /(snapshot at seq \d+ is unusable: .*)/g;
flip($B, $oc, 39, 1, 1);

# 3. a balance's available (bytes 12..19 of the first item), CRC recomputed
flip($B, $bc, 12, 1, 1);
$st = restart_worker(\$log);
falls_back('balance changed, CRC recomputed', $st, $log);
like($log, qr/snapshot at seq $B is unusable: invariant check "conservation" failed/, 'the reason is conservation');
flip($B, $bc, 12, 1, 1);

# 4. a chunk deleted
my $saved = $node->safe_psql($DB, "SELECT first_item || ' ' || items || ' ' || crc || ' ' || encode(data, 'hex') "
	  . "FROM engine.snapshot_chunks WHERE snapshot_seq = $B AND chunk = $oc");
$node->safe_psql($DB, "DELETE FROM engine.snapshot_chunks WHERE snapshot_seq = $B AND chunk = $oc");
$st = restart_worker(\$log);
falls_back('an order chunk deleted', $st, $log);
like($log, qr/snapshot at seq $B is unusable: engine.snapshot_chunks(: expected chunk $oc, found chunk| holds)/,
	'the reason is the missing chunk');
my ($first, $items, $crc, $hex) = split / /, $saved;
$node->safe_psql($DB, "INSERT INTO engine.snapshot_chunks VALUES ($B, $oc, 4, $first, $items, $crc, decode('$hex', 'hex'))");

# 5. repaired
$st = restart_worker(\$log);
is("$st->{state} $st->{snapshot_seq} $st->{replayed}", "ready $B 0",
	'B repaired: recovery uses B again and replays nothing');
unlike($log, qr/is unusable/, 'and warns about no snapshot');
is(SnapNode::digest($node), $digest, 'digest unchanged');

# 6. both damaged, log before A pruned
my $ac = chunk_of($A, 3);
flip($A, $ac, 20, 1, 1);		# a balance's frozen: frozen no longer equals the locks
flip($B, $oc, 50, 1, 0);
$st = restart_worker(\$log);
is($st->{state}, 'failed', 'A and B both unusable, log pruned: state failed');
like($st->{detail}, qr/gap: expected seq 1, found seq @{[ $A + 1 ]}/, "detail names the gap: $st->{detail}");
like($log, qr/snapshot at seq $B is unusable.*\n(.*\n)*.*snapshot at seq $A is unusable.*\n.*Falling back to replaying the command log from the start/,
	'the server log names both unusable snapshots');
my ($ret, $out, $err) = $node->psql($DB, q{SELECT * FROM engine.deposit(1, 'USDT', 1)});
like($err, qr/engine has failed/, 'commands are refused');
note("both snapshots unusable: $st->{detail}");

flip($A, $ac, 20, 1, 1);
$st = restart_worker(\$log);
is("$st->{state} $st->{snapshot_seq} $st->{replayed}", "ready $A " . ($B - $A),
	'A repaired (B still damaged): recovers from A');
is(SnapNode::digest($node), $digest, 'digest unchanged');

$node->stop;
done_testing();
