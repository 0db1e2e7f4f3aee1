# 013_snapshot_midwrite.pl — a crash while a large snapshot is being written
# leaves no trace of it: recovery uses the previous snapshot and the state is
# the same.
#
#   1. Deterministic: a session holds LOCK engine.snapshots IN SHARE MODE,
#      engine.snapshot() is called for a book of 100k resting orders; the
#      worker writes every content row and then blocks on its INSERT into
#      engine.snapshots (the row that makes a snapshot count).  While it
#      waits — content rows written, transaction open, the row tables grown
#      on disk — it is killed with SIGKILL.  After the crash-restart:
#      status().snapshot_seq is the previous snapshot's, the tail after it is
#      replayed, not one row of any snapshot table belongs to the killed seq,
#      the digest equals the digest before the crash, verify() holds; a new
#      engine.snapshot() then writes the same seq whole.
#   2. By timing: engine.snapshot() in the background, SIGKILL at a random
#      moment between the worker saying "writing a snapshot" and a little
#      longer than the previous snapshot of this size took.  Wherever the kill lands, the
#      snapshot is whole (every row it announces) or absent (no row at all),
#      recovery starts from it or from the one before accordingly, and the
#      digest is the one before the crash.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use IPC::Run;
use EngineNode;
use SnapNode;

my $DB     = 'postgres';
my $ORDERS = $ENV{ENGINE_TEST_MIDWRITE_ORDERS} // 100_000;

my $node = SnapNode::new_node('midwrite', keep_log => 'off', max_orders => $ORDERS + 20_000);
my %total;
EngineNode::setup_market($node);
EngineNode::fund($node, [ 1 .. 10 ], 10**8, 100_000 * 10**6, \%total);
$node->safe_psql($DB, q{
SELECT engine.place_order(1, 'BTC_USDT', 'buy', 0.5, 250.00);
SELECT engine.place_order(2, 'BTC_USDT', 'sell', 0.2, 250.00);
SELECT engine.place_order(3, 'BTC_USDT', 'sell', 0.5, 260.00)});

my $prev = $node->safe_psql($DB, 'SELECT engine.snapshot()');
is_deeply(SnapNode::snapshot_rows($node, $prev), SnapNode::snapshot_announced($node, $prev),
	"the previous snapshot ($prev) is whole");

my $t0 = time;
SnapNode::build_book($node, orders => $ORDERS, users => 1000, sessions => 4, total => \%total);
note(sprintf('built %d resting orders in %.1f s', $ORDERS, time - $t0));
my $st = SnapNode::status($node);
cmp_ok($st->{resting_orders}, '>=', $ORDERS, "the book holds $ORDERS+ resting orders");
my $digest = SnapNode::digest($node);
my $seq    = $st->{last_seq};

sub psql_bg
{
	my (@cmds) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ $node->installed_command('psql'), '-X', '-A', '-t', '-d', $node->connstr($DB),
		  map { ('-c', $_) } @cmds ],
		'<', \undef, '>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err };
}

sub psql_bg_end
{
	my ($p) = @_;
	my $deadline = time + 30;
	while ($p->{h}->pumpable && time < $deadline)
	{
		eval { $p->{h}->pump_nb; 1 };
		usleep(10_000);
	}
	eval { $p->{h}->kill_kill; 1 } if $p->{h}->pumpable;
	eval { $p->{h}->finish; 1 };
	return;
}

