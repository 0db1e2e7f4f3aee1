# 002_crash.pl — nothing acknowledged is ever lost, nothing withdrawn ever
# runs, and the state after any restart is the replay of the log.
#
#   1. pg_terminate_backend(worker) when idle: the worker exits with code 1,
#      the postmaster restarts it (no crash-restart) and it rebuilds the same
#      state digest.
#   2. A request cancelled before the worker took it (worker stopped with
#      SIGSTOP, statement_timeout fires) never reaches the log.
#   3. pg_terminate_backend(worker) under 16 concurrent clients: every client
#      still gets every answer (requests wait for the new worker).
#   4. 16 concurrent clients while the worker is killed with SIGKILL
#      (crash-restart of the whole server), the server is restarted with
#      pg_ctl restart, and stopped with -m immediate and started again.
#   In 3 and 4 every disruption comes while every client has a command
#   waiting in the engine and the worker holds an applied batch it has not
#   logged yet: the clients cannot pass a barrier before the test has made
#   the worker wait on a lock and opened it, and the test waits until they
#   all wait in the engine (no timing involved).
#      Afterwards: every acknowledged command is in the history with the
#      outcome its client was told, the log is gapless, verify() is ok, money
#      is conserved, and the state digest equals the digest of the same log
#      replayed from scratch in a fresh instance.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use EngineNode;

my $seed = $ENV{ENGINE_TEST_SEED} // int(time);
srand($seed);
note("random seed $seed (set ENGINE_TEST_SEED to repeat)");

my $CLIENTS  = 16;
my @users    = (1 .. 40);
my @wusers   = map { 100 + $_ } 0 .. $CLIENTS - 1;
my $MAX_USER = 200;
my $DB       = 'postgres';

my $node = EngineNode::new_node('crash');
my %total = (BTC => 0, USDT => 0);
EngineNode::setup_market($node);
EngineNode::fund($node, \@users, 10 * 10**8, 1_000_000 * 10**6, \%total);
EngineNode::fund($node, \@wusers, 0, 1_000 * 10**6, \%total);

# A little book so the digest covers resting orders.
$node->safe_psql($DB, q{
SELECT engine.place_order(1, 'BTC_USDT', 'buy', 0.5, 29990.00);
SELECT engine.place_order(2, 'BTC_USDT', 'sell', 0.5, 30010.00);
SELECT engine.place_order(3, 'BTC_USDT', 'sell', 0.2, 29990.00);
});

# ---------------------------------------------------------------------------
# 1. pg_terminate_backend of the idle worker
# ---------------------------------------------------------------------------
{
	my $d0  = EngineNode::digest($node);
	my $pid = EngineNode::worker_pid($node);
	ok(defined $pid, 'worker runs as backend_type engine');
	$node->safe_psql($DB, "SELECT pg_terminate_backend($pid)");
	ok(EngineNode::wait_new_worker($node, $pid), 'terminated worker is restarted and ready');
	ok($node->log_contains(qr/background worker "engine" \(PID $pid\) exited with exit code 1/),
		'terminated worker exited with code 1');
	is(EngineNode::digest($node), $d0, 'digest after worker restart equals digest before');
	is(EngineNode::verify_failures($node), '', 'verify() ok after worker restart');
	ok(!$node->log_contains('all server processes terminated'),
		'terminating the worker is a worker restart, not a crash-restart');
}

