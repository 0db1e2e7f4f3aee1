# 020_upgrade.pl — a running release 1.0 installation upgraded in place to
# this release.
#
# Release 1.0 is built by make test from its sources (test/fixtures) into a private
# PostgreSQL copy (test/scripts/release_1_0.sh) and named by
# ENGINE_RELEASE_1_0; without it this test fails, saying why.
#
#   1. Clean upgrade.  On release 1.0: CREATE EXTENSION engine (1.0), a small
#      real state (assets, a symbol, deposits, resting orders on both sides,
#      trades, a cancel, an amend, a withdrawal), engine.snapshot(), more
#      commands after it; a clean stop (1.0's shutdown snapshot covers the
#      whole log).  The same data directory on this release: state
#      "waiting" with a detail naming both versions and ALTER EXTENSION
#      engine UPDATE, status() answering with 1.0's columns, commands
#      refused naming the state and never run.  After the update: ready
#      with nothing replayed, the same digest, balances, depth, open orders
#      and last seq, verify() all ok, the privilege profiles in place, and a
#      new order that trades against an order release 1.0 rested.
#   2. Release 1.0 crashed (immediate stop) with commands after its last
#      snapshot.  This release does not replay log records in a format older
#      than the one it writes (their matching rules may differ): it fails
#      before the update, naming the seq range and the fix (start release
#      1.0 once and stop it cleanly).  The fix is applied and the upgrade
#      ends ready with 1.0's state.  While this release still writes 1.0's
#      record format (format 1), 1.0's records are replayable: then the first
#      record after the snapshot is made to look older (format byte 0, CRC
#      recomputed), which must be refused both before the update and by
#      recovery after it; restoring the byte makes recovery reproduce 1.0's
#      state from 1.0's tail.

use strict;
use warnings;

use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use EngineNode;
use SnapNode;

my $DB = 'postgres';

my $release_1_0 = $ENV{ENGINE_RELEASE_1_0};
if (!$release_1_0 || !-x "$release_1_0/bin/postgres")
{
	my $why = $ENV{ENGINE_RELEASE_1_0_ERROR}
	  // ($release_1_0
		? "ENGINE_RELEASE_1_0=$release_1_0 holds no PostgreSQL installation"
		: 'ENGINE_RELEASE_1_0 is not set');
	fail("release 1.0 of the engine is available to upgrade from: $why "
		  . '(make test builds it from test/fixtures/engine-1.0-src.tar.xz; by hand: ENGINE_RELEASE_1_0=$(test/scripts/release_1_0.sh DIR))');
	done_testing();
	exit 0;
}

# This release's installation: the pg_config on PATH (make installcheck puts
# the PG_CONFIG's bindir first).
chomp(my $current_bindir = `pg_config --bindir`);
my $current = dirname($current_bindir);

# PostgreSQL::Test::Cluster (PostgreSQL 15) takes the installation at new()
# and has no setter: a node moves to another installation between a stop and
# a start by changing the path it runs its commands from.
sub use_installation
{
	my ($node, $path) = @_;
	$node->{_install_path} = $path;
	return;
}

