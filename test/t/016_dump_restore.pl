# 016_dump_restore.pl — pg_dump of the engine's database and every way of
# restoring it: the restored engine is the source's, and a restore never
# loses acknowledged commands or restored history.
#
# The source has two snapshots, a pruned log (engine.keep_log = off) and a
# tail after the newest snapshot, so a restored engine must load the
# restored snapshot and replay the restored tail.  Each restore goes into a
# fresh cluster whose engine.database names the database restored into;
# its worker is already waiting for the extension when the restore begins.
#
# The rule (README "Guarantees", src/pg/worker/manifest.c): a restore's
# CREATE EXTENSION runs with check_function_bodies = off, so the
# installation is marked 'restoring' and the worker does not serve it until
# the dumped engine.manifest row has arrived and every table it calls
# non-empty has rows.  Meanwhile commands wait (engine.request_timeout) or
# fail naming the state; none is acknowledged before the restored history is
# whole.
#
#   1. pg_restore --single-transaction: everything arrives at once.
#   2. pg_restore --section=pre-data, then --section=data (-j 2), then
#      --section=post-data, as separate runs.  Between the first two the
#      engine is 'restoring' waiting for engine.manifest; a command with a
#      short timeout fails naming that state and never runs; a command
#      with a long one waits and runs after the restore, at the next seq.
#   3. A plain pg_restore paused right after engine.manifest (the same
#      archive restored with two -L lists in pg_restore's own order): the
#      engine is 'restoring', naming the tables still missing (the snapshots
#      among them, while the log is there), until the rest arrives.
#   4. pg_restore -j 4.
#   5. A plain-format dump (pg_dump -Fp) run by psql.
#
# After each: ready at the source's last seq with the source's digest, from
# the newest snapshot plus the tail; every history and snapshot row equal to
# the source's; the refs used before the dump answer duplicate; new
# commands work.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EngineNode;
use SnapNode;

my $DB = 'postgres';

my $src = SnapNode::new_node('dump_src', keep_log => 'off');
my %total;
EngineNode::setup_market($src);
EngineNode::fund($src, [ 1 .. 30 ], 10**8, 100_000 * 10**6, \%total);
$src->safe_psql($DB, q{
SELECT count(*) FROM generate_series(1, 100) i,
  engine.place_order(1 + i % 30, 'BTC_USDT', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END,
                     0.001 * (1 + i % 5), 30000 + (i % 15 - 7) * 0.5, client_order_id => 'd' || i);
SELECT engine.snapshot();
SELECT count(*) FROM generate_series(1, 60) i,
  engine.place_order(1 + i % 30, 'BTC_USDT', CASE WHEN i % 3 = 0 THEN 'buy' ELSE 'sell' END,
                     0.002, 30000 + (i % 9 - 4) * 0.5);
SELECT engine.snapshot();
SELECT count(*) FROM generate_series(1, 40) i,
  engine.place_order(1 + i % 30, 'BTC_USDT', CASE WHEN i % 2 = 1 THEN 'buy' ELSE 'sell' END,
                     0.003, 30000 + (i % 7 - 3) * 0.5);
SELECT count(*) FROM generate_series(1, 10) i, engine.cancel_order(1 + i % 30, 'd' || (i * 7));
SELECT count(*) FROM generate_series(1, 10) u, engine.withdraw(u, 'USDT', 2, 'w' || u)});

my $digest = SnapNode::digest($src);
my $st     = SnapNode::status($src);
my $newest = $src->safe_psql($DB, 'SELECT max(seq) FROM engine.snapshots');
my $last   = $st->{last_seq};
cmp_ok($last, '>', $newest, "source: log tail after the newest snapshot ($newest .. $last)");
# The snapshot writer prunes after engine.snapshot() has answered: wait for it.
ok($src->poll_query_until($DB, 'SELECT min(seq) > 1 FROM engine.command_log'), 'source: log is pruned');
# Snapshots are chunks (format 2): release 1.0's row tables stay empty.
is($src->safe_psql($DB, q{SELECT concat_ws(' ', command_log, order_events, trades, client_keys, assets, symbols,
                                           snapshots, snapshot_assets, snapshot_symbols, snapshot_balances,
                                           snapshot_orders, snapshot_chunks) FROM engine.manifest}),
	't t t t t t t f f f f t', 'source: its manifest says which tables hold rows');