# ---------------------------------------------------------------------------
# 2. a request cancelled before pickup never runs
# ---------------------------------------------------------------------------
{
	my ($n_before) = EngineNode::log_bounds($node);
	my $pid = EngineNode::worker_pid($node);
	kill 'STOP', $pid;
	my ($ret, $out, $err) = $node->psql($DB, q{
SET statement_timeout = '300ms';
SELECT * FROM engine.place_order(1, 'BTC_USDT', 'buy', 0.0001, 29000.00, client_order_id => 'revoked-1')});
	my ($ret2, $out2, $err2) = $node->psql($DB, q{
SET statement_timeout = '300ms';
SELECT * FROM engine.deposit(7, 'USDT', 5, 'revoked-dep')});
	kill 'CONT', $pid;
	isnt($ret, 0, 'place_order with the worker stopped fails');
	like($err, qr/canceling statement due to statement timeout/, 'place_order failed by statement_timeout');
	like($err2, qr/canceling statement due to statement timeout/, 'deposit failed by statement_timeout');

	# A command after SIGCONT: once it is answered, anything left in a
	# request slot would have been taken too.
	is($node->safe_psql($DB, q{SELECT status FROM engine.deposit(7, 'USDT', 1, 'after-revoke')}),
		'ok', 'worker serves again after SIGCONT');
	my ($n_after) = EngineNode::log_bounds($node);
	is($n_after, $n_before + 1, 'the withdrawn requests added no log record');
	is($node->safe_psql($DB,
			q{SELECT count(*) FROM engine.command_log_decoded d WHERE d::text LIKE '%revoked-1%'}),
		'0', 'withdrawn client_order_id is not in the log');
	is($node->safe_psql($DB, q{
SELECT count(*) FROM engine.order_events WHERE client_order_id = 'revoked-1'}), '0',
		'withdrawn order has no order events');
	is($node->safe_psql($DB,
			q{SELECT status || '/' || coalesce(reason, '') FROM engine.place_order(1, 'BTC_USDT', 'buy', 0.0001, 29000.00, client_order_id => 'revoked-1')}),
		'new/', 'its client_order_id is still unused');
	is($node->safe_psql($DB, q{SELECT status FROM engine.deposit(7, 'USDT', 5, 'revoked-dep')}),
		'ok', 'the withdrawn deposit ref is still unused');
	$total{USDT} += 1_000_000 + 5_000_000;
}

sub last_seq { return $node->safe_psql($DB, 'SELECT last_seq FROM engine.status()') }

my @all_cmds;

# Every disruption below comes while every client has a command waiting in
# the engine, and that is made, not timed: each client's list holds a
# barrier it cannot pass before the test opens it, so no client can finish
# early.  The test holds the worker at a point where it has applied a batch
# and not yet logged it (a session of the test holds a SHARE lock on
# engine.command_log, so the worker's insert waits), opens the barrier, and
# waits until every client is waiting in the engine.  Returns that session;
# quitting it lets the worker go on.
sub hold_worker_with_all_clients_waiting
{
	my ($barrier) = @_;
	my $holder = $node->background_psql($DB);
	$holder->query_safe('BEGIN; LOCK TABLE engine.command_log IN SHARE MODE');
	EngineNode::open_barrier($node, $barrier);
	my $waiting = EngineNode::wait_engine_waiters($node, $CLIENTS);
	is($waiting, $CLIENTS, "every client has a command waiting in the engine before the $barrier");
	return $holder;
}

# Let the held worker go on (the holder's session may already be gone).
sub release_worker
{
	my ($holder) = @_;
	eval { $holder->quit; 1 };
	return;
}

EngineNode::create_barriers($node);

