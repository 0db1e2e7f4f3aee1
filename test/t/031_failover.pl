# 031_failover.pl — zero-loss failover with synchronous streaming
# replication: nothing acknowledged is lost when the primary dies and its
# standby is promoted, and the old primary rejoins as a follower.
#
# Two clusters, A and B.  Twice:
#   round 1: A primary, B its synchronous standby (synchronous_standby_names
#            = '*', engine.synchronous_commit = remote_apply);
#   round 2: B primary, A (rejoined with pg_rewind) its synchronous standby,
#            engine.synchronous_commit = on.
# In each round 8 clients connect with a multi-host connection string and
# target_session_attrs=read-write and record every acknowledgement.  Each
# client passes barrier "go" and cannot pass barrier "end" (near the end of
# its list) before the test opens it, which it does only on the promoted
# node: so at the immediate stop every client is still running, by
# construction.  The test waits for a few hundred commands after "go", stops
# the primary with -m immediate, promotes the standby (its follower leads in
# place), and opens "end" there; the clients reconnect to the new primary
# and carry on.
# Then: every acknowledged command is present with the outcome its client
# was told, unacknowledged ones are whole or absent, verify() is ok, the log
# is gapless, per-asset totals are exact, and the digest equals that of a
# from-scratch replay of the log.  The old primary rejoins (pg_rewind) as a
# standby and its follower reaches the new leader's seq and digest.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use File::Copy;
use EngineNode;
use SnapNode;

my $seed = $ENV{ENGINE_TEST_SEED} // int(time);
srand($seed);
note("random seed $seed (set ENGINE_TEST_SEED to repeat)");

my $DB       = 'postgres';
my $CLIENTS  = 8;
my @users    = (1 .. 30);
my @wusers   = map { 100 + $_ } 0 .. 2 * $CLIENTS - 1;
my $MAX_USER = 200;

my $na = EngineNode::new_node('fa', allows_streaming => 1,
	extra_conf => "wal_keep_size = '256MB'\nengine.snapshot_every = 500\n");
my %total = (BTC => 0, USDT => 0);
EngineNode::setup_market($na);
EngineNode::fund($na, \@users, 10 * 10**8, 1_000_000 * 10**6, \%total);
EngineNode::fund($na, \@wusers, 0, 1_000 * 10**6, \%total);
EngineNode::create_barriers($na);
my $nb = EngineNode::new_standby($na, 'fb');

# Both nodes, the primary first whichever it is.
my $connstr = sprintf("host=%s,%s port=%d,%d dbname=%s target_session_attrs=read-write",
	$na->host, $nb->host, $na->port, $nb->port, $DB);

sub make_synchronous
{
	my ($primary, $level) = @_;
	$primary->append_conf('postgresql.conf', qq{
synchronous_standby_names = '*'
engine.synchronous_commit = '$level'
});
	$primary->reload;
	return;
}

my @all_cmds;

