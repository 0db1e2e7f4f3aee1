# 012_snapshot_immediate_load.pl — whole-instance crash (pg_ctl stop -m
# immediate, then start: PostgreSQL's crash recovery, then the engine's) under
# 8 concurrent clients, twice, with snapshots taken before each crash.
#
# After each crash the worker must start from a snapshot at least as new as
# the one engine.snapshot() returned and replay the tail; verify() must hold.
# Afterwards the same checks as after kill -9 (011): gapless log, every
# acknowledged command with the outcome its client got, acknowledged funds
# remembered, per-asset totals exact, digest equal to a from-scratch replay.

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
my $ROUNDS   = 2;
my @users    = (1 .. 40);
my @wusers   = map { 100 + $_ } 0 .. $CLIENTS - 1;
my $MAX_USER = 200;

my $node = SnapNode::new_node('immediate', keep_log => 'on', snapshot_every => 200);
my %total = (BTC => 0, USDT => 0);
EngineNode::setup_market($node);
EngineNode::fund($node, \@users, 10 * 10**8, 1_000_000 * 10**6, \%total);
EngineNode::fund($node, \@wusers, 0, 1_000 * 10**6, \%total);

my $load = SnapNode::new_load($node, clients => $CLIENTS, n => 200, pace => 0.01,
	users => \@users, withdraw_users => \@wusers);

for my $round (1 .. $ROUNDS)
{
	$load->progress(100);
	my $snap = $node->safe_psql($DB, 'SELECT engine.snapshot()');
	cmp_ok($snap, '>', 0, "round $round: engine.snapshot() under load returns a seq");
	$load->progress(80);

	$load->ensure;
	cmp_ok($load->running, '>', 0, "round $round: clients running at the immediate stop");
	$node->stop('immediate');
	$node->start;
	my $st = SnapNode::wait_verdict($node);
	ok($st && $st->{state} eq 'ready', "round $round: engine ready after immediate stop and start")
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

my @recov = (slurp_file($node->logfile) =~ /database system was not properly shut down; automatic recovery in progress/g);
is(scalar(@recov), $ROUNDS, "each immediate stop was followed by PostgreSQL crash recovery ($ROUNDS)");

$load->collect;
SnapNode::check_after_crashes($node, $load->commands, \%total, $MAX_USER,
	'after immediate stops', 'immediate_replay');

$node->stop;
done_testing();
