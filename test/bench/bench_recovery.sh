#!/usr/bin/env bash
# bench_recovery.sh — `make bench-recovery`: what a snapshot and a recovery
# cost with a big book.
#
# On a throwaway cluster (temp dir, removed afterwards; fsync = on,
# synchronous_commit = on, engine.keep_log = off, automatic snapshots off so
# that the only snapshots are the ones taken here):
#   1. fund BENCH_ACCOUNTS accounts (USDT, BTC, ETH) and rest BENCH_ORDERS
#      orders on two symbols (BTC_USDT, ETH_USDT; nothing crosses), from
#      BENCH_SESSIONS parallel sessions calling the SQL API
#      (test/bench/recovery_workload.sql);
#   2. engine.snapshot(): its wall clock, status().snapshot_ms (the time the
#      worker did not serve) and snapshot_rows, rows/s, the size of the
#      snapshot tables on disk, and the longest single command seen by a
#      probe session that keeps depositing while the snapshot is written;
#   3. BENCH_TAIL more commands (places, cancels, amends, crossing iocs);
#   4. CHECKPOINT (as the periodic checkpointer would have done), kill -9 of
#      the engine worker (PostgreSQL crash-restart: WAL redo, then the
#      worker loads the snapshot and replays the tail), timed: PostgreSQL's
#      own crash recovery, worker start -> ready, snapshot load, replay rate,
#      status().recovery_ms; then the digest and verify() are checked against
#      the state before the crash.
# The load phases stop at their deadlines (BENCH_BUILD_SECONDS for funding +
# book, BENCH_TAIL_SECONDS for the tail) and the table says what was reached.
#
# During the load phases a helper runs ANALYZE engine.client_keys every 5 s:
# the worker keeps its duplicate-lookup plan for ever, and a plan made while
# client_keys was small scans the whole table for every batch that carries a
# client_order_id or ref, so without fresh statistics (autovacuum's analyze
# comes late, if at all, while the table grows) the load slows down as
# client_keys grows.  Only the load phases are affected; the snapshot and
# recovery timings are not.
#
# Needs the extension installed (`make install`; done here when run as root
# and it is missing).  initdb refuses root, so as root the cluster runs as
# the user `engine_bench` (created if absent).
#
# Environment: BENCH_ORDERS (default 1000000), BENCH_ACCOUNTS (100000),
# BENCH_TAIL (1000000), BENCH_SESSIONS (16), BENCH_BUILD_SECONDS (420),
# BENCH_TAIL_SECONDS (300), BENCH_KEEP=1 keeps the cluster directory.
set -euo pipefail

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
BENCH_ORDERS=${BENCH_ORDERS:-1000000}
BENCH_ACCOUNTS=${BENCH_ACCOUNTS:-100000}
BENCH_TAIL=${BENCH_TAIL:-1000000}
BENCH_SESSIONS=${BENCH_SESSIONS:-16}
BENCH_BUILD_SECONDS=${BENCH_BUILD_SECONDS:-420}
BENCH_TAIL_SECONDS=${BENCH_TAIL_SECONDS:-300}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_USER=engine_bench
ENV_VARS="BENCH_ORDERS BENCH_ACCOUNTS BENCH_TAIL BENCH_SESSIONS BENCH_BUILD_SECONDS BENCH_TAIL_SECONDS BENCH_KEEP PG_CONFIG"

# ------------------------------------------------------------------ outer
if [[ "${1:-}" != "--inner" ]]; then
	ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	if [[ ! -f "$("$PG_CONFIG" --pkglibdir)/engine.so" ||
	      ! -f "$("$PG_CONFIG" --sharedir)/extension/engine.control" ]]; then
		if [[ $EUID -eq 0 ]]; then
			echo "bench-recovery: engine is not installed; running make install" >&2
			make -C "$ROOT" install >/dev/null
		else
			echo "bench-recovery: engine is not installed; run 'make && sudo make install' first" >&2
			exit 1
		fi
	fi
	TMP=$(mktemp -d /tmp/engine-bench-recovery.XXXXXX)
	[[ $BENCH_KEEP == 1 ]] || trap 'rm -rf "$TMP"' EXIT
	cp "${BASH_SOURCE[0]}" "$TMP/bench_recovery.sh"
	cp "$ROOT/test/bench/recovery_workload.sql" "$TMP/"
	envs=""
	for v in $ENV_VARS; do envs+="$v='${!v}' "; done
	status=0
	if [[ $EUID -eq 0 ]]; then
		id "$BENCH_USER" >/dev/null 2>&1 ||
			useradd --system --no-create-home --shell /bin/bash "$BENCH_USER"
		chown -R "$BENCH_USER" "$TMP"
		su "$BENCH_USER" -s /bin/bash -c "cd '$TMP' && $envs bash '$TMP/bench_recovery.sh' --inner '$TMP'" ||
			status=$?
	else
		(cd "$TMP" && bash "$TMP/bench_recovery.sh" --inner "$TMP") || status=$?
	fi
	[[ $BENCH_KEEP == 1 ]] && echo "bench-recovery: cluster kept in $TMP" >&2
	exit $status
