# 030_follower.pl — the follower engine on a streaming hot standby.
#
#   1. The standby's worker is a follower: ready, role 'follower', at the
#      primary's seq with the same digest, serving every read with the
#      primary's answers; after more commands it follows to the new seq and
#      digest again.
#   2. Every command fails at once on the standby (engine.request_timeout
#      1h: an error, not a wait), with the standby hint; so after a restart
#      of the standby (a node restarted as a standby never serves commands);
#      the standby never writes a snapshot.
#   3. Lag: the follower frozen (SIGSTOP) while the primary commits K
#      commands and the standby replays them: status() says lag_records = K
#      and lag_ms > 0; thawed, it applies them, lag 0.
#   4. A cancelled read (pg_cancel_backend of the follower) is retried: the
#      same process, follower_retries + 1, same digest.
#   5. A real recovery conflict: the follower frozen inside its read
#      transaction, the primary prunes log rows (a snapshot) and VACUUMs
#      engine.command_log until they are removed, the standby
#      (max_standby_streaming_delay = 0, hot_standby_feedback off) waits on
#      the frozen read (its log says so), then cancels it: same process,
#      follower_retries up, pg_stat_database_conflicts counts it, same
#      digest at the same seq.
#   6. Behind a prune: the follower frozen while the primary takes two
#      snapshots that prune the rows it needs (with later rows, and with
#      none): it reloads from the newest snapshot (follower_reloads + 1),
#      same process, same digest.
#   7. A CRC mismatch and a gap in rows it has not applied: state 'failed'
#      naming the seq, as the leader says it; reads refused; a newer snapshot
#      on the primary covers the bad row and the follower reloads from it.
#   8. Plain promotion: the follower becomes the leader in place (same
#      process, no recovery: worker_starts and replayed unchanged), at the
#      same digest, promote_ms set; the next command gets seq last + 1 and a
#      timestamp not before the last one.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use IPC::Run;
use EngineNode;
use SnapNode;

my $DB = 'postgres';

my $primary = SnapNode::new_node('fprimary', allows_streaming => 1, keep_log => 'off', snapshot_keep => 2,
	extra_conf => "wal_keep_size = '256MB'\n");
my %total;
EngineNode::setup_market($primary);
EngineNode::fund($primary, [ 1 .. 20 ], 10**8, 100_000 * 10**6, \%total);

sub book
{
	my ($node, $n, $tag) = @_;
	$node->safe_psql($DB, qq{
SELECT count(*) FROM generate_series(1, $n) i,
  engine.place_order(1 + i % 20, 'BTC_USDT', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END,
                     0.001 * (1 + i % 9), CASE WHEN i % 2 = 0 THEN 29000 ELSE 31000 END + (i % 13) * 1.5,
                     client_order_id => '$tag-' || i)});
	return;
}
book($primary, 60, 'a');
$primary->safe_psql($DB, 'SELECT engine.snapshot()');
book($primary, 30, 'b');
# one trade, for recent_trades and ticker
$primary->safe_psql($DB, q{SELECT * FROM engine.place_order(3, 'BTC_USDT', 'buy', 0.001, 31000)});

my $standby = EngineNode::new_standby($primary, 'fstandby', extra_conf => q{
hot_standby_feedback = off
max_standby_streaming_delay = 0
log_recovery_conflict_waits = on
});

