# 040_pgbouncer.pl — the engine behind a connection pooler.
#
# pgbouncer in transaction pooling mode, with fewer server connections
# than clients, in front of a node.  The concurrency scenario of
# 001_concurrent.pl runs through it (16 clients, random commands): every
# command is answered, the log is one gapless total order, every
# acknowledged outcome is in the history tables, money is conserved, and no
# request slot is left in flight.  Then batch calls (engine.place_orders)
# from several clients at once: each call's orders have consecutive seqs,
# repeats of a client_order_id (within the call and from an earlier call)
# answer 'duplicate' with the original order.
#
# Needs pgbouncer (Debian package pgbouncer; PGBOUNCER= names another
# binary): the test fails without it.

use strict;
use warnings;

use File::Spec;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use EngineNode;

my $seed = $ENV{ENGINE_TEST_SEED} // time;
srand($seed);
note("random seed $seed (set ENGINE_TEST_SEED to repeat)");

my $CLIENTS = 16;
my $POOL = 6;                                  # server connections for all clients
my $PER_CLIENT = $ENV{ENGINE_TEST_PER_CLIENT} // 150;
my @users  = (1 .. 40);
my @wusers = map { 100 + $_ } 0 .. $CLIENTS - 1;
my $MAX_USER = 200;

my ($pgbouncer) = grep { defined $_ && -x $_ }
  ($ENV{PGBOUNCER}, '/usr/sbin/pgbouncer', '/usr/bin/pgbouncer');
BAIL_OUT('pgbouncer not found: apt-get install pgbouncer, or set PGBOUNCER') unless $pgbouncer;

my $node = EngineNode::new_node('bouncer');

# --- pgbouncer, transaction pooling, on a free port ------------------------
my $dir = PostgreSQL::Test::Utils::tempdir();
my $bport = PostgreSQL::Test::Cluster::get_free_port();
my $user = getpwuid($<);
my $host = $node->host;
my $nport = $node->port;
open my $af, '>', "$dir/users.txt" or die $!;
print $af qq{"$user" ""\n};
close $af;
open my $cf, '>', "$dir/pgbouncer.ini" or die $!;
print $cf <<"EOF";
[databases]
postgres = host=$host port=$nport dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = $POOL
max_client_conn = 200
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
close $cf;
my $bouncer = IPC::Run::start([ $pgbouncer, "$dir/pgbouncer.ini" ], '<', \undef, '>', "$dir/stdout", '2>', "$dir/stderr");
END { $bouncer->kill_kill if $bouncer; }

my $via = "host=127.0.0.1 port=$bport dbname=postgres user=$user";
my $psql = $node->installed_command('psql');
my $up = 0;
for (1 .. 600)
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ $psql, '-X', '-A', '-t', '-d', $via, '-c', 'SELECT engine.ready()' ],
		'<', \undef, '>', \$out, '2>', \$err);
	if ($out =~ /^t$/m) { $up = 1; last }
	usleep(100_000);
}
ok($up, 'engine answers through pgbouncer') or BAIL_OUT('pgbouncer: ' . slurp_file("$dir/pgbouncer.log"));

sub via_bouncer
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $psql, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $via, '-c', $sql ],
		'<', \undef, '>', \$out, '2>', \$err) or die "psql via pgbouncer: $err";
	chomp $out;
	return $out;
}

# --- the concurrency scenario, through pgbouncer ----------------------------
my %total = (BTC => 0, USDT => 0);
my $setup = EngineNode::setup_market($node);
$setup += EngineNode::fund($node, \@users, 10 * 10**8, 1_000_000 * 10**6, \%total);
$setup += EngineNode::fund($node, \@wusers, 0, 1_000 * 10**6, \%total);

my @sets = map {
	EngineNode::gen_commands(client => $_, n => $PER_CLIENT, users => \@users,
		withdraw_user => $wusers[$_])
} 0 .. $CLIENTS - 1;
my $h = EngineNode::start_clients($node, \@sets, timeout => 180, connstr => $via);
my $cmds = EngineNode::wait_clients($h);