fi

# ------------------------------------------------------------------ inner
TMP=$2
DATA=$TMP/data
LOG=$TMP/server.log
export PGHOST=$TMP PGPORT=54331 PGDATABASE=postgres
export PATH=$PGBIN:$PATH

stop_cluster() { pg_ctl -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true; }
trap stop_cluster EXIT

say() { echo "bench-recovery: $*" >&2; }
psql_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
# elapsed <from> [<to>]: seconds with 3 decimals
elapsed() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.3f", b - a }'; }
# rate <count> <seconds>
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }'; }
# log_ts <regex>: epoch seconds of the last server log line matching, after the crash
log_ts() {
	local line
	line=$(tail -c +"$CRASH_LOG_OFFSET" "$LOG" | grep -E "$1" | tail -1) || true
	[[ -n $line ]] || { echo ""; return; }
	date -d "$(awk '{ print $1, $2, $3 }' <<<"$line")" +%s.%N
}

max_orders=$(( BENCH_ORDERS + BENCH_ORDERS / 10 ))
(( max_orders >= 1100000 )) || max_orders=1100000
max_accounts=$(( BENCH_ACCOUNTS + BENCH_ACCOUNTS / 10 ))
(( max_accounts >= 110000 )) || max_accounts=110000

initdb -D "$DATA" -A trust >"$TMP/initdb.log" 2>&1 ||
	{ cat "$TMP/initdb.log" >&2; exit 1; }
cat >>"$DATA/postgresql.conf" <<EOF
port = $PGPORT
listen_addresses = ''
unix_socket_directories = '$TMP'
shared_preload_libraries = 'engine'
engine.database = 'postgres'
engine.max_orders = $max_orders
engine.max_accounts = $max_accounts
engine.snapshot_every = 2000000000
engine.snapshot_interval = '1d'
engine.snapshot_keep = 2
engine.keep_log = off
fsync = on
synchronous_commit = on
restart_after_crash = on
max_connections = 100
shared_buffers = 1GB
max_wal_size = 16GB
checkpoint_timeout = 1h
EOF
pg_ctl -D "$DATA" -l "$LOG" -w start >/dev/null ||
	{ cat "$LOG" >&2; exit 1; }

wait_ready() {
	for _ in $(seq 1 6000); do
		[[ $(psql_q -c 'SELECT engine.ready()' 2>/dev/null) == t ]] && return 0
		sleep 0.02
	done
	return 1
}

psql_q -c 'CREATE EXTENSION engine' >/dev/null
wait_ready || { say "engine not ready"; exit 1; }
psql_q -f "$TMP/recovery_workload.sql" >/dev/null
psql_q >/dev/null <<'EOF'
SELECT engine.create_asset('BTC', 8);
SELECT engine.create_asset('ETH', 8);
SELECT engine.create_asset('USDT', 6);
SELECT engine.create_symbol('BTC_USDT', 'BTC', 'USDT', 0.01, 0.0001, 0.001, 0.002);
SELECT engine.create_symbol('ETH_USDT', 'ETH', 'USDT', 0.01, 0.0001, 0.001, 0.002);
CREATE TABLE bench_flag (done boolean);
EOF

# parallel <sql with :s for the session number>: run it in BENCH_SESSIONS
# sessions at once; prints the sum of their single-number answers.
parallel() {
	local sql=$1 pids=() s
	for (( s = 0; s < BENCH_SESSIONS; s++ )); do
		psql_q -c "${sql//:s/$s}" >"$TMP/par.$s" 2>&1 &
		pids+=($!)
	done
	local fail=0
	for p in "${pids[@]}"; do wait "$p" || fail=1; done
	if (( fail )); then cat "$TMP"/par.* >&2; exit 1; fi
	cat "$TMP"/par.* | awk '{ s += $1 } END { print s + 0 }'
	rm -f "$TMP"/par.*
}

