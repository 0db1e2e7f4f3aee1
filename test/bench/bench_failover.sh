#!/usr/bin/env bash
# bench_failover.sh — `make bench-failover`: a follower with a big book,
# and what its promotion costs.
#
# On a throwaway primary and a streaming hot standby (temp dir, removed
# afterwards; fsync = on, synchronous_commit = on, engine.keep_log = off,
# automatic snapshots off):
#   1. the standby is cloned right after CREATE EXTENSION, so its follower
#      applies everything the build writes;
#   2. fund BENCH_ACCOUNTS accounts and rest BENCH_ORDERS orders from
#      BENCH_SESSIONS parallel sessions (test/bench/recovery_workload.sql);
#      the follower's lag (status().lag_records, lag_ms) is sampled every
#      0.5 s during the build;
#   3. the follower catches up (same seq and digest as the primary);
#   4. the primary is stopped (-m immediate, a crash), and in one session on
#      the standby: pg_promote(wait => false), then poll engine.status()
#      every millisecond until role = 'leader' and state = 'ready': that is
#      "promote -> ready" (it includes PostgreSQL's own promotion: the end of
#      WAL replay and the end-of-recovery record); status().promote_ms is
#      the follower's own part (noticing the promotion to leading);
#   5. one order on the new leader, its digest checked against the old
#      primary's.
#
# Environment: BENCH_ORDERS (1000000), BENCH_ACCOUNTS (100000),
# BENCH_SESSIONS (16), BENCH_BUILD_SECONDS (900), BENCH_KEEP=1 keeps the
# clusters' directory.
set -euo pipefail

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
BENCH_ORDERS=${BENCH_ORDERS:-1000000}
BENCH_ACCOUNTS=${BENCH_ACCOUNTS:-100000}
BENCH_SESSIONS=${BENCH_SESSIONS:-16}
BENCH_BUILD_SECONDS=${BENCH_BUILD_SECONDS:-900}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_USER=engine_bench
ENV_VARS="BENCH_ORDERS BENCH_ACCOUNTS BENCH_SESSIONS BENCH_BUILD_SECONDS BENCH_KEEP PG_CONFIG"

# ------------------------------------------------------------------ outer
if [[ "${1:-}" != "--inner" ]]; then
	ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	if [[ ! -f "$("$PG_CONFIG" --pkglibdir)/engine.so" ]]; then
		echo "bench-failover: engine is not installed; run make install first" >&2
		exit 1
	fi
	TMP=$(mktemp -d /tmp/engine-bench-failover.XXXXXX)
	[[ $BENCH_KEEP == 1 ]] || trap 'rm -rf "$TMP"' EXIT
	cp "${BASH_SOURCE[0]}" "$TMP/bench_failover.sh"
	cp "$ROOT/test/bench/recovery_workload.sql" "$TMP/"
	envs=""
	for v in $ENV_VARS; do envs+="$v='${!v}' "; done
	status=0
	if [[ $EUID -eq 0 ]]; then
		id "$BENCH_USER" >/dev/null 2>&1 ||
			useradd --system --no-create-home --shell /bin/bash "$BENCH_USER"
		chown -R "$BENCH_USER" "$TMP"
		su "$BENCH_USER" -s /bin/bash -c "cd '$TMP' && $envs bash '$TMP/bench_failover.sh' --inner '$TMP'" ||
			status=$?
	else
		(cd "$TMP" && bash "$TMP/bench_failover.sh" --inner "$TMP") || status=$?
	fi
	exit $status
fi

# ------------------------------------------------------------------ inner
TMP=$2
PRIMARY=$TMP/primary
STANDBY=$TMP/standby
PPORT=54333
SPORT=54334
export PGHOST=$TMP PGDATABASE=postgres
export PATH=$PGBIN:$PATH

stop_all() {
	pg_ctl -D "$STANDBY" -m fast -w stop >/dev/null 2>&1 || true
	pg_ctl -D "$PRIMARY" -m fast -w stop >/dev/null 2>&1 || true
}
trap stop_all EXIT

say() { echo "bench-failover: $*" >&2; }
P() { psql -X -q -A -t -v ON_ERROR_STOP=1 -p "$PPORT" "$@"; }
S() { psql -X -q -A -t -v ON_ERROR_STOP=1 -p "$SPORT" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }'; }

max_orders=$(( BENCH_ORDERS + BENCH_ORDERS / 10 ))
max_accounts=$(( BENCH_ACCOUNTS + BENCH_ACCOUNTS / 10 ))
initdb -D "$PRIMARY" -A trust >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log" >&2; exit 1; }
cat >>"$PRIMARY/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$TMP'
shared_preload_libraries = 'engine'
engine.database = 'postgres'
engine.max_orders = $max_orders
engine.max_accounts = $max_accounts
engine.snapshot_every = 2000000000
engine.snapshot_interval = '1d'
engine.keep_log = off
fsync = on
synchronous_commit = on
max_connections = 100
shared_buffers = 1GB
max_wal_size = 16GB
checkpoint_timeout = 1h
wal_keep_size = '4GB'
hot_standby_feedback = on
EOF
pg_ctl -D "$PRIMARY" -o "-p $PPORT" -l "$TMP/primary.log" -w start >/dev/null || { cat "$TMP/primary.log" >&2; exit 1; }
P -c 'CREATE EXTENSION engine' >/dev/null
for _ in $(seq 1 3000); do [[ $(P -c 'SELECT engine.ready()') == t ]] && break; sleep 0.02; done
P -f "$TMP/recovery_workload.sql" >/dev/null
P >/dev/null <<'EOF'
SELECT engine.create_asset('BTC', 8);
SELECT engine.create_asset('ETH', 8);
SELECT engine.create_asset('USDT', 6);
SELECT engine.create_symbol('BTC_USDT', 'BTC', 'USDT', 0.01, 0.0001, 0.001, 0.002);
SELECT engine.create_symbol('ETH_USDT', 'ETH', 'USDT', 0.01, 0.0001, 0.001, 0.002);
CREATE TABLE bench_flag (done boolean);
EOF

