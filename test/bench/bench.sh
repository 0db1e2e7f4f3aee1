#!/usr/bin/env bash
# bench.sh — `make bench`: what engine commands cost next to the floors
# PostgreSQL itself sets, directly, in batches and through a pooler; and
# the market-data reads over a large trade history.
#
# On a throwaway cluster (created in a temp dir, removed afterwards) with the
# engine preloaded, fsync = on and synchronous_commit = on, pgbench measures
# (one thread per client):
#   select1  SELECT 1                                  (the round-trip floor)
#   insert   one-row INSERT into an ordinary table      (the durable-commit floor)
#   place    engine.place_order on a two-sided BTC_USDT book, ~30 % of the
#            orders crossing (random user of 1000, side, price around a mid)
#   at BENCH_CLIENTS (1 8 32 64, -M prepared), printing TPS, p50/p99 latency
#   (from pgbench's per-transaction logs) and the ratios place/insert and
#   place/select1;
#   batch    engine.place_orders with BENCH_BATCH orders (1000) per call, half
#            passive gtc orders and half ioc orders crossing the mid (so the
#            book neither grows nor empties), every answer row returned to
#            pgbench; at BENCH_BATCH_CLIENTS (1 8); orders/s = calls/s x BATCH;
#   pooled   select1 and place through pgbouncer in transaction pooling mode
#            (BENCH_POOL_SIZE server connections, 16), against the same
#            workloads straight to the server in the same protocol (-M
#            extended: pgbouncer 1.18 does not carry protocol-level prepared
#            statements), at BENCH_POOL_CLIENTS (32);
#   standby  reads on a hot standby: a streaming standby of the cluster
#            (pg_basebackup) whose follower engine serves them; pgbench runs
#            engine.depth (20 levels) and engine.balances (a random user)
#            half and half on the standby with BENCH_STANDBY_CLIENTS (16)
#            clients, first with the primary idle, then while as many other
#            clients run place_order on the primary; meanwhile
#            status().lag_records and lag_ms on the standby are sampled every
#            0.2 s: reads/s in both runs, the place_order tps beside them, and
#            the follower lag (median, p99, max);
#   market   engine.ticker, engine.candles and engine.recent_trades on a symbol
#            with BENCH_TRADES (10 000 000) generated trades spread over 30
#            days (rows written straight into engine.trades, ids beyond the
#            engine's own), after VACUUM ANALYZE: latency of each call.
# It prints one table per part and writes build/bench-sql/bench.txt (the
# tables) and build/bench-sql/bench.png (orders/s or tps against clients for
# every path, log scale).  Load average before and after is printed: the
# machine may be shared.
#
# Then (part `verify`), on a second cluster with BENCH_VERIFY_ORDERS resting
# orders over 10,000 accounts (built from command_log rows the core writes,
# test/bench/gen_log.c, replayed by the engine), the fairness of long reads
# (issue 7, item 5): place_order throughput at BENCH_VERIFY_CLIENTS clients
# alone (before and after), and with one more session calling
# engine.verify() in a loop (verify() checks a copy of the state: the
# worker only pauses to copy its arena); goal: at least 70 % kept.  Its
# table is appended to bench.txt.
#
# Needs the extension installed (`make install`; done here when run as root
# and it is missing), pgbouncer and gnuplot.  initdb refuses root, so as root
# the cluster runs as the user `engine_bench` (created if absent).
#
# Environment: BENCH_SECONDS (throughput run, default 12), BENCH_LAT_SECONDS
# (latency run, default 6), BENCH_CLIENTS, BENCH_BATCH_CLIENTS,
# BENCH_POOL_CLIENTS, BENCH_POOL_SIZE, BENCH_BATCH, BENCH_TRADES, BENCH_USERS
# (default 1000), BENCH_VERIFY_ORDERS (default 300000), BENCH_VERIFY_CLIENTS
# (default 32), BENCH_STANDBY_CLIENTS, BENCH_PARTS (default "single batch
# pool standby market verify": which parts run), BENCH_KEEP=1 keeps the
# clusters' directory.
set -euo pipefail

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
BENCH_SECONDS=${BENCH_SECONDS:-12}
BENCH_LAT_SECONDS=${BENCH_LAT_SECONDS:-6}
BENCH_CLIENTS=${BENCH_CLIENTS:-"1 8 32 64"}
BENCH_USERS=${BENCH_USERS:-1000}
BENCH_BATCH_CLIENTS=${BENCH_BATCH_CLIENTS:-"1 8"}
BENCH_POOL_CLIENTS=${BENCH_POOL_CLIENTS:-32}
BENCH_POOL_SIZE=${BENCH_POOL_SIZE:-16}
BENCH_BATCH=${BENCH_BATCH:-1000}
BENCH_TRADES=${BENCH_TRADES:-10000000}
BENCH_VERIFY_ORDERS=${BENCH_VERIFY_ORDERS:-300000}
BENCH_VERIFY_CLIENTS=${BENCH_VERIFY_CLIENTS:-32}
BENCH_STANDBY_CLIENTS=${BENCH_STANDBY_CLIENTS:-16}
BENCH_PARTS=${BENCH_PARTS:-"single batch pool standby market verify"}
BENCH_USER=engine_bench
BENCH_VARS="BENCH_PARTS BENCH_SECONDS BENCH_LAT_SECONDS BENCH_CLIENTS BENCH_USERS BENCH_BATCH_CLIENTS BENCH_POOL_CLIENTS BENCH_POOL_SIZE BENCH_BATCH BENCH_TRADES BENCH_VERIFY_ORDERS BENCH_VERIFY_CLIENTS BENCH_STANDBY_CLIENTS PG_CONFIG"
MID=3000000            # mid price in cents (30000.00 USDT)

