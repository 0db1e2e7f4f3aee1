# EngineNode.pm — shared helpers for the engine's TAP tests.
#
# What it owns:
#   * starting a PostgreSQL::Test::Cluster node with the engine preloaded,
#     restart_after_crash = on and small capacities, and waiting for the
#     worker to be ready;
#   * the reference market of the tests (BTC with 8 decimals, USDT with 6,
#     BTC_USDT with fees) and funded users;
#   * concurrent load clients: forked processes that drive psql with a
#     generated script, reconnect after crashes and record, per command,
#     whether it was acknowledged and what the engine answered;
#   * the checks every test repeats: gapless log, verify(), per-asset totals,
#     acknowledged outcomes against the history tables, and the digest of a
#     from-scratch replay of the log in a fresh instance.
#
# Amounts are handled as integers in the asset's smallest unit on the Perl
# side (no floating point), and turned into numeric literals for SQL.
#
# Never exit() from a forked client: the END blocks of PostgreSQL::Test::*
# would tear the nodes down.  Clients leave with POSIX::_exit.

package EngineNode;

use strict;
use warnings;

use POSIX ();
use Time::HiRes qw(usleep time);
use IPC::Run;
use Test::More;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our $DB = 'postgres';

# Reference market.
our %DECIMALS = (BTC => 8, USDT => 6);
our $SYMBOL   = 'BTC_USDT';
our $TICK     = 1;          # price tick in cents of USDT (0.01)
our $LOT      = 10_000;     # lot in satoshi (0.0001 BTC)

# Start a node with the engine preloaded; creates the extension and waits
# for engine.ready() unless create_extension => 0.  extra_conf is appended
# to postgresql.conf after the defaults; install_path runs the node from
# another PostgreSQL installation (e.g. one with release 1.0 of the engine);
# allows_streaming => 1 (or 'physical') makes it a primary that standbys
# can stream from (see new_standby).
sub new_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name,
		$opt{install_path} ? (install_path => $opt{install_path}) : ());
	$node->init(allows_streaming => $opt{allows_streaming} // 0);
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'engine'
engine.database = '$DB'
restart_after_crash = on
max_connections = 60
engine.max_orders = 200000
engine.max_accounts = 10000
engine.max_symbols = 16
engine.max_assets = 16
engine.keep_log = on
log_statement = none
log_min_messages = info
});
	$node->append_conf('postgresql.conf', $opt{extra_conf}) if $opt{extra_conf};
	$node->start;
	if ($opt{create_extension} // 1)
	{
		$node->safe_psql($DB, 'CREATE EXTENSION engine');
		wait_ready($node) or BAIL_OUT("engine on node $name never became ready");
	}
	return $node;
}

# A hot standby of $primary streaming from it, made from a new base backup;
# its worker is a follower.  Waits until the follower is ready and has
# applied the primary's log (unless wait => 0).  extra_conf is appended to
# its postgresql.conf.
sub new_standby
{
	my ($primary, $name, %opt) = @_;
	my $backup = "b_$name";
	$primary->backup($backup);
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init_from_backup($primary, $backup, has_streaming => 1);
	$node->append_conf('postgresql.conf', $opt{extra_conf}) if $opt{extra_conf};
	$node->start;
	if ($opt{wait} // 1)
	{
		wait_ready($node) or BAIL_OUT("follower on $name never became ready");
		wait_follower($primary, $node);
	}
	return $node;
}

# Wait until $standby has replayed $primary's WAL and its follower has
# applied every log row the primary has (same seq).  Returns that seq.
sub wait_follower
{
	my ($primary, $standby) = @_;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('flush'));
	my $seq = $primary->safe_psql($DB, 'SELECT coalesce(max(seq), 0) FROM engine.command_log');
	$standby->poll_query_until($DB,
		"SELECT state = 'ready' AND applied_seq >= $seq FROM engine.status()")
	  or die "follower on " . $standby->name . " did not reach seq $seq";
	return $seq;
}

# Poll until engine.ready() (at most $timeout seconds).  Returns 1 or 0; on
# timeout prints engine.status() for the log.
# psql for polling: during a crash-restart psql can exit before it reads
# its input and IPC::Run dies on the broken pipe; that means "not yet".
sub try_psql
{
	my ($node, $sql) = @_;
	my ($ret, $out) = (1, '');
	eval { ($ret, $out) = $node->psql($DB, $sql); 1 };
	return ($ret, $out);
}