# ---------------------------------------------------------------------------
# 3. pg_terminate_backend of the worker under load: no client notices
# ---------------------------------------------------------------------------
{
	my @sets = map {
		EngineNode::gen_commands(client => $_, n => 100, users => \@users,
			withdraw_user => $wusers[$_], prefix => 't', pace => 0.01,
			barriers => { 60 => 'terminate' })
	} 0 .. $CLIENTS - 1;
	my $h = EngineNode::start_clients($node, \@sets, timeout => 90);
	my $holder = hold_worker_with_all_clients_waiting('terminate');
	my $pid = EngineNode::worker_pid($node);
	# The held worker finishes its batch, then exits.
	$node->safe_psql($DB, "SELECT pg_terminate_backend($pid)");
	my $running = EngineNode::clients_running($h);
	release_worker($holder);
	is($running, $CLIENTS, 'clients were running when the worker was terminated');
	ok(EngineNode::wait_new_worker($node, $pid), 'worker terminated under load is back');
	ok($node->log_contains(qr/background worker "engine" \(PID $pid\) exited with exit code 1/),
		'worker terminated under load exited with code 1');
	my $cmds = EngineNode::wait_clients($h);
	my @lost = grep { $_->{state} ne 'ack' } @$cmds;
	is(scalar(@lost), 0, 'every client got every answer across the worker restart');
	diag("unanswered: $_->{sql}: $_->{err}") for @lost[ 0 .. ($#lost < 4 ? $#lost : 4) ];
	ok(!$node->log_contains('all server processes terminated'), 'still no crash-restart');
	push @all_cmds, @$cmds;
}

# ---------------------------------------------------------------------------
# 4. kill -9, pg_ctl restart and immediate stop under load
# ---------------------------------------------------------------------------
my $DISRUPTIONS = 3;
{
	my @sets = map {
		EngineNode::gen_commands(client => $_, n => 450, users => \@users,
			withdraw_user => $wusers[$_], prefix => 'k', pace => 0.01,
			barriers => { 150 => 'kill -9', 300 => 'restart', 440 => 'immediate stop' })
	} 0 .. $CLIENTS - 1;
	my $h = EngineNode::start_clients($node, \@sets, timeout => 150);

	# kill -9 of the held worker
	my $holder = hold_worker_with_all_clients_waiting('kill -9');
	my $pid = EngineNode::worker_pid($node);
	is(EngineNode::clients_running($h), $CLIENTS, 'load running at kill -9');
	kill 'KILL', $pid;
	release_worker($holder);
	ok(EngineNode::wait_new_worker($node, $pid, 90), 'worker back after kill -9');
	ok($node->log_contains('all server processes terminated; reinitializing'),
		'kill -9 of the worker caused a crash-restart');
	is(EngineNode::verify_failures($node), '', 'verify() ok after kill -9');

	# pg_ctl restart: the worker goes on just before it
	$holder = hold_worker_with_all_clients_waiting('restart');
	is(EngineNode::clients_running($h), $CLIENTS, 'load running at pg_ctl restart');
	release_worker($holder);
	$node->restart;
	ok(EngineNode::wait_ready($node, 90), 'engine ready after pg_ctl restart');

	# immediate stop of the held worker
	$holder = hold_worker_with_all_clients_waiting('immediate stop');
	is(EngineNode::clients_running($h), $CLIENTS, 'load running at immediate stop');
	$node->stop('immediate');
	release_worker($holder);
	$node->start;
	ok(EngineNode::wait_ready($node, 90), 'engine ready after immediate stop and start');

	my $cmds = EngineNode::wait_clients($h);
	my @unknown = grep { $_->{state} eq 'unknown' } @$cmds;
	my @unsent  = grep { $_->{state} eq 'unsent' } @$cmds;
	note(sprintf('%d commands, %d acknowledged, %d outcome unknown',
			scalar(@$cmds), scalar(grep { $_->{state} eq 'ack' } @$cmds), scalar(@unknown)));
	is(scalar(@unsent), 0, 'every client got through its list');
	cmp_ok(scalar(@unknown), '<=', $CLIENTS * $DISRUPTIONS * 2,
		'only commands in flight at a disruption lack an answer');
	my @odd = grep { $_->{err} !~ /terminat|connection|server closed|crash|shut ?down|recovery|starting up|not ready|worker/i } @unknown;
	is(scalar(@odd), 0, 'commands without answer failed only because of the disruptions');
	diag("odd failure: $_->{sql}: $_->{err}") for @odd[ 0 .. ($#odd < 4 ? $#odd : 4) ];
	push @all_cmds, @$cmds;
}

# ---------------------------------------------------------------------------
# checks after all disruptions
# ---------------------------------------------------------------------------
my ($n, $min, $max) = EngineNode::log_bounds($node);
is("$min $max", "1 $n", 'command_log seq is gapless 1..N after crashes');
is(last_seq(), $max, 'status().last_seq is the last log seq');
is(EngineNode::verify_failures($node), '', 'engine.verify() all ok after crashes');

EngineNode::load_acks($node, \@all_cmds);
EngineNode::check_acks($node, 'after crashes', 4);

# An order whose client never heard back is all or nothing: at most one
# PLACE record, and order events exactly when it was logged.
{
	my @unk = grep { $_->{kind} eq 'place' && $_->{state} ne 'ack' } @all_cmds;
	$node->safe_psql($DB, 'CREATE TABLE public.unknown_places (user_id bigint, coid text)');
	$node->safe_psql($DB, 'INSERT INTO public.unknown_places VALUES '
		  . join(', ', map { "($_->{user}, '$_->{coid}')" } @unk)) if @unk;
	my $q = q{
WITH l AS (SELECT decoded->>'client_order_id' AS coid, (decoded->>'user_id')::bigint AS user_id,
                  count(*) AS n
           FROM engine.command_log_decoded WHERE rectype = 'PLACE' GROUP BY 1, 2)
SELECT u.coid, l.n FROM public.unknown_places u
LEFT JOIN l ON l.coid = u.coid AND l.user_id = u.user_id
WHERE coalesce(l.n, 0) > 1
   OR (coalesce(l.n, 0) = 1) <> EXISTS (SELECT 1 FROM engine.order_events e
                                        WHERE e.client_order_id = u.coid AND e.user_id = u.user_id)};
	is($node->safe_psql($DB, "SELECT count(*) FROM ($q) x"), '0',
		'unacknowledged orders are wholly applied or wholly absent');
	note(scalar(@unk) . ' unacknowledged orders, '
		  . $node->safe_psql($DB, q{SELECT count(*) FROM public.unknown_places u WHERE EXISTS
  (SELECT 1 FROM engine.order_events e WHERE e.client_order_id = u.coid AND e.user_id = u.user_id)})
		  . ' of them applied');
	is($node->safe_psql($DB, q{
SELECT (SELECT count(*) FROM engine.command_log_decoded
        WHERE rectype = 'PLACE' AND decoded->>'client_order_id' <> '')
     = (SELECT count(DISTINCT (user_id, client_order_id)) FROM engine.order_events
        WHERE client_order_id IS NOT NULL)}), 't',
		'every logged client_order_id is used once and has order events');
}

# Funds: an acknowledged deposit/withdrawal is durable and its ref used up;
# an unknown one is retried with its ref and is then applied exactly once.
{
	my @funds = grep { $_->{kind} eq 'deposit' || $_->{kind} eq 'withdraw' } @all_cmds;
	my @acked = grep { $_->{state} eq 'ack' } @funds;
	is(scalar(grep { $_->{status} ne 'ok' } @acked), 0, 'every acknowledged deposit/withdrawal was ok');
	my ($n_before) = EngineNode::log_bounds($node);
	my $sql = join("\n", map {
		"SELECT status FROM engine.$_->{kind}($_->{user}, '$_->{asset}', "
		  . EngineNode::dec($_->{amount}, $EngineNode::DECIMALS{ $_->{asset} }) . ", '$_->{ref}');"
	} @acked);
	my @st = split /\n/, $node->safe_psql($DB, $sql);
	is(scalar(grep { $_ eq 'duplicate' } @st), scalar(@acked),
		'every acknowledged deposit/withdrawal ref is remembered across crashes (duplicate)');
	my ($n_after) = EngineNode::log_bounds($node);
	is($n_after, $n_before, 'duplicate refs added no log record');

	my @unknown = grep { $_->{state} ne 'ack' } @funds;
	if (@unknown)
	{
		my $usql = join("\n", map {
			"SELECT status FROM engine.$_->{kind}($_->{user}, '$_->{asset}', "
			  . EngineNode::dec($_->{amount}, $EngineNode::DECIMALS{ $_->{asset} }) . ", '$_->{ref}');"
		} @unknown);
		my @ust = split /\n/, $node->safe_psql($DB, $usql);
		is(scalar(grep { $_ eq 'ok' || $_ eq 'duplicate' } @ust), scalar(@unknown),
			'retried unknown deposits/withdrawals are ok or duplicate');
	}
	for my $c (@funds)
	{
		$total{ $c->{asset} } += $c->{kind} eq 'deposit' ? $c->{amount} : -$c->{amount};
	}
	is_deeply(EngineNode::asset_totals($node, $MAX_USER), EngineNode::expected_totals($node, \%total),
		'per-asset sum of available+frozen = deposits - withdrawals after crashes');
}

# Clean restart keeps the digest; a fresh instance replaying the same log
# reaches the same digest.
{
	my $d = EngineNode::digest($node);
	$node->restart;
	ok(EngineNode::wait_ready($node), 'ready after clean restart');
	is(EngineNode::digest($node), $d, 'digest equal across a clean restart');

	my ($n_final, undef, $max_final) = EngineNode::log_bounds($node);
	my $replay = EngineNode::replay_in_fresh_node($node, 'replay');
	is($replay->safe_psql($DB, 'SELECT last_seq FROM engine.status()'), $max_final,
		'fresh instance replayed the whole log');
	is(EngineNode::digest($replay), $d, 'digest equals the digest of the log replayed in a fresh instance');
	is(EngineNode::verify_failures($replay), '', 'verify() ok in the replayed instance');
	is_deeply(EngineNode::asset_totals($replay, $MAX_USER), EngineNode::asset_totals($node, $MAX_USER),
		'replayed instance has the same per-asset totals');
	$replay->stop;
}

$node->stop;
done_testing();
