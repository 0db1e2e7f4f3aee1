# SnapNode.pm — helpers for the snapshot and recovery TAP tests (01x_*.pl).
#
# Builds on EngineNode (node set-up, reference market, load clients, the
# acknowledged-outcome checks) and adds what the snapshot tests share:
#   * nodes whose automatic snapshots are off unless a test asks for them, so
#     every snapshot in a test is one the test took;
#   * engine.status() as a hash, waiting for a worker's verdict (ready or
#     failed), kill -9 of the worker;
#   * the rows a snapshot owns, table by table;
#   * a resting book built quickly with parallel sessions;
#   * a from-scratch replay of a node's command log in a fresh node (COPY out
#     and in, no snapshot, no restart: the fresh worker notices the new log and
#     rebuilds it from seq 1);
#   * the checks after crashes under load: gapless log, verify(), every
#     acknowledged command with the outcome its client got, per-asset totals,
#     and the digest of the from-scratch replay.

package SnapNode;

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(usleep time);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use EngineNode;

our $DB = 'postgres';

our @STATUS_COLS = qw(state worker_pid last_seq snapshot_seq replayed recovery_ms
  resting_orders accounts replay_total detail worker_starts snapshot_ms snapshot_rows
  snapshot_write_ms snapshot_running_seq recovery_phase
  role applied_seq lag_records lag_ms follower_reloads follower_retries promote_ms);

# What a snapshot holds, by kind of item.  The keys name release 1.0's row
# tables; the counts come from the views that show every snapshot whatever
# its format (engine.snapshot_orders_v and the others).
our @SNAPSHOT_TABLES = qw(snapshot_assets snapshot_symbols snapshot_balances snapshot_orders);