sub wait_ready
{
	my ($node, $timeout) = @_;
	$timeout //= 60;
	my $deadline = time + $timeout;
	while (time < $deadline)
	{
		my ($ret, $out) = try_psql($node, 'SELECT engine.ready()');
		return 1 if $ret == 0 && $out eq 't';
		usleep(50_000);
	}
	my ($ret, $out, $err) = $node->psql($DB, 'SELECT * FROM engine.status()');
	diag("engine not ready after ${timeout}s: status: $out $err");
	return 0;
}

# Pid of the engine worker (undef if none).
sub worker_pid
{
	my ($node) = @_;
	my $pid = $node->safe_psql($DB,
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'engine'");
	return $pid eq '' ? undef : $pid;
}

# Wait until a worker other than $old_pid is running and ready.
sub wait_new_worker
{
	my ($node, $old_pid, $timeout) = @_;
	$timeout //= 60;
	my $deadline = time + $timeout;
	while (time < $deadline)
	{
		my ($ret, $out) = try_psql($node,
			"SELECT engine.ready() AND pid <> $old_pid FROM pg_stat_activity WHERE backend_type = 'engine'");
		return 1 if $ret == 0 && $out eq 't';
		usleep(50_000);
	}
	return 0;
}

# integer units -> numeric literal text at the asset's scale
sub dec
{
	my ($units, $decimals) = @_;
	my $neg = $units < 0 ? '-' : '';
	my $abs = abs($units);
	return "$neg$abs" if $decimals == 0;
	my $s = sprintf("%0*d", $decimals + 1, $abs);
	return $neg . substr($s, 0, length($s) - $decimals) . '.' . substr($s, -$decimals);
}

sub btc  { return dec($_[0], 8) }
sub usdt { return dec($_[0], 6) }
sub price_text { return dec($_[0], 2) }    # price in cents

# Create BTC, USDT and BTC_USDT (tick 0.01, lot 0.0001, maker 0.1 %,
# taker 0.2 %).  Three log records.
sub setup_market
{
	my ($node) = @_;
	$node->safe_psql($DB, q{
SELECT engine.create_asset('BTC', 8);
SELECT engine.create_asset('USDT', 6);
SELECT engine.create_symbol('BTC_USDT', 'BTC', 'USDT', 0.01, 0.0001, 0.001, 0.002);
});
	return 3;
}

# Deposit $btc / $usdt units (0: none) to every user in @$users, with refs
# "fund-<tag>-<user>-<asset>".  Adds the amounts to %$total (asset => units)
# and returns the number of deposits (one log record each).
sub fund
{
	my ($node, $users, $btc, $usdt, $total, $tag) = @_;
	$tag //= 'setup';
	my @sql;
	for my $u (@$users)
	{
		for my $a ('BTC', 'USDT')
		{
			my $amt = $a eq 'BTC' ? $btc : $usdt;
			next unless $amt;
			push @sql, "SELECT status FROM engine.deposit($u, '$a', "
			  . dec($amt, $DECIMALS{$a}) . ", 'fund-$tag-$u-$a');";
			$total->{$a} += $amt;
		}
	}
	my $out = $node->safe_psql($DB, join("\n", @sql));
	my @st = split /\n/, $out;
	my $bad = grep { $_ ne 'ok' } @st;
	die "fund: " . scalar(@st) . " answers, $bad not ok" if $bad || @st != @sql;
	return scalar @sql;
}

# Σ of acknowledged ok deposits minus withdrawals, added into %$total.
sub add_acked_funds
{
	my ($cmds, $total) = @_;
	for my $c (@$cmds)
	{
		next unless $c->{state} eq 'ack' && ($c->{status} // '') eq 'ok';
		$total->{ $c->{asset} } += $c->{amount} if $c->{kind} eq 'deposit';
		$total->{ $c->{asset} } -= $c->{amount} if $c->{kind} eq 'withdraw';
	}
	return;
}

# ------------------------------------------------------------------ load

my $RESULT_COLS = 'r.order_id, r.status, r.filled_qty, r.remaining_qty, r.trades, r.reason';

# Generate $opt{n} commands for client $opt{client}:
#   ~25 % cancels (by client_order_id, of an order this client placed),
#   ~3 % deposits by trading users, ~2 % withdrawals by this client's own
#   withdraw-only user (never rejected: it owns far more than it takes),
#   the rest orders: gtc limit (some post-only), ioc, fok and market, random
#   side, price around the mid so that a good part crosses, random stp.
# Each command is a hash: kind, user, coid/ref, asset, amount, sql.
# pace => seconds makes the client sleep (pg_sleep) before each command, to
# stretch a bounded load over a known time.  barriers => { position =>
# name, ... } puts a barrier at those positions instead of a command: the
# client cannot pass it before the test calls open_barrier(name), so a test
# can be sure that clients are still running when it disrupts the engine.
sub gen_commands
{
	my (%opt) = @_;
	my $c      = $opt{client};
	my @users  = @{ $opt{users} };
	my $wuser  = $opt{withdraw_user};
	my $mid    = $opt{mid} // 3_000_000;    # cents
	my $prefix = $opt{prefix} // 'c';
	my (@cmds, @placed);
	for my $k (1 .. $opt{n})
	{
		my $r = rand();
		my %cmd;
		if (my $b = ($opt{barriers} // {})->{$k})
		{
			push @cmds, { kind => 'barrier', name => $b, idx => $k, sql => barrier_sql($b)
				  . "\nSELECT 'T$k', 'passed';" };
			next;
		}
		if ($r < 0.25 && @placed)
		{
			my $p = $placed[ int(rand(@placed)) ];
			%cmd = (kind => 'cancel', user => $p->{user}, coid => $p->{coid},
				call => "engine.cancel_order($p->{user}, '$p->{coid}'::text)");
		}
		elsif ($r < 0.28)
		{
			my $u = $users[ int(rand(@users)) ];
			my $a = rand() < 0.5 ? 'BTC' : 'USDT';
			my $amt = $a eq 'BTC' ? (1 + int(rand(1_000_000))) : (1 + int(rand(100_000_000)));
			my $ref = "${prefix}d$c-$k";
			%cmd = (kind => 'deposit', user => $u, asset => $a, amount => $amt, ref => $ref,
				call => "engine.deposit($u, '$a', " . dec($amt, $DECIMALS{$a}) . ", '$ref')");
		}
		elsif ($r < 0.30 && defined $wuser)
		{
			my $amt = 1 + int(rand(1_000_000));    # up to 1 USDT
			my $ref = "${prefix}w$c-$k";
			%cmd = (kind => 'withdraw', user => $wuser, asset => 'USDT', amount => $amt, ref => $ref,
				call => "engine.withdraw($wuser, 'USDT', " . usdt($amt) . ", '$ref')");
		}
		else
		{
			my $u    = $users[ int(rand(@users)) ];
			my $side = rand() < 0.5 ? 'buy' : 'sell';
			my $qty  = btc($LOT * (1 + int(rand(50))));
			my $t    = rand();
			my ($price, $tif, $post) = ('NULL', 'gtc', 'false');
			my $off = $side eq 'buy' ? -50 + int(rand(61)) : -10 + int(rand(61));
			$price = price_text($mid + $off * $TICK);
			if    ($t < 0.08) { $tif = 'ioc' }
			elsif ($t < 0.12) { $tif = 'fok' }
			elsif ($t < 0.16) { $tif = 'ioc'; $price = 'NULL'; $qty = btc($LOT * (1 + int(rand(20)))) }
			elsif ($t < 0.21) { $post = 'true' }
			my $s = rand();
			my $stp = $s < 0.7 ? 'none' : $s < 0.8 ? 'cancel_taker' : $s < 0.9 ? 'cancel_maker' : 'cancel_both';
			my $coid = "$prefix$c-$k";
			%cmd = (kind => 'place', user => $u, coid => $coid,
				call => "engine.place_order($u, '$SYMBOL', '$side', $qty, $price, '$tif', $post, '$coid', '$stp')");
			push @placed, { user => $u, coid => $coid };
		}
		if ($cmd{kind} eq 'deposit' || $cmd{kind} eq 'withdraw')
		{
			$cmd{sql} = "SELECT 'T$k', r.status, r.reason, r.available, r.frozen FROM $cmd{call} r;";
		}
		else
		{
			$cmd{sql} = "SELECT 'T$k', $RESULT_COLS FROM $cmd{call} r;";
		}
		$cmd{sql} = "SELECT pg_sleep($opt{pace});\n$cmd{sql}" if $opt{pace};
		$cmd{idx} = $k;
		push @cmds, \%cmd;
	}
	return \@cmds;
}

# ------------------------------------------------------------ barriers

# Barriers live in public.engine_test_barrier (one row per opened barrier).
sub create_barriers
{
	my ($node) = @_;
	$node->safe_psql($DB, 'CREATE TABLE public.engine_test_barrier (name text PRIMARY KEY)');
	return;
}

sub barrier_sql
{
	my ($name) = @_;
	return qq{DO \$\$ BEGIN
  WHILE NOT EXISTS (SELECT FROM public.engine_test_barrier WHERE name = '$name') LOOP
    PERFORM pg_sleep(0.01);
  END LOOP;
END \$\$;};
}

sub open_barrier
{
	my ($node, $name) = @_;
	$node->safe_psql($DB, "INSERT INTO public.engine_test_barrier VALUES ('$name')");
	return;
}

# Client sessions that are inside an engine call and waiting (for the
# worker's answer, or for the state lock the worker holds).  A test that has
# stopped the worker (SIGSTOP) polls this until every client is there;
# returns the last count seen (60 s at most).
sub wait_engine_waiters
{
	my ($node, $n) = @_;
	my $seen = -1;
	my $deadline = time + 60;
	while (time < $deadline)
	{
		$seen = $node->safe_psql($DB, q{
SELECT count(*) FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()
   AND query LIKE '%engine.%' AND wait_event IS NOT NULL AND wait_event <> 'PgSleep'});
		return $seen if $seen >= $n;
		usleep(20_000);
	}
	return $seen;
}

# One client: run the commands through psql sessions.  A session stops at the
# first command that is not answered (error or lost connection); that command's
# outcome is unknown to the client and it goes on with the next one in a new
# session (at a barrier, it waits at the barrier again).  Writes
# "idx \t state \t answer \t stderr" lines to $file.
sub _client_main
{
	my ($node, $cmds, $file, $deadline, $connstr) = @_;
	my $n = scalar @$cmds;
	my (@state, @answer, @err);
	my $i = 0;
	my $psql = $node->installed_command('psql');
	$connstr //= $node->connstr($DB);
	while ($i < $n && time < $deadline)
	{
		my $script = "SELECT 'CONNECTED';\n"
		  . join("\n", map { $_->{sql} } @{$cmds}[ $i .. $n - 1 ]) . "\n";
		open my $sf, '>', "$file.sql" or die "open $file.sql: $!";
		print $sf $script;
		close $sf or die "close $file.sql: $!";
		my ($out, $err) = ('', '');
		my $h = IPC::Run::start(
			[ $psql, '-X', '-q', '-A', '-t', '-F', '|', '-v', 'ON_ERROR_STOP=1',
			  '-d', $connstr, '-f', "$file.sql" ],
			'<', \undef, '>', \$out, '2>', \$err,
			IPC::Run::timeout(int($deadline - time) + 5));
		eval { $h->finish; 1 } or do { my $e = $@; eval { $h->kill_kill }; $err .= "\n(client: $e)" };
		my $connected = 0;
		my $last = $i - 1;
		for my $line (split /\n/, $out)
		{
			if ($line eq 'CONNECTED') { $connected = 1; next }
			if ($line =~ /^T(\d+)\|(.*)$/)
			{
				my $j = $1 - 1;
				die "client out of order: got T$1 after index $last" unless $j == $last + 1;
				$state[$j]  = 'ack';
				$answer[$j] = $2;
				$last       = $j;
			}
		}
		if (!$connected)
		{
			usleep(100_000);
			next;
		}
		$i = $last + 1;
		# A barrier is never skipped: its session failed, wait again.
		if ($i < $n && $cmds->[$i]{kind} eq 'barrier')
		{
			usleep(20_000);
			next;
		}
		if ($i < $n)
		{
			$err =~ s/\s+/ /g;
			$state[$i] = 'unknown';
			$err[$i]   = $err;
			$i++;
			usleep(20_000);
		}
	}
	open my $fh, '>', "$file.tmp" or die "open $file: $!";
	for my $j (0 .. $n - 1)
	{
		printf $fh "%d\t%s\t%s\t%s\n", $j, $state[$j] // 'unsent', $answer[$j] // '', $err[$j] // '';
	}
	close $fh or die "close $file: $!";
	rename "$file.tmp", $file or die "rename $file: $!";
	return;
}

# Fork one client per command list.  Returns a handle for wait_clients.
# Options: timeout (s), connstr (default: the node's; e.g. a multi-host
# string with target_session_attrs=read-write, to follow a failover, or a
# connection pooler's).
sub start_clients
{
	my ($node, $cmdsets, %opt) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my $deadline = time + ($opt{timeout} // 180);
	my @kids;
	for my $c (0 .. $#$cmdsets)
	{
		my $file = "$dir/client$c.out";
		my $pid  = fork();
		die "fork: $!" unless defined $pid;
		if ($pid == 0)
		{
			my $ok = eval { _client_main($node, $cmdsets->[$c], $file, $deadline, $opt{connstr}); 1 };
			if (!$ok)
			{
				if (open my $fh, '>', "$file.err") { print $fh $@; close $fh }
				POSIX::_exit(1);
			}
			POSIX::_exit(0);
		}
		push @kids, { pid => $pid, file => $file, cmds => $cmdsets->[$c] };
	}
	return { kids => \@kids, deadline => $deadline };
}

# Number of clients still running.
sub clients_running
{
	my ($h) = @_;
	my $n = 0;
	for my $k (@{ $h->{kids} })
	{
		next if defined $k->{status};
		my $r = waitpid($k->{pid}, POSIX::WNOHANG());
		if ($r == $k->{pid}) { $k->{status} = $?; }
		else { $n++ }
	}
	return $n;
}

# Wait for every client, then fill each command hash with state
# ('ack' | 'unknown' | 'unsent'), res (parsed answer) and err.  Dies if a
# client failed.  Returns the list of all commands.
sub wait_clients
{
	my ($h) = @_;
	while (clients_running($h) > 0)
	{
		if (time > $h->{deadline} + 30)
		{
			kill 'KILL', map { $_->{pid} } grep { !defined $_->{status} } @{ $h->{kids} };
		}
		usleep(50_000);
	}
	my @all;
	for my $k (@{ $h->{kids} })
	{
		if ($k->{status} != 0)
		{
			my $e = -e "$k->{file}.err" ? slurp_file("$k->{file}.err") : '';
			die "client $k->{pid} exited with $k->{status}: $e";
		}
		my @lines = split /\n/, slurp_file($k->{file});
		die "client result count mismatch" unless @lines == @{ $k->{cmds} };
		for my $line (@lines)
		{
			my ($j, $state, $ans, $err) = split /\t/, $line, 4;
			my $cmd = $k->{cmds}[$j];
			$cmd->{state} = $state;
			$cmd->{err}   = $err;
			if ($state eq 'ack')
			{
				my @f = split /\|/, $ans, -1;
				if ($cmd->{kind} eq 'deposit' || $cmd->{kind} eq 'withdraw')
				{
					@{$cmd}{qw(status reason available frozen)} = @f;
				}
				else
				{
					@{$cmd}{qw(order_id status filled remaining trades reason)} = @f;
				}
			}
			push @all, $cmd;
		}
	}
	return \@all;
}

# ---------------------------------------------------------------- checks

# (count, min, max) of engine.command_log.seq
sub log_bounds
{
	my ($node) = @_;
	my $r = $node->safe_psql($DB,
		'SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM engine.command_log');
	return split /\|/, $r;
}

# How many log records the answered commands @$cmds made: one each, but a
# cancel refused because its order is no longer resting consumes no seq
# (doc/semantics.md, "Cancel and amend").
sub sequenced_count
{
	my ($cmds) = @_;
	my $refused = grep {
		$_->{kind} eq 'cancel' && ($_->{status} // '') eq 'rejected' && ($_->{reason} // '') eq 'unknown_order'
	} @$cmds;
	return scalar(@$cmds) - $refused;
}

# Failing rows of engine.verify(), '' when all ok.
sub verify_failures
{
	my ($node) = @_;
	my $all = $node->safe_psql($DB, 'SELECT count(*) FROM engine.verify()');
	die "engine.verify() returned no rows" unless $all > 0;
	return $node->safe_psql($DB,
		"SELECT check_name || ': ' || coalesce(detail, '') FROM engine.verify() WHERE NOT ok");
}

sub digest
{
	my ($node) = @_;
	return $node->safe_psql($DB, 'SELECT engine.state_digest()');
}

# Per-asset Σ(available + frozen) over users 0..$max_user, as a hash of
# numeric texts normalised by the server.  Compare with expected_totals.
sub asset_totals
{
	my ($node, $max_user) = @_;
	my $out = $node->safe_psql($DB, qq{
SELECT b.asset, sum(b.available + b.frozen)
FROM generate_series(0, $max_user) AS u(id), LATERAL engine.balances(u.id) b
GROUP BY b.asset ORDER BY b.asset});
	return { map { split /\|/ } split /\n/, $out };
}

# Text of a units hash in the same form asset_totals returns (server-side
# formatting of the exact numeric).
sub expected_totals
{
	my ($node, $units) = @_;
	my %r;
	for my $a (sort keys %$units)
	{
		$r{$a} = $node->safe_psql($DB, 'SELECT (' . dec($units->{$a}, $DECIMALS{$a}) . ')::numeric');
	}
	return \%r;
}

# Load acknowledged place/cancel answers into public.acks (for SQL checks).
sub load_acks
{
	my ($node, $cmds) = @_;
	$node->safe_psql($DB, q{
DROP TABLE IF EXISTS public.acks;
CREATE TABLE public.acks (kind text, user_id bigint, coid text, order_id bigint, status text,
                          filled numeric, remaining numeric, trades int, reason text)});
	my @rows;
	for my $c (@$cmds)
	{
		next unless $c->{state} eq 'ack' && ($c->{kind} eq 'place' || $c->{kind} eq 'cancel');
		my @v = map { $_ eq '' ? 'NULL' : "'$_'" }
		  @{$c}{qw(order_id status filled remaining trades reason)};
		push @rows, "('$c->{kind}', $c->{user}, '$c->{coid}', " . join(', ', @v) . ')';
	}
	while (my @chunk = splice(@rows, 0, 2000))
	{
		$node->safe_psql($DB, 'INSERT INTO public.acks VALUES ' . join(",\n", @chunk));
	}
	return;
}

# The checks of acknowledged order commands against the engine's history.
# Each query returns the offending rows; every one must be empty.
our %ACK_CHECKS = (
	# engine.order() knows acknowledged orders, with owner, client_order_id
	# and a state that agrees with the order's last event (every order when
	# $SAMPLE is 1, else about one in $SAMPLE, by order_id)
	'place ack: engine.order() agrees with owner, client_order_id, last event' => q{
WITH a AS MATERIALIZED (SELECT * FROM public.acks WHERE kind = 'place' AND order_id % $SAMPLE = 0),
     last AS (SELECT DISTINCT ON (order_id) order_id, event, filled_qty, remaining_qty
              FROM engine.order_events_v ORDER BY order_id, seq DESC, ev_no DESC)
SELECT a.coid, a.order_id, o.user_id, o.client_order_id, o.status, l.event FROM a
LEFT JOIN LATERAL engine.order(a.order_id) o ON true
LEFT JOIN last l ON l.order_id = a.order_id
WHERE o.order_id IS NULL OR o.user_id <> a.user_id OR o.client_order_id IS DISTINCT FROM a.coid
   OR o.filled_qty <> l.filled_qty OR o.remaining_qty <> l.remaining_qty
   OR o.status <> CASE l.event WHEN 'amended' THEN o.status ELSE l.event END},

	# the first order event of an acknowledged order is the outcome its
	# client was told (status, filled, remaining, reason)
	'place ack: first order event is the acknowledged outcome' => q{
WITH f AS (SELECT order_id, min(seq) AS seq FROM engine.order_events GROUP BY order_id)
SELECT a.coid, a.order_id, a.status, a.filled, a.remaining, a.reason FROM public.acks a
LEFT JOIN f ON f.order_id = a.order_id
WHERE a.kind = 'place' AND NOT EXISTS (
  SELECT 1 FROM engine.order_events_v e
  WHERE e.order_id = a.order_id AND e.seq = f.seq AND e.user_id = a.user_id
    AND e.client_order_id IS NOT DISTINCT FROM a.coid
    AND e.event = a.status AND e.filled_qty = a.filled AND e.remaining_qty = a.remaining
    AND e.reason IS NOT DISTINCT FROM a.reason)},

	# its fills at placement are the trades in which it was the taker
	'place ack: trades as taker match trades and filled_qty' => q{
WITH t AS (SELECT taker_order_id, count(*) AS n, sum(qty) AS q FROM engine.trades_v GROUP BY 1)
SELECT a.coid, a.order_id, a.trades, a.filled, t.n, t.q FROM public.acks a
LEFT JOIN t ON t.taker_order_id = a.order_id
WHERE a.kind = 'place' AND (coalesce(t.n, 0) <> a.trades OR coalesce(t.q, 0) <> a.filled)},

	# an acknowledged order is one PLACE record in the log, with its user
	# and client_order_id
	'place ack: exactly one PLACE log record' => q{
WITH l AS (SELECT decoded->>'client_order_id' AS coid, (decoded->>'user_id')::bigint AS user_id,
                  count(*) AS n
           FROM engine.command_log_decoded WHERE rectype = 'PLACE' GROUP BY 1, 2)
SELECT a.coid, l.n FROM public.acks a
LEFT JOIN l ON l.coid = a.coid AND l.user_id = a.user_id
WHERE a.kind = 'place' AND l.n IS DISTINCT FROM 1},

	# an acknowledged order id belongs to one acknowledged command only
	'place ack: order ids are unique' => q{
SELECT order_id, count(*) FROM public.acks WHERE kind = 'place' GROUP BY 1 HAVING count(*) > 1},

	# an acknowledged cancel left a 'canceled' event, and that is the
	# order's last event
	'cancel ack canceled: order ends canceled' => q{
WITH last AS (SELECT DISTINCT ON (order_id) order_id, event FROM engine.order_events
              ORDER BY order_id, seq DESC, ev_no DESC)
SELECT a.coid, a.order_id, l.event FROM public.acks a
LEFT JOIN last l ON l.order_id = a.order_id
WHERE a.kind = 'cancel' AND a.status = 'canceled' AND l.event IS DISTINCT FROM 'canceled'},

	# a cancel rejected as unknown_order was about an order that had
	# finished (its last event is a final one)
	'cancel ack rejected: order was finished' => q{
WITH last AS (SELECT DISTINCT ON (order_id) order_id, event FROM engine.order_events
              ORDER BY order_id, seq DESC, ev_no DESC)
SELECT a.coid, a.order_id, a.reason, l.event FROM public.acks a
LEFT JOIN last l ON l.order_id = a.order_id
WHERE a.kind = 'cancel' AND a.status = 'rejected' AND a.order_id IS NOT NULL
  AND (a.reason IS DISTINCT FROM 'unknown_order'
       OR l.event IS NULL OR l.event NOT IN ('filled', 'canceled', 'expired', 'rejected'))},

	# a cancel answered without order_id names a client_order_id that no
	# order of that user carries (its place never ran)
	'cancel ack without order_id: client_order_id never used' => q{
SELECT a.coid, a.status, a.reason FROM public.acks a
WHERE a.kind = 'cancel' AND a.order_id IS NULL
  AND (a.status <> 'rejected' OR a.reason IS DISTINCT FROM 'unknown_order'
       OR EXISTS (SELECT 1 FROM engine.order_events e
                  WHERE e.client_order_id = a.coid AND e.user_id = a.user_id))},

	# cancels answer only canceled or rejected
	'cancel ack: status is canceled or rejected' => q{
SELECT a.coid, a.status FROM public.acks a
WHERE a.kind = 'cancel' AND a.status NOT IN ('canceled', 'rejected')},
);

# Run %ACK_CHECKS as tests (after load_acks).  $sample: check engine.order()
# for one order in $sample (1: all).
sub check_acks
{
	my ($node, $label, $sample) = @_;
	$sample //= 1;
	for my $name (sort keys %ACK_CHECKS)
	{
		(my $q = $ACK_CHECKS{$name}) =~ s/\$SAMPLE/$sample/g;
		my $bad = $node->safe_psql($DB, "SELECT count(*) FROM ($q) x");
		is($bad, '0', "$label: $name");
		if ($bad ne '0')
		{
			diag($node->safe_psql($DB, "$q LIMIT 5"));
		}
	}
	return;
}

# Start a fresh node, copy $src's engine.command_log into it, restart it so
# its worker replays that log from the start, and return the node.
sub replay_in_fresh_node
{
	my ($src, $name) = @_;
	my $dir  = PostgreSQL::Test::Utils::tempdir();
	my $file = "$dir/command_log.copy";
	$src->safe_psql($DB, "COPY engine.command_log TO '$file'");
	my $dst = new_node($name);
	$dst->safe_psql($DB, "COPY engine.command_log FROM '$file'");
	$dst->restart;
	wait_ready($dst, 120) or die "replay node $name not ready";
	return $dst;
}

1;
