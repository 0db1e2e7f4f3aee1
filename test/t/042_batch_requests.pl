# 042_batch_requests.pl — a batch call's life when things go wrong.
#
# A batch request keeps its commands in a dynamic shared memory segment of
# its own, pinned while the request is in flight.  With
# dynamic_shared_memory_type = mmap every segment is a file in
# pg_dynshmem, so the test can see that none is left behind.
#
#   1. Cancelled before the worker took it (worker stopped, statement
#      timeout): withdrawn, nothing logged, its client_order_ids unused.
#   2. Cancelled after the worker took it (the worker waits on a lock on
#      engine.command_log): the worker finishes it; all its orders are
#      logged with consecutive seqs.
#   3. The worker killed with SIGKILL while it holds a batch request:
#      after the crash-restart the request is all there or not at all.
#   After each: engine.requests() is empty and no segment is left.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use EngineNode;

my $DB = 'postgres';
my $N = 50;                                    # orders per call
my $node = EngineNode::new_node('batchreq', extra_conf => "dynamic_shared_memory_type = mmap\n");
my %total;
EngineNode::setup_market($node);
EngineNode::fund($node, [ 1, 2 ], 10 * 10**8, 1_000_000 * 10**6, \%total);

sub segments { return $node->safe_psql($DB, q{SELECT count(*) FROM pg_ls_dir('pg_dynshmem') f WHERE f LIKE 'mmap.%'}) }
sub batch_sql
{
	my ($tag) = @_;
	return "SELECT count(*) FROM engine.place_orders(1, ARRAY(SELECT engine.order_request('BTC_USDT', 'buy', 0.0001, 20000 + i, client_order_id => '$tag-' || i) FROM generate_series(1, $N) i))";
}
sub logged
{
	my ($tag) = @_;
	return $node->safe_psql($DB, qq{
SELECT count(*) || ' ' || coalesce(max(seq) - min(seq), -1) FROM engine.command_log_decoded
 WHERE rectype = 'PLACE' AND decoded->>'client_order_id' LIKE '$tag-%'});
}
sub idle_checks
{
	my ($label, $seg0) = @_;
	is($node->safe_psql($DB, 'SELECT count(*) FROM engine.requests()'), '0', "$label: no request in flight");
	is(segments(), $seg0, "$label: no segment left behind");
	return;
}

my $seg0 = segments();

# 1. withdrawn before the worker took it
{
	my $pid = EngineNode::worker_pid($node);
	kill 'STOP', $pid;
	my ($ret, $out, $err) = $node->psql($DB, "SET statement_timeout = '300ms'; " . batch_sql('w'));
	kill 'CONT', $pid;
	like($err, qr/statement timeout/, 'a batch call with the worker stopped times out');
	like($err, qr/withdrawn and will not run/, 'and says it was withdrawn');
	is($node->safe_psql($DB, 'SELECT status FROM engine.deposit(2, \'USDT\', 1)'), 'ok', 'worker serves again');
	is(logged('w'), '0 -1', 'nothing of the withdrawn batch was logged');
	is($node->safe_psql($DB, batch_sql('w')), $N, 'its client_order_ids are unused: the same batch runs');
	is(logged('w'), "$N " . ($N - 1), "then it is $N consecutive log records");
	idle_checks('withdrawn', $seg0);
}

# 2. cancelled after the worker took it
{
	my $holder = $node->background_psql($DB);
	$holder->query_safe('BEGIN; LOCK TABLE engine.command_log IN SHARE MODE');
	my $caller = $node->background_psql($DB, on_error_stop => 0);
	my $cpid = $caller->query_safe('SELECT pg_backend_pid()');
	$caller->query_until(qr/sent/, "\\echo sent\n" . batch_sql('a') . ";\n");
	ok($node->poll_query_until($DB, qq{SELECT state = 'taken' AND commands = $N FROM engine.requests() WHERE pid = $cpid}),
		'the worker took the batch request (engine.requests shows it)');
	$node->safe_psql($DB, "SELECT pg_cancel_backend($cpid)");
	ok($node->poll_query_until($DB, qq{SELECT state = 'abandoned' FROM engine.requests() WHERE pid = $cpid}),
		'cancelled after the worker took it: abandoned to the worker');
	$holder->quit;
	ok($node->poll_query_until($DB, 'SELECT count(*) = 0 FROM engine.requests()'), 'the worker finished it');
	is(logged('a'), "$N " . ($N - 1), "the abandoned batch is $N consecutive log records");
	$caller->quit;
	idle_checks('abandoned', $seg0);
}

# 3. SIGKILL of the worker holding a batch request
{
	my $holder = $node->background_psql($DB);
	$holder->query_safe('BEGIN; LOCK TABLE engine.command_log IN SHARE MODE');
	my $caller = $node->background_psql($DB, on_error_stop => 0);
	my $cpid = $caller->query_safe('SELECT pg_backend_pid()');
	$caller->query_until(qr/sent/, "\\echo sent\n" . batch_sql('k') . ";\n");
	ok($node->poll_query_until($DB, qq{SELECT state = 'taken' FROM engine.requests() WHERE pid = $cpid}),
		'the worker holds the batch request');
	my $pid = EngineNode::worker_pid($node);
	kill 'KILL', $pid;
	eval { $holder->quit; 1 };
	eval { $caller->quit; 1 };
	ok(EngineNode::wait_new_worker($node, $pid, 120), 'worker back after kill -9');
	like(logged('k'), qr/^(0 -1|$N ${\($N - 1)})$/, 'the batch is all there or not at all');
	is(EngineNode::verify_failures($node), '', 'engine.verify() all ok');
	is($node->safe_psql($DB, 'SELECT count(*) FROM engine.requests()'), '0', 'after the crash: no request in flight');
}

$node->stop;
done_testing();
