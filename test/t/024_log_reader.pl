# 024_log_reader.pl — recovery reads the command log's tail in a second
# process, the log reader (log_reader.c), and reaches exactly the state it
# reaches without it, whatever the reader does.
#
#   1. kill -9 with T records after the newest snapshot: the worker's log
#      line says all T came from the reader, the reader's says it read T rows
#      after the snapshot's seq; same digest and last_seq.
#   2. engine.recovery_log_reader = off (reload): no reader, "0 read by the
#      log reader", same digest.
#   3. A CRC mismatch at row N after the snapshot, reader on: it reads the
#      rows before N and stops, the worker applies them and then fails with
#      the same detail as with the reader off; the row repaired, recovery
#      through the reader gives the same digest.
#   4. The newest snapshot does not load (a damaged chunk): the reader
#      streams from the newest snapshot's seq, recovery starts from the one
#      before, so the worker leaves the stream at its first row and replays
#      the longer tail itself: 0 read by the reader, same digest.
#   5. No background worker slot for the reader (max_worker_processes = 2:
#      the worker and the prewarm process; no logical replication launcher), 5 records after the shutdown
#      snapshot: the server log says so, 0 read, same digest.
#   6. LOCK TABLE engine.command_log IN ACCESS EXCLUSIVE MODE queued while
#      the reader waits for room in the queue (holding its lock): recovery
#      ends, then the LOCK is granted; same digest.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EngineNode;
use SnapNode;

my $DB = 'postgres';

my $node = SnapNode::new_node('log_reader', keep_log => 'on');
my %total;
EngineNode::setup_market($node);
EngineNode::fund($node, [ 1 .. 20 ], 10**8, 100_000 * 10**6, \%total);
$node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 20) i,
  engine.place_order(i, 'BTC_USDT', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END,
                     0.01 * i, 30000 + (i % 7) * 1.5)});
my $older = $node->safe_psql($DB, 'SELECT engine.snapshot()');
$node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 30) i,
  engine.place_order(1 + i % 20, 'BTC_USDT', CASE WHEN i % 3 = 0 THEN 'buy' ELSE 'sell' END,
                     0.002 * i, 30000 + (i % 5) * 1.5)});
my $snap = $node->safe_psql($DB, 'SELECT engine.snapshot()');
cmp_ok($snap, '>', $older, "two snapshots: $older and $snap");
$node->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 40) i,
  engine.place_order(1 + i % 20, 'BTC_USDT', CASE WHEN i % 3 = 0 THEN 'buy' ELSE 'sell' END,
                     0.001 * i, 30000 + (i % 11) * 1.5);
SELECT count(*) FROM generate_series(1, 10) i, engine.deposit(i, 'USDT', 10, 'late-' || i)});

my $digest = SnapNode::digest($node);
my $last   = SnapNode::last_seq($node);
my $tail   = $last - $snap;
is($tail, 50, "50 records after the newest snapshot ($snap)");

# kill -9 the worker; returns the new status and the server log it wrote.
sub crash
{
	my $off = -s $node->logfile;
	my ($pid, $st) = SnapNode::kill9_worker($node);
	ok($st, 'the new worker reached a verdict');
	return ($st, PostgreSQL::Test::Utils::slurp_file($node->logfile, $off));
}

sub same_state
{
	my ($label, $st) = @_;
	is($st->{state},    'ready', "$label: ready");
	is($st->{last_seq}, $last,   "$label: last_seq $last");
	is(SnapNode::digest($node), $digest, "$label: same digest");
	is(EngineNode::verify_failures($node), '', "$label: verify() all ok");
	return;
}

# ---------------------------------------------------------------------------
# 1. the reader reads the whole tail
# ---------------------------------------------------------------------------
{
	my ($st, $log) = crash();
	same_state('reader', $st);
	is("$st->{snapshot_seq} $st->{replayed}", "$snap $tail", 'replayed the tail after the newest snapshot');
	like($log, qr/engine: recovery: replayed $tail log records \($tail read by the log reader\)/,
		'every record came from the reader');
	like($log, qr/engine: log reader: read $tail command_log rows after seq $snap for recovery/,
		'the reader read exactly the tail');
}

# ---------------------------------------------------------------------------
# 2. reader off
# ---------------------------------------------------------------------------
$node->append_conf('postgresql.conf', "engine.recovery_log_reader = off\n");
$node->reload;
{
	my ($st, $log) = crash();
	same_state('reader off', $st);
	like($log, qr/engine: recovery: replayed $tail log records \(0 read by the log reader\)/,
		'the worker read every record itself');
	unlike($log, qr/engine: log reader: read/, 'no reader ran');
}

# ---------------------------------------------------------------------------
# 3. a damaged row in the tail: same verdict with and without the reader
# ---------------------------------------------------------------------------
{
	my $bad  = $snap + 20;
	my $orig = $node->safe_psql($DB, "SELECT get_byte(payload, 5) FROM engine.command_log WHERE seq = $bad");
	$node->safe_psql($DB,
		"UPDATE engine.command_log SET payload = set_byte(payload, 5, get_byte(payload, 5) # 1) WHERE seq = $bad");

	my ($off_st) = crash();
	is($off_st->{state}, 'failed', 'reader off: failed at the damaged row');
	like($off_st->{detail}, qr/\bseq $bad\b.*CRC/, "reader off: the detail names seq $bad and the CRC");

	$node->append_conf('postgresql.conf', "engine.recovery_log_reader = on\n");
	$node->reload;
	my ($on_st, $log) = crash();
	is($on_st->{state},    'failed',             'reader on: failed too');
	is($on_st->{detail},   $off_st->{detail},    'with the same detail');
	is($on_st->{last_seq}, $off_st->{last_seq},  'at the same seq');
	is($on_st->{last_seq}, $bad - 1,             'every row before the damaged one applied');
	my $before = $bad - 1 - $snap;
	like($log, qr/engine: log reader: read $before command_log rows after seq $snap for recovery/,
		"the reader stopped before the damaged row ($before rows)");

	$node->safe_psql($DB, "UPDATE engine.command_log SET payload = set_byte(payload, 5, $orig) WHERE seq = $bad");
	my ($pid, $st) = SnapNode::terminate_worker($node);
	same_state('row repaired', $st);
}