# Every row of the history and snapshot tables up to seq $upto, as one hash
# per table (the restored engine may have added rows after that).
my %ORDER = (
	command_log => 'seq', order_events => 'seq, ev_no', trades => 'trade_id',
	client_keys => 'user_id, kind, key', assets => 'asset_id', symbols => 'symbol_id',
	snapshots => 'seq', snapshot_assets => 'snapshot_seq, asset_id',
	snapshot_symbols => 'snapshot_seq, symbol_id', snapshot_balances => 'snapshot_seq, pos',
	snapshot_orders => 'snapshot_seq, pos', snapshot_chunks => 'snapshot_seq, chunk');
sub history
{
	my ($node, $db, $upto) = @_;
	return $node->safe_psql($db, join(' UNION ALL ', map {
		my $seq = /^snapshot_/ ? 'snapshot_seq' : 'seq';
		"SELECT '$_', count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY $ORDER{$_}), '')) "
		  . "FROM engine.$_ t WHERE $seq <= $upto"
	} sort keys %ORDER));
}
my $history = history($src, $DB, $last);

my $tmp  = PostgreSQL::Test::Utils::tempdir();
my $dump = "$tmp/engine.dump";
$src->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $src->connstr($DB) ], 'pg_dump -Fc');
$src->command_ok([ 'pg_dump', '-Fp', '-f', "$tmp/engine.sql", '-d', $src->connstr($DB) ], 'pg_dump -Fp');

# A fresh cluster serving database "restored" (created empty), its worker
# connected there and waiting for the extension.
sub fresh_cluster
{
	my ($name) = @_;
	my $node = EngineNode::new_node($name, create_extension => 0,
		extra_conf => "engine.database = 'restored'\n");
	$node->safe_psql($DB, 'CREATE DATABASE restored');
	ok($node->poll_query_until($DB,
			q{SELECT datname = 'restored' FROM pg_stat_activity WHERE backend_type = 'engine'}),
		"$name: the worker is connected to database \"restored\"");
	return $node;
}

sub restore
{
	my ($node, $what, @args) = @_;
	$node->command_ok([ 'pg_restore', @args, '-d', $node->connstr('restored'), $dump ], "$what");
	return;
}

# The restored engine is the source's, with its whole history.
sub check_restored
{
	my ($node, $label, $upto_extra) = @_;
	ok($node->poll_query_until('restored',
			"SELECT state IN ('ready', 'failed') AND (state = 'failed' OR last_seq >= $last) FROM engine.status()"),
		"$label: a verdict");
	my $rs = SnapNode::status_in($node, 'restored');
	is($rs->{state}, 'ready', "$label: ready") or diag("status: $rs->{state}: $rs->{detail}");
	is($rs->{snapshot_seq}, $newest, "$label: it loaded the newest restored snapshot");
	is($node->safe_psql('restored', 'SELECT state FROM engine.installation'), 'restored',
		"$label: the installation is marked restored");
	is(history($node, 'restored', $last), $history, "$label: every history and snapshot row is the source's");
	if (!$upto_extra)
	{
		is($rs->{last_seq}, $last, "$label: at the source's last seq");
		is($node->safe_psql('restored', 'SELECT engine.state_digest()'), $digest, "$label: with the same digest");
		is("$rs->{replayed}", $last - $newest, "$label: it replayed the restored tail");
	}
	is($node->safe_psql('restored', q{SELECT count(*) FROM engine.verify() WHERE NOT ok}), '0',
		"$label: verify() all ok");
	is($node->safe_psql('restored', q{SELECT status FROM engine.withdraw(3, 'USDT', 2, 'w3')}), 'duplicate',
		"$label: it remembers the refs used before the dump");
	is($node->safe_psql('restored', q{SELECT status FROM engine.deposit(1, 'USDT', 1, 'after-restore')}), 'ok',
		"$label: it takes commands");
	return;
}

# ---------------------------------------------------------------------------
# 1. --single-transaction
# ---------------------------------------------------------------------------
my $dst = fresh_cluster('dump_single');
restore($dst, 'pg_restore --single-transaction', '--single-transaction');
check_restored($dst, 'single transaction');
$dst->stop;

# ---------------------------------------------------------------------------
# 2. two steps, with commands in between
# ---------------------------------------------------------------------------
$dst = fresh_cluster('dump_steps');
restore($dst, 'pg_restore --section=pre-data', '--section=pre-data');
ok($dst->poll_query_until('restored', q{SELECT state = 'restoring' FROM engine.status()}),
	'after pre-data: the engine is restoring');