# ---------------------------------------------------------------------------
# 1. reads
# ---------------------------------------------------------------------------
my $reads = q{
SELECT 'depth', string_agg(d::text, ';') FROM engine.depth('BTC_USDT', 50) d
UNION ALL SELECT 'balances', string_agg(b::text, ';' ORDER BY u, b.asset) FROM generate_series(0, 20) u, engine.balances(u) b
UNION ALL SELECT 'open', string_agg(o.order_id || o.client_order_id || o.remaining_qty, ';' ORDER BY o.order_id) FROM generate_series(1, 20) u, engine.open_orders(u) o
UNION ALL SELECT 'order', string_agg(o::text, ';') FROM engine.order(5) o
UNION ALL SELECT 'trades', string_agg(t::text, ';') FROM engine.recent_trades('BTC_USDT', 1000) t
UNION ALL SELECT 'ticker', string_agg(t.last || ' ' || t.trades || ' ' || t.best_bid || ' ' || t.best_ask, ';') FROM engine.ticker('BTC_USDT') t
UNION ALL SELECT 'verify', string_agg(v.check_name || v.ok, ';') FROM engine.verify() v
UNION ALL SELECT 'digest', engine.state_digest()};
{
	my $st = SnapNode::status($standby);
	is("$st->{state} $st->{role}", 'ready follower', 'the standby worker is a ready follower');
	is(SnapNode::status($primary)->{role}, 'leader', 'the primary worker is the leader');
	is($st->{applied_seq}, SnapNode::last_seq($primary), 'at the primary seq');
	is($standby->safe_psql($DB, $reads), $primary->safe_psql($DB, $reads),
		'depth, balances, open_orders, order, recent_trades, ticker, verify and digest answer as on the primary');
	is($standby->safe_psql($DB, q{SELECT count(*) || ' ' || min(price) FROM engine.recent_trades('BTC_USDT', 1000)}),
		'1 31000.000000', 'the standby serves the trade from its replayed engine.trades');
	is("$st->{lag_records} $st->{lag_ms}", '0 0', 'no lag when caught up');

	book($primary, 40, 'c');
	my $seq = EngineNode::wait_follower($primary, $standby);
	is(SnapNode::status($standby)->{applied_seq}, $seq, "followed to seq $seq");
	is($standby->safe_psql($DB, $reads), $primary->safe_psql($DB, $reads), 'same answers after more commands');
}

# ---------------------------------------------------------------------------
# 2. commands fail at once on a standby
# ---------------------------------------------------------------------------
my @commands = (
	q{SELECT * FROM engine.place_order(1, 'BTC_USDT', 'buy', 0.001, 29000)},
	q{SELECT * FROM engine.cancel_order(1, 5::bigint)},
	q{SELECT * FROM engine.cancel_order(1, 'a-1'::text)},
	q{SELECT * FROM engine.amend_order(1, 5, qty => 0.001)},
	q{SELECT engine.cancel_all(1)},
	q{SELECT * FROM engine.place_orders(1, ARRAY[engine.order_request('BTC_USDT', 'buy', 0.001, 29000),
	                                            engine.order_request('BTC_USDT', 'sell', 0.001, 31000)])},
	q{SELECT * FROM engine.cancel_orders(1, ARRAY[5, 6]::bigint[])},
	q{SELECT * FROM engine.deposit(1, 'USDT', 1, 'on-standby')},
	q{SELECT * FROM engine.withdraw(1, 'USDT', 1, 'on-standby-w')},
	q{SELECT engine.create_asset('ETH', 18)},
	q{SELECT engine.create_symbol('ETH_USDT', 'ETH', 'USDT', 0.01, 0.001)},
	q{SELECT engine.set_symbol_status('BTC_USDT', 'halted')},
	q{SELECT engine.snapshot()});