# ---------------------------------------------------------------------------
# 4. the newest snapshot does not load: the stream does not fit
# ---------------------------------------------------------------------------
{
	my $chunk = $node->safe_psql($DB, "SELECT min(chunk) FROM engine.snapshot_chunks WHERE snapshot_seq = $snap");
	$node->safe_psql($DB, "UPDATE engine.snapshot_chunks SET data = set_byte(data, 20, get_byte(data, 20) # 1) "
		  . "WHERE snapshot_seq = $snap AND chunk = $chunk");
	my ($st, $log) = crash();
	same_state('older snapshot', $st);
	is("$st->{snapshot_seq} $st->{replayed}", "$older " . ($last - $older), 'from the older snapshot, the longer tail');
	like($log, qr/snapshot at seq $snap is unusable/, 'the newest snapshot was refused');
	like($log, qr/engine: recovery: replayed @{[$last - $older]} log records \(0 read by the log reader\)/,
		'the worker left the stream and read the log itself');
	$node->safe_psql($DB, "UPDATE engine.snapshot_chunks SET data = set_byte(data, 20, get_byte(data, 20) # 1) "
		  . "WHERE snapshot_seq = $snap AND chunk = $chunk");
}

# ---------------------------------------------------------------------------
# 5. no background worker slot for the reader
# ---------------------------------------------------------------------------
# No logical replication launcher (it takes a slot of its own).
$node->append_conf('postgresql.conf', "max_worker_processes = 2\nmax_logical_replication_workers = 0\n");
$node->restart;
EngineNode::wait_ready($node);
$node->safe_psql($DB, q{SELECT count(*) FROM generate_series(11, 15) i, engine.deposit(i, 'USDT', 10, 'after-restart-' || i)});
$digest = SnapNode::digest($node);
$last   = SnapNode::last_seq($node);
{
	my ($st, $log) = crash();
	same_state('no slot', $st);
	like($log, qr/no background worker slot for the log reader/, 'the server log says why there is no reader');
	like($log, qr/engine: recovery: replayed 5 log records \(0 read by the log reader\)/,
		'the worker read the log itself');
}

# ---------------------------------------------------------------------------
# 6. an ACCESS EXCLUSIVE request on command_log during recovery
# ---------------------------------------------------------------------------
# The reader holds its lock on command_log while it waits for room in the
# queue; a LOCK TABLE queued behind it must not hold up the worker, which
# took its own lock before it started the reader (else: worker -> LOCK ->
# reader -> worker through a latch, which no deadlock detector sees).  The
# order is forced: a prepared transaction holds snapshot_chunks across the
# crash, so the new worker stops inside the snapshot load while the reader
# fills the queue with a tail longer than the queue holds (120,000 deposits,
# ~7 MB of entries);
# the LOCK TABLE comes once the reader waits for room.
$node->append_conf('postgresql.conf', "max_worker_processes = 8\nmax_prepared_transactions = 2\n");
$node->restart;
EngineNode::wait_ready($node);
$node->safe_psql($DB, 'SELECT engine.snapshot()');
$node->safe_psql($DB, q{SELECT count(*) FROM generate_series(1, 120000) i, engine.deposit(1 + i % 20, 'USDT', 1)});
$digest = SnapNode::digest($node);
$last   = SnapNode::last_seq($node);
{
	$node->safe_psql($DB,
		"BEGIN; LOCK TABLE engine.snapshot_chunks IN ACCESS EXCLUSIVE MODE; PREPARE TRANSACTION 'hold_chunks'");
	my $old = EngineNode::worker_pid($node);
	kill 'KILL', $old;
	ok($node->poll_query_until($DB,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'engine' AND pid <> $old AND wait_event_type = 'Lock'"),
		'the new worker waits for snapshot_chunks inside the snapshot load');
	ok($node->poll_query_until($DB,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'engine log reader' AND wait_event = 'MessageQueueSend'"),
		'the reader waits for room in the queue, holding its lock on command_log');
	my $ddl = $node->background_psql($DB);
	my $ddl_pid = $ddl->query_safe('SELECT pg_backend_pid()');
	$ddl->query_until(qr/sent/, "\\echo sent\nBEGIN; LOCK TABLE engine.command_log IN ACCESS EXCLUSIVE MODE;\n");
	ok($node->poll_query_until($DB,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $ddl_pid AND wait_event_type = 'Lock'"),
		'LOCK TABLE engine.command_log queues behind the worker and the reader');
	$node->safe_psql($DB, "COMMIT PREPARED 'hold_chunks'");
	ok($node->poll_query_until($DB,
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $ddl_pid AND wait_event_type = 'Lock'"),
		'LOCK TABLE is granted once recovery has ended');
	$ddl->query_safe('ROLLBACK');
	$ddl->quit;
	my $st = SnapNode::wait_verdict($node, $old);
	same_state('a lock queued during recovery', $st);
}

$node->stop;
done_testing();
