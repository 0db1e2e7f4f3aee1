# 001_concurrent.pl — many clients at once: the log stays one gapless total
# order, every answer a client got is what the history tables say, and money
# is conserved exactly.
#
# 16 clients each send a fixed list of random commands (limit/ioc/fok/market
# orders, post-only, every stp mode, cancels by client_order_id, deposits,
# withdrawals) through their own connection, concurrently.  Nothing crashes
# here, so every command must be answered.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EngineNode;

my $seed = $ENV{ENGINE_TEST_SEED} // time;
srand($seed);
note("random seed $seed (set ENGINE_TEST_SEED to repeat)");

my $CLIENTS = 16;
my $PER_CLIENT = $ENV{ENGINE_TEST_PER_CLIENT} // 200;
my @users  = (1 .. 40);                       # trading users
my @wusers = map { 100 + $_ } 0 .. $CLIENTS - 1;   # one withdraw-only user per client
my $MAX_USER = 200;

my $node = EngineNode::new_node('concurrent');

my %total = (BTC => 0, USDT => 0);
my $setup = EngineNode::setup_market($node);
$setup += EngineNode::fund($node, \@users, 10 * 10**8, 1_000_000 * 10**6, \%total);
$setup += EngineNode::fund($node, \@wusers, 0, 1_000 * 10**6, \%total);

my ($n0, $min0, $max0) = EngineNode::log_bounds($node);
is("$n0 $min0 $max0", "$setup 1 $setup", 'setup commands are log records 1..N');

my @sets = map {
	EngineNode::gen_commands(client => $_, n => $PER_CLIENT, users => \@users,
		withdraw_user => $wusers[$_])
} 0 .. $CLIENTS - 1;

my $t0 = time;
my $h = EngineNode::start_clients($node, \@sets, timeout => 120);
my $cmds = EngineNode::wait_clients($h);
my $elapsed = time - $t0;
note(sprintf("%d commands from %d clients in %.1fs", scalar(@$cmds), $CLIENTS, $elapsed));

# --- every command answered ------------------------------------------------
my @unanswered = grep { $_->{state} ne 'ack' } @$cmds;
is(scalar(@unanswered), 0, 'every command was answered');
diag("unanswered: $_->{sql} [$_->{state}] $_->{err}") for @unanswered[ 0 .. ($#unanswered < 4 ? $#unanswered : 4) ];

my %kinds;
$kinds{ $_->{kind} }++ for @$cmds;
note(join(', ', map { "$_=$kinds{$_}" } sort keys %kinds));
my @places = grep { $_->{kind} eq 'place' } @$cmds;
my %status;
$status{ $_->{status} // 'none' }++ for @places;
note('place outcomes: ' . join(', ', map { "$_=$status{$_}" } sort keys %status));
cmp_ok(($status{filled} // 0) + ($status{partially_filled} // 0), '>', 0, 'some orders traded');
cmp_ok($status{new} // 0, '>', 0, 'some orders rested');

my @funds_bad = grep { ($_->{kind} eq 'deposit' || $_->{kind} eq 'withdraw') && ($_->{status} // '') ne 'ok' } @$cmds;
is(scalar(@funds_bad), 0, 'every deposit and withdrawal answered ok');

# --- log: one gapless total order -----------------------------------------
my ($n, $min, $max) = EngineNode::log_bounds($node);
my $expected_n = $setup + EngineNode::sequenced_count($cmds);
is("$n $min $max", "$expected_n 1 $expected_n",
	'command_log seq is gapless 1..N with one record per command but refused cancels');
is($node->safe_psql('postgres', 'SELECT last_seq FROM engine.status()'), $max,
	'status().last_seq is the last log seq');

# --- invariants --------------------------------------------------------------
is(EngineNode::verify_failures($node), '', 'engine.verify() all ok');

EngineNode::add_acked_funds($cmds, \%total);
is_deeply(EngineNode::asset_totals($node, $MAX_USER), EngineNode::expected_totals($node, \%total),
	'per-asset sum of available+frozen (fee account included) = deposits - withdrawals');

# --- answers against history ------------------------------------------------
EngineNode::load_acks($node, $cmds);
EngineNode::check_acks($node, 'concurrent');
my %cancel;
$cancel{ $_->{status} }++ for grep { $_->{kind} eq 'cancel' } @$cmds;
cmp_ok($cancel{canceled} // 0, '>', 0, 'some cancels canceled an order');
cmp_ok($cancel{rejected} // 0, '>', 0, 'some cancels were rejected (order already finished)');

my $trades_told = 0;
$trades_told += $_->{trades} for @places;
is($node->safe_psql('postgres', 'SELECT count(*) FROM engine.trades'), $trades_told,
	'engine.trades has exactly the trades the placing clients were told of');

my $resting = $node->safe_psql('postgres', 'SELECT resting_orders FROM engine.status()');
is($node->safe_psql('postgres', "SELECT count(*) FROM generate_series(1, $MAX_USER) u, engine.open_orders(u)"),
	$resting, 'open_orders over all users = status().resting_orders');
is($node->safe_psql('postgres', "SELECT coalesce(sum(orders), 0) FROM engine.depth('BTC_USDT', 100000)"),
	$resting, 'orders in depth() = status().resting_orders');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT price FROM engine.depth('BTC_USDT', 1) WHERE side = 'bid') b,
                     (SELECT price FROM engine.depth('BTC_USDT', 1) WHERE side = 'ask') a
WHERE b.price >= a.price}), '0', 'book is not crossed');

# --- duplicates: answered from history, no new log record --------------------
my @dups = grep { $_->{state} eq 'ack' } @places[ 0 .. 19 ];
my $sql = join("\n", map {
	"SELECT r.order_id, r.reason FROM engine.place_order($_->{user}, 'BTC_USDT', 'buy', 0.0001, 1.00, client_order_id => '$_->{coid}') r;"
} @dups);
my @got = split /\n/, $node->safe_psql('postgres', $sql);
is_deeply(\@got, [ map { "$_->{order_id}|duplicate" } @dups ],
	'placing with a used client_order_id returns the original order_id, reason duplicate');
my ($n2) = EngineNode::log_bounds($node);
is($n2, $n, 'duplicate client_order_ids added no log record');

$node->stop;
done_testing();