pg_basebackup -p "$PPORT" -D "$STANDBY" -R --checkpoint=fast >/dev/null
pg_ctl -D "$STANDBY" -o "-p $SPORT" -l "$TMP/standby.log" -w start >/dev/null || { cat "$TMP/standby.log" >&2; exit 1; }
for _ in $(seq 1 3000); do [[ $(S -c "SELECT state = 'ready' AND role = 'follower' FROM engine.status()") == t ]] && break; sleep 0.02; done

parallel() {
	local sql=$1 pids=() s
	for (( s = 0; s < BENCH_SESSIONS; s++ )); do
		P -c "${sql//:s/$s}" >"$TMP/par.$s" 2>&1 &
		pids+=($!)
	done
	local fail=0
	for p in "${pids[@]}"; do wait "$p" || fail=1; done
	if (( fail )); then cat "$TMP"/par.* >&2; exit 1; fi
	cat "$TMP"/par.* | awk '{ s += $1 } END { print s + 0 }'
	rm -f "$TMP"/par.*
}

# lag samples during the build: "lag_records lag_ms"
( while :; do S -c "SELECT lag_records || ' ' || lag_ms FROM engine.status()" 2>/dev/null; sleep 0.5; done ) >"$TMP/lag.txt" &
SAMPLER=$!
( while :; do sleep 5; P -c 'ANALYZE engine.client_keys' >/dev/null 2>&1 || true; done ) &
ANALYZER=$!
trap 'kill $SAMPLER $ANALYZER 2>/dev/null || true; stop_all' EXIT

load=$(cut -d' ' -f1 /proc/loadavg)
say "$(nproc) CPUs, load average $load; building $BENCH_ACCOUNTS accounts and $BENCH_ORDERS resting orders with $BENCH_SESSIONS sessions"
deadline=$(P -c "SELECT now() + interval '$BENCH_BUILD_SECONDS seconds'")
t0=$(now)
deposits=$(parallel "SELECT bench_fund(:s, $BENCH_SESSIONS, $BENCH_ACCOUNTS, '$deadline')")
rested=$(parallel "SELECT bench_build(:s, $BENCH_SESSIONS, $BENCH_ORDERS, $BENCH_ACCOUNTS, '$deadline')")
build_s=$(elapsed "$t0")
kill "$ANALYZER" 2>/dev/null || true
say "  $deposits deposits and $rested orders in ${build_s}s ($(rate $((deposits + rested)) "$build_s") commands/s)"
t1=$(now)
last=$(P -c "SELECT last_seq FROM engine.status()")
until [[ $(S -c "SELECT applied_seq >= $last FROM engine.status()") == t ]]; do sleep 0.05; done
catchup_s=$(elapsed "$t1")
kill "$SAMPLER" 2>/dev/null || true
lagstats=$(sort -n -k1,1 "$TMP/lag.txt" | awk 'NF == 2 { n++; r[n] = $1 } END { if (n == 0) { print "- -"; exit } printf "%d %d", r[int((n + 1) / 2)], r[n] }')
lagms=$(sort -n -k2,2 "$TMP/lag.txt" | awk 'NF == 2 { n++; m[n] = $2 } END { if (n == 0) { print "- -"; exit } printf "%d %d", m[int((n + 1) / 2)], m[n] }')
read -r lag_r_med lag_r_max <<<"$lagstats"
read -r lag_ms_med lag_ms_max <<<"$lagms"
resting=$(S -c "SELECT resting_orders FROM engine.status()")
pdigest=$(P -c "SELECT engine.state_digest()")
sdigest=$(S -c "SELECT engine.state_digest()")
[[ $pdigest == "$sdigest" ]] || { say "digest differs: primary $pdigest, follower $sdigest"; exit 1; }

pg_ctl -D "$PRIMARY" -m immediate -w stop >/dev/null
load=$(cut -d' ' -f1 /proc/loadavg)
promote_ms=$(S 2>&1 <<'EOF' | sed -n 's/.*ms=//p'
DO $$
DECLARE t0 timestamptz := clock_timestamp(); ok boolean;
BEGIN
	PERFORM pg_promote(wait => false);
	LOOP
		SELECT role = 'leader' AND state = 'ready' INTO ok FROM engine.status();
		EXIT WHEN ok;
		PERFORM pg_sleep(0.001);
	END LOOP;
	RAISE NOTICE 'ms=%', round(extract(epoch FROM clock_timestamp() - t0) * 1000, 1);
END $$;
EOF
)
inner_ms=$(S -c "SELECT promote_ms FROM engine.status()")
starts=$(S -c "SELECT worker_starts FROM engine.status()")
S -c "SELECT status FROM engine.deposit(1, 'USDT', 1, 'after-promotion')" >/dev/null

cat <<EOF

engine bench-failover: PostgreSQL $(pg_config --version | awk '{print $2}'), $(nproc) CPUs
  resting orders on the follower       $resting ($rested placed, $deposits deposits, in ${build_s} s)
  follower lag during the build        median $lag_r_med records / $lag_ms_med ms, max $lag_r_max records / $lag_ms_max ms (sampled every 0.5 s)
  follower caught up after the build   ${catchup_s} s, digest equal to the primary's
  promote -> leader ready              ${promote_ms} ms (load average $load); the follower's own part ${inner_ms} ms; worker starts $starts (no rebuild)
  after promotion                      the new leader accepted a deposit
EOF
