# 018_limits.pl — the limits of release 1.1 through SQL, across restarts.
#
#   1. Accumulators at their limits: an 18-decimal base asset whose whole
#      int64 supply is deposited (one more unit is refused), bids of 5
#      whole units and of the largest quantity at one tick, so the level's
#      total (246.116860184273879035 W18) is far above int64; a sell of the
#      whole supply into them.  engine.depth shows the exact 128-bit total;
#      a fill whose notional (price x qty in units) exceeds int64 gives an
#      exact average price.
#      After kill -9 of the worker and after a clean restart the engine is
#      ready with the same digest and depth, verify() all ok.
#   2. engine.max_open_orders at its default (1000): the 1000th resting
#      order of a user rests, the next is refused.  Raised to 1002 and then
#      lowered to 3 by reloads (the worker logs the value it stamps from
#      then on); after kill -9 the replay applies, record by record, the
#      limit that was stamped when the record was sequenced: the same
#      digest, 1002 resting orders for the first user.
#   3. A refused cancel consumes no seq even when the worker is the one to
#      find the order gone: two sessions cancel the same order while the
#      worker is held on a lock (so both see it resting); the first is
#      canceled, the second answered unknown_order with the order's
#      figures, and the log holds one CANCEL.
#   4. A 10 MB ref: the server log grows by less than 2 kB.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use EngineNode;
use SnapNode;

my $DB = 'postgres';
my $node = EngineNode::new_node('limits');

sub sql { return $node->safe_psql($DB, $_[0]) }

# ---------------------------------------------------------------------------
# 1. accumulators at their limits
# ---------------------------------------------------------------------------
sql(q{
SELECT engine.create_asset('W18', 18);
SELECT engine.create_asset('WQ', 2);
SELECT engine.create_symbol('W18_WQ', 'W18', 'WQ', 0.01, 0.000000000000000001, 0.001, 0.002);
SELECT count(*) FROM generate_series(1, 5) u, engine.deposit(u, 'WQ', 100);
SELECT count(*) FROM generate_series(20, 21) u, engine.deposit(u, 'WQ', 100)});
is(sql(q{SELECT status FROM engine.deposit(10, 'W18', 9.223372036854775807)}), 'ok',
	'the whole int64 supply of W18 is deposited');
is(sql(q{SELECT status || ' ' || reason FROM engine.deposit(11, 'W18', 0.000000000000000001)}),
	'rejected overflow', 'one more unit of W18 is refused (overflow)');

is(sql(q{
SELECT count(*) FILTER (WHERE r.status = 'new')
  FROM generate_series(1, 40) i, engine.place_order(1 + i % 4, 'W18_WQ', 'buy', 5, 0.01) r}),
	'40', '40 bids of 5 W18 at one tick rest');
is(sql(q{
SELECT count(*) FILTER (WHERE r.status = 'new')
  FROM generate_series(1, 5) i, engine.place_order(5 + 0 * i, 'W18_WQ', 'buy', 9.223372036854775807, 0.01) r}),
	'5', '5 bids of the largest quantity at the same tick rest');
is(sql(q{SELECT side, price, qty, orders FROM engine.depth('W18_WQ')}),
	'bid|0.01|246.116860184273879035|45', 'depth shows the level total exactly (above int64)');

# The whole supply sold into the bids: 5 W18 fill the first, 4.22... the
# second, whose remainder is then worth less than one quote unit and is
# canceled (dust).
is(sql(q{SELECT status || ' ' || filled_qty || ' ' || trades FROM engine.place_order(10, 'W18_WQ', 'sell', 9.223372036854775807, 0.01)}),
	'filled 9.223372036854775807 2', 'a sell of the whole supply fills against two bids');
my $depth = sql(q{SELECT side, price, qty, orders FROM engine.depth('W18_WQ')});
is($depth, 'bid|0.01|236.116860184273879035|43', 'the level after the sell, exactly');