my @unanswered = grep { $_->{state} ne 'ack' } @$cmds;
is(scalar(@unanswered), 0, 'every command was answered through pgbouncer');
diag("unanswered: $_->{sql} [$_->{state}] $_->{err}") for @unanswered[ 0 .. ($#unanswered < 4 ? $#unanswered : 4) ];
my @funds_bad = grep { ($_->{kind} eq 'deposit' || $_->{kind} eq 'withdraw') && ($_->{status} // '') ne 'ok' } @$cmds;
is(scalar(@funds_bad), 0, 'every deposit and withdrawal answered ok');

my ($n, $min, $max) = EngineNode::log_bounds($node);
my $expected_n = $setup + EngineNode::sequenced_count($cmds);
is("$n $min $max", "$expected_n 1 $expected_n",
	'command_log seq is gapless 1..N with one record per command but refused cancels');
is(EngineNode::verify_failures($node), '', 'engine.verify() all ok');
EngineNode::add_acked_funds($cmds, \%total);
is_deeply(EngineNode::asset_totals($node, $MAX_USER), EngineNode::expected_totals($node, \%total),
	'per-asset sum of available+frozen = deposits - withdrawals');
EngineNode::load_acks($node, $cmds);
EngineNode::check_acks($node, 'pgbouncer');

my $servers = $node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
cmp_ok($servers, '<=', $POOL, "$CLIENTS clients shared at most $POOL server connections");
cmp_ok($servers, '>=', 1, 'pgbouncer keeps its server connections');
is($node->safe_psql('postgres', 'SELECT count(*) FROM engine.requests()'), '0',
	'no request slot is left in flight');

# --- batches through pgbouncer, several clients at once ---------------------
# Client c, call k: 8 orders of user 1 + c; coids b<c>-<k>-1..6, then a
# repeat of b<c>-<k>-1 (same call) and of b<c>-<k-1>-6 (the previous call).
my $BATCH_CLIENTS = 4;
my $CALLS = 12;
my @bsets;
for my $c (0 .. $BATCH_CLIENTS - 1)
{
	my $u = 1 + $c;
	my @cmds;
	for my $k (1 .. $CALLS)
	{
		my @o = map {
			my $side = ($_ % 2) ? 'buy' : 'sell';
			my $price = EngineNode::price_text(3_000_000 + ($side eq 'buy' ? -40 - $_ : 40 + $_));
			"engine.order_request('BTC_USDT', '$side', 0.0001, $price, client_order_id => 'b$c-$k-$_')"
		} 1 .. 6;
		push @o, "engine.order_request('BTC_USDT', 'buy', 0.0001, 1, client_order_id => 'b$c-$k-1')";
		my $prev = $k > 1 ? "b$c-" . ($k - 1) . '-6' : "b$c-$k-2";
		push @o, "engine.order_request('BTC_USDT', 'buy', 0.0001, 1, client_order_id => '$prev')";
		push @cmds, { kind => 'batch', user => $u, idx => $k,
			sql => "SELECT 'T$k', string_agg(r.order_id || ':' || coalesce(r.client_order_id, '') || ':' "
			  . "|| coalesce(r.reason, r.status), ',' ORDER BY r.n) "
			  . "FROM engine.place_orders($u, ARRAY[" . join(', ', @o) . "]) WITH ORDINALITY "
			  . "AS r(order_id, client_order_id, status, filled_qty, remaining_qty, avg_price, trades, reason, n);" };
	}
	push @bsets, \@cmds;
}
my $s0 = $node->safe_psql('postgres', 'SELECT max(seq) FROM engine.command_log');
$h = EngineNode::start_clients($node, \@bsets, timeout => 180, connstr => $via);
my $bcmds = EngineNode::wait_clients($h);
is(scalar(grep { $_->{state} ne 'ack' } @$bcmds), 0, 'every batch call was answered through pgbouncer');

# Each answer: eight rows in order; rows 7 and 8 are duplicates naming the
# originals' order ids.
my (%oid, $bad);
for my $b (@$bcmds)
{
	my @rows = map { [ split /:/, $_, 3 ] } split /,/, $b->{order_id};
	$bad++ unless @rows == 8;
	$oid{ $rows[$_][1] } = $rows[$_][0] for 0 .. 5;
}
for my $b (@$bcmds)
{
	my @rows = map { [ split /:/, $_, 3 ] } split /,/, $b->{order_id};
	my ($c) = $rows[0][1] =~ /^b(\d+)-/;
	my $k = $b->{idx};
	my $prev = $k > 1 ? "b$c-" . ($k - 1) . '-6' : "b$c-$k-2";
	$bad++ unless $rows[6][2] eq 'duplicate' && $rows[6][1] eq "b$c-$k-1" && $rows[6][0] eq $oid{"b$c-$k-1"};
	$bad++ unless $rows[7][2] eq 'duplicate' && $rows[7][1] eq $prev && $rows[7][0] eq $oid{$prev};
	$bad++ if grep { $rows[$_][2] eq 'duplicate' } 0 .. 5;
}
is($bad // 0, 0, 'each batch answered 6 orders and 2 duplicates, in order, naming the originals');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM (
  SELECT split_part(decoded->>'client_order_id', '-', 1) || '-' || split_part(decoded->>'client_order_id', '-', 2) AS call,
         count(*) AS n, max(seq) - min(seq) AS span
    FROM engine.command_log_decoded WHERE seq > $s0 AND rectype = 'PLACE'
   GROUP BY 1) c
 WHERE n = 6 AND span = 5}), $BATCH_CLIENTS * $CALLS,
	'every call is 6 log records with consecutive seqs');
is($node->safe_psql('postgres', "SELECT count(*) FROM engine.command_log WHERE seq > $s0"),
	$BATCH_CLIENTS * $CALLS * 6, 'duplicates were not logged');
is(EngineNode::verify_failures($node), '', 'engine.verify() all ok after the batches');
is($node->safe_psql('postgres', 'SELECT count(*) FROM engine.requests()'), '0',
	'no request slot is left in flight after the batches');
is(via_bouncer('SELECT count(*) FROM engine.requests()'), '0', 'the same, asked through pgbouncer');

$bouncer->kill_kill;
undef $bouncer;
$node->stop;
done_testing();