status_col() { psql_q -c "SELECT $1 FROM engine.status()"; }

# ANALYZE engine.client_keys every 5 s while a load phase runs (see above).
ANALYZER=
analyzer_start() {
	( while :; do sleep 5; psql_q -c 'ANALYZE engine.client_keys' >/dev/null 2>&1 || true; done ) &
	ANALYZER=$!
}
analyzer_stop() {
	[[ -n $ANALYZER ]] || return 0
	kill "$ANALYZER" 2>/dev/null || true
	wait "$ANALYZER" 2>/dev/null || true
	ANALYZER=
}
trap 'analyzer_stop; stop_cluster' EXIT

say "$(nproc) CPUs; building $BENCH_ACCOUNTS accounts and $BENCH_ORDERS resting orders with $BENCH_SESSIONS sessions (limit ${BENCH_BUILD_SECONDS}s)"
deadline=$(psql_q -c "SELECT now() + interval '$BENCH_BUILD_SECONDS seconds'")
analyzer_start
t0=$(now)
deposits=$(parallel "SELECT bench_fund(:s, $BENCH_SESSIONS, $BENCH_ACCOUNTS, '$deadline')")
fund_s=$(elapsed "$t0")
say "  $deposits deposits in ${fund_s}s ($(rate "$deposits" "$fund_s")/s)"
t0=$(now)
rested=$(parallel "SELECT bench_build(:s, $BENCH_SESSIONS, $BENCH_ORDERS, $BENCH_ACCOUNTS, '$deadline')")
build_s=$(elapsed "$t0")
say "  $rested orders resting in ${build_s}s ($(rate "$rested" "$build_s")/s)"
analyzer_stop

resting=$(status_col resting_orders)
accounts=$(status_col accounts)
seq_before_snapshot=$(status_col last_seq)

# ---------------------------------------------------------------- snapshot
say "snapshot of $resting resting orders, $accounts accounts"
psql_q -c "SELECT max_ms || ' ' || calls FROM bench_probe(now() + interval '10 minutes')" \
	>"$TMP/probe.out" 2>&1 &
probe_pid=$!
# bench_probe stops at the deadline or when bench_flag has a row
sleep 1
t0=$(now)
snap_seq=$(psql_q -c 'SELECT engine.snapshot()')
snap_wall=$(elapsed "$t0")
sleep 1
psql_q -c 'INSERT INTO bench_flag VALUES (true)' >/dev/null
wait "$probe_pid" || { cat "$TMP/probe.out" >&2; exit 1; }
read -r probe_max_ms probe_calls <"$TMP/probe.out"
snap_ms=$(status_col snapshot_ms)
snap_rows=$(status_col snapshot_rows)
snap_bytes=$(psql_q -c "SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['engine.snapshots',
	'engine.snapshot_assets', 'engine.snapshot_symbols', 'engine.snapshot_balances',
	'engine.snapshot_orders']::regclass[]) c")
snap_orders=$(psql_q -c "SELECT orders FROM engine.snapshots WHERE seq = $snap_seq")
snap_balances=$(psql_q -c "SELECT balances FROM engine.snapshots WHERE seq = $snap_seq")
say "  seq $snap_seq: $snap_rows rows, ${snap_ms} ms in the worker, ${snap_wall}s wall"

# -------------------------------------------------------------------- tail
say "tail of $BENCH_TAIL commands (limit ${BENCH_TAIL_SECONDS}s)"
deadline=$(psql_q -c "SELECT now() + interval '$BENCH_TAIL_SECONDS seconds'")
analyzer_start
t0=$(now)
sent=$(parallel "SELECT bench_tail(:s, $BENCH_SESSIONS, $BENCH_TAIL, $BENCH_ACCOUNTS, $BENCH_ORDERS, '$deadline')")
tail_s=$(elapsed "$t0")
analyzer_stop
seq1=$(status_col last_seq)
tail_records=$(( seq1 - snap_seq ))
say "  $sent commands in ${tail_s}s ($(rate "$sent" "$tail_s")/s); log tail after the snapshot: $tail_records records"

resting_before_crash=$(status_col resting_orders)
digest_before=$(psql_q -c 'SELECT engine.state_digest()')
log_rows=$(psql_q -c 'SELECT count(*) FROM engine.command_log')

