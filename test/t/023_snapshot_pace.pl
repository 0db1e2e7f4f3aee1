# 023_snapshot_pace.pl — engine.snapshot_max_rate: the snapshot writer keeps
# to it, a reload applies to a write under way, and a paced write is still
# whole.
#
#   1. At 64kB (per second), a snapshot of a 4,000-order book (a few hundred
#      kB of chunks) takes at least its bytes / 64 kB/s: the writer sleeps
#      until its bytes are due, also after the last batch, before it
#      commits (a lower bound: it holds however busy the machine is).  The
#      snapshot is whole and the state unchanged.
#   2. At 1kB, the same write would take several minutes; while the writer
#      is under way (status shows it running, some items written),
#      ALTER SYSTEM sets 0 (no limit) and pg_reload_conf(): the write
#      finishes at once — well under the minutes the old rate needs.
#   3. The default is 16MB: SHOW says so on a fresh node.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use IPC::Run;
use EngineNode;
use SnapNode;

my $DB = 'postgres';

my $node = SnapNode::new_node('pace', keep_log => 'off');

# ALTER SYSTEM, reload, and wait until a new session sees the value: the
# postmaster has read it then, and so will the next writer it starts.
sub set_rate
{
	my ($rate) = @_;
	$node->safe_psql($DB, "ALTER SYSTEM SET engine.snapshot_max_rate = '$rate'; SELECT pg_reload_conf()");
	for (1 .. 6000)
	{
		return if $node->safe_psql($DB, 'SHOW engine.snapshot_max_rate') eq $rate;
		usleep(10_000);
	}
	die "engine.snapshot_max_rate did not become $rate";
}
is($node->safe_psql($DB, 'SHOW engine.snapshot_max_rate'), '16MB', 'the default rate is 16MB');

my %total;
EngineNode::setup_market($node);
SnapNode::build_book($node, orders => 4000, users => 200, sessions => 2, total => \%total);
my $digest = SnapNode::digest($node);

# ---------------------------------------------------------------- 1. paced
set_rate('64kB');
my $t0  = time;
my $seq = $node->safe_psql($DB, 'SELECT engine.snapshot()');
my $elapsed = time - $t0;
my $bytes = $node->safe_psql($DB, "SELECT bytes FROM engine.snapshots_v WHERE seq = $seq");
cmp_ok($bytes, '>', 200_000, "the snapshot at seq $seq holds $bytes bytes of chunks");
my $due_ms = int($bytes * 1000 / (64 * 1024));
my $st = SnapNode::status($node);
cmp_ok($st->{snapshot_write_ms}, '>=', $due_ms,
	"the writer took $st->{snapshot_write_ms} ms: at least $due_ms ms, its bytes at 64 kB/s");
cmp_ok($elapsed * 1000, '>=', $due_ms, 'engine.snapshot() answered after the paced write committed');
is_deeply(SnapNode::snapshot_rows($node, $seq), SnapNode::snapshot_announced($node, $seq),
	'the paced snapshot is whole');
is(SnapNode::digest($node), $digest, 'the state is unchanged');

# ------------------------------------------------- 2. a reload mid-write
set_rate('1kB');
# a command, so that the next snapshot has a new seq to write
$node->safe_psql($DB, 'SELECT engine.deposit(1, \'USDT\', 1, \'pace-1\')');
my $slow_due_s = int($bytes / 1024);
my ($out, $err) = ('', '');
my $call = IPC::Run::start(
	[ $node->installed_command('psql'), '-X', '-A', '-t', '-d', $node->connstr($DB),
	  '-c', 'SELECT engine.snapshot()' ],
	'<', \undef, '>', \$out, '2>', \$err);
# Guaranteed, not timed: the writer at 1 kB/s is still writing when it has
# reported its first batch (the rest is due minutes later).
my $running = 0;
for (1 .. 3000)
{
	my $s = SnapNode::status($node);
	if ($s->{snapshot_running_seq} ne ''
		&& $node->safe_psql($DB, 'SELECT snapshot_items_written > 0 FROM engine.status()') eq 't')
	{
		$running = 1;
		last;
	}
	usleep(50_000);
}
ok($running, 'the writer at 1kB is under way (items written, not committed)');
my $t1 = time;
set_rate('0');
$call->finish;
my $after = time - $t1;
is($err, '', 'engine.snapshot() answered without an error');
chomp $out;
cmp_ok($after, '<', $slow_due_s / 2,
	sprintf('after the reload the write finished in %.1f s (at 1 kB/s it needs %d s)', $after, $slow_due_s));
my $newest = $node->safe_psql($DB, 'SELECT max(seq) FROM engine.snapshots');
cmp_ok($newest, '>', $seq, "a newer snapshot ($newest) committed");
is($out, $newest, 'engine.snapshot() answered with its seq');
is_deeply(SnapNode::snapshot_rows($node, $newest), SnapNode::snapshot_announced($node, $newest),
	'it is whole');

# ---------------------------------------------------------- 3. recovery
my ($pid, $st2) = SnapNode::kill9_worker($node);
is($st2->{state}, 'ready', 'after kill -9 the worker is ready');
is($st2->{snapshot_seq}, $newest, 'it recovered from the paced snapshot');
is(EngineNode::verify_failures($node), '', 'verify() holds');

$node->stop;
done_testing();