# An order's notional (price x qty summed over its fills, in units) is
# 128-bit: 4 W18 at 1.00 WQ is 100 x 4e18 units, above int64; the average
# price comes out exact.  User 2 got 4.995 W18 from the first fill.
is(sql(q{SELECT status FROM engine.place_order(2, 'W18_WQ', 'sell', 4, 1.00)}), 'new', 'user 2 offers 4 W18 at 1.00');
is(sql(q{SELECT status || ' ' || filled_qty || ' ' || avg_price FROM engine.place_order(4, 'W18_WQ', 'buy', 4, 1.00)}),
	'filled 4.000000000000000000 1.00', 'a buy of 4 W18 at 1.00 fills, its average price exact');
is(sql(q{SELECT qty || ' ' || quote_qty FROM engine.trades_v ORDER BY trade_id DESC LIMIT 1}),
	'4.000000000000000000 4.00', 'the trade moves 4.00 WQ');
my $digest = EngineNode::digest($node);
is(EngineNode::verify_failures($node), '', 'verify() all ok');

my ($old, $st) = SnapNode::kill9_worker($node);
is($st->{state}, 'ready', 'after kill -9: ready');
is(EngineNode::digest($node), $digest, 'after kill -9: the same digest');
is(sql(q{SELECT side, price, qty, orders FROM engine.depth('W18_WQ')}), $depth, 'after kill -9: the same depth');
$node->restart;
ok(EngineNode::wait_ready($node), 'after a clean restart: ready');
is(EngineNode::digest($node), $digest, 'after a clean restart: the same digest');
is(sql(q{SELECT side, price, qty, orders FROM engine.depth('W18_WQ')}), $depth, 'after a clean restart: the same depth');
is(EngineNode::verify_failures($node), '', 'verify() all ok after the restarts');

# ---------------------------------------------------------------------------
# 2. engine.max_open_orders: the default at its limit, reloads, replay
# ---------------------------------------------------------------------------
is(sql('SHOW engine.max_open_orders'), '1000', 'engine.max_open_orders defaults to 1000');
is(sql(q{
SELECT count(*) FILTER (WHERE r.status = 'new')
  FROM generate_series(1, 1000) i, engine.place_order(20 + 0 * i, 'W18_WQ', 'buy', 1, 0.02) r}),
	'1000', 'user 20: the 1000th resting order rests');
is(sql(q{SELECT status || ' ' || reason FROM engine.place_order(20, 'W18_WQ', 'buy', 1, 0.02)}),
	'rejected open_orders_limit', 'user 20: the 1001st is refused');

# Change the limit by reload (undef: back to the default); the worker
# says when it applies it.
sub reload_limit
{
	my ($value) = @_;
	my $offset = -s $node->logfile;
	sql(defined $value ? "ALTER SYSTEM SET engine.max_open_orders = $value"
		  : 'ALTER SYSTEM RESET engine.max_open_orders');
	sql('SELECT pg_reload_conf()');
	$value //= 1000;
	$node->wait_for_log(qr/configuration reloaded: engine\.max_open_orders = $value\b/, $offset);
	return;
}

reload_limit(1002);
is(sql(q{SELECT string_agg(r.status, ' ' ORDER BY i) FROM generate_series(1, 3) i, engine.place_order(20 + 0 * i, 'W18_WQ', 'buy', 1, 0.02) r}),
	'new new rejected', 'at 1002: two more rest, the third is refused');
reload_limit(3);
is(sql(q{SELECT string_agg(r.status, ' ' ORDER BY i) FROM generate_series(1, 4) i, engine.place_order(21 + 0 * i, 'W18_WQ', 'buy', 1, 0.02) r}),
	'new new new rejected', 'at 3: user 21 rests three');
is(sql(q{SELECT status || ' ' || reason FROM engine.place_order(20, 'W18_WQ', 'buy', 1, 0.02)}),
	'rejected open_orders_limit', 'at 3: user 20 (1002 resting) is refused');
is(sql(q{
SELECT string_agg(limit_ || ':' || n, ' ' ORDER BY first_seq)
  FROM (SELECT decoded->>'max_open_orders' AS limit_, count(*) AS n, min(seq) AS first_seq
          FROM engine.command_log_decoded WHERE rectype = 'PLACE' GROUP BY 1) x}),
	'1000:1049 1002:3 3:5', 'each PLACE carries the limit in force when it was sequenced');

