# 025_recovery_checks.pl — the invariant checks after a replay take the
# path the replay calls for: the accounts it changed one by one, or, past
# the touched-user limit (max(1024, engine.max_orders / 64): 1024 here),
# every account in one pass over the order slots (core_verify_all_accounts).
#
#   1. 5 deposits after the newest snapshot, kill -9: the checks name the 5
#      accounts the replay changed; same digest, verify() ok.
#   2. 1100 deposits to 1100 users after the newest snapshot, plus orders
#      resting from before, kill -9: the checks cover every account in one
#      pass, saying the replay changed more than 1024; same digest, same
#      last_seq, verify() ok.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EngineNode;
use SnapNode;

my $DB = 'postgres';

my $node = SnapNode::new_node('recovery_checks', max_orders => 65536);
my %total;
EngineNode::setup_market($node);
EngineNode::fund($node, [ 1 .. 20 ], 10**8, 100_000 * 10**6, \%total);
$node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 60) i,
  engine.place_order(1 + i % 20, 'BTC_USDT', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END,
                     0.01 * (1 + i % 7), CASE WHEN i % 2 = 0 THEN 29000 ELSE 31000 END + (i % 9) * 1.5)});
cmp_ok(SnapNode::status($node)->{resting_orders}, '>', 0, 'orders rest');

sub crash_and_check
{
	my ($label, $want) = @_;
	my $digest = SnapNode::digest($node);
	my $last   = SnapNode::last_seq($node);
	my $off    = -s $node->logfile;
	my ($pid, $st) = SnapNode::kill9_worker($node);
	ok($st, "$label: the new worker reached a verdict");
	is($st->{state},    'ready', "$label: ready");
	is($st->{last_seq}, $last,   "$label: last_seq $last");
	is(SnapNode::digest($node), $digest, "$label: same digest");
	is(EngineNode::verify_failures($node), '', "$label: verify() all ok");
	like(PostgreSQL::Test::Utils::slurp_file($node->logfile, $off), $want, "$label: the checks it ran");
	return;
}

# 1. a few accounts: one by one
my $snap = $node->safe_psql($DB, 'SELECT engine.snapshot()');
$node->safe_psql($DB, q{SELECT count(*) FROM generate_series(1, 5) i, engine.deposit(i, 'USDT', 10, 'few-' || i)});
crash_and_check('5 accounts', qr/engine: recovery checks: global, and 5 accounts the replay changed, in \d+ ms/);

# 2. more than the limit: every account in one pass
$snap = $node->safe_psql($DB, 'SELECT engine.snapshot()');
$node->safe_psql($DB,
	q{SELECT count(*) FROM generate_series(1001, 2100) i, engine.deposit(i, 'USDT', 10, 'many-' || i)});
is(SnapNode::status($node)->{accounts}, 1120, 'status: 1120 accounts (20 traders, 1100 depositors)');
# The core's count has the fee account too.
crash_and_check('1100 accounts',
	qr/engine: recovery checks: global, and 1121 accounts \(every one, in one pass: the replay changed more than 1024\), in \d+ ms/);

$node->stop;
done_testing();
