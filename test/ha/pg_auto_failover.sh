#!/usr/bin/env bash
# pg_auto_failover.sh — the engine under a real HA manager: a
# pg_auto_failover monitor and two nodes on this machine (ports picked
# free), clients on a multi-host connection string, the primary killed under
# load, the manager fails over, the clients carry on; then the old primary
# rejoins as a standby and its follower reaches the new leader's digest.
#
# Run by test/scripts/test_ha.sh (`make test-ha`) as an unprivileged user.
# Needs pg_autoctl (Debian: pg-auto-failover-cli) and the pgautofailover
# extension in MONITOR_BINDIR's installation (postgresql-15-auto-failover);
# the nodes run NODE_BINDIR's PostgreSQL with the engine installed.
#
# Prints what it measured, one "ok"/"not ok" line per check, and ends with
# "N passed, N failed".  Exits non-zero on any failure.
#
#   HA_CLIENTS (4)  HA_ACKS_BEFORE (300: acks before the kill)
#   HA_ACKS_AFTER (40: acks per client at least on the new primary)
set -uo pipefail

NODE_BINDIR=${NODE_BINDIR:?NODE_BINDIR: bin directory of the nodes\' PostgreSQL}
MONITOR_BINDIR=${MONITOR_BINDIR:-/usr/lib/postgresql/15/bin}
CLIENTS=${HA_CLIENTS:-4}
ACKS_BEFORE=${HA_ACKS_BEFORE:-300}
ACKS_AFTER=${HA_ACKS_AFTER:-40}
DEADLINE_S=${HA_DEADLINE_S:-600}

D=$(mktemp -d /tmp/engine-ha.XXXXXX)
export XDG_CONFIG_HOME=$D/config XDG_DATA_HOME=$D/data XDG_RUNTIME_DIR=$D/run
mkdir -p "$XDG_RUNTIME_DIR"
export PATH="$NODE_BINDIR:$PATH"
passed=0
failed=0
started=$(date +%s)

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { local what=$1; shift; if "$@" >/dev/null; then ok "$what"; else not_ok "$what"; fi; }
log() { echo "# $(date +%T) $*"; }
now_ms() { date +%s%3N; }
free_port() {
	perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0) or die; print $s->sockport'
}
PM=$(free_port); P1=$(free_port); P2=$(free_port)
while [ "$P1" = "$PM" ] || [ "$P2" = "$PM" ] || [ "$P2" = "$P1" ]; do P2=$(free_port); P1=$(free_port); done
MONITOR_URI="postgres://autoctl_node@localhost:$PM/pg_auto_failover?sslmode=disable"
CONN="host=localhost,localhost port=$P1,$P2 dbname=postgres target_session_attrs=read-write connect_timeout=2"
sql() { psql -XAtq -v ON_ERROR_STOP=1 -h localhost -p "$1" -d "${3:-postgres}" -c "$2"; }

declare -A KEEPER
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for n in node2 node1 monitor; do
		[ -d "$D/$n" ] && timeout 30 pg_autoctl stop --pgdata "$D/$n" >/dev/null 2>&1
	done
	for p in "${KEEPER[@]}"; do kill "$p" 2>/dev/null; done
	sleep 1
	for n in node2 node1 monitor; do
		[ -f "$D/$n/postmaster.pid" ] && "$NODE_BINDIR/pg_ctl" -D "$D/$n" -m immediate stop >/dev/null 2>&1
	done
	[ "${HA_KEEP:-}" ] || rm -rf "$D"
}
trap cleanup EXIT

# pg_autoctl run for one data directory, in its own session.
run_keeper() {
	local name=$1
	setsid pg_autoctl run --pgdata "$D/$name" >>"$D/$name.log" 2>&1 &
	KEEPER[$name]=$!
}