$digest = EngineNode::digest($node);
($old, $st) = SnapNode::kill9_worker($node);
is($st->{state}, 'ready', 'after kill -9 with the limit at 3: ready');
is(EngineNode::digest($node), $digest, 'the replay applied the stamped limits: the same digest');
is(sql(q{SELECT count(*) FROM engine.open_orders(20)}), '1002', 'user 20 still rests 1002 orders');
is(sql(q{SELECT count(*) FROM engine.open_orders(21)}), '3', 'user 21 rests 3');
reload_limit(undef);

# ---------------------------------------------------------------------------
# 3. a refused cancel found by the worker consumes no seq
# ---------------------------------------------------------------------------
my $oid = sql(q{SELECT order_id FROM engine.place_order(1, 'W18_WQ', 'buy', 1, 0.03)});
my $lock = $node->background_psql($DB);
my $other = $node->background_psql($DB);
my @cancel = map { $node->background_psql($DB) } 0 .. 1;
my @pid = map { $_->query_safe('SELECT pg_backend_pid()') } @cancel;
my $other_pid = $other->query_safe('SELECT pg_backend_pid()');

# Wait until backend $pid sleeps in the engine (its request is submitted).
sub wait_submitted
{
	my ($pid, $what) = @_;
	ok($node->poll_query_until($DB,
			"SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = $pid"),
		"$what waits for the engine");
	return;
}

$lock->query_safe('BEGIN; LOCK TABLE engine.command_log IN SHARE MODE');
# Any command: the worker takes it, applies it and waits for the lock.
$other->query_until(qr/sent/, "\\echo sent\nSELECT status FROM engine.deposit(2, 'WQ', 1);\n");
wait_submitted($other_pid, 'a deposit');
ok($node->poll_query_until($DB,
		"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE backend_type = 'engine'"),
	'the worker waits for the lock on engine.command_log');
my $seq0 = sql('SELECT max(seq) FROM engine.command_log');
for my $i (0 .. 1)
{
	$cancel[$i]->query_until(qr/sent/,
		"\\echo sent\nSELECT status || ' ' || coalesce(reason, '') || ' ' || filled_qty || ' ' || remaining_qty FROM engine.cancel_order(1, $oid);\n");
	wait_submitted($pid[$i], "cancel " . ($i + 1));
}
$lock->query_safe('COMMIT');
my @answer = map { $_->query_until(qr/done\n/, "\\echo done\n") =~ s/\ndone\n$//r } @cancel;
is($answer[0], 'canceled  0.000000000000000000 0.000000000000000000', 'the first cancel cancels');
is($answer[1], 'rejected unknown_order 0.000000000000000000 0.000000000000000000',
	'the second is refused, with the order\'s figures at its scale');
is($other->query_until(qr/done\n/, "\\echo done\n") =~ s/\ndone\n$//r, 'ok', 'the deposit is done');
is(sql("SELECT count(*) FROM engine.command_log_decoded WHERE rectype = 'CANCEL' AND (decoded->>'order_id')::bigint = $oid"),
	'1', 'one CANCEL of that order in the log');
is(sql("SELECT max(seq) - $seq0 FROM engine.command_log"), '2', 'the deposit and one cancel were sequenced');
$_->quit for ($lock, $other, @cancel);

# ---------------------------------------------------------------------------
# 4. a 10 MB argument does not reach the server log
# ---------------------------------------------------------------------------
my $size = -s $node->logfile;
my ($ret, $out, $err) = $node->psql($DB, q{SELECT engine.deposit(1, 'WQ', 1, repeat('r', 10 * 1024 * 1024))});
like($err, qr/invalid ref "r{64}\.\.\."/, 'the error quotes 64 bytes of the 10 MB ref');
cmp_ok(-s $node->logfile, '<', $size + 2048, 'the server log grew by less than 2 kB');

is(EngineNode::verify_failures($node), '', 'verify() all ok at the end');
$node->stop;
done_testing();
