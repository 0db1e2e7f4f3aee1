#!/usr/bin/env bash
# demo.sh — `make demo`: a throwaway cluster with the engine preloaded, a
# BTC/USDT market, a few crossing orders, and how to connect to it.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/scripts/common.sh

DEMO_DIR=${DEMO_DIR:-/tmp/engine-demo}
DEMO_PORT=${DEMO_PORT:-5499}

install_dependencies
build_and_install
ensure_run_user

if [ -f "$DEMO_DIR/data/postmaster.pid" ]; then
	run_as "pg_ctl -D '$DEMO_DIR/data' -m fast stop" >/dev/null 2>&1 || true
fi
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
chown "$RUN_USER" "$DEMO_DIR"

run_as "initdb -D '$DEMO_DIR/data' -U postgres --auth=trust" >/dev/null
cat >>"$DEMO_DIR/data/postgresql.conf" <<CONF
port = $DEMO_PORT
listen_addresses = ''
unix_socket_directories = '$DEMO_DIR'
shared_preload_libraries = 'engine'
engine.database = 'postgres'
engine.max_orders = 100000
engine.max_accounts = 10000
CONF
run_as "pg_ctl -D '$DEMO_DIR/data' -l '$DEMO_DIR/server.log' -w start" >/dev/null

PSQL="psql -X -q -h $DEMO_DIR -p $DEMO_PORT -U postgres -d postgres -v ON_ERROR_STOP=1"
run_as "$PSQL" <<'SQL'
CREATE EXTENSION engine;
DO $$ BEGIN
  FOR i IN 1..300 LOOP EXIT WHEN engine.ready(); PERFORM pg_sleep(0.1); END LOOP;
  IF NOT engine.ready() THEN RAISE EXCEPTION 'engine did not become ready'; END IF;
END $$;

\echo '-- reference data'
SELECT engine.create_asset('BTC', 8) AS btc, engine.create_asset('USDT', 6) AS usdt;
SELECT engine.create_symbol('BTC_USDT', 'BTC', 'USDT', tick_size => 0.01, lot_size => 0.000001,
                            maker_fee => 0.001, taker_fee => 0.002) AS symbol_id;

\echo '-- funds: alice has dollars, bob has bitcoin'
SELECT * FROM engine.deposit(1, 'USDT', 1000000, 'wire-001');
SELECT * FROM engine.deposit(2, 'BTC', 10, 'chain-tx-42');

\echo '-- bob offers, alice bids below, then alice crosses'
SELECT * FROM engine.place_order(2, 'BTC_USDT', 'sell', 1.5, 84956.01, client_order_id => 'bob-1');
SELECT * FROM engine.place_order(2, 'BTC_USDT', 'sell', 2, 85100, client_order_id => 'bob-2');
SELECT * FROM engine.place_order(1, 'BTC_USDT', 'buy', 0.5, 84000, client_order_id => 'alice-1');
SELECT * FROM engine.place_order(1, 'BTC_USDT', 'buy', 2.562844, 85100, client_order_id => 'alice-2');

\echo '-- the book'
SELECT * FROM engine.depth('BTC_USDT');
\echo '-- trades'
SELECT trade_id, symbol, price, qty, taker_side, taker_user_id, maker_user_id, taker_fee, maker_fee FROM engine.trades_v ORDER BY trade_id;
\echo '-- balances'
SELECT 1 AS user_id, * FROM engine.balances(1) UNION ALL SELECT 2, * FROM engine.balances(2) UNION ALL SELECT 0, * FROM engine.balances(0);
\echo '-- engine status and invariants'
SELECT state, last_seq, resting_orders, accounts FROM engine.status();
SELECT * FROM engine.verify();
SQL

cat <<EOF

The demo cluster is running (data in $DEMO_DIR/data, log in $DEMO_DIR/server.log).
Connect:   su $RUN_USER -c "$PG_BINDIR/psql -h $DEMO_DIR -p $DEMO_PORT -U postgres postgres"
Stop:      su $RUN_USER -c "$PG_BINDIR/pg_ctl -D $DEMO_DIR/data stop"
EOF
