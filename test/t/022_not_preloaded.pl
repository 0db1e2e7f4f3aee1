# 022_not_preloaded.pl — messages name the database engine.database names,
# also when the library is not preloaded (and engine.database is only a
# placeholder setting in postgresql.conf).
#
#   1. engine.database = 'mydb': the engine is created and served there.
#   2. shared_preload_libraries loses 'engine' and the server restarts:
#      engine.status() in mydb says not_loaded for database mydb, a command
#      fails naming what to add, with engine.database = 'mydb', and
#      CREATE EXTENSION in another database names that one.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('unloaded');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'engine'
engine.database = 'mydb'
engine.max_orders = 1000
engine.max_accounts = 100
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE mydb');
$node->safe_psql('mydb', 'CREATE EXTENSION engine');
$node->poll_query_until('mydb', 'SELECT engine.ready()') or die 'the engine never became ready';
is($node->safe_psql('mydb', 'SELECT state || \' \' || database FROM engine.status()'), 'ready mydb',
	'preloaded: the engine serves mydb');

$node->stop;
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$node->start;
is($node->safe_psql('mydb', q{SELECT state || ' ' || database || ' ' || detail FROM engine.status()}),
	'not_loaded mydb the engine library is not in shared_preload_libraries',
	'not preloaded: status names the configured database');
my ($ret, $out, $err) = $node->psql('mydb', q{SELECT * FROM engine.deposit(1, 'USDT', 1)});
isnt($ret, 0, 'a command fails');
like($err, qr/engine library is not loaded via shared_preload_libraries/, 'saying the library is not preloaded');
like($err, qr/engine\.database = 'mydb'/, 'and its hint names the configured database');
$node->safe_psql('postgres', 'CREATE DATABASE other');
($ret, $out, $err) = $node->psql('other', 'CREATE EXTENSION engine');
like($err, qr/must be loaded via shared_preload_libraries.*engine\.database = 'other'/s,
	'CREATE EXTENSION elsewhere names that database');

$node->stop;
done_testing();