# ---------------------------------------------------------------------------
# 1. killed while its rows are written and its engine.snapshots row waits
# ---------------------------------------------------------------------------
{
	my $size0 = $node->safe_psql($DB, q{SELECT pg_relation_size('engine.snapshot_orders')});
	my $lock = psql_bg('BEGIN', 'LOCK TABLE engine.snapshots IN SHARE MODE', q{SELECT 'locked'},
		'SELECT pg_sleep(600)');
	my $deadline = time + 30;
	$lock->{h}->pump_nb while ${ $lock->{out} } !~ /locked/ && time < $deadline && usleep(10_000) >= 0;
	like(${ $lock->{out} }, qr/locked/, 'a session holds engine.snapshots in SHARE mode');

	my $caller = psql_bg('SELECT engine.snapshot()');
	ok($node->poll_query_until($DB, q{
SELECT count(*) = 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
WHERE a.backend_type = 'engine' AND a.query = 'engine: writing a snapshot'
  AND l.relation = 'engine.snapshots'::regclass AND NOT l.granted}),
		'the worker is writing the snapshot and waits to insert its engine.snapshots row');
	my $size1 = $node->safe_psql($DB, q{SELECT pg_relation_size('engine.snapshot_orders')});
	cmp_ok($size1 - $size0, '>=', $ORDERS * 60,
		"the snapshot's order rows are written (engine.snapshot_orders grew by "
		  . int(($size1 - $size0) / 1024) . ' kB), not committed');
	is_deeply(SnapNode::snapshot_rows($node, $seq),
		{ snapshots => 0, map { $_ => 0 } @SnapNode::SNAPSHOT_TABLES },
		'no row of the unfinished snapshot is visible');

	my ($pid, $after) = SnapNode::kill9_worker($node);
	psql_bg_end($lock);
	psql_bg_end($caller);
	like(${ $caller->{err} }, qr/terminat|connection|server closed/i,
		'the engine.snapshot() caller got no answer');
	ok($after && $after->{state} eq 'ready', 'ready after the kill -9 mid-write')
	  or BAIL_OUT('engine did not recover: ' . ($after ? "$after->{state}: $after->{detail}" : 'no verdict'));
	is($after->{snapshot_seq}, $prev, "recovery used the previous snapshot ($prev)");
	is($after->{replayed}, $seq - $prev, 'and replayed the whole tail after it');
	is_deeply(SnapNode::snapshot_rows($node, $seq),
		{ snapshots => 0, map { $_ => 0 } @SnapNode::SNAPSHOT_TABLES },
		"no row of any snapshot table belongs to the killed snapshot ($seq)");
	is(join(',', SnapNode::snapshot_seqs($node)), $prev, 'engine.snapshots lists the previous snapshot only');
	is(SnapNode::digest($node), $digest, 'digest equals the digest before the crash');
	is(EngineNode::verify_failures($node), '', 'verify() all ok');
	is(SnapNode::last_seq($node), $seq, 'last_seq is the seq before the crash');

	is($node->safe_psql($DB, 'SELECT engine.snapshot()'), $seq,
		'a new engine.snapshot() covers the same seq');
	my $rows = SnapNode::snapshot_rows($node, $seq);
	is_deeply($rows, SnapNode::snapshot_announced($node, $seq), 'and is whole');
	cmp_ok($rows->{snapshot_orders}, '>=', $ORDERS, 'with every resting order');
}

# ---------------------------------------------------------------------------
# 2. killed at a random moment while the worker reports writing a snapshot
# ---------------------------------------------------------------------------
{
	my $ms = SnapNode::status($node)->{snapshot_ms};
	my $delay = int(rand(1.2 * $ms * 1000));
	note("previous snapshot took $ms ms; killing ${delay} us after the write starts");
	$node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 200) i,
  engine.place_order(1000 + i, 'BTC_USDT', 'sell', 0.001, 400.00)});
	my $seq2    = SnapNode::last_seq($node);
	my $digest2 = SnapNode::digest($node);
	my $older   = $node->safe_psql($DB, 'SELECT max(seq) FROM engine.snapshots');

	my $watch = $node->background_psql($DB);
	my $pid = EngineNode::worker_pid($node);
	my $caller = psql_bg('SELECT engine.snapshot()');
	my $seen = 0;
	my $deadline = time + 30;
	while (time < $deadline)
	{
		my $q = $watch->query("SELECT query FROM pg_stat_activity WHERE pid = $pid");
		if ($q eq 'engine: writing a snapshot')
		{
			usleep($delay);
			kill 'KILL', $pid;
			$seen = 1;
			last;
		}
	}
	ok($seen, 'the worker was killed while it said "writing a snapshot"');
	my $after = SnapNode::wait_verdict($node, $pid);
	eval { $watch->quit; 1 };
	psql_bg_end($caller);
	ok($after && $after->{state} eq 'ready', 'ready after the kill -9 during the snapshot')
	  or BAIL_OUT('engine did not recover');

	my $rows = SnapNode::snapshot_rows($node, $seq2);
	my $ann  = SnapNode::snapshot_announced($node, $seq2);
	if ($ann)
	{
		note('the kill landed after the snapshot committed');
		is_deeply($rows, $ann, "snapshot $seq2 is whole");
		is("$after->{snapshot_seq} $after->{replayed}", "$seq2 0", 'recovery started from it');
	}
	else
	{
		note('the kill landed before the snapshot committed');
		is_deeply($rows, { snapshots => 0, map { $_ => 0 } @SnapNode::SNAPSHOT_TABLES },
			"snapshot $seq2 left no row at all");
		is("$after->{snapshot_seq} $after->{replayed}", "$older " . ($seq2 - $older),
			"recovery started from the snapshot before ($older) and replayed the tail");
	}
	is(SnapNode::digest($node), $digest2, 'digest equals the digest before the crash');
	is(EngineNode::verify_failures($node), '', 'verify() all ok');
}

$node->stop;
done_testing();