# ------------------------------------------------------------------ outer
if [[ "${1:-}" != "--inner" ]]; then
	ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	if [[ ! -f "$("$PG_CONFIG" --pkglibdir)/engine.so" ||
	      ! -f "$("$PG_CONFIG" --sharedir)/extension/engine.control" ]]; then
		if [[ $EUID -eq 0 ]]; then
			echo "bench: engine is not installed; running make install" >&2
			make -C "$ROOT" install >/dev/null
		else
			echo "bench: engine is not installed; run 'make && sudo make install' first" >&2
			exit 1
		fi
	fi
	for tool in pgbouncer gnuplot; do
		command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] ||
			{ echo "bench: $tool is missing (apt-get install pgbouncer gnuplot-nox)" >&2; exit 1; }
	done
	TMP=$(mktemp -d /tmp/engine-bench.XXXXXX)
	[[ ${BENCH_KEEP:-0} == 1 ]] || trap 'rm -rf "$TMP"' EXIT
	cp "${BASH_SOURCE[0]}" "$TMP/bench.sh"
	cc -O2 -std=gnu11 -I"$ROOT/src/core" -o "$TMP/gen_log" "$ROOT/test/bench/gen_log.c" "$ROOT"/src/core/*.c
	env_line=""
	for v in $BENCH_VARS; do env_line+="$v='${!v}' "; done
	rc=0
	if [[ $EUID -eq 0 ]]; then
		id "$BENCH_USER" >/dev/null 2>&1 ||
			useradd --system --no-create-home --shell /bin/bash "$BENCH_USER"
		chown -R "$BENCH_USER" "$TMP"
		su "$BENCH_USER" -s /bin/bash -c "cd '$TMP' && $env_line bash '$TMP/bench.sh' --inner '$TMP'" || rc=$?
	else
		(cd "$TMP" && bash "$TMP/bench.sh" --inner "$TMP") || rc=$?
	fi
	if [[ -d "$TMP/out" ]]; then
		mkdir -p "$ROOT/build/bench-sql"
		cp "$TMP"/out/* "$ROOT/build/bench-sql/"
		echo "bench: wrote $ROOT/build/bench-sql/bench.txt and bench.png" >&2
	fi
	exit $rc
fi

# ------------------------------------------------------------------ inner
TMP=$2
DATA=$TMP/data
export PATH=$PGBIN:$PATH:/usr/sbin
# The server and pgbouncer listen on Unix sockets in this private directory
# only, so their port numbers cannot collide with anything else.
export PGHOST=$TMP PGPORT=54329 PGDATABASE=postgres
POOL_PORT=54330
OUT=$TMP/out
mkdir -p "$OUT"

stop_all() {
	[[ -f $TMP/pgbouncer.pid ]] && kill "$(cat "$TMP/pgbouncer.pid")" 2>/dev/null
	[[ -n ${SAMPLER:-} ]] && kill "$SAMPLER" 2>/dev/null
	pg_ctl -D "$TMP/standby" -m fast -w stop >/dev/null 2>&1 || true
	pg_ctl -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
}
trap stop_all EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE=$(load)

initdb -D "$DATA" -A trust >"$TMP/initdb.log" 2>&1 ||
	{ cat "$TMP/initdb.log" >&2; exit 1; }
cat >>"$DATA/postgresql.conf" <<EOF
port = $PGPORT
listen_addresses = ''
unix_socket_directories = '$TMP'
shared_preload_libraries = 'engine'
engine.database = 'postgres'
engine.max_orders = 1000000
engine.max_accounts = $((BENCH_USERS + 100))
fsync = on
synchronous_commit = on
max_connections = 150
shared_buffers = 256MB
max_wal_size = 8GB
checkpoint_timeout = 30min
log_min_messages = warning
EOF
pg_ctl -D "$DATA" -l "$TMP/server.log" -w start >/dev/null ||
	{ cat "$TMP/server.log" >&2; exit 1; }

psql_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

psql_q -c 'CREATE EXTENSION engine' >/dev/null
for _ in $(seq 1 600); do
	[[ $(psql_q -c 'SELECT engine.ready()' 2>/dev/null) == t ]] && break
	sleep 0.1
done
[[ $(psql_q -c 'SELECT engine.ready()') == t ]] || { echo "bench: engine not ready" >&2; exit 1; }

psql_q >/dev/null <<EOF
SELECT engine.create_asset('BTC', 8);
SELECT engine.create_asset('USDT', 6);
SELECT engine.create_symbol('BTC_USDT', 'BTC', 'USDT', 0.01, 0.0001, 0.001, 0.002);
SELECT count(*) FROM generate_series(1, $BENCH_USERS) u,
       LATERAL engine.deposit(u, 'BTC', 1000, 'bench-btc-' || u) d WHERE d.status = 'ok';
SELECT count(*) FROM generate_series(1, $BENCH_USERS) u,
       LATERAL engine.deposit(u, 'USDT', 10000000, 'bench-usdt-' || u) d WHERE d.status = 'ok';
CREATE TABLE bench_insert (id bigserial PRIMARY KEY, v int NOT NULL, ts timestamptz NOT NULL DEFAULT now());
EOF

cat >"$TMP/select1.sql" <<'EOF'
SELECT 1;
EOF
cat >"$TMP/insert.sql" <<'EOF'
\set v random(1, 1000000)
INSERT INTO bench_insert (v) VALUES (:v);
EOF
# side s: 0 buy, 1 sell.  70 %: passive, 1..50 ticks behind the mid on its
# own side; 30 %: aggressive, 100 ticks through the mid (crosses the best
# level of the other side, which passive orders keep refilled).
cat >"$TMP/place.sql" <<EOF
\set u random(1, $BENCH_USERS)
\set s random(0, 1)
\set r random(1, 100)
\set off random(1, 50)
\set q random(1, 10)
\set pc $MID + (2 * :s - 1) * (case when :r <= 30 then -100 else :off end)
SELECT order_id FROM engine.place_order(:u::bigint, 'BTC_USDT', (ARRAY['buy', 'sell'])[:s::int + 1], :q::int * 0.0001, :pc::int * 0.01);
EOF

# Empty the book, then rest 10 orders on each of the 50 levels of each side.
seed_book() {
	psql_q >/dev/null <<EOF
SELECT sum(engine.cancel_all(u)) FROM generate_series(1, $BENCH_USERS) u;
SELECT count(*) FROM generate_series(1, 50) l, generate_series(1, 10) k,
       LATERAL engine.place_order(1 + (l * 10 + k) % $BENCH_USERS, 'BTC_USDT', 'buy', 0.001, ($MID - l) * 0.01) b,
       LATERAL engine.place_order(1 + (l * 10 + k + 500) % $BENCH_USERS, 'BTC_USDT', 'sell', 0.001, ($MID + l) * 0.01) a;
EOF
}

# A batch of BENCH_BATCH orders of one user: each order's side at random;
# even ones ioc 100 ticks through the mid (aggressive), odd ones gtc 1..50
# ticks behind it (passive), so the book neither grows nor empties.
cat >"$TMP/batch.sql" <<EOF
\set u random(1, $BENCH_USERS)
SELECT * FROM engine.place_orders(:u, ARRAY(
  SELECT engine.order_request('BTC_USDT', CASE WHEN g.s = 0 THEN 'buy' ELSE 'sell' END,
           (1 + (random() * 9)::int) * 0.0001,
           ($MID + (2 * g.s - 1) * CASE WHEN g.i % 2 = 0 THEN -100 ELSE 1 + (random() * 49)::int END) * 0.01,
           tif => CASE WHEN g.i % 2 = 0 THEN 'ioc' ELSE 'gtc' END)
    FROM (SELECT i, (random() < 0.5)::int AS s FROM generate_series(1, $BENCH_BATCH) i) g));
EOF

# pgbouncer in transaction pooling mode, on a Unix socket next to the server's.
start_pgbouncer() {
	printf '"%s" ""\n' "$(id -un)" >"$TMP/pgb_users.txt"
	cat >"$TMP/pgbouncer.ini" <<EOF
[databases]
postgres = host=$TMP port=$PGPORT dbname=postgres
[pgbouncer]
listen_addr =
listen_port = $POOL_PORT
unix_socket_dir = $TMP
auth_type = trust
auth_file = $TMP/pgb_users.txt
pool_mode = transaction
default_pool_size = $BENCH_POOL_SIZE
max_client_conn = 500
logfile = $TMP/pgbouncer.log
pidfile = $TMP/pgbouncer.pid
EOF
	pgbouncer -d "$TMP/pgbouncer.ini" ||
		{ echo "bench: pgbouncer did not start" >&2; cat "$TMP/pgbouncer.log" >&2; exit 1; }
	for _ in $(seq 1 100); do
		psql_q -p "$POOL_PORT" -c 'SELECT 1' >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "bench: pgbouncer does not answer" >&2; cat "$TMP/pgbouncer.log" >&2; exit 1
}

declare -A TPS P50 P99
PLACE_TX=0

# run <key> <script> <clients> <mode> [port]: fills TPS/P50/P99[key,clients]
# from two pgbench runs of <script> in protocol <mode> against port (the
# server's by default; pgbouncer's for the pooled runs).
#   1. throughput: the script as is, BENCH_SECONDS; TPS from pgbench.
#   2. latency: the script plus "\sleep 1 us", BENCH_LAT_SECONDS, with a
#      per-transaction log; p50/p99 of its latency field.  pgbench reads its
#      clock lazily, once per pass over a client: when the server answers
#      while pgbench is preempted (always, once clients outnumber CPUs) the
#      reply is read in the same pass as the query was sent and the
#      transaction is logged with latency 0.  The 1 us sleep makes pgbench
#      go back to its loop and read the clock afresh after every reply; the
#      latencies include that wake-up (tens of microseconds), and this run's
#      own TPS is not reported.
run() {
	local key=$1 name=$2 c=$3 mode=$4 port=${5:-$PGPORT} prefix="$TMP/log_$1_$3"
	local out
	out=$(pgbench -n -M "$mode" -p "$port" -c "$c" -j "$c" -T "$BENCH_SECONDS" \
		-f "$TMP/$name.sql" 2>&1) || { echo "$out" >&2; exit 1; }
	TPS[$key,$c]=$(awk '/^tps = / { printf "%.0f", $3 }' <<<"$out")
	count_tx "$name" "$out"
	{ cat "$TMP/$name.sql"; echo '\sleep 1 us'; } >"$TMP/${name}_lat.sql"
	out=$(pgbench -n -M "$mode" -p "$port" -c "$c" -j "$c" -T "$BENCH_LAT_SECONDS" \
		--log --log-prefix="$prefix" -f "$TMP/${name}_lat.sql" 2>&1) ||
		{ echo "$out" >&2; exit 1; }
	count_tx "$name" "$out"
	# log line: client_id tx_no latency_us script_no epoch_s epoch_us
	local pct
	pct=$(cat "$prefix".* | awk '{ print $3 }' | sort -n | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "- -"; exit }
			i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
			i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
			printf "%.2f %.2f", v[i50] / 1000, v[i99] / 1000
		}')
	P50[$key,$c]=${pct% *}
	P99[$key,$c]=${pct#* }
	rm -f "$prefix".*
	printf '  %-12s %3d clients: %8s tps  p50 %7s ms  p99 %7s ms   (load %s)\n' \
		"$key" "$c" "${TPS[$key,$c]}" "${P50[$key,$c]}" "${P99[$key,$c]}" "$(load)" >&2
}

# count_tx <name> <pgbench output>: add a place run's orders to PLACE_TX
count_tx() {
	[[ $1 == place ]] || return 0
	PLACE_TX=$(( PLACE_TX + $(awk '/number of transactions actually processed/ { split($NF, a, "/"); print a[1] }' <<<"$2") ))
}

verify_or_die() {
	[[ $(psql_q -c "SELECT bool_and(ok) FROM engine.verify()") == t ]] ||
		{ echo "bench: engine.verify() failed after $1" >&2; exit 1; }
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2fx", a / b }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.0f%%", 100 * a / b }'; }

echo "bench: $(nproc) CPUs, ${BENCH_SECONDS}s per run, load average before: $LOAD_BEFORE" >&2

has_part() { [[ " $BENCH_PARTS " == *" $1 "* ]]; }
has_part single || BENCH_CLIENTS=""
has_part batch || BENCH_BATCH_CLIENTS=""
has_part pool || BENCH_POOL_CLIENTS=""
has_part market || BENCH_TRADES=0
BENCH_STANDBY=0
has_part standby && BENCH_STANDBY=1

# ----------------------------------------------------------- single commands
for c in $BENCH_CLIENTS; do
	run select1 select1 "$c" prepared
	run insert insert "$c" prepared
	seed_book
	run place place "$c" prepared
	verify_or_die "place run at $c clients"
done
CROSS=$(psql_q -c "SELECT count(DISTINCT taker_order_id) FROM engine.trades")

# ----------------------------------------------------------- batches
BATCH_TRADES0=$(psql_q -c "SELECT count(*) FROM engine.trades")
BATCH_STATUS0=$(psql_q -F ' ' -c "SELECT batches, commands FROM engine.status()")
for c in $BENCH_BATCH_CLIENTS; do
	seed_book
	run batch batch "$c" prepared
	verify_or_die "batch run at $c clients"
done
BATCH_STATUS1=$(psql_q -F ' ' -c "SELECT batches, commands FROM engine.status()")
BATCH_TRADES=$(( $(psql_q -c "SELECT count(*) FROM engine.trades") - BATCH_TRADES0 ))

# ----------------------------------------------------------- through pgbouncer
[[ -n $BENCH_POOL_CLIENTS ]] && start_pgbouncer
for c in $BENCH_POOL_CLIENTS; do
	run select1_ext select1 "$c" extended
	run select1_pool select1 "$c" extended "$POOL_PORT"
	seed_book
	run place_ext place "$c" extended
	seed_book
	run place_pool place "$c" extended "$POOL_PORT"
	verify_or_die "pooled place run at $c clients"
done

# ----------------------------------------------------------- standby reads
# pctl: median, p99 and max of the numbers on stdin ("- - -" if none)
pctl() { sort -n | awk '{ v[NR] = $1 } END {
	if (NR == 0) { print "- - -"; exit }
	i50 = int((NR + 1) / 2); i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
	printf "%s %s %s", v[i50], v[i99], v[NR] }'; }
if [[ $BENCH_STANDBY == 1 ]]; then
	SPORT=$((PGPORT + 2))
	pg_basebackup -D "$TMP/standby" -R --checkpoint=fast >/dev/null
	pg_ctl -D "$TMP/standby" -o "-p $SPORT" -l "$TMP/standby.log" -w start >/dev/null ||
		{ cat "$TMP/standby.log" >&2; exit 1; }
	for _ in $(seq 1 3000); do
		[[ $(psql_q -p "$SPORT" -c "SELECT state = 'ready' AND role = 'follower' FROM engine.status()" 2>/dev/null) == t ]] && break
		sleep 0.02
	done
	seed_book
	echo "SELECT count(*) FROM engine.depth('BTC_USDT', 20);" >"$TMP/depth.sql"
	printf '%s\n' "\\set u random(1, $BENCH_USERS)" "SELECT count(*) FROM engine.balances(:u::bigint);" >"$TMP/balances.sql"
	reads() {
		pgbench -n -M prepared -p "$SPORT" -c "$BENCH_STANDBY_CLIENTS" -j "$BENCH_STANDBY_CLIENTS" -T "$BENCH_SECONDS" \
			-f "$TMP/depth.sql@1" -f "$TMP/balances.sql@1" 2>&1 | awk '/^tps = / { printf "%.0f", $3 }'
	}
	n=$BENCH_STANDBY_CLIENTS
	SB_LOAD_IDLE=$(load)
	R_IDLE=$(reads)
	echo "  standby reads, primary idle: $R_IDLE reads/s ($n clients, load $(load))" >&2
	( while :; do psql_q -p "$SPORT" -c "SELECT lag_records || ' ' || lag_ms FROM engine.status()" 2>/dev/null; sleep 0.2; done ) >"$TMP/lag.txt" &
	SAMPLER=$!
	pgbench -n -M prepared -c "$n" -j "$n" -T "$BENCH_SECONDS" -f "$TMP/place.sql" >"$TMP/place_bg.out" 2>&1 &
	PLACER=$!
	SB_LOAD_BUSY=$(load)
	R_BUSY=$(reads)
	wait "$PLACER" || { cat "$TMP/place_bg.out" >&2; exit 1; }
	kill "$SAMPLER" 2>/dev/null || true
	wait "$SAMPLER" 2>/dev/null || true
	SAMPLER=
	P_BUSY=$(awk '/^tps = / { printf "%.0f", $3 }' "$TMP/place_bg.out")
	echo "  standby reads, primary taking orders: $R_BUSY reads/s, place_order $P_BUSY tps (load $(load))" >&2
	read -r L50 L99 LMAX <<<"$(awk 'NF == 2 { print $1 }' "$TMP/lag.txt" | pctl)"
	read -r M50 M99 MMAX <<<"$(awk 'NF == 2 { print $2 }' "$TMP/lag.txt" | pctl)"
	LAG_SAMPLES=$(awk 'NF == 2' "$TMP/lag.txt" | wc -l)
	PSEQ=$(psql_q -c "SELECT last_seq FROM engine.status()")
	for _ in $(seq 1 6000); do
		[[ $(psql_q -p "$SPORT" -c "SELECT applied_seq >= $PSEQ FROM engine.status()") == t ]] && break
		sleep 0.05
	done
	[[ $(psql_q -c "SELECT engine.state_digest()") == $(psql_q -p "$SPORT" -c "SELECT engine.state_digest()") ]] ||
		{ echo "bench: the follower's digest differs from the primary's" >&2; exit 1; }
	pg_ctl -D "$TMP/standby" -m fast -w stop >/dev/null
fi

# ----------------------------------------------------------- market data
declare -A MD_MS MD_ROWS
MD_QUERIES="ticker recent_100 candles_1m_1h candles_1m_24h candles_1h_7d candles_1d_30d"
if [[ $BENCH_TRADES -gt 0 ]]; then
	t0=$(date +%s)
	psql_q >/dev/null <<EOF
SELECT engine.create_asset('MDX', 8);
SELECT engine.create_symbol('MDX_USDT', 'MDX', 'USDT', 0.01, 0.0001);
EOF
	# trade g of N: ids beyond the engine's own, evenly spread over the last
	# 30 days, a price wandering +-10 USDT around 30000, 0.0001..0.005 MDX.
	psql_q >/dev/null <<EOF
INSERT INTO engine.trades (trade_id, seq, symbol_id, price, qty, quote_qty, taker_side,
                           taker_order_id, taker_user_id, maker_order_id, maker_user_id,
                           taker_fee, maker_fee, ts)
SELECT 1000000000000 + g, 1000000000000 + g, s.symbol_id, p.price, q.qty, p.price * q.qty / 100000000,
       CASE WHEN g % 2 = 0 THEN 'buy' ELSE 'sell' END, 1, 1, 2, 2, 0, 0,
       now() - interval '30 days' + g * (interval '30 days' / $BENCH_TRADES)
  FROM generate_series(1, $BENCH_TRADES) g
 CROSS JOIN (SELECT symbol_id FROM engine.symbols WHERE symbol = 'MDX_USDT') s
 CROSS JOIN LATERAL (SELECT ((3000000 + (1000 * sin(g / 5000.0))::int + g % 97)::bigint * 10000) AS price) p
 CROSS JOIN LATERAL (SELECT ((1 + g % 50) * 10000)::bigint AS qty) q;
VACUUM ANALYZE engine.trades;
EOF
	MD_GEN_S=$(( $(date +%s) - t0 ))
	echo "  market data: $BENCH_TRADES trades generated and vacuumed in ${MD_GEN_S}s (load $(load))" >&2
	echo "SELECT * FROM engine.ticker('MDX_USDT');" >"$TMP/md_ticker.sql"
	echo "SELECT * FROM engine.recent_trades('MDX_USDT', 100);" >"$TMP/md_recent_100.sql"
	echo "SELECT * FROM engine.candles('MDX_USDT', '1m', now() - interval '1 hour', now());" >"$TMP/md_candles_1m_1h.sql"
	echo "SELECT * FROM engine.candles('MDX_USDT', '1m', now() - interval '24 hours', now());" >"$TMP/md_candles_1m_24h.sql"
	echo "SELECT * FROM engine.candles('MDX_USDT', '1h', now() - interval '7 days', now());" >"$TMP/md_candles_1h_7d.sql"
	echo "SELECT * FROM engine.candles('MDX_USDT', '1d', now() - interval '30 days', now());" >"$TMP/md_candles_1d_30d.sql"
	for q in $MD_QUERIES; do
		out=$(pgbench -n -M prepared -c 1 -j 1 -T 3 -f "$TMP/md_$q.sql" 2>&1) || { echo "$out" >&2; exit 1; }
		MD_MS[$q]=$(awk '/^latency average = / { printf "%.2f", $4 }' <<<"$out")
		MD_ROWS[$q]=$(psql_q -f "$TMP/md_$q.sql" | wc -l)
		printf '  %-16s %8s ms  %5s rows\n' "$q" "${MD_MS[$q]}" "${MD_ROWS[$q]}" >&2
	done
fi
LOAD_AFTER=$(load)

# ----------------------------------------------------------- report
{
echo "engine bench: PostgreSQL $(pg_config --version | awk '{print $2}'), $(nproc) CPUs, fsync=on, synchronous_commit=on, one pgbench thread per client"
echo "load average (1/5/15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER"
echo "tps from ${BENCH_SECONDS}s runs; p50/p99 from ${BENCH_LAT_SECONDS}s runs with per-transaction logs (see run() for why separate)"
echo
echo "single commands (-M prepared)"
printf '%-7s | %-27s | %-27s | %-27s | %-12s | %-10s\n' clients \
	"SELECT 1 tps / p50 / p99 ms" "INSERT tps / p50 / p99 ms" "place_order tps / p50 / p99" \
	"place/INSERT" "place/SEL1"
printf -- '--------+-----------------------------+-----------------------------+-----------------------------+--------------+-----------\n'
for c in $BENCH_CLIENTS; do
	printf '%-7s | %9s %8s %8s | %9s %8s %8s | %9s %8s %8s | %12s | %10s\n' "$c" \
		"${TPS[select1,$c]}" "${P50[select1,$c]}" "${P99[select1,$c]}" \
		"${TPS[insert,$c]}" "${P50[insert,$c]}" "${P99[insert,$c]}" \
		"${TPS[place,$c]}" "${P50[place,$c]}" "${P99[place,$c]}" \
		"$(ratio "${TPS[place,$c]}" "${TPS[insert,$c]}")" "$(pct "${TPS[place,$c]}" "${TPS[select1,$c]}")"
done
awk -v x="$CROSS" -v n="$PLACE_TX" 'BEGIN { if (n > 0) printf "place_order runs: %d orders, %.0f%% of them traded on arrival\n", n, 100 * x / n }'
echo
echo "batches: engine.place_orders, $BENCH_BATCH orders per call, every answer row returned (-M prepared)"
printf '%-7s | %-10s | %-12s | %-14s | %-14s\n' clients "calls/s" "orders/s" "p50 ms/call" "p99 ms/call"
printf -- '--------+------------+--------------+----------------+---------------\n'
for c in $BENCH_BATCH_CLIENTS; do
	printf '%-7s | %10s | %12s | %14s | %14s\n' "$c" "${TPS[batch,$c]}" \
		"$(( ${TPS[batch,$c]:-0} * BENCH_BATCH ))" "${P50[batch,$c]}" "${P99[batch,$c]}"
done
awk -v a="$BATCH_STATUS0" -v b="$BATCH_STATUS1" -v t="$BATCH_TRADES" 'BEGIN {
	split(a, x, " "); split(b, y, " ");
	if (y[1] > x[1]) printf "worker batches in the batch runs: %d, %.0f commands each; %d trades\n", y[1] - x[1], (y[2] - x[2]) / (y[1] - x[1]), t }'
echo
echo "through pgbouncer (transaction pooling, $BENCH_POOL_SIZE server connections) vs direct, -M extended"
printf '%-7s | %-24s | %-24s | %-24s | %-24s | %-10s\n' clients "SELECT 1 direct tps/p50" "SELECT 1 pooled tps/p50" \
	"place direct tps/p50" "place pooled tps/p50" "place pooled/direct"
printf -- '--------+--------------------------+--------------------------+--------------------------+--------------------------+-----------\n'
for c in $BENCH_POOL_CLIENTS; do
	printf '%-7s | %14s %9s | %14s %9s | %14s %9s | %14s %9s | %10s\n' "$c" \
		"${TPS[select1_ext,$c]}" "${P50[select1_ext,$c]}" "${TPS[select1_pool,$c]}" "${P50[select1_pool,$c]}" \
		"${TPS[place_ext,$c]}" "${P50[place_ext,$c]}" "${TPS[place_pool,$c]}" "${P50[place_pool,$c]}" \
		"$(pct "${TPS[place_pool,$c]}" "${TPS[place_ext,$c]}")"
done
if [[ $BENCH_STANDBY == 1 ]]; then
	echo
	echo "reads on a hot standby (follower engine), $BENCH_STANDBY_CLIENTS pgbench clients, depth(20 levels) and balances half and half, ${BENCH_SECONDS}s runs"
	printf '  primary idle            %8s reads/s   (load %s)\n' "$R_IDLE" "$SB_LOAD_IDLE"
	printf '  primary taking orders   %8s reads/s   while place_order ran %s tps with %d clients (load %s)\n' \
		"$R_BUSY" "$P_BUSY" "$BENCH_STANDBY_CLIENTS" "$SB_LOAD_BUSY"
	printf '  follower lag meanwhile  median %s records / %s ms, p99 %s / %s ms, max %s / %s ms (%d samples); digest equal after catch-up\n' \
		"$L50" "$M50" "$L99" "$M99" "$LMAX" "$MMAX" "$LAG_SAMPLES"
fi
if [[ $BENCH_TRADES -gt 0 ]]; then
	echo
	echo "market data over $BENCH_TRADES trades of one symbol spread over 30 days (index trades_symbol_ts), one client, average latency"
	for q in $MD_QUERIES; do
		printf '  %-16s %9s ms  %5s rows\n' "$q" "${MD_MS[$q]}" "${MD_ROWS[$q]}"
	done
fi
} | tee "$OUT/bench.txt"

# ----------------------------------------------------------- plot
{
	for c in $BENCH_CLIENTS; do echo "select1 $c ${TPS[select1,$c]}"; done
	for c in $BENCH_CLIENTS; do echo "insert $c ${TPS[insert,$c]}"; done
	for c in $BENCH_CLIENTS; do echo "place $c ${TPS[place,$c]}"; done
	for c in $BENCH_BATCH_CLIENTS; do echo "batch $c $(( ${TPS[batch,$c]:-0} * BENCH_BATCH ))"; done
	for c in $BENCH_POOL_CLIENTS; do echo "place_ext $c ${TPS[place_ext,$c]}"; done
	for c in $BENCH_POOL_CLIENTS; do echo "place_pool $c ${TPS[place_pool,$c]}"; done
	for c in $BENCH_POOL_CLIENTS; do echo "select1_pool $c ${TPS[select1_pool,$c]}"; done
} | awk 'NF == 3' >"$TMP/plot.dat"
if [[ -s $TMP/plot.dat ]]; then
	gnuplot <<EOF || echo "bench: gnuplot failed" >&2
set terminal pngcairo size 900,560 font ",10"
set termoption noenhanced
set output "$OUT/bench.png"
set title "make bench: orders/s (tps for SELECT 1 and INSERT), fsync on, synchronous_commit on\nload average before $LOAD_BEFORE, after $LOAD_AFTER"
set xlabel "clients"
set ylabel "per second"
set logscale xy
set xtics (1, 8, 32, 64)
set grid
set key outside right
plot "< grep '^select1 ' $TMP/plot.dat" using 2:3 with linespoints title "SELECT 1", \
     "< grep '^insert ' $TMP/plot.dat" using 2:3 with linespoints title "INSERT (durable)", \
     "< grep '^place ' $TMP/plot.dat" using 2:3 with linespoints title "place_order", \
     "< grep '^batch ' $TMP/plot.dat" using 2:3 with linespoints pointsize 2 title "place_orders x$BENCH_BATCH (orders/s)", \
     "< grep '^place_ext ' $TMP/plot.dat" using 2:3 with points pointsize 2 title "place_order -M extended", \
     "< grep '^place_pool ' $TMP/plot.dat" using 2:3 with points pointsize 2 title "place_order via pgbouncer", \
     "< grep '^select1_pool ' $TMP/plot.dat" using 2:3 with points pointsize 2 title "SELECT 1 via pgbouncer"
EOF
fi

# ------------------------------------------------------------ verify fairness
has_part verify && [[ $BENCH_VERIFY_ORDERS -gt 0 ]] || exit 0
stop_all || true
DATA=$TMP/vdata
export PGPORT=54331
initdb -D "$DATA" -A trust >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log" >&2; exit 1; }
cat >>"$DATA/postgresql.conf" <<EOF
port = $PGPORT
listen_addresses = ''
unix_socket_directories = '$TMP'
shared_preload_libraries = 'engine'
engine.database = 'postgres'
engine.max_orders = $(( BENCH_VERIFY_ORDERS + BENCH_VERIFY_ORDERS / 2 + 100000 ))
engine.max_accounts = 11000
engine.snapshot_every = 2000000000
engine.snapshot_interval = '1d'
fsync = on
synchronous_commit = on
max_connections = 150
shared_buffers = 256MB
max_wal_size = 8GB
checkpoint_timeout = 30min
log_min_messages = warning
EOF
pg_ctl -D "$DATA" -l "$TMP/vserver.log" -w start >/dev/null || { cat "$TMP/vserver.log" >&2; exit 1; }
psql_q -c 'CREATE EXTENSION engine' >/dev/null
for _ in $(seq 1 600); do [[ $(psql_q -c 'SELECT engine.ready()' 2>/dev/null) == t ]] && break; sleep 0.1; done
echo "bench: fairness of long reads: building $BENCH_VERIFY_ORDERS resting orders (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
"$TMP/gen_log" 10000 "$BENCH_VERIFY_ORDERS" 0 build >"$TMP/vbuild.copy"
vrows=$(wc -l <"$TMP/vbuild.copy")
psql_q -c "\\copy engine.command_log FROM '$TMP/vbuild.copy'"
rm -f "$TMP/vbuild.copy"
for _ in $(seq 1 6000); do
	[[ $(psql_q -c "SELECT engine.ready() AND last_seq = $vrows FROM engine.status()" 2>/dev/null) == t ]] && break
	sleep 0.05
done
vresting=$(psql_q -c 'SELECT resting_orders FROM engine.status()')
# place_order on the generated book (BTC_USDT, bids 100.00..149.99, asks
# 200.00..249.99): 70 % passive inside those ranges, 30 % through the spread
cat >"$TMP/vplace.sql" <<'EOF'
\set u random(1, 10000)
\set s random(0, 1)
\set r random(1, 100)
\set p random(0, 4999)
SELECT order_id FROM engine.place_order(:u::bigint, 'BTC_USDT', (ARRAY['buy', 'sell'])[:s::int + 1], 0.001,
       CASE WHEN :r <= 30 THEN (CASE WHEN :s = 0 THEN 250 ELSE 100 END)
            ELSE (CASE WHEN :s = 0 THEN 100 ELSE 200 END) + :p * 0.01 END);
EOF
echo 'SELECT count(*) FROM engine.verify();' >"$TMP/verify.sql"
vrun() {
	pgbench -n -M prepared -c "$BENCH_VERIFY_CLIENTS" -j "$BENCH_VERIFY_CLIENTS" -T "$BENCH_SECONDS" \
		-f "$TMP/vplace.sql" 2>&1 | awk '/^tps = / { printf "%.0f", $3 }'
}
alone=$(vrun)
pgbench -n -c 1 -j 1 -T "$BENCH_SECONDS" -f "$TMP/verify.sql" >"$TMP/verify.out" 2>&1 &
vpid=$!
with=$(vrun)
wait "$vpid" || { cat "$TMP/verify.out" >&2; exit 1; }
vcalls=$(awk '/number of transactions actually processed/ { split($NF, a, "/"); print a[1] }' "$TMP/verify.out")
alone2=$(vrun)
{
kept=$(awk -v a="$with" -v b="$alone" -v c="$alone2" 'BEGIN { m = (b + c) / 2; if (m > 0) printf "%.0f", 100 * a / m; else print "-" }')
echo
echo "fairness of long reads (issue 7, item 5): $vresting resting orders, $BENCH_VERIFY_CLIENTS clients placing orders, ${BENCH_SECONDS}s runs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  place_order alone (before, after)    %8s %8s tps\n' "$alone" "$alone2"
printf '  with one session looping verify()    %8s tps   (%s verify() calls)\n' "$with" "$vcalls"
printf '  kept                                 %7s %%   (goal >= 70 %%: %s)\n' "$kept" \
	"$(awk -v k="$kept" 'BEGIN { print (k >= 70) ? "met" : "NOT met" }')"
} | tee -a "$OUT/bench.txt"