# until CMD succeeds, at most $1 seconds
wait_for() {
	local secs=$1; shift
	local end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
node_state() {
	pg_autoctl show state --pgdata "$D/monitor" 2>/dev/null |
		awk -F'|' -v n="$1" '{ for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i) } $1 == n { print $(NF-1) "/" $NF }'
}
is_state() { [ "$(node_state "$1")" = "$2" ]; }

log "monitor :$PM, node1 :$P1, node2 :$P2, in $D"

# ------------------------------------------------------------------ monitor
"$MONITOR_BINDIR/initdb" -D "$D/monitor" -A trust >/dev/null || exit 1
cat >>"$D/monitor/postgresql.conf" <<EOC
unix_socket_directories = '$D'
# fail over quickly: health checks every second, a node is unhealthy after
# 2 s without a report and a failed check, an unreachable primary is given
# 2 s to demote itself
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 2000
pgautofailover.primary_demote_timeout = 2000
EOC
pg_autoctl create monitor --pgctl "$MONITOR_BINDIR/pg_ctl" --pgdata "$D/monitor" --pgport "$PM" \
	--hostname localhost --auth trust --no-ssl >"$D/monitor.log" 2>&1 || { cat "$D/monitor.log"; exit 1; }
run_keeper monitor
wait_for 60 sql "$PM" "SELECT 1" pg_auto_failover || { echo "monitor did not start"; exit 1; }

# ------------------------------------------------------------------ nodes
engine_conf() {
	cat <<EOC
unix_socket_directories = '$D'
shared_preload_libraries = 'engine'
engine.database = 'postgres'
engine.synchronous_commit = 'on'
engine.max_orders = 100000
engine.max_accounts = 10000
engine.keep_log = on
EOC
}
create_node() {
	local name=$1 port=$2
	pg_autoctl create postgres --pgctl "$NODE_BINDIR/pg_ctl" --pgdata "$D/$name" --pgport "$port" \
		--pghost localhost --hostname localhost --auth trust --no-ssl --dbname postgres \
		--name "$name" --monitor "$MONITOR_URI" >>"$D/$name.log" 2>&1 || { tail -30 "$D/$name.log"; exit 1; }
	pg_autoctl config set --pgdata "$D/$name" timeout.prepare_promotion_walreceiver 1 >/dev/null
	pg_autoctl config set --pgdata "$D/$name" timeout.prepare_promotion_catchup 10 >/dev/null
	run_keeper "$name"
}

"$NODE_BINDIR/initdb" -D "$D/node1" -A trust >/dev/null || exit 1
engine_conf >>"$D/node1/postgresql.conf"
create_node node1 "$P1"
wait_for 120 is_state node1 "single/single" || { echo "node1 is not primary"; pg_autoctl show state --pgdata "$D/monitor"; exit 1; }
wait_for 60 sql "$P1" "SELECT 1" || { echo "node1 does not accept connections"; exit 1; }
sql "$P1" "CREATE EXTENSION engine" >/dev/null || exit 1
wait_for 60 sql "$P1" "SELECT 1 WHERE engine.ready()" || { echo "engine not ready on node1"; exit 1; }
USERS=20
sql "$P1" "SELECT engine.create_asset('BTC', 8); SELECT engine.create_asset('USDT', 6);
SELECT engine.create_symbol('BTC_USDT', 'BTC', 'USDT', 0.01, 0.0001, 0.001, 0.002);
SELECT count(*) FROM generate_series(1, $USERS) u, engine.deposit(u, 'BTC', 100, 'ha-b' || u) b;
SELECT count(*) FROM generate_series(1, $USERS) u, engine.deposit(u, 'USDT', 10000000, 'ha-u' || u) q;" >/dev/null || exit 1

# node2: pg_autoctl clones node1 (pg_basebackup: the engine settings come along)
create_node node2 "$P2"
wait_for 180 is_state node2 "secondary/secondary" || { echo "node2 is not secondary"; pg_autoctl show state --pgdata "$D/monitor"; exit 1; }
wait_for 120 is_state node1 "primary/primary" || { echo "node1 is not primary"; exit 1; }
sync_standby() {
	[ -n "$(sql "$P1" 'SHOW synchronous_standby_names')" ] &&
		sql "$P1" "SELECT 1/count(*)::int FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')"
}
wait_for 60 sync_standby || { echo "node2 is not a synchronous standby"; exit 1; }
check "node2 is node1's synchronous standby (synchronous_standby_names = $(sql "$P1" 'SHOW synchronous_standby_names'))" sync_standby
wait_for 60 sql "$P2" "SELECT 1 FROM engine.status() WHERE state = 'ready' AND role = 'follower'"
check "node2's engine is a ready follower" sql "$P2" "SELECT 1/(count(*))::int FROM engine.status() WHERE state = 'ready' AND role = 'follower'"

# ------------------------------------------------------------------ load
# Each client runs its orders through one psql session on the multi-host
# string; when the session dies (the primary was killed) the order in
# flight has no answer and the client opens a new session with the next
# order.  Every answered order is logged "ms <tab> ack <tab> coid <tab> user
# <tab> order_id|status <tab> port" (ms: the server's clock when it
# answered; port: which node answered).  From
# order BARRIER_AT on, a client waits at a barrier that the test opens only
# on the new primary: so the clients are still running when the primary is
# killed, whatever the speed of the machine.
ORDERS=${HA_ORDERS:-$((ACKS_BEFORE / CLIENTS + ACKS_AFTER + 60))}
BARRIER_AT=$((ACKS_BEFORE / CLIENTS + 30))
sql "$P1" "CREATE TABLE public.ha_barrier (name text PRIMARY KEY)" >/dev/null
order_sql() {
	local c=$1 i=$2 u side price
	u=$((1 + (c * 7 + i) % USERS))
	if [ $((i % 2)) -eq 0 ]; then side=buy; price=$((29900 + i % 150)); else side=sell; price=$((30000 + i % 150)); fi
	[ "$i" -eq "$BARRIER_AT" ] && echo "DO \$\$ BEGIN WHILE NOT EXISTS (SELECT FROM public.ha_barrier) LOOP PERFORM pg_sleep(0.02); END LOOP; END \$\$;"
	echo "SELECT 'T$i', (extract(epoch FROM clock_timestamp()) * 1000)::bigint, '$u', r.order_id || '|' || r.status, current_setting('port') FROM engine.place_order($u, 'BTC_USDT', '$side', 0.001, $price, client_order_id => 'ha$c-$i') r;"
}
client() {
	local c=$1 i=1 k
	while [ "$i" -le "$ORDERS" ] && [ "$(date +%s)" -lt $((started + DEADLINE_S)) ]; do
		{ echo "SELECT 'C';"; for k in $(seq "$i" "$ORDERS"); do order_sql "$c" "$k"; done; } >"$D/client$c.sql"
		psql -XAtq -F $'\t' -v ON_ERROR_STOP=1 -d "$CONN" -f "$D/client$c.sql" >"$D/client$c.part" 2>"$D/client$c.err"
		local last=$((i - 1))
		while IFS=$'\t' read -r t ms u res port; do
			[ "$t" = C ] && continue
			k=${t#T}
			printf '%s\tack\tha%s-%s\t%s\t%s\t%s\n' "$ms" "$c" "$k" "$u" "$res" "$port" >>"$D/client$c.out"
			last=$k
		done <"$D/client$c.part"
		i=$((last + 1))
		if [ "$i" -le "$ORDERS" ]; then
			if grep -q "^C$" "$D/client$c.part"; then
				# connected, then the session broke: order i was in flight
				printf '%s\terr\tha%s-%s\t\t%s\n' "$(now_ms)" "$c" "$i" "$(tr '\n\t' '  ' <"$D/client$c.err")" >>"$D/client$c.out"
				i=$((i + 1))
			fi
			sleep 0.1
		fi
	done
	: >>"$D/client$c.out"
}
acks() { cat "$D"/client*.out 2>/dev/null | awk -F'\t' -v t="${1:-0}" '$2 == "ack" && $1 > t' | wc -l; }
base_seq=$(sql "$P1" "SELECT last_seq FROM engine.status()")
for c in $(seq 1 "$CLIENTS"); do client "$c" & pids+=($!); done
wait_for 300 sql "$P1" "SELECT 1/(last_seq >= $base_seq + $ACKS_BEFORE)::int FROM engine.status()" ||
	{ echo "the load did not get going"; exit 1; }

# ------------------------------------------------------------------ kill the primary
pm_pid=$(head -1 "$D/node1/postmaster.pid")
kill_ms=$(now_ms)
kill -KILL "${KEEPER[node1]}" 2>/dev/null
pkill -KILL -s "${KEEPER[node1]}" 2>/dev/null     # the keeper's session: its services
kill -KILL "$pm_pid"
log "killed node1 (keeper and postmaster $pm_pid) under load"

# alone, the new primary is "wait_primary" (it waits for a standby; commits are not held)
promoted() { is_state node2 "primary/primary" || is_state node2 "wait_primary/wait_primary"; }
wait_for 180 promoted || { echo "no failover"; pg_autoctl show state --pgdata "$D/monitor"; }
promoted_ms=$(now_ms)
check "pg_auto_failover promoted node2 ($(node_state node2))" sql "$P2" "SELECT 1/(NOT pg_is_in_recovery())::int"
enough_after() {
	for c in $(seq 1 "$CLIENTS"); do
		[ "$(awk -F'\t' -v p="$P2" '$2 == "ack" && $6 == p' "$D/client$c.out" | wc -l)" -ge "$ACKS_AFTER" ] || return 1
	done
}
sql "$P2" "INSERT INTO public.ha_barrier VALUES ('failed over')" >/dev/null
wait_for 300 enough_after
wait "${pids[@]}"

first_ms=$(cat "$D"/client*.out | awk -F'\t' -v p="$P2" '$2 == "ack" && $6 == p { print $1 }' | sort -n | head -1)
total_acks=$(acks)
after=$(cat "$D"/client*.out | awk -F'\t' -v p="$P2" '$2 == "ack" && $6 == p' | wc -l)
lost_before=$(cat "$D"/client*.out | awk -F'\t' -v p="$P1" -v t="$kill_ms" '$2 == "ack" && $6 == p && $1 > t' | wc -l)
errors=$(cat "$D"/client*.out | awk -F'\t' '$2 == "err"' | wc -l)
log "kill -> node2 primary in the monitor: $((promoted_ms - kill_ms)) ms (as polled)"
log "kill -> first acknowledged order on the new primary: $((first_ms - kill_ms)) ms"
log "acknowledged: $total_acks orders ($after by the new primary; $lost_before by node1 in the instant between the kill's timestamp and its death); $errors orders in flight at the kill, outcome unknown to their clients"
check "clients carried on on the new primary ($after acknowledged there)" test "$after" -ge $((CLIENTS * ACKS_AFTER))
echo "FAILOVER_MS=$((first_ms - kill_ms))"

# ------------------------------------------------------------------ nothing lost
cat "$D"/client*.out | awk -F'\t' '$2 == "ack" { split($5, r, "|"); print $3 "\t" $4 "\t" r[1] "\t" r[2] }' >"$D/acks.tsv"
sql "$P2" "CREATE TABLE public.ha_acks (coid text, user_id bigint, order_id bigint, status text)"
psql -XAtq -h localhost -p "$P2" -d postgres -c "\\copy public.ha_acks FROM '$D/acks.tsv'"
check "every acknowledged order is on the new primary with the outcome its client was told" \
	test "$(sql "$P2" "SELECT count(*) FROM public.ha_acks a WHERE NOT EXISTS (
  SELECT 1 FROM engine.order_events_v e WHERE e.order_id = a.order_id AND e.user_id = a.user_id
     AND e.client_order_id = a.coid AND e.event = a.status
     AND e.seq = (SELECT min(seq) FROM engine.order_events f WHERE f.order_id = a.order_id))")" = 0
check "no order id was acknowledged twice" \
	test "$(sql "$P2" "SELECT count(*) FROM (SELECT order_id FROM public.ha_acks GROUP BY 1 HAVING count(*) > 1) x")" = 0
check "the command log is gapless" \
	test "$(sql "$P2" "SELECT max(seq) - min(seq) + 1 = count(*) FROM engine.command_log")" = t
check "engine.verify() all ok" test "$(sql "$P2" "SELECT count(*) FROM engine.verify() WHERE NOT ok")" = 0
check "per-asset totals are the deposits" \
	test "$(sql "$P2" "SELECT string_agg(asset || '=' || t, ' ' ORDER BY asset) FROM (SELECT b.asset, sum(b.available + b.frozen) t FROM generate_series(0, $USERS) u, engine.balances(u) b GROUP BY 1) x")" \
	= "BTC=$((USERS * 100)).00000000 USDT=$((USERS * 10000000)).000000"

# ------------------------------------------------------------------ the old primary rejoins
run_keeper node1
wait_for 240 is_state node1 "secondary/secondary" || { echo "node1 did not rejoin"; pg_autoctl show state --pgdata "$D/monitor"; }
check "node1 rejoined as a secondary ($(node_state node1))" is_state node1 "secondary/secondary"
seq2=$(sql "$P2" "SELECT last_seq FROM engine.status()")
wait_for 120 sql "$P1" "SELECT 1/(applied_seq >= $seq2 AND role = 'follower' AND state = 'ready')::int FROM engine.status()"
check "node1's follower reached seq $seq2 with node2's digest" \
	test "$(sql "$P1" "SELECT engine.state_digest()")" = "$(sql "$P2" "SELECT engine.state_digest()")"

pg_autoctl show state --pgdata "$D/monitor" | sed 's/^/# /'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