sub commands_refused
{
	my ($label) = @_;
	my $before = SnapNode::last_seq($primary);
	for my $sql (@commands)
	{
		my ($ret, $out, $err) = $standby->psql($DB,
			"SET engine.request_timeout = '1h'; SET statement_timeout = '120s'; $sql");
		(my $short = $sql) =~ s/\(.*//s;
		isnt($ret, 0, "$label: $short fails");
		like($err, qr/engine commands cannot run on a standby.*HINT:  Send commands to the primary/s,
			"$label: $short says the node is a standby, at once");
	}
	is(SnapNode::last_seq($primary), $before, "$label: nothing reached the log");
	return;
}
commands_refused('standby');

# ---------------------------------------------------------------------------
# helpers: freeze the follower
# ---------------------------------------------------------------------------
sub follower_pid { return EngineNode::worker_pid($standby) }

# SIGSTOP the follower at a moment where it holds a transaction snapshot
# ($in_xact) or none; tries until it is so (the follower is in a
# transaction only while it reads, so each try is a sample).
sub freeze
{
	my ($in_xact) = @_;
	my $pid = follower_pid();
	for my $try (1 .. 20_000)
	{
		kill 'STOP', $pid;
		my $xmin = $standby->safe_psql($DB,
			"SELECT backend_xmin IS NOT NULL FROM pg_stat_activity WHERE pid = $pid");
		return $try if $xmin eq ($in_xact ? 't' : 'f');
		kill 'CONT', $pid;
		usleep(int(rand(3000)));
	}
	die 'could not catch the follower ' . ($in_xact ? 'inside' : 'outside') . ' a transaction';
}
sub thaw { kill 'CONT', follower_pid(); return }

# ---------------------------------------------------------------------------
# 3. lag
# ---------------------------------------------------------------------------
{
	freeze(0);
	my $before = SnapNode::last_seq($primary);
	book($primary, 25, 'lag');
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('flush'));
	usleep(20_000);    # lag_ms counts whole milliseconds: make it at least 1
	my $st = SnapNode::status($standby);
	is($st->{lag_records}, 25, 'frozen follower: lag_records = the 25 records replayed but not applied');
	cmp_ok($st->{lag_ms}, '>', 0, "lag_ms > 0 ($st->{lag_ms})");
	is($st->{applied_seq}, $before, 'applied_seq stays');
	thaw();
	EngineNode::wait_follower($primary, $standby);
	$st = SnapNode::status($standby);
	is("$st->{lag_records} $st->{lag_ms}", '0 0', 'thawed: caught up, lag 0');
	is(SnapNode::digest($standby), SnapNode::digest($primary), 'same digest');
}

# ---------------------------------------------------------------------------
# 4. a cancelled read is retried in the same process
# ---------------------------------------------------------------------------
{
	my $pid = follower_pid();
	my $st0 = SnapNode::status($standby);
	freeze(0);
	$standby->safe_psql($DB, "SELECT pg_cancel_backend($pid)");
	book($primary, 10, 'cancel');
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('flush'));
	thaw();
	EngineNode::wait_follower($primary, $standby);
	my $st = SnapNode::status($standby);
	is($st->{worker_pid}, $pid, 'pg_cancel_backend: the follower is the same process');
	is($st->{follower_retries}, $st0->{follower_retries} + 1, 'follower_retries counts the cancelled read');
	is($st->{worker_starts}, $st0->{worker_starts}, 'no worker restart');
	is(SnapNode::digest($standby), SnapNode::digest($primary), 'same digest');
	ok($standby->log_contains(qr/engine: follower read at seq \d+ was cancelled: canceling statement due to user request/),
		'the server log says the read was cancelled and retried');
}