# The version this release's CREATE EXTENSION installs (engine.control).
my $new_version = PostgreSQL::Test::Utils::slurp_file(
	`pg_config --sharedir` =~ s/\s+$//r . '/extension/engine.control') =~ /default_version\s*=\s*'([^']+)'/
  ? $1 : die 'no default_version in engine.control';

# A small real state, in 1.0: three log records of reference data, deposits,
# resting orders on both sides, trades, a cancel, an amend and a withdrawal,
# a snapshot, then more commands after it.  Returns the order ids by
# client_order_id.
sub build_state
{
	my ($node) = @_;
	$node->safe_psql($DB, q{
SELECT engine.create_asset('BTC', 8);
SELECT engine.create_asset('USDT', 6);
SELECT engine.create_symbol('BTC_USDT', 'BTC', 'USDT', 0.01, 0.0001, 0.001, 0.002);
SELECT count(*) FROM generate_series(1, 5) u, engine.deposit(u, 'BTC', 10, 'btc-' || u);
SELECT count(*) FROM generate_series(1, 5) u, engine.deposit(u, 'USDT', 1000000, 'usdt-' || u);
SELECT engine.place_order(1, 'BTC_USDT', 'buy', 0.5, 29990, client_order_id => 'b1');
SELECT engine.place_order(2, 'BTC_USDT', 'buy', 0.3, 29980, client_order_id => 'b2');
SELECT engine.place_order(3, 'BTC_USDT', 'sell', 0.4, 30010, client_order_id => 's1');
SELECT engine.place_order(4, 'BTC_USDT', 'sell', 0.6, 30020, client_order_id => 's2');
SELECT engine.place_order(2, 'BTC_USDT', 'buy', 0.1, 30010, client_order_id => 't1');
SELECT engine.cancel_order(2, 'b2');
SELECT engine.withdraw(3, 'USDT', 100, 'w-3');
});
	my %id = map { split /\|/ } split /\n/, $node->safe_psql($DB,
		q{SELECT client_order_id, order_id FROM engine.order_events WHERE client_order_id IS NOT NULL});
	$node->safe_psql($DB, "SELECT engine.amend_order(1, $id{b1}, qty => 0.4)");
	my $snap = $node->safe_psql($DB, 'SELECT engine.snapshot()');
	$node->safe_psql($DB, q{
SELECT engine.place_order(4, 'BTC_USDT', 'sell', 0.2, 29990, client_order_id => 'after-1');
SELECT engine.place_order(5, 'BTC_USDT', 'buy', 0.05, 30020, client_order_id => 'after-2');
SELECT engine.place_order(5, 'BTC_USDT', 'buy', 0.01, 29000, client_order_id => 'after-3');
SELECT engine.deposit(6, 'USDT', 50000, 'usdt-6');
});
	return (\%id, $snap);
}

# What must survive an upgrade: digest, balances, depth, open orders and
# the last seq (of the log and of the engine).
sub observe
{
	my ($node) = @_;
	return {
		digest   => $node->safe_psql($DB, 'SELECT engine.state_digest()'),
		balances => $node->safe_psql($DB, q{
SELECT u, b.asset, b.available, b.frozen FROM generate_series(0, 6) u, engine.balances(u) b ORDER BY 1, 2}),
		depth => $node->safe_psql($DB, q{SELECT side, price, qty, orders FROM engine.depth('BTC_USDT')}),
		open_orders => $node->safe_psql($DB, q{
SELECT u, o.order_id, o.client_order_id, o.side, o.price, o.qty, o.remaining_qty, o.status, o.created_at
  FROM generate_series(1, 6) u, engine.open_orders(u) o ORDER BY 1, 2}),
		log_last_seq    => $node->safe_psql($DB, 'SELECT max(seq) FROM engine.command_log'),
		engine_last_seq => $node->safe_psql($DB, 'SELECT last_seq FROM engine.status()'),
	};
}

# Poll engine.status() until $cond->(state, detail, worker_pid) holds (60 s
# at most).  Returns (state, detail) as last seen.
sub wait_status
{
	my ($node, $cond) = @_;
	my ($state, $detail, $pid) = ('', '', '');
	my $deadline = time + 60;
	while (time < $deadline)
	{
		my ($ret, $out) = EngineNode::try_psql($node,
			q{SELECT state || '|' || coalesce(worker_pid::text, '') || '|' || coalesce(detail, '') FROM engine.status()});
		if ($ret == 0)
		{
			($state, $pid, $detail) = split /\|/, $out, 3;
			return ($state, $detail) if $cond->($state, $detail, $pid);
		}
		usleep(50_000);
	}
	return ($state, $detail);
}

sub update_detail
{
	return qq{extension "engine" is at version 1.0 and this library serves version $new_version: }
	  . qq{run ALTER EXTENSION engine UPDATE in database "$DB"};
}

# ---------------------------------------------------------------------------
# 1. clean upgrade
# ---------------------------------------------------------------------------
my $format_now;
{
	my $node = EngineNode::new_node('clean', install_path => $release_1_0);
	is($node->safe_psql($DB, q{SELECT extversion FROM pg_extension WHERE extname = 'engine'}),
		'1.0', 'release 1.0 installs extension version 1.0');
	my ($id) = build_state($node);
	cmp_ok($node->safe_psql($DB, 'SELECT count(*) FROM engine.trades'), '>=', 2, '1.0 made trades');
	my $before = observe($node);
	my $format_10 = $node->safe_psql($DB,
		'SELECT string_agg(DISTINCT get_byte(payload, 0)::text, \',\') FROM engine.command_log');
	is($format_10, '1', 'release 1.0 writes record format 1');
	$node->stop;

	use_installation($node, $current);
	$node->start;
	my ($state, $detail) = wait_status($node, sub { $_[0] eq 'waiting' && $_[1] =~ /version/ });
	is($state, 'waiting', 'this release on a 1.0 catalog waits');
	is($detail, update_detail(), 'the detail names both versions and the fix');
	my @cols = split /\x1f/,
	  $node->safe_psql($DB, 'SELECT * FROM engine.status()', extra_params => [ '-F', "\x1f" ]), -1;
	is(scalar(@cols), 19, 'engine.status() answers with the 19 columns release 1.0 declares');
	is($node->safe_psql($DB, 'SELECT engine.ready()'), 'f', 'engine.ready() is false');
	my ($ret, $out, $err) = $node->psql($DB, q{
SET engine.request_timeout = '200ms';
SELECT status FROM engine.deposit(6, 'USDT', 1, 'while-waiting')});
	isnt($ret, 0, 'a command before the update fails');
	like($err, qr/engine is not ready \(state: waiting, \Q@{[update_detail()]}\E\)/,
		'a command before the update names the state and the fix');
	is($node->safe_psql($DB, 'SELECT max(seq) FROM engine.command_log'), $before->{log_last_seq},
		'nothing was logged before the update');

	$node->safe_psql($DB, 'ALTER EXTENSION engine UPDATE');
	is($node->safe_psql($DB, q{SELECT extversion FROM pg_extension WHERE extname = 'engine'}),
		$new_version, "the extension is at version $new_version");
	ok(EngineNode::wait_ready($node), 'ready as soon as the update committed');
	my $st = SnapNode::status($node);
	is($st->{replayed}, 0, 'nothing replayed: 1.0\'s shutdown snapshot covers the whole log');
	is($st->{snapshot_seq}, $before->{log_last_seq}, 'the snapshot loaded is 1.0\'s shutdown snapshot');
	is_deeply(observe($node), $before,
		'digest, balances, depth, open orders and last seq are those of release 1.0');
	is(EngineNode::verify_failures($node), '', 'verify() all ok after the upgrade');
	is($node->safe_psql($DB, q{SELECT library_version FROM engine.status()}), $new_version,
		'status() has the new columns after the update');
	is($node->safe_psql($DB, q{
SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'engine' AND has_function_privilege('public', p.oid, 'EXECUTE')}), '0',
		'after the update no engine function is executable by PUBLIC');
	is($node->safe_psql($DB, q{
SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'engine\_%'}),
		'engine_operations,engine_reading,engine_trading', 'the profile roles exist');

	# New commands: a buy that takes release 1.0's resting sell s1 (user 3,
	# 30010, the best ask), and the deposit refused before the update, whose
	# ref is unused.
	is($node->safe_psql($DB, q{
SELECT status || ' ' || filled_qty || ' ' || trades
  FROM engine.place_order(6, 'BTC_USDT', 'buy', 0.1, 30020, client_order_id => 'new-1')}),
		'filled 0.10000000 1', 'a new order trades');
	is($node->safe_psql($DB, q{
SELECT maker_order_id || ' ' || maker_user_id || ' ' || price || ' ' || qty
  FROM engine.trades_v WHERE taker_order_id = (SELECT order_id FROM engine.order_events WHERE client_order_id = 'new-1')}),
		"$id->{s1} 3 30010.000000 0.10000000", 'against the order release 1.0 rested');
	is($node->safe_psql($DB, q{SELECT status FROM engine.deposit(6, 'USDT', 1, 'while-waiting')}),
		'ok', 'the command refused before the update never ran');
	is(EngineNode::verify_failures($node), '', 'verify() all ok after new commands');
	$format_now = $node->safe_psql($DB,
		'SELECT get_byte(payload, 0) FROM engine.command_log ORDER BY seq DESC LIMIT 1');
	note("this release writes record format $format_now");

	my $d = SnapNode::digest($node);
	$node->restart;
	ok(EngineNode::wait_ready($node), 'ready after a clean restart on this release');
	is(SnapNode::digest($node), $d, 'same digest across the restart');
	$node->stop;
}

# ---------------------------------------------------------------------------
# 2. release 1.0 crashed with commands after its last snapshot
# ---------------------------------------------------------------------------
{
	my $node = EngineNode::new_node('crash', install_path => $release_1_0);
	my (undef, $snap) = build_state($node);
	my $before = observe($node);
	my $first = $snap + 1;
	my $last  = $before->{log_last_seq};
	cmp_ok($last, '>', $snap, "commands after 1.0's last snapshot: seq $first to $last");
	$node->stop('immediate');

	use_installation($node, $current);
	$node->start;
	my $forged = $format_now == 1;
	my $refusal;
	if ($forged)
	{
		# Same format: make the first record after the snapshot older than
		# any format, with a valid CRC.
		my ($state) = wait_status($node, sub { $_[0] eq 'waiting' && $_[1] =~ /version/ });
		is($state, 'waiting', 'waiting for the update while the tail is in this release\'s format');
		$node->safe_psql($DB, qq{
UPDATE engine.command_log SET payload = set_byte(payload, 0, 0),
       crc = engine.log_crc(seq, ts, set_byte(payload, 0, 0)) WHERE seq = $first});
		$refusal = qq{command_log seq $first was written by an earlier release (record format 0) }
		  . qq{after the newest snapshot, and this release replays format $format_now and later: }
		  . q{start that release once and stop the server cleanly (its shutdown snapshot covers the whole log), }
		  . q{then start this release again};
	}
	else
	{
		$refusal = qq{command_log seq $first to $last were written by release 1.0 (record format 1) }
		  . qq{after the newest snapshot, and this release replays format $format_now and later: }
		  . q{start release 1.0 once and stop the server cleanly (its shutdown snapshot covers the whole log), }
		  . q{then start this release again};
	}
	my ($state, $detail) = wait_status($node, sub { $_[0] eq 'failed' });
	is($state, 'failed', 'records this release does not replay: failed before the update');
	is($detail, $refusal, 'the detail names the seq range and the fix');
	is($node->safe_psql($DB, q{SELECT extversion FROM pg_extension WHERE extname = 'engine'}),
		'1.0', 'the catalog is still 1.0, so release 1.0 can still be started');
	is($node->safe_psql($DB, 'SELECT max(seq) FROM engine.command_log'), $last, 'nothing was logged');

	if ($forged)
	{
		# Updated anyway: recovery refuses the record itself.
		$node->safe_psql($DB, 'ALTER EXTENSION engine UPDATE');
		my $pid = EngineNode::worker_pid($node);
		$node->safe_psql($DB, "SELECT pg_terminate_backend($pid)");
		($state, $detail) = wait_status($node,
			sub { $_[0] eq 'failed' && $_[2] ne '' && $_[2] != $pid });
		is($state, 'failed', 'after the update, recovery refuses the record');
		is($detail, $refusal, 'recovery names the same seq range and fix');
		is(SnapNode::status($node)->{last_seq}, $snap, 'recovery stopped at the snapshot');

		# Repair: the record as release 1.0 wrote it.
		$node->safe_psql($DB, qq{
UPDATE engine.command_log SET payload = set_byte(payload, 0, 1),
       crc = engine.log_crc(seq, ts, set_byte(payload, 0, 1)) WHERE seq = $first});
		$pid = EngineNode::worker_pid($node);
		$node->safe_psql($DB, "SELECT pg_terminate_backend($pid)");
		ok(EngineNode::wait_new_worker($node, $pid), 'ready once the record is in a format this release replays');
		is(SnapNode::status($node)->{replayed}, $last - $snap, 'release 1.0\'s tail was replayed');
	}
	else
	{
		# The fix: release 1.0 once, stopped cleanly; then this release.
		$node->stop;
		use_installation($node, $release_1_0);
		$node->start;
		ok(EngineNode::wait_ready($node), 'release 1.0 recovers its own log');
		is(SnapNode::digest($node), $before->{digest}, 'release 1.0 reaches its state before the crash');
		$node->stop;
		use_installation($node, $current);
		$node->start;
		($state, $detail) = wait_status($node, sub { $_[0] eq 'waiting' && $_[1] =~ /version/ });
		is($detail, update_detail(), 'after the fix: waiting for the update');
		$node->safe_psql($DB, 'ALTER EXTENSION engine UPDATE');
		ok(EngineNode::wait_ready($node), 'ready after the update');
		is(SnapNode::status($node)->{replayed}, 0, 'nothing replayed');
	}
	is_deeply(observe($node), $before,
		'digest, balances, depth, open orders and last seq are those of release 1.0 before the crash');
	is(EngineNode::verify_failures($node), '', 'verify() all ok');
	is($node->safe_psql($DB, q{
SELECT status FROM engine.place_order(5, 'BTC_USDT', 'sell', 0.01, 29000, client_order_id => 'new-2')}),
		'filled', 'a new order trades against release 1.0\'s resting order');
	$node->stop;
}

done_testing();
