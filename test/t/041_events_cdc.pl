# 041_events_cdc.pl — pushed events and change data capture.
#
#   1. NOTIFY: a session that LISTENs on engine_events gets one notification
#      per batch that sequenced something, carrying the batch's first and
#      last seq, its trade count and its engine timestamp; a duplicate (not
#      sequenced) sends none.
#   2. Logical decoding (the README's recipe): pg_recvlogical with wal2json
#      streams engine.trades and engine.order_events to a file while 8
#      clients trade, and the worker is killed with SIGKILL (crash-restart
#      of the whole server) while every client has a command waiting in the
#      engine.  A consumer that applies whole transactions and skips those
#      whose commit LSN it has already applied sees every trade and every
#      order event exactly once, in seq order, before and after the crash.
#
# Needs wal2json (Debian package postgresql-15-wal2json) in the
# installation's library directory: the test fails without it.

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use EngineNode;

my $seed = $ENV{ENGINE_TEST_SEED} // int(time);
srand($seed);
note("random seed $seed (set ENGINE_TEST_SEED to repeat)");

my $DB = 'postgres';
my $CLIENTS = 8;
my @users = (1 .. 20);

my $node = EngineNode::new_node('cdc', extra_conf => q{
wal_level = logical
max_replication_slots = 4
max_wal_senders = 4
});
# Newer minor releases list the libraries allowed as output plugins.
if ($node->safe_psql($DB, "SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'"))
{
	$node->safe_psql($DB, q{ALTER SYSTEM SET output_plugin_libraries = pgoutput, test_decoding, wal2json});
	$node->reload;
	$node->poll_query_until($DB, q{SELECT current_setting('output_plugin_libraries') LIKE '%wal2json%'})
	  or die 'output_plugin_libraries not reloaded';
}
my %total;
EngineNode::setup_market($node);
EngineNode::fund($node, \@users, 10 * 10**8, 1_000_000 * 10**6, \%total);