like(SnapNode::status_in($dst, 'restored')->{detail}, qr/^waiting for the restored row of engine\.manifest: /,
	'its detail names what it waits for');
my ($ret, $out, $err) = $dst->psql('restored',
	q{SET engine.request_timeout = '200ms'; SELECT status FROM engine.deposit(1, 'USDT', 1, 'refused-during-restore')});
like($err, qr/engine is not ready \(state: restoring, waiting for the restored row of engine\.manifest/,
	'a command that cannot wait fails, naming the state');
my $waiter = $dst->background_psql('restored');
my $waiter_pid = $waiter->query_safe('SELECT pg_backend_pid()');
$waiter->query_until(qr/sent/,
	"\\echo sent\nSET engine.request_timeout = '10min';\nSELECT status FROM engine.deposit(1, 'USDT', 1, 'waited-during-restore');\n");
ok($dst->poll_query_until('restored',
		"SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = $waiter_pid"),
	'a command that can wait is waiting');
restore($dst, 'pg_restore --section=data -j 2', '--section=data', '-j', '2');
is($waiter->query_until(qr/done\n/, "\\echo done\n") =~ s/\ndone\n$//r, 'ok',
	'the waiting command ran after the restore');
$waiter->quit;
restore($dst, 'pg_restore --section=post-data', '--section=post-data');
check_restored($dst, 'two steps', 1);
is($dst->safe_psql('restored',
		q{SELECT string_agg(seq || ':' || key, ' ' ORDER BY seq) FROM engine.client_keys WHERE key LIKE '%-restore'}),
	($last + 1) . ':waited-during-restore ' . ($last + 2) . ':after-restore',
	'it was sequenced right after the restored log; the refused one never ran');
$dst->stop;

# ---------------------------------------------------------------------------
# 3. a plain pg_restore, paused after engine.manifest
# ---------------------------------------------------------------------------
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my ($list) = run_command([ 'pg_restore', '-l', $dump ]);
	my @entries = grep { !/^;/ && /\S/ } split /\n/, $list;
	my ($log) = grep { $entries[$_] =~ /TABLE DATA engine command_log / } 0 .. $#entries;
	my ($cut) = grep { $entries[$_] =~ /TABLE DATA engine manifest / } 0 .. $#entries;
	my ($snaps) = grep { $entries[$_] =~ /TABLE DATA engine snapshots / } 0 .. $#entries;
	ok(defined $log && defined $cut && defined $snaps && $log < $cut && $cut < $snaps,
		'the archive restores command_log, then engine.manifest, then engine.snapshots');
	open my $f1, '>', "$dir/first.list" or die;
	print $f1 join("\n", @entries[ 0 .. $cut ]), "\n";
	close $f1;
	open my $f2, '>', "$dir/rest.list" or die;
	print $f2 join("\n", @entries[ $cut + 1 .. $#entries ]), "\n";
	close $f2;

	$dst = fresh_cluster('dump_plain');
	restore($dst, 'plain pg_restore up to and including engine.manifest', '-L', "$dir/first.list");
	ok($dst->poll_query_until('restored',
			q{SELECT state = 'restoring' AND detail LIKE 'waiting for the restored rows of %' FROM engine.status()}),
		'half-way: the engine is restoring');
	my $detail = SnapNode::status_in($dst, 'restored')->{detail};
	like($detail, qr/engine\.snapshots/, 'half-way: it names engine.snapshots among the missing tables');
	unlike($detail, qr/engine\.command_log/, 'half-way: command_log is there');
	restore($dst, 'plain pg_restore of the rest', '-L', "$dir/rest.list");
	check_restored($dst, 'plain, paused');
	$dst->stop;
}

# ---------------------------------------------------------------------------
# 4. pg_restore -j 4
# ---------------------------------------------------------------------------
$dst = fresh_cluster('dump_parallel');
restore($dst, 'pg_restore -j 4', '-j', '4');
check_restored($dst, 'parallel');
$dst->stop;

# ---------------------------------------------------------------------------
# 5. a plain-format dump run by psql
# ---------------------------------------------------------------------------
$dst = fresh_cluster('dump_psql');
$dst->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $dst->connstr('restored'),
		'-f', "$tmp/engine.sql" ], 'psql -f of the plain dump');
check_restored($dst, 'plain SQL');
$dst->stop;

$src->stop;
done_testing();