# One round: load on $primary, immediate stop, promote $standby.
sub failover_round
{
	my ($round, $primary, $standby) = @_;
	my $tag = "r$round";
	EngineNode::wait_follower($primary, $standby);
	# The walsender takes the new synchronous_standby_names at its next loop.
	ok($primary->poll_query_until($DB, q{SELECT sync_state = 'sync' FROM pg_stat_replication}),
		"$tag: the standby is synchronous");
	my @sets = map {
		EngineNode::gen_commands(client => $_, n => 200, users => \@users,
			withdraw_user => $wusers[ ($round - 1) * $CLIENTS + $_ ], prefix => $tag,
			barriers => { 1 => "$tag-go", 190 => "$tag-end" })
	} 0 .. $CLIENTS - 1;
	my $h = EngineNode::start_clients($primary, \@sets, timeout => 300, connstr => $connstr);

	my $base = SnapNode::last_seq($primary);
	EngineNode::open_barrier($primary, "$tag-go");
	$primary->poll_query_until($DB, "SELECT last_seq >= $base + 300 FROM engine.status()")
	  or die "$tag: the load did not start";
	is(EngineNode::clients_running($h), $CLIENTS, "$tag: every client is running at the stop");
	$primary->stop('immediate');

	my $st0 = SnapNode::status($standby);
	$standby->promote;
	$standby->poll_query_until($DB, "SELECT role = 'leader' AND state = 'ready' FROM engine.status()")
	  or die "$tag: the promoted follower did not lead";
	my $st = SnapNode::status($standby);
	is($st->{worker_pid}, $st0->{worker_pid}, "$tag: the follower became the leader in place ($st->{promote_ms} ms)");
	EngineNode::open_barrier($standby, "$tag-end");

	my $cmds = EngineNode::wait_clients($h);
	my @acked   = grep { $_->{state} eq 'ack' } @$cmds;
	my @unknown = grep { $_->{state} eq 'unknown' } @$cmds;
	note(sprintf('%s: %d commands, %d acknowledged, %d outcome unknown', $tag,
			scalar(@$cmds), scalar(@acked), scalar(@unknown)));
	is(scalar(grep { $_->{state} eq 'unsent' } @$cmds), 0, "$tag: every client got through its list");
	cmp_ok(scalar(@unknown), '<=', $CLIENTS, "$tag: only commands in flight at the stop lack an answer");
	my @odd = grep { $_->{err} !~ /terminat|connection|server closed|shut ?down|recovery|standby|read-only|not ready/i } @unknown;
	is(scalar(@odd), 0, "$tag: they failed because of the stop");
	diag("odd failure: $_->{sql}: $_->{err}") for @odd[ 0 .. ($#odd < 4 ? $#odd : 4) ];
	ok(scalar(grep { $_->{state} eq 'ack' && $_->{idx} > 150 } @$cmds) > 0,
		"$tag: clients carried on on the new primary");
	push @all_cmds, @$cmds;
	return;
}

# The checks after a failover, on the new primary.
sub check_new_primary
{
	my ($tag, $node) = @_;
	my ($n, $min, $max) = EngineNode::log_bounds($node);
	is($min + $n - 1, $max, "$tag: command_log seq is gapless");
	is(EngineNode::verify_failures($node), '', "$tag: verify() all ok");
	EngineNode::load_acks($node, \@all_cmds);
	EngineNode::check_acks($node, $tag, 1);

	# Unacknowledged orders are whole or absent.
	my @unk = grep { $_->{kind} eq 'place' && $_->{state} ne 'ack' } @all_cmds;
	$node->safe_psql($DB, 'DROP TABLE IF EXISTS public.unknown_places; '
		  . 'CREATE TABLE public.unknown_places (user_id bigint, coid text)');
	$node->safe_psql($DB, 'INSERT INTO public.unknown_places VALUES '
		  . join(', ', map { "($_->{user}, '$_->{coid}')" } @unk)) if @unk;
	is($node->safe_psql($DB, q{
SELECT count(*) FROM public.unknown_places u
WHERE (SELECT count(*) FROM engine.command_log_decoded l WHERE l.rectype = 'PLACE'
       AND l.decoded->>'client_order_id' = u.coid AND (l.decoded->>'user_id')::bigint = u.user_id) > 1}), '0',
		"$tag: unacknowledged orders are logged at most once");

	# Funds: acknowledged refs are remembered (duplicate); unknown ones are
	# retried by ref; then the totals are exact.
	my @funds = grep { ($_->{kind} eq 'deposit' || $_->{kind} eq 'withdraw') && !$_->{settled} } @all_cmds;
	my $retry = sub {
		my ($list) = @_;
		return () unless @$list;
		return split /\n/, $node->safe_psql($DB, join("\n", map {
			"SELECT status FROM engine.$_->{kind}($_->{user}, '$_->{asset}', "
			  . EngineNode::dec($_->{amount}, $EngineNode::DECIMALS{ $_->{asset} }) . ", '$_->{ref}');"
		} @$list));
	};
	my @acked = grep { $_->{state} eq 'ack' } @funds;
	is(scalar(grep { $_->{status} ne 'ok' } @acked), 0, "$tag: every acknowledged deposit/withdrawal was ok");
	my @st = $retry->(\@acked);
	is(scalar(grep { $_ eq 'duplicate' } @st), scalar(@acked),
		"$tag: every acknowledged deposit/withdrawal survived the failover (its ref answers duplicate)");
	my @unknown = grep { $_->{state} ne 'ack' } @funds;
	my @ust = $retry->(\@unknown);
	is(scalar(grep { $_ eq 'ok' || $_ eq 'duplicate' } @ust), scalar(@unknown),
		"$tag: unknown deposits/withdrawals retried by ref are ok or duplicate");
	for my $c (@funds)
	{
		$total{ $c->{asset} } += $c->{kind} eq 'deposit' ? $c->{amount} : -$c->{amount};
		$c->{settled} = 1;
	}
	is_deeply(EngineNode::asset_totals($node, $MAX_USER), EngineNode::expected_totals($node, \%total),
		"$tag: per-asset sum of available+frozen = deposits - withdrawals");
	return;
}

# The old primary rejoins as a standby of the new one: pg_rewind, then
# streaming; its follower reaches the new leader's seq and digest.
sub rejoin
{
	my ($tag, $old, $new) = @_;
	my $conf = $old->data_dir . '/postgresql.conf';
	my $keep = PostgreSQL::Test::Utils::tempdir() . '/postgresql.conf';
	copy($conf, $keep) or die "copy: $!";
	# pg_rewind reads the new timeline from the source's control file.
	$new->safe_psql($DB, 'CHECKPOINT');
	command_ok([ 'pg_rewind', '--target-pgdata=' . $old->data_dir,
			'--source-server=' . $new->connstr($DB) ], "$tag: pg_rewind of the old primary");
	copy($keep, $conf) or die "copy back: $!";
	$old->append_conf('postgresql.conf', "synchronous_standby_names = ''\n");
	$old->enable_streaming($new);
	$old->start;
	EngineNode::wait_ready($old) or die "$tag: the rejoined node never got ready";
	my $seq = EngineNode::wait_follower($new, $old);
	my $st = SnapNode::status($old);
	is($st->{role}, 'follower', "$tag: the old primary follows the new leader");
	is(SnapNode::digest($old), SnapNode::digest($new), "$tag: at seq $seq with the new leader's digest");
	return;
}

# ---------------------------------------------------------------------------
# round 1: A -> B at remote_apply
# ---------------------------------------------------------------------------
make_synchronous($na, 'remote_apply');
failover_round(1, $na, $nb);
check_new_primary('round 1', $nb);
rejoin('round 1', $na, $nb);

# ---------------------------------------------------------------------------
# round 2: B -> A at on
# ---------------------------------------------------------------------------
make_synchronous($nb, 'on');
failover_round(2, $nb, $na);
check_new_primary('round 2', $na);
rejoin('round 2', $nb, $na);

# The whole log replayed from scratch reaches the same state.
{
	my $d = SnapNode::digest($na);
	my ($n, $min, $max) = EngineNode::log_bounds($na);
	is($min, 1, 'the log is whole from seq 1 (engine.keep_log)');
	my $replay = EngineNode::replay_in_fresh_node($na, 'freplay');
	is(SnapNode::digest($replay), $d, 'a fresh replay of the log reaches the same digest');
	$replay->stop;
}

$na->stop;
$nb->stop;
done_testing();