# ---------------------------------------------------------------------------
# 1. NOTIFY after each committed batch
# ---------------------------------------------------------------------------
{
	my $s0 = $node->safe_psql($DB, 'SELECT max(seq) FROM engine.command_log');
	my ($ret, $out, $err) = $node->psql($DB, q{
LISTEN engine_events;
SELECT 'A', status FROM engine.place_order(1, 'BTC_USDT', 'sell', 0.5, 30000.00, client_order_id => 'n-1');
SELECT 'B', count(*) FROM engine.place_orders(2, ARRAY[
	engine.order_request('BTC_USDT', 'buy', 0.2, 30000.00),
	engine.order_request('BTC_USDT', 'buy', 0.1, 29000.00),
	engine.order_request('BTC_USDT', 'buy', 0.1, 30000.00)]);
SELECT 'C', reason FROM engine.place_order(1, 'BTC_USDT', 'sell', 0.5, 30000.00, client_order_id => 'n-1');
SELECT 'D', status FROM engine.deposit(3, 'USDT', 1, 'n-dep');
SELECT 'E';
});
	is($ret, 0, 'the listening session ran its commands') or diag($err);
	my @payloads = $out =~ /^Asynchronous notification "engine_events" with payload "(.*)" received from server process with PID \d+\.$/mg;
	is(scalar(@payloads), 3, 'three notifications: the place, the batch and the deposit, none for the duplicate');
	my @got = map {
		/^\{"first_seq":(\d+),"last_seq":(\d+),"trades":(\d+),"ts":"([^"]+)"\}$/
		  ? [ $1 - $s0, $2 - $s0, $3, $4 ] : [ $_ ]
	} @payloads;
	is_deeply([ map { join ' ', @{$_}[ 0 .. 2 ] } @got ], [ '1 1 0', '2 4 2', '5 5 0' ],
		'payloads carry each batch\'s first and last seq and its trade count');
	my $ts = $node->safe_psql($DB,
		"SET TIME ZONE 'UTC'; SELECT ts::text FROM engine.command_log WHERE seq IN ($s0 + 1, $s0 + 2, $s0 + 5) ORDER BY seq");
	is(join(',', map { $_->[3] // '' } @got), join(',', split /\n/, $ts),
		'payloads carry the batch\'s engine timestamp, in UTC');
	is($node->safe_psql($DB, "SELECT count(*) FROM engine.trades WHERE seq BETWEEN $s0 + 2 AND $s0 + 4"),
		'2', 'the trades of a notified range are the rows with seq in it');
}

# ---------------------------------------------------------------------------
# 2. logical decoding with wal2json across a crash
# ---------------------------------------------------------------------------
# The slot streams what commits after its creation (nothing else runs now).
my $s_slot = $node->safe_psql($DB, 'SELECT max(seq) FROM engine.command_log');
$node->safe_psql($DB, q{SELECT 1 FROM pg_create_logical_replication_slot('engine_cdc', 'wal2json')});
my $dir = PostgreSQL::Test::Utils::tempdir();
my $file = "$dir/cdc.jsonl";
my $recv = IPC::Run::start(
	[ $node->installed_command('pg_recvlogical'), '-d', $node->connstr($DB), '-S', 'engine_cdc',
	  '--start', '-f', $file, '-F', '0', '-s', '1',
	  '-o', 'format-version=2', '-o', 'include-lsn=true',
	  '-o', 'add-tables=engine.trades,engine.order_events' ],
	'<', \undef, '>', "$dir/recv.out", '2>', "$dir/recv.err");
END { $recv->kill_kill if $recv; }

$node->safe_psql($DB, 'CREATE TABLE public.engine_test_barrier (name text PRIMARY KEY)');
my @sets = map {
	EngineNode::gen_commands(client => $_, n => 120, users => \@users, prefix => 'x',
		barriers => { 60 => 'kill -9' })
} 0 .. $CLIENTS - 1;
my $h = EngineNode::start_clients($node, \@sets, timeout => 240);

# Hold the worker on a lock on engine.command_log (it has applied a batch
# and not logged it), let the clients pass the barrier, wait until every one
# waits in the engine, then SIGKILL the worker.
my $holder = $node->background_psql($DB);
$holder->query_safe('BEGIN; LOCK TABLE engine.command_log IN SHARE MODE');
EngineNode::open_barrier($node, 'kill -9');
is(EngineNode::wait_engine_waiters($node, $CLIENTS), $CLIENTS, 'every client waits in the engine at the kill');
my $trades_before = $node->safe_psql($DB, 'SELECT count(*) FROM engine.trades');
my $pid = EngineNode::worker_pid($node);
kill 'KILL', $pid;
eval { $holder->quit; 1 };
ok(EngineNode::wait_new_worker($node, $pid, 120), 'worker back after kill -9');
ok($node->log_contains('all server processes terminated; reinitializing'), 'the kill was a crash-restart');
my $cmds = EngineNode::wait_clients($h);
is(scalar(grep { $_->{state} eq 'unsent' } @$cmds), 0, 'every client got through its list');

# Everything committed since the slot was created, from the tables.
my @trades = split /\n/, $node->safe_psql($DB,
	"SELECT trade_id FROM engine.trades WHERE seq > $s_slot ORDER BY trade_id");
my @events = split /\n/, $node->safe_psql($DB,
	"SELECT seq || '.' || ev_no FROM engine.order_events WHERE seq > $s_slot ORDER BY seq, ev_no");
my $before = $node->safe_psql($DB, "SELECT count(*) FROM engine.trades WHERE seq > $s_slot")
  - ($node->safe_psql($DB, 'SELECT count(*) FROM engine.trades') - $trades_before);
cmp_ok($before, '>', 0, 'trades committed before the crash');
cmp_ok(scalar(@trades), '>', $before, 'trades committed after the crash');

# The consumer: whole transactions only (B ... C), in file order, skipping a
# transaction whose commit LSN is not past the last one applied (the
# stream after a reconnect may start with transactions already delivered).
sub lsn_num { my ($hi, $lo) = split m{/}, $_[0]; return hex($hi) * 2**32 + hex($lo) }

sub consume
{
	my (@tr, @ev, @open);
	my ($last, $redelivered, $in_tx) = (0, 0, 0);
	return ([], [], 0) unless -e $file;
	open my $fh, '<', $file or die "open $file: $!";
	while (my $line = <$fh>)
	{
		if ($line =~ /^\{"action":"B"/) { @open = (); $in_tx = 1; next }
		if ($line =~ /^\{"action":"C","lsn":"([0-9A-F\/]+)"/)
		{
			my $lsn = lsn_num($1);
			if ($in_tx && $lsn > $last)
			{
				for my $r (@open) { push @{ $r->[0] eq 't' ? \@tr : \@ev }, $r->[1] }
				$last = $lsn;
			}
			elsif ($in_tx) { $redelivered++ }
			@open = ();
			$in_tx = 0;
			next;
		}
		next unless $in_tx && $line =~ /^\{"action":"I"/;
		if ($line =~ /"table":"trades","columns":\[\{"name":"trade_id","type":"bigint","value":(\d+)\}/)
		{
			push @open, [ 't', $1 ];
		}
		elsif ($line =~ /"table":"order_events","columns":\[\{"name":"seq","type":"bigint","value":(\d+)\},\{"name":"ev_no","type":"integer","value":(\d+)\}/)
		{
			push @open, [ 'e', "$1.$2" ];
		}
	}
	close $fh;
	return (\@tr, \@ev, $redelivered);
}

# Wait (a bounded while) until the stream has caught up with the tables.
my ($tr, $ev, $redelivered);
my $deadline = time + 180;
while (time < $deadline)
{
	($tr, $ev, $redelivered) = consume();
	last if @$tr >= @trades && @$ev >= @events;
	usleep(200_000);
}
$recv->kill_kill;
undef $recv;
note("stream: " . scalar(@$tr) . " trades, " . scalar(@$ev) . " order events, $redelivered transactions delivered again after the crash");

is_deeply($tr, \@trades, 'every trade exactly once, in trade_id order, across the crash');
is_deeply($ev, \@events, 'every order event exactly once, in (seq, ev_no) order, across the crash');
is(EngineNode::verify_failures($node), '', 'engine.verify() all ok');

$node->stop;
done_testing();
