# 016_dump_restore.pl — pg_dump -Fc of the engine's database, pg_restore
# into a fresh cluster whose engine.database names the restored database:
# the engine there recovers to the same digest.
#
# The source has two snapshots, a pruned log (engine.keep_log = off) and a
# tail after the newest snapshot, so the restored engine must load the
# restored snapshot and replay the restored tail.  The fresh cluster's worker
# is already waiting for the extension when pg_restore runs.
#
#   1. pg_restore --single-transaction: the extension and all its rows appear
#      at once; the engine recovers to the source's digest, from the newest
#      snapshot plus the tail, and takes commands (refs used before the dump
#      answer duplicate).
#   2. a plain pg_restore, as the README describes it: CREATE EXTENSION
#      commits first and the data follows table by table (assets,
#      client_keys, command_log, order_events, snapshot_*, snapshots, ...).
#      The waiting worker starts recovering as soon as the extension exists;
#      if it looks while command_log is restored but engine.snapshots is not,
#      it finds no snapshot and a log starting after seq 1 and fails on the
#      gap — and must recover by itself once the restore has finished (a
#      failed worker watches the log's ends and the set of snapshots).
#      The test pauses pg_restore at exactly that point (the same archive,
#      restored with two -L lists in pg_restore's own order) to make the race
#      deterministic, and expects the engine to end ready with the source's
#      digest once the restore is complete.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
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
cmp_ok($src->safe_psql($DB, 'SELECT min(seq) FROM engine.command_log'), '>', 1, 'source: log is pruned');

my $dump = PostgreSQL::Test::Utils::tempdir() . '/engine.dump';
$src->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $src->connstr($DB) ], 'pg_dump -Fc');

# A fresh cluster serving database "restored" (created empty); with
# $wait, once its worker is connected there, waiting for the extension.
sub fresh_cluster
{
	my ($name, $wait) = @_;
	my $node = EngineNode::new_node($name, create_extension => 0,
		extra_conf => "engine.database = 'restored'\n");
	$node->safe_psql($DB, 'CREATE DATABASE restored');
	ok($node->poll_query_until($DB,
			q{SELECT datname = 'restored' FROM pg_stat_activity WHERE backend_type = 'engine'}),
		"$name: the worker is connected to database \"restored\"") if $wait;
	return $node;
}

my $dst = fresh_cluster('dump_dst');
$dst->command_ok([ 'pg_restore', '--single-transaction', '-d', $dst->connstr('restored'), $dump ],
	'pg_restore --single-transaction into "restored"');

# The worker serves "restored" once its tables are there; poll until it has
# caught up with the restored log.
my $ok = $dst->poll_query_until('restored',
	"SELECT state IN ('ready', 'failed') AND (state = 'failed' OR last_seq = $last) FROM engine.status()");
my $rs = SnapNode::status_in($dst, 'restored');
is($rs->{state}, 'ready', 'the restored engine is ready') or diag("status: $rs->{state}: $rs->{detail}");
is($rs->{last_seq}, $last, 'at the source\'s last seq');
is($dst->safe_psql('restored', 'SELECT engine.state_digest()'), $digest, 'with the same digest');
is("$rs->{snapshot_seq} $rs->{replayed}", "$newest " . ($last - $newest),
	'it loaded the newest restored snapshot and replayed the restored tail');
is($dst->safe_psql('restored', q{SELECT count(*) FROM engine.verify() WHERE NOT ok}), '0', 'verify() all ok');
is($dst->safe_psql('restored', q{SELECT status FROM engine.deposit(1, 'USDT', 1, 'after-restore')}), 'ok',
	'the restored engine takes commands');
is($dst->safe_psql('restored', q{SELECT status FROM engine.withdraw(3, 'USDT', 2, 'w3')}), 'duplicate',
	'and remembers the refs used before the dump');

$dst->stop;

# ---------------------------------------------------------------------------
# 2. plain pg_restore, paused after command_log (known bug)
# ---------------------------------------------------------------------------
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my ($list) = run_command([ 'pg_restore', '-l', $dump ]);
	my @entries = grep { !/^;/ && /\S/ } split /\n/, $list;
	my ($cut) = grep { $entries[$_] =~ /TABLE DATA engine command_log / } 0 .. $#entries;
	ok(defined $cut, 'the archive restores command_log before the snapshot tables');
	open my $f1, '>', "$dir/first.list" or die;
	print $f1 join("\n", @entries[ 0 .. $cut ]), "\n";
	close $f1;
	open my $f2, '>', "$dir/rest.list" or die;
	print $f2 join("\n", @entries[ $cut + 1 .. $#entries ]), "\n";
	close $f2;

	my $plain = fresh_cluster('dump_plain', 1);
	$plain->command_ok([ 'pg_restore', '-L', "$dir/first.list", '-d', $plain->connstr('restored'), $dump ],
		'plain pg_restore up to and including command_log');
	# Give the worker time to look at the half-restored database.
	my $deadline = time + 10;
	my $mid = '';
	while (time < $deadline)
	{
		my ($ret, $out) = $plain->psql('restored',
			q{SELECT state || ': ' || coalesce(detail, '') FROM engine.status() WHERE state IN ('ready', 'failed')});
		$mid = $out if $ret == 0;
		last if $mid =~ /^failed/;
		usleep(100_000);
	}
	note("engine while pg_restore is half-way: $mid");
	$plain->command_ok([ 'pg_restore', '-L', "$dir/rest.list", '-d', $plain->connstr('restored'), $dump ],
		'plain pg_restore of the rest');

	$deadline = time + 15;
	my $end = '';
	while (time < $deadline)
	{
		my ($ret, $out) = $plain->psql('restored', q{SELECT state || ' ' || last_seq FROM engine.status()});
		$end = $out if $ret == 0;
		last if $end eq "ready $last";
		usleep(100_000);
	}
	is($end, "ready $last", 'after a plain pg_restore the engine is ready at the source\'s last seq');
	my ($ret, $d) = $plain->psql('restored', 'SELECT engine.state_digest()');
	is($d, $digest, 'with the source\'s digest');
	$plain->stop;
}

$src->stop;
done_testing();