# ---------------------------------------------------------------------------
# 5. a recovery conflict: VACUUM of pruned log rows while the follower reads
# ---------------------------------------------------------------------------
{
	# Two snapshots: rows up to the older one are pruned and vacuumed now;
	# the next snapshot prunes rows the follower has applied already.
	SnapNode::snapshot_pruned($primary);
	book($primary, 10, 'v1');
	SnapNode::snapshot_pruned($primary);
	$primary->safe_psql($DB, 'VACUUM engine.command_log');
	EngineNode::wait_follower($primary, $standby);

	my $pid = follower_pid();
	my $st0 = SnapNode::status($standby);
	my $conflicts0 = $standby->safe_psql($DB,
		"SELECT confl_snapshot FROM pg_stat_database_conflicts WHERE datname = '$DB'");

	# A steady load, one command per transaction (no long transaction on the
	# primary holding back VACUUM), so that the follower reads all the time;
	# it runs until it is stopped below, however fast the primary is.
	my $file = PostgreSQL::Test::Utils::tempdir() . '/load.sql';
	PostgreSQL::Test::Utils::append_to_file($file,
		"\\set k random(1, 1000000000000)\n"
		  . "SELECT status FROM engine.deposit(1, 'USDT', 0.000001, 'vac-' || :k);\n");
	my ($out, $err) = ('', '');
	my $load = IPC::Run::start(
		[ $primary->installed_command('pgbench'), '-n', '-c', '1', '-T', '3600', '-f', $file,
		  $primary->connstr($DB) ],
		'<', \undef, '>', \$out, '2>', \$err);
	$primary->poll_query_until($DB, q{SELECT count(*) > 0 FROM engine.client_keys WHERE key LIKE 'vac-%'})
	  or die 'the load did not start';

	my $logpos = -s $standby->logfile;
	my $tries = freeze(1);
	note("caught the follower inside its read after $tries tries");
	SnapNode::snapshot_pruned($primary);
	# A deposit of the load that began before the snapshot committed keeps
	# the pruned rows (its xmin is older); VACUUM again until none is left
	# "dead but not yet removable", so the rows the frozen follower may see
	# are gone and replaying their removal conflicts with its read.
	my $vacuums = 0;
	for (;;)
	{
		$vacuums++;
		my ($vret, $vout, $verr) = $primary->psql($DB, 'VACUUM (VERBOSE) engine.command_log');
		die "VACUUM failed: $verr" if $vret != 0;
		my $report = qr/finished vacuuming "[^"]*engine\.command_log".*?tuples: \d+ removed, \d+ remain, (\d+) are dead/s;
		my ($left) = $verr =~ $report;
		die "no VACUUM report for engine.command_log: $verr" unless defined $left;
		last if $left == 0;
		die 'the pruned log rows stay dead but not removable' if $vacuums > 1000;
		usleep(100_000);
	}
	note("the pruned rows were removed after $vacuums VACUUM(s)");
	# Whether WAL replay of the removal meets the frozen read in time to
	# conflict is up to the scheduler; what must hold either way is below.
	thaw();
	# TERM, not INT: a shell that runs the suite in the background starts
	# it with SIGINT ignored, and pgbench inherits that.
	$load->signal('TERM');
	$load->finish;
	unlike($err, qr/ERROR|aborted/, 'the load on the primary ran without an error until stopped');
	my $seq = EngineNode::wait_follower($primary, $standby);
	my $st = SnapNode::status($standby);
	is($st->{worker_pid}, $pid, 'recovery conflict: the follower is the same process');
	is($st->{follower_reloads}, $st0->{follower_reloads}, 'no reload was needed');
	is($st->{applied_seq}, $seq, "at seq $seq");
	is(SnapNode::digest($standby), SnapNode::digest($primary), 'same digest as the primary');
}

# ---------------------------------------------------------------------------
# 6. behind a prune: reload from the newest snapshot
# ---------------------------------------------------------------------------
for my $later (1, 0)
{
	my $label = $later ? 'pruned, later rows' : 'pruned, no later rows';
	my $pid = follower_pid();
	my $st0 = SnapNode::status($standby);
	freeze(0);
	book($primary, 10, "p$later-1");
	SnapNode::snapshot_pruned($primary);
	book($primary, 10, "p$later-2");
	SnapNode::snapshot_pruned($primary);
	book($primary, 10, "p$later-3") if $later;
	my ($min) = $primary->safe_psql($DB, 'SELECT coalesce(min(seq), 0) FROM engine.command_log');
	cmp_ok($min, '>', $st0->{applied_seq} + 1, "$label: the rows after the follower's seq are gone on the primary")
	  if $later;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('flush'));
	thaw();
	my $seq = EngineNode::wait_follower($primary, $standby);
	my $st = SnapNode::status($standby);
	is($st->{follower_reloads}, $st0->{follower_reloads} + 1, "$label: the follower reloaded once");
	is($st->{worker_pid}, $pid, "$label: in the same process");
	is($st->{snapshot_seq}, SnapNode::status($primary)->{snapshot_seq}, "$label: from the newest snapshot");
	is(SnapNode::digest($standby), SnapNode::digest($primary), "$label: same digest at seq $seq");
}

