# 011_snapshot_kill9_load.pl — kill -9 of the worker under 8 concurrent
# clients, five times in a row, with snapshots taken in between.
#
# Every round: the load runs, engine.snapshot() is taken (and automatic
# snapshots run every 10 s at most, engine.snapshot_every = 200), the load
# goes on, the worker is killed with SIGKILL (crash-restart of the server).
# The new worker must start from a snapshot at least as new as the round's
# and replay the tail after it; verify() must hold after every round.
#
# Afterwards: the log is gapless from seq 1 (engine.keep_log = on), every
# acknowledged command is in the history with the outcome its client was
# told, acknowledged deposits and withdrawals are remembered, per-asset
# totals (fee account included) equal deposits - withdrawals exactly, and the
# digest equals the digest of the same log replayed from scratch in a fresh
# node.  Old snapshots are pruned to engine.snapshot_keep.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use EngineNode;
use SnapNode;

my $seed = $ENV{ENGINE_TEST_SEED} // int(time);
srand($seed);
note("random seed $seed (set ENGINE_TEST_SEED to repeat)");

my $DB       = 'postgres';
my $CLIENTS  = 8;
my $ROUNDS   = 5;
my @users    = (1 .. 40);
my @wusers   = map { 100 + $_ } 0 .. $CLIENTS - 1;
my $MAX_USER = 200;

my $node = SnapNode::new_node('kill9', keep_log => 'on', snapshot_every => 200);
my %total = (BTC => 0, USDT => 0);
EngineNode::setup_market($node);
EngineNode::fund($node, \@users, 10 * 10**8, 1_000_000 * 10**6, \%total);
EngineNode::fund($node, \@wusers, 0, 1_000 * 10**6, \%total);

my $load = SnapNode::new_load($node, clients => $CLIENTS, n => 200, pace => 0.01,
	users => \@users, withdraw_users => \@wusers);

my $crashes = 0;
for my $round (1 .. $ROUNDS)
{
	$load->progress(80);
	my $snap = $node->safe_psql($DB, 'SELECT engine.snapshot()');
	cmp_ok($snap, '>', 0, "round $round: engine.snapshot() under load returns a seq");
	my $rows = SnapNode::snapshot_rows($node, $snap);
	is_deeply($rows, SnapNode::snapshot_announced($node, $snap),
		"round $round: snapshot $snap is whole (row counts as announced)");
	$load->progress(60);

	$load->ensure;
	cmp_ok($load->running, '>', 0, "round $round: clients running at kill -9");
	my ($pid, $st) = SnapNode::kill9_worker($node);
	$crashes++;
	ok($st && $st->{state} eq 'ready', "round $round: worker ready again after kill -9")
	  or BAIL_OUT("engine did not recover: " . ($st ? "$st->{state}: $st->{detail}" : 'no verdict'));
	cmp_ok($st->{snapshot_seq}, '>=', $snap,
		"round $round: recovery started from a snapshot at least as new as engine.snapshot()'s ($snap)");
	# (unless an automatic snapshot, engine.snapshot_every = 200, happened to
	# cover the very last batch before the crash)
	ok($st->{replayed} > 0 || $st->{snapshot_seq} > $snap,
		"round $round: the log tail after the snapshot was replayed ($st->{replayed} records)");
	is(EngineNode::verify_failures($node), '', "round $round: verify() all ok after recovery");
	note("round $round: snapshot $snap, recovered from $st->{snapshot_seq} + $st->{replayed} replayed"
		  . " in $st->{recovery_ms} ms");
}

my @crashes = (slurp_file($node->logfile) =~ /all server processes terminated; reinitializing/g);
is(scalar(@crashes), $ROUNDS, "each kill -9 was a crash-restart of the server ($ROUNDS)");

$load->collect;
my $cmds = $load->commands;
SnapNode::check_after_crashes($node, $cmds, \%total, $MAX_USER, 'after 5 x kill -9', 'kill9_replay');

my @snaps = SnapNode::snapshot_seqs($node);
is(scalar(@snaps), 2, 'snapshots are pruned to engine.snapshot_keep = 2');
is($node->safe_psql($DB, q{
SELECT count(*) FROM (
  SELECT snapshot_seq FROM engine.snapshot_chunks
  UNION SELECT snapshot_seq FROM engine.snapshot_assets UNION SELECT snapshot_seq FROM engine.snapshot_symbols
  UNION SELECT snapshot_seq FROM engine.snapshot_balances UNION SELECT snapshot_seq FROM engine.snapshot_orders) s
WHERE snapshot_seq NOT IN (SELECT seq FROM engine.snapshots)}), '0',
	'no snapshot rows outlive their engine.snapshots row');

$node->stop;
done_testing();
