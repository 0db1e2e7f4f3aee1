# 013_snapshot_midwrite.pl — snapshots are written by the "engine snapshot
# writer" while the worker serves; a crash or a stop of either process at
# any point leaves the previous snapshot in force and the state the same.
#
# The writer is held in the middle of its work deterministically: a session
# holds LOCK engine.snapshots IN SHARE MODE, so the writer writes every
# chunk of a 100k-order snapshot and then waits to insert its
# engine.snapshots row (the row that makes a snapshot count), transaction
# open, chunks on disk.  While it waits:
#   1. the worker serves: commands are acknowledged, with the writer still
#      waiting (engine.status() shows the running snapshot);
#      then the writer is killed with SIGKILL: crash-restart, recovery uses
#      the previous snapshot and replays the tail, no item of the killed
#      snapshot is visible, same digest, verify() holds; a new
#      engine.snapshot() writes that seq whole;
#   2. the engine worker is killed with SIGKILL: the same;
#   3. the writer is stopped with pg_terminate_backend: no crash-restart;
#      the worker reports that the snapshot was not written, keeps serving,
#      and the engine.snapshot() call waiting all along is answered by the
#      next snapshot once the lock is gone;
#   4. the engine worker is stopped with pg_terminate_backend: it waits for
#      the writer (finishing its batch first), which commits when the lock
#      is gone; the worker then writes its shutdown snapshot of the commands
#      made meanwhile, and the next worker replays nothing.
#   5. By timing: SIGKILL of the writer at a random moment while it says
#      "writing a snapshot": the snapshot is whole or absent, recovery
#      starts from it or from the one before, same digest.

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
my $NONE   = { snapshots => 0, map { $_ => 0 } @SnapNode::SNAPSHOT_TABLES };

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
	my $deadline = time + 60;
	while ($p->{h}->pumpable && time < $deadline)
	{
		eval { $p->{h}->pump_nb; 1 };
		usleep(10_000);
	}
	eval { $p->{h}->kill_kill; 1 } if $p->{h}->pumpable;
	eval { $p->{h}->finish; 1 };
	return;
}