# A node for the snapshot tests: EngineNode's defaults, automatic snapshots
# practically off (an hour, 2e9 commands) unless %opt says otherwise.
#   keep_log => 'on' | 'off' (default 'on'), snapshot_every, snapshot_interval,
#   snapshot_keep, max_orders, extra_conf, create_extension, allows_streaming.
sub new_node
{
	my ($name, %opt) = @_;
	my $conf = sprintf(qq{
engine.keep_log = %s
engine.snapshot_interval = '%s'
engine.snapshot_every = %d
engine.snapshot_keep = %d
},
		$opt{keep_log} // 'on',
		$opt{snapshot_interval} // '1h',
		$opt{snapshot_every} // 2_000_000_000,
		$opt{snapshot_keep} // 2);
	$conf .= "engine.max_orders = $opt{max_orders}\n" if $opt{max_orders};
	$conf .= $opt{extra_conf} if $opt{extra_conf};
	return EngineNode::new_node($name, extra_conf => $conf,
		create_extension => $opt{create_extension} // 1,
		allows_streaming => $opt{allows_streaming} // 0);
}

# engine.status() as a hash (dies if the query fails).
sub status { return status_in($_[0], $DB) }

# The same in database $db.
sub status_in
{
	my ($node, $db) = @_;
	my $cols = join(', ', map { "coalesce(${_}::text, '')" } @STATUS_COLS);
	my $out = $node->safe_psql($db, "SELECT $cols FROM engine.status()",
		extra_params => [ '-F', "\x1f" ]);
	my @v = split /\x1f/, $out, -1;
	my %s;
	@s{@STATUS_COLS} = @v;
	return \%s;
}

# Poll until the worker (another one than $old_pid, if given) has reached a
# verdict: state 'ready' or 'failed'.  Returns the status hash, or undef on
# timeout.
sub wait_verdict
{
	my ($node, $old_pid, $timeout) = @_;
	$timeout //= 90;
	my $deadline = time + $timeout;
	while (time < $deadline)
	{
		# During a crash-restart psql can exit before it reads its input, and
		# IPC::Run then dies on the broken pipe: that is "not yet", not a failure.
		my ($ret, $out) = (1, '');
		eval {
			($ret, $out) = $node->psql($DB,
				"SELECT state, worker_pid FROM engine.status() WHERE state IN ('ready', 'failed')"
				  . (defined $old_pid ? " AND worker_pid <> $old_pid" : ''));
			1;
		};
		return status($node) if $ret == 0 && $out ne '';
		usleep(50_000);
	}
	diag('no verdict: ' . join(' ', %{ status($node) }));
	return undef;
}

# kill -9 the worker (a crash-restart of the whole server follows) and wait
# for the next worker's verdict.  Returns (old pid, status hash).
sub kill9_worker
{
	my ($node, $timeout) = @_;
	my $pid = EngineNode::worker_pid($node);
	die 'no engine worker to kill' unless $pid;
	kill 'KILL', $pid;
	return ($pid, wait_verdict($node, $pid, $timeout));
}

# pg_terminate_backend of the worker (it exits with code 1, the postmaster
# starts a new one) and wait for the next worker's verdict.
sub terminate_worker
{
	my ($node, $timeout) = @_;
	my $pid = EngineNode::worker_pid($node);
	die 'no engine worker to terminate' unless $pid;
	$node->safe_psql($DB, "SELECT pg_terminate_backend($pid)");
	return ($pid, wait_verdict($node, $pid, $timeout));
}

sub digest { return $_[0]->safe_psql($DB, 'SELECT engine.state_digest()') }

sub last_seq { return $_[0]->safe_psql($DB, 'SELECT last_seq FROM engine.status()') }

# engine.snapshot(), then wait for the prune the snapshot writer does after
# it has answered: at most engine.snapshot_keep snapshots, and no log row
# that the oldest kept one covers.  Returns the snapshot's seq.
sub snapshot_pruned
{
	my ($node) = @_;
	my $seq = $node->safe_psql($DB, 'SELECT engine.snapshot()');
	$node->poll_query_until($DB, q{
SELECT (SELECT count(*) FROM engine.snapshots) <= current_setting('engine.snapshot_keep')::int
   AND coalesce((SELECT min(seq) FROM engine.command_log) > (SELECT min(seq) FROM engine.snapshots), true)})
	  or die "the prune after snapshot $seq did not happen";
	return $seq;
}

# Rows that belong to snapshot $seq: { snapshots => n, snapshot_orders => n, ... }
sub snapshot_rows
{
	my ($node, $seq) = @_;
	my $q = join(",\n", "(SELECT count(*) FROM engine.snapshots WHERE seq = $seq)",
		map { "(SELECT count(*) FROM engine.${_}_v WHERE snapshot_seq = $seq)" } @SNAPSHOT_TABLES);
	my @n = split /\|/, $node->safe_psql($DB, "SELECT $q");
	my %r;
	@r{ 'snapshots', @SNAPSHOT_TABLES } = @n;
	return \%r;
}

# Everything the snapshot tables hold, { snapshots => rows, snapshot_chunks =>
# rows, snapshot_orders => items, ... }.
sub snapshot_table_counts
{
	my ($node) = @_;
	my $q = join(",\n", "(SELECT count(*) FROM engine.snapshots)", "(SELECT count(*) FROM engine.snapshot_chunks)",
		map { "(SELECT count(*) FROM engine.${_}_v)" } @SNAPSHOT_TABLES);
	my @n = split /\|/, $node->safe_psql($DB, "SELECT $q");
	my %r;
	@r{ 'snapshots', 'snapshot_chunks', @SNAPSHOT_TABLES } = @n;
	return \%r;
}

# What the engine.snapshots row of $seq announces, in the shape of
# snapshot_rows (its balances and orders counts, the assets and symbols).
sub snapshot_announced
{
	my ($node, $seq) = @_;
	my $out = $node->safe_psql($DB,
		"SELECT assets, symbols, balances, orders FROM engine.snapshots WHERE seq = $seq");
	return undef if $out eq '';
	my @n = split /\|/, $out;
	return { snapshots => 1, snapshot_assets => $n[0], snapshot_symbols => $n[1],
		snapshot_balances => $n[2], snapshot_orders => $n[3] };
}

# Seqs of the snapshots in engine.snapshots, oldest first.
sub snapshot_seqs
{
	my ($node) = @_;
	return split /\n/, $node->safe_psql($DB, 'SELECT seq FROM engine.snapshots ORDER BY seq');
}

# Run @sql (one statement each) in parallel psql sessions; dies if one fails.
sub parallel_sql
{
	my ($node, @sql) = @_;
	my $psql = $node->installed_command('psql');
	my @h;
	for my $s (@sql)
	{
		my ($out, $err) = ('', '');
		my $h = IPC::Run::start([ $psql, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
				'-d', $node->connstr($DB), '-c', $s ],
			'<', \undef, '>', \$out, '2>', \$err);
		push @h, [ $h, \$out, \$err, $s ];
	}
	for my $x (@h)
	{
		my ($h, $out, $err, $s) = @$x;
		$h->finish or die "parallel_sql failed: $s: $$err";
	}
	return map { ${ $_->[1] } } @h;
}

# Build a book of about $n resting orders on BTC_USDT (EngineNode's market
# must exist) for users $first_user .. $first_user + $users - 1: funds each
# user, then places gtc orders that never cross (buys 100.00..199.99 USDT,
# sells 300.00..399.99) in $sessions parallel sessions.  Adds the deposits to
# %$total (units).  Returns the number of log records written.
sub build_book
{
	my ($node, %opt) = @_;
	my $n        = $opt{orders};
	my $first    = $opt{first_user} // 1000;
	my $users    = $opt{users} // 1000;
	my $sessions = $opt{sessions} // 4;
	my $total    = $opt{total};
	my $last     = $first + $users - 1;
	my $per_user = int($n / $users) + 1;
	# a buy of 0.001 BTC at < 200 USDT locks < 0.2 USDT; a sell locks 0.001 BTC
	my $usdt = ($per_user + 1) * 200_000;             # units of 10^-6
	my $btc  = ($per_user + 1) * 100_000;             # units of 10^-8
	my @dep;
	for my $s (0 .. $sessions - 1)
	{
		push @dep, qq{SELECT count(*) FROM generate_series($first + $s, $last, $sessions) u,
  LATERAL engine.deposit(u, 'USDT', } . EngineNode::usdt($usdt) . qq{, 'book-usdt-' || u) d1,
  LATERAL engine.deposit(u, 'BTC', } . EngineNode::btc($btc) . qq{, 'book-btc-' || u) d2
  WHERE d1.status = 'ok' AND d2.status = 'ok'};
	}
	my @got = parallel_sql($node, @dep);
	my $deposited = 0;
	$deposited += $_ for @got;
	die "build_book: $deposited of $users users funded" unless $deposited == $users;
	$total->{USDT} += $users * $usdt;
	$total->{BTC}  += $users * $btc;

	my @place;
	for my $s (0 .. $sessions - 1)
	{
		push @place, qq{SELECT count(*) FROM generate_series($s, $n - 1, $sessions) i,
  LATERAL engine.place_order($first + i % $users, 'BTC_USDT',
                             CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END, 0.001,
                             CASE WHEN i % 2 = 0 THEN 100 + (i / 2) % 10000 * 0.01
                                  ELSE 300 + (i / 2) % 10000 * 0.01 END) r
  WHERE r.status = 'new'};
	}
	@got = parallel_sql($node, @place);
	my $placed = 0;
	$placed += $_ for @got;
	die "build_book: $placed of $n orders rest" unless $placed == $n;
	return 2 * $users + $n;
}

# Copy $src's engine.command_log into a fresh node (no snapshot there) and
# wait until its worker has replayed all of it from seq 1.  Returns the node
# and its status.  The source must keep its whole log (engine.keep_log = on).
sub replay_from_scratch
{
	my ($src, $name) = @_;
	my $dir  = PostgreSQL::Test::Utils::tempdir();
	my $file = "$dir/command_log.copy";
	my $max  = $src->safe_psql($DB, 'SELECT max(seq) FROM engine.command_log');
	$src->safe_psql($DB, "COPY engine.command_log TO '$file'");
	my $dst = new_node($name);
	$dst->safe_psql($DB, "COPY engine.command_log FROM '$file'");
	# The worker sees that the log no longer ends at its seq, exits, and the
	# next worker replays the log.
	my $deadline = time + 120;
	while (time < $deadline)
	{
		my ($ret, $out) = $dst->psql($DB,
			"SELECT state FROM engine.status() WHERE last_seq = $max AND state IN ('ready', 'failed')");
		last if $ret == 0 && $out ne '';
		usleep(100_000);
	}
	return ($dst, status($dst));
}

# ------------------------------------------------------------ load rounds

# Concurrent load that is renewed when it runs out: $load->ensure starts a
# new generation of clients when none is running, so a disruption always
# happens under load however fast the clients were.
sub new_load
{
	my ($node, %opt) = @_;
	return bless {
		node    => $node,
		clients => $opt{clients} // 8,
		n       => $opt{n} // 300,
		pace    => $opt{pace} // 0.01,
		users   => $opt{users},
		wusers  => $opt{withdraw_users},
		gen     => 0,
		h       => undef,
		cmds    => [],
	}, 'SnapNode::Load';
}

package SnapNode::Load;

use Time::HiRes qw(usleep time);

sub ensure
{
	my ($self) = @_;
	return if $self->{h} && EngineNode::clients_running($self->{h}) > 0;
	$self->collect;
	my $g = $self->{gen}++;
	my @sets = map {
		EngineNode::gen_commands(client => $_, n => $self->{n}, users => $self->{users},
			withdraw_user => $self->{wusers}[$_], prefix => "g${g}x", pace => $self->{pace})
	} 0 .. $self->{clients} - 1;
	$self->{h} = EngineNode::start_clients($self->{node}, \@sets, timeout => 240);
	return;
}

sub running
{
	my ($self) = @_;
	return $self->{h} ? EngineNode::clients_running($self->{h}) : 0;
}

# Wait for the running clients and keep their commands.
sub collect
{
	my ($self) = @_;
	return unless $self->{h};
	push @{ $self->{cmds} }, @{ EngineNode::wait_clients($self->{h}) };
	$self->{h} = undef;
	return;
}

# Wait until the log has grown by $delta records (renewing the load as
# needed).  Returns the seq reached.
sub progress
{
	my ($self, $delta) = @_;
	my $node = $self->{node};
	my $from;
	my $deadline = time + 120;
	while (time < $deadline)
	{
		$self->ensure;
		my ($ret, $out) = $node->psql($SnapNode::DB,
			"SELECT last_seq FROM engine.status() WHERE state = 'ready'");
		if ($ret == 0 && $out ne '')
		{
			$from //= $out;
			return $out if $out >= $from + $delta;
		}
		usleep(20_000);
	}
	die "load made no progress";
}

sub commands { return $_[0]->{cmds} }

package SnapNode;

# ---------------------------------------------------------------- checks

# After crashes under load: the log is gapless from 1, status agrees,
# verify() is all ok, every acknowledged command is in the history with the
# outcome its client got (EngineNode::check_acks), every acknowledged
# deposit/withdrawal is remembered (its ref answers duplicate), those whose
# outcome is unknown are settled by retrying them with their ref, per-asset
# totals over users 0..$max_user equal deposits - withdrawals exactly, and
# the digest equals the digest of a from-scratch replay of the same log in a
# fresh node (named $replay_name).  %$total: units deposited minus withdrawn
# before the load; updated with the load's deposits and withdrawals.
sub check_after_crashes
{
	my ($node, $cmds, $total, $max_user, $label, $replay_name) = @_;

	my ($n, $min, $max) = EngineNode::log_bounds($node);
	is("$min $max", "1 $n", "$label: command_log is gapless from seq 1");
	is(last_seq($node), $max, "$label: status().last_seq is the last log seq");
	is(EngineNode::verify_failures($node), '', "$label: verify() all ok");

	my @acked = grep { $_->{state} eq 'ack' } @$cmds;
	note(sprintf('%s: %d commands, %d acknowledged, %d outcome unknown, %d not sent',
			$label, scalar(@$cmds), scalar(@acked),
			scalar(grep { $_->{state} eq 'unknown' } @$cmds),
			scalar(grep { $_->{state} eq 'unsent' } @$cmds)));
	cmp_ok(scalar(@acked), '>', 0, "$label: some commands were acknowledged");

	EngineNode::load_acks($node, $cmds);
	EngineNode::check_acks($node, $label, 1);

	my @funds = grep { $_->{kind} eq 'deposit' || $_->{kind} eq 'withdraw' } @$cmds;
	my @fa = grep { $_->{state} eq 'ack' } @funds;
	my @fu = grep { $_->{state} ne 'ack' } @funds;
	my $fsql = sub {
		join("\n", map {
			"SELECT status FROM engine.$_->{kind}($_->{user}, '$_->{asset}', "
			  . EngineNode::dec($_->{amount}, $EngineNode::DECIMALS{ $_->{asset} })
			  . ", '$_->{ref}');"
		} @_);
	};
	is(scalar(grep { $_->{status} ne 'ok' } @fa), 0,
		"$label: every acknowledged deposit/withdrawal was ok");
	if (@fa)
	{
		my @st = split /\n/, $node->safe_psql($DB, $fsql->(@fa));
		is(scalar(grep { $_ eq 'duplicate' } @st), scalar(@fa),
			"$label: every acknowledged deposit/withdrawal is durable (its ref answers duplicate)");
	}
	if (@fu)
	{
		my @st = split /\n/, $node->safe_psql($DB, $fsql->(@fu));
		is(scalar(grep { $_ eq 'ok' || $_ eq 'duplicate' } @st), scalar(@fu),
			"$label: unanswered deposits/withdrawals settle by retrying their ref");
	}
	my %t = %$total;
	$t{ $_->{asset} } += $_->{kind} eq 'deposit' ? $_->{amount} : -$_->{amount} for @funds;
	is_deeply(EngineNode::asset_totals($node, $max_user), EngineNode::expected_totals($node, \%t),
		"$label: per-asset sum of available + frozen (fee account included) = deposits - withdrawals");
	%$total = %t;

	my $d = digest($node);
	($n, $min, $max) = EngineNode::log_bounds($node);
	my ($replay, $rs) = replay_from_scratch($node, $replay_name // 'replay');
	is("$rs->{state} $rs->{last_seq}", "ready $max", "$label: fresh node replayed the whole log");
	is("$rs->{snapshot_seq} $rs->{replayed}", "0 $max",
		"$label: the fresh node replayed from seq 1 without a snapshot");
	is(digest($replay), $d, "$label: digest equals the digest of a from-scratch replay of the log");
	is(EngineNode::verify_failures($replay), '', "$label: verify() ok in the replayed node");
	$replay->stop;
	return;
}

1;