# ---------------------------------------------------------------------------
# 7. a bad row: CRC mismatch, then a gap
# ---------------------------------------------------------------------------
for my $kind ('crc', 'gap')
{
	freeze(0);
	my $at = SnapNode::last_seq($primary);
	book($primary, 5, "bad-$kind");
	my $bad = $at + 2;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	if ($kind eq 'crc')
	{
		$primary->safe_psql($DB,
			"UPDATE engine.command_log SET payload = set_byte(payload, 5, get_byte(payload, 5) # 1) WHERE seq = $bad");
	}
	else
	{
		$primary->safe_psql($DB, "DELETE FROM engine.command_log WHERE seq = $bad");
	}
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('flush'));
	thaw();
	$standby->poll_query_until($DB, "SELECT state = 'failed' FROM engine.status()")
	  or die "the follower did not fail on the $kind";
	my $st = SnapNode::status($standby);
	like($st->{detail}, $kind eq 'crc' ? qr/command_log seq $bad: CRC mismatch/ : qr/gap: expected seq $bad\b/,
		"$kind: status says so, naming seq $bad: $st->{detail}");
	is($st->{applied_seq}, $bad - 1, "$kind: applied up to the row before");
	my ($ret, $o, $err) = $standby->psql($DB, "SELECT * FROM engine.depth('BTC_USDT')");
	like($err, qr/engine has failed: .*seq $bad/, "$kind: reads are refused, naming the seq");

	# The primary never rereads its log: a snapshot there covers the row.
	$primary->safe_psql($DB, 'SELECT engine.snapshot()');
	$primary->safe_psql($DB, "SELECT * FROM engine.deposit(2, 'USDT', 1, 'after-$kind')");
	my $seq = EngineNode::wait_follower($primary, $standby);
	$st = SnapNode::status($standby);
	is($st->{state}, 'ready', "$kind: a newer snapshot covers the bad row: ready again");
	is(SnapNode::digest($standby), SnapNode::digest($primary), "$kind: same digest at seq $seq");
}

# ---------------------------------------------------------------------------
# 2 again: a standby restarted is still a follower and refuses commands
# ---------------------------------------------------------------------------
$standby->restart;
EngineNode::wait_ready($standby) or die 'follower not ready after restart';
EngineNode::wait_follower($primary, $standby);
is(SnapNode::status($standby)->{role}, 'follower', 'restarted standby: a follower again');
commands_refused('restarted standby');
# The primary took many snapshots meanwhile; the standby took none (its
# follower never starts the snapshot writer).
is($standby->safe_psql($DB,
	'SELECT snapshot_running_seq IS NULL AND snapshot_write_ms IS NULL AND snapshot_rows IS NULL FROM engine.status()'),
	't', 'the standby writes no snapshot: none running, none written');
ok(!$standby->log_contains(qr/engine: (the )?snapshot at seq/), 'no snapshot was written or tried on the standby');

# ---------------------------------------------------------------------------
# 8. plain promotion: the follower leads in place
# ---------------------------------------------------------------------------
{
	book($primary, 20, 'last');
	my $seq = EngineNode::wait_follower($primary, $standby);
	my $digest = SnapNode::digest($primary);
	my $last_ts = $primary->safe_psql($DB, "SELECT ts FROM engine.command_log WHERE seq = $seq");
	$primary->stop('fast');
	my $st0 = SnapNode::status($standby);

	$standby->promote;
	$standby->poll_query_until($DB, "SELECT role = 'leader' AND state = 'ready' FROM engine.status()")
	  or die 'the promoted follower did not become the leader';
	my $st = SnapNode::status($standby);
	is($st->{worker_pid}, $st0->{worker_pid}, 'promoted: the same worker process leads');
	is("$st->{worker_starts} $st->{replayed}", "$st0->{worker_starts} $st0->{replayed}",
		'no recovery ran (worker_starts and replayed unchanged)');
	isnt($st->{promote_ms}, '', "promote_ms is set ($st->{promote_ms} ms)");
	is($st->{last_seq}, $seq, "at seq $seq");
	is(SnapNode::digest($standby), $digest, 'the digest the old primary had');
	is($standby->safe_psql($DB, q{SELECT status FROM engine.deposit(3, 'USDT', 1, 'after-promote')}), 'ok',
		'the new leader takes commands');
	is($standby->safe_psql($DB, "SELECT seq FROM engine.command_log WHERE seq > $seq"), $seq + 1,
		'the next command has seq last + 1');
	is($standby->safe_psql($DB, "SELECT ts >= '$last_ts' FROM engine.command_log WHERE seq = $seq + 1"), 't',
		'and a timestamp not before the last one');
	is(EngineNode::verify_failures($standby), '', 'verify() all ok');
	book($standby, 20, 'new');
	is(SnapNode::status($standby)->{last_seq}, $seq + 21, 'commands go on');
}

$standby->stop;
done_testing();