sub writer_pid
{
	return $node->safe_psql($DB,
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'engine snapshot writer'");
}

# A session holding engine.snapshots in SHARE mode, and an engine.snapshot()
# call whose writer has written its chunks and waits for that lock.
# Returns (lock session, caller, writer pid, the snapshot's seq).
sub hold_writer
{
	my ($label) = @_;
	my $lock = psql_bg('BEGIN', 'LOCK TABLE engine.snapshots IN SHARE MODE',
		q{SELECT 'locked by ' || pg_backend_pid()}, 'SELECT pg_sleep(600)');
	my $deadline = time + 60;
	$lock->{h}->pump_nb while ${ $lock->{out} } !~ /locked by \d+/ && time < $deadline && usleep(10_000) >= 0;
	like(${ $lock->{out} }, qr/locked by (\d+)/, "$label: a session holds engine.snapshots in SHARE mode");
	($lock->{pid}) = ${ $lock->{out} } =~ /locked by (\d+)/;
	my $seq = SnapNode::last_seq($node);
	my $caller = psql_bg('SELECT engine.snapshot()');
	ok($node->poll_query_until($DB, q{
SELECT count(*) = 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
WHERE a.backend_type = 'engine snapshot writer' AND a.query = 'engine: writing a snapshot'
  AND l.relation = 'engine.snapshots'::regclass AND NOT l.granted}),
		"$label: the writer has written its chunks and waits to insert its engine.snapshots row");
	my $pid = writer_pid();
	my $run = $node->safe_psql($DB, q{
SELECT snapshot_running_seq || ' ' || snapshot_items_written || ' ' || snapshot_items_total
       || ' ' || snapshot_writer_pid FROM engine.status()});
	my ($rseq, $written, $items, $wpid) = split / /, $run;
	is("$rseq $wpid", "$seq $pid", "$label: engine.status() shows the running snapshot (seq $seq) and its writer");
	is($written, $items, "$label: every item is written ($written of $items)");
	is_deeply(SnapNode::snapshot_rows($node, $seq), $NONE, "$label: no item of the unfinished snapshot is visible");
	return ($lock, $caller, $pid, $seq);
}

# Commands while the writer waits: acknowledged at once.
sub trade_meanwhile
{
	my ($label, $n) = @_;
	my $acked = $node->safe_psql($DB, qq{
SELECT count(*) FROM generate_series(1, $n) i,
  engine.place_order(1 + i % 10, 'BTC_USDT', 'sell', 0.001, 500.00) r WHERE r.status = 'new'});
	is($acked, $n, "$label: $n commands acknowledged while the writer waits");
	return;
}

# End the lock session (its pg_sleep would hold the lock for ten minutes).
sub release_lock
{
	my ($lock) = @_;
	$node->safe_psql($DB, "SELECT pg_terminate_backend($lock->{pid})") if $lock->{pid};
	psql_bg_end($lock);
	return;
}

sub after_crash
{
	my ($label, $old_pid, $digest, $tail_from, $killed_seq) = @_;
	my $after = SnapNode::wait_verdict($node, $old_pid);
	ok($after && $after->{state} eq 'ready', "$label: ready after the crash")
	  or BAIL_OUT('engine did not recover: ' . ($after ? "$after->{state}: $after->{detail}" : 'no verdict'));
	is($after->{snapshot_seq}, $tail_from, "$label: recovery used the previous snapshot ($tail_from)");
	is($after->{replayed}, $after->{last_seq} - $tail_from, "$label: and replayed the whole tail after it");
	is_deeply(SnapNode::snapshot_rows($node, $killed_seq), $NONE,
		"$label: no item of the killed snapshot ($killed_seq) is visible");
	is(SnapNode::digest($node), $digest, "$label: digest equals the digest before the crash");
	is(EngineNode::verify_failures($node), '', "$label: verify() all ok");
	return $after;
}

# ---------------------------------------------------------------------------
# 1. kill -9 of the writer mid-write, the worker serving meanwhile
# ---------------------------------------------------------------------------
{
	my ($lock, $caller, $wpid, $seq) = hold_writer('writer killed');
	trade_meanwhile('writer killed', 20);
	my $digest = SnapNode::digest($node);
	my $worker = EngineNode::worker_pid($node);
	kill 'KILL', $wpid;
	psql_bg_end($lock);
	psql_bg_end($caller);
	like(${ $caller->{err} }, qr/terminat|connection|server closed/i, 'writer killed: the engine.snapshot() caller got no answer');
	after_crash('writer killed', $worker, $digest, $prev, $seq);
	my $again = $node->safe_psql($DB, 'SELECT engine.snapshot()');
	is($again, SnapNode::last_seq($node), 'writer killed: a new engine.snapshot() covers the last seq');
	is_deeply(SnapNode::snapshot_rows($node, $again), SnapNode::snapshot_announced($node, $again), 'and is whole');
	cmp_ok(SnapNode::snapshot_rows($node, $again)->{snapshot_orders}, '>=', $ORDERS, 'with every resting order');
	$prev = $again;
}

# ---------------------------------------------------------------------------
# 2. kill -9 of the engine worker while the writer waits
# ---------------------------------------------------------------------------
{
	trade_meanwhile('worker killed', 5);
	my ($lock, $caller, $wpid, $seq) = hold_writer('worker killed');
	my $digest = SnapNode::digest($node);
	my ($pid, $st) = SnapNode::kill9_worker($node);
	psql_bg_end($lock);
	psql_bg_end($caller);
	ok(!kill(0, $wpid), 'worker killed: the writer went down with the crash-restart');
	after_crash('worker killed', $pid, $digest, $prev, $seq);
}

# ---------------------------------------------------------------------------
# 3. pg_terminate_backend of the writer: no crash, tried again later
# ---------------------------------------------------------------------------
{
	trade_meanwhile('writer terminated', 5);
	my $off = -s $node->logfile;
	my ($lock, $caller, $wpid, $seq) = hold_writer('writer terminated');
	my $worker = EngineNode::worker_pid($node);
	$node->safe_psql($DB, "SELECT pg_terminate_backend($wpid)");
	ok($node->poll_query_until($DB, q{SELECT snapshot_running_seq IS NULL FROM engine.status()}),
		'writer terminated: the worker ends the job');
	is(EngineNode::worker_pid($node), $worker, 'writer terminated: the worker kept running (no crash-restart)');
	is(SnapNode::status($node)->{state}, 'ready', 'writer terminated: the engine is ready');
	trade_meanwhile('writer terminated, then', 5);
	is_deeply(SnapNode::snapshot_rows($node, $seq), $NONE, 'writer terminated: nothing of its snapshot is visible');
	like(slurp_file($node->logfile, $off), qr/WARNING:  engine: the snapshot at seq $seq was not written/,
		'writer terminated: the server log says the snapshot was not written');
	release_lock($lock);		# the caller's snapshot can now be written
	psql_bg_end($caller);
	my $answer = ${ $caller->{out} } =~ s/\s+//gr;
	cmp_ok($answer, '>=', $seq, "writer terminated: the waiting engine.snapshot() is answered by a later snapshot ($answer)");
	is_deeply(SnapNode::snapshot_rows($node, $answer), SnapNode::snapshot_announced($node, $answer), 'and it is whole');
	$prev = $answer;
}

# ---------------------------------------------------------------------------
# 4. pg_terminate_backend of the engine worker while the writer waits
# ---------------------------------------------------------------------------
{
	trade_meanwhile('worker terminated, before', 3);
	my $off = -s $node->logfile;
	my ($lock, $caller, $wpid, $seq) = hold_writer('worker terminated');
	trade_meanwhile('worker terminated', 7);
	my $digest = SnapNode::digest($node);
	my $last   = SnapNode::last_seq($node);
	my $worker = EngineNode::worker_pid($node);
	$node->safe_psql($DB, "SELECT pg_terminate_backend($worker)");
	ok($node->poll_query_until($DB, qq{SELECT query = 'engine: waiting for the snapshot writer to finish'
  FROM pg_stat_activity WHERE pid = $worker}),
		'worker terminated: the worker waits for the writer before its shutdown snapshot');
	ok(kill(0, $wpid), 'worker terminated: the writer is still waiting for the lock');
	release_lock($lock);
	my $st = SnapNode::wait_verdict($node, $worker);
	psql_bg_end($caller);
	is($st->{state}, 'ready', 'worker terminated: the next worker is ready');
	is_deeply(SnapNode::snapshot_rows($node, $seq), SnapNode::snapshot_announced($node, $seq),
		"worker terminated: the writer's snapshot ($seq) committed whole");
	is("$st->{snapshot_seq} $st->{replayed} $st->{last_seq}", "$last 0 $last",
		'worker terminated: its shutdown snapshot covers the commands made meanwhile; nothing replayed');
	is(SnapNode::digest($node), $digest, 'worker terminated: same digest');
	unlike(slurp_file($node->logfile, $off), qr/all server processes terminated/, 'worker terminated: no crash-restart');
	$prev = $last;
}

# ---------------------------------------------------------------------------
# 5. kill -9 of the writer at a random moment
# ---------------------------------------------------------------------------
{
	my $ms = SnapNode::status($node)->{snapshot_write_ms} // 1000;
	$ms = 1000 if !$ms;
	my $delay = int(rand(1.2 * $ms * 1000));
	note("the last snapshot took $ms ms to write; killing the writer ${delay} us after it starts writing");
	$node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 200) i,
  engine.place_order(1000 + i, 'BTC_USDT', 'sell', 0.001, 400.00)});
	my $seq2    = SnapNode::last_seq($node);
	my $digest2 = SnapNode::digest($node);
	my $older   = $node->safe_psql($DB, 'SELECT max(seq) FROM engine.snapshots');
	my $worker  = EngineNode::worker_pid($node);

	my $watch = $node->background_psql($DB);
	my $caller = psql_bg('SELECT engine.snapshot()');
	my $seen = 0;
	my $killed = 0;
	my $deadline = time + 60;
	while (time < $deadline)
	{
		my $q = $watch->query(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'engine snapshot writer'
  AND query = 'engine: writing a snapshot'});
		if ($q =~ /^(\d+)$/)
		{
			my $wpid = $1;
			usleep($delay);
			# the writer may have finished meanwhile: kill it only if it is still there
			my $cmd = '';
			if (open my $fh, '<', "/proc/$wpid/cmdline") { local $/; $cmd = <$fh> // ''; close $fh }
			$killed = kill('KILL', $wpid) if $cmd =~ /engine snapshot writer/;
			$seen = 1;
			last;
		}
	}
	ok($seen, 'the writer was seen saying "writing a snapshot"');
	note($killed ? 'the writer was killed' : 'the writer had finished before the kill');
	my $after = $killed ? SnapNode::wait_verdict($node, $worker) : SnapNode::status($node);
	eval { $watch->quit; 1 };
	psql_bg_end($caller);
	ok($after && $after->{state} eq 'ready', 'ready after the kill -9 of the writer (or its end)')
	  or BAIL_OUT('engine did not recover');

	my $rows = SnapNode::snapshot_rows($node, $seq2);
	my $ann  = SnapNode::snapshot_announced($node, $seq2);
	if ($ann)
	{
		note('the kill landed after the snapshot committed');
		is_deeply($rows, $ann, "snapshot $seq2 is whole");
		is($after->{snapshot_seq}, $seq2, 'it is the newest snapshot');
		is($after->{replayed}, 0, 'nothing to replay after it') if $killed;
	}
	else
	{
		note('the kill landed before the snapshot committed');
		is_deeply($rows, $NONE, "snapshot $seq2 left no item at all");
		is("$after->{snapshot_seq} $after->{replayed}", "$older " . ($seq2 - $older),
			"recovery started from the snapshot before ($older) and replayed the tail");
	}
	is(SnapNode::digest($node), $digest2, 'digest equals the digest before the crash');
	is(EngineNode::verify_failures($node), '', 'verify() all ok');
}

$node->stop;
done_testing();