# ------------------------------------------------------------------- crash
psql_q -c CHECKPOINT >/dev/null
worker=$(psql_q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'engine'")
CRASH_LOG_OFFSET=$(( $(stat -c %s "$LOG") + 1 ))
say "kill -9 of the engine worker (pid $worker)"
t_kill=$(now)
kill -9 "$worker"
sleep 0.2
wait_ready || { say "engine not ready after the crash"; tail -30 "$LOG" >&2; exit 1; }
t_ready=$(now)

IFS='|' read -r st_state st_snap st_replayed st_recovery_ms st_started st_last <<<"$(psql_q -c \
	"SELECT state, snapshot_seq, replayed, recovery_ms, extract(epoch FROM started_at), last_seq FROM engine.status()")"
t_pg_ready=$(log_ts 'database system is ready to accept connections')
t_loaded=$(log_ts 'engine: loaded snapshot at seq')
t_rstart=$(log_ts 'engine: recovery started')
t_rdone=$(log_ts 'engine: recovery finished')
digest_after=$(psql_q -c 'SELECT engine.state_digest()')
t0=$(now)
verify_bad=$(psql_q -c 'SELECT count(*) FROM engine.verify() WHERE NOT ok')
verify_s=$(elapsed "$t0")

# recovery_run (status().recovery_ms) = snapshot load + replay + checks; it
# ends just before "recovery finished" is logged; "recovery started" is
# logged between the snapshot load and the replay.
pg_recovery_s=$(elapsed "$t_kill" "$t_pg_ready")
t_recovery_run=$(awk -v d="$t_rdone" -v ms="$st_recovery_ms" 'BEGIN { printf "%.6f", d - ms / 1000 }')
prep_s=$(elapsed "$st_started" "$t_recovery_run")
load_s=$(elapsed "$t_recovery_run" "$t_rstart")
replay_s=$(elapsed "$t_rstart" "$t_rdone")
arena_mb=$(psql_q -c "SELECT round(allocated_size / 1048576.0) FROM pg_shmem_allocations WHERE name = 'engine arena'")
start_ready_s=$(elapsed "$st_started" "$t_ready")
kill_ready_s=$(elapsed "$t_kill" "$t_ready")

ok=yes
[[ $digest_after == "$digest_before" ]] || ok="NO (digest differs)"
[[ $verify_bad == 0 ]] || ok="NO (verify failed)"
[[ $st_snap == "$snap_seq" ]] || ok="NO (recovered from snapshot $st_snap, not $snap_seq)"

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1048576 }'; }

cat <<EOF

engine recovery benchmark — $(nproc) CPUs, fsync on, synchronous_commit on, $BENCH_SESSIONS sessions
--------------------------------------------------------------------------------------------
state built
  accounts funded                      $accounts   ($deposits deposits in ${fund_s} s, $(rate "$deposits" "$fund_s")/s)
  resting orders                       $resting   (2 symbols; placed in ${build_s} s, $(rate "$rested" "$build_s")/s)
snapshot (engine.snapshot() at seq $snap_seq)
  rows written                         $snap_rows   ($snap_orders orders, $snap_balances balances)
  worker busy writing (snapshot_ms)    $snap_ms ms   -> $(rate "$snap_rows" "$(awk -v m="$snap_ms" 'BEGIN { print m / 1000 }')") rows/s
  engine.snapshot() wall clock         ${snap_wall} s
  longest command during it (probe)    ${probe_max_ms} ms   ($probe_calls probe deposits)
  snapshot tables on disk              $(mb "$snap_bytes")
tail after the snapshot
  commands sent                        $sent in ${tail_s} s ($(rate "$sent" "$tail_s")/s)
  log records to replay                $tail_records   (command_log rows: $log_rows)
  resting orders at the crash          $resting_before_crash
crash (CHECKPOINT, then kill -9 of the worker) and restart
  PostgreSQL crash recovery            ${pg_recovery_s} s   (kill -> accepting connections)
  worker start -> recovery begins      ${prep_s} s   (connect; zero the ${arena_mb} MB engine arena)
  snapshot load                        ${load_s} s   (snapshot $st_snap: $snap_rows rows)
  log replay + invariant checks        ${replay_s} s   ($st_replayed records, $(rate "$st_replayed" "$replay_s") records/s)
  status().recovery_ms                 $st_recovery_ms ms   (snapshot load + replay + checks)
  worker start -> ready                ${start_ready_s} s
  kill -> ready                        ${kill_ready_s} s
  engine.verify() alone (SQL)          ${verify_s} s
checks: state $st_state, last_seq $st_last, digest equal and verify() ok: $ok
EOF
[[ $ok == yes ]]
