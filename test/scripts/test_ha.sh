#!/usr/bin/env bash
# test_ha.sh — `make test-ha`: the engine under a real HA manager
# (pg_auto_failover from Debian's packages), see test/ha/pg_auto_failover.sh.
# Installs what it needs (as root), builds and installs the extension, runs
# the scenario as an unprivileged user, and ends with "N passed, N failed".
#
# Not part of `make test` (and so not of CI): it takes a few minutes of
# wall time, most of them waiting for pg_auto_failover's health checks and
# state machine (tuned to seconds, still several per step), and its timings
# stretch a lot on a busy 2-core machine.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/scripts/common.sh

NEEDED_PACKAGES="$NEEDED_PACKAGES postgresql-15-auto-failover pg-auto-failover-cli"
install_dependencies
build_and_install
ensure_run_user

# The monitor needs the pgautofailover extension: Debian's installation has
# it; a private prefix made by pg_prefix.sh may predate the package.
MONITOR_BINDIR=/usr/lib/postgresql/15/bin
[ -f /usr/lib/postgresql/15/lib/pgautofailover.so ] || die "pgautofailover.so not found (postgresql-15-auto-failover)"
WORK=$(mktemp -d /tmp/engine-ha-test.XXXXXX)
cp test/ha/pg_auto_failover.sh "$WORK/"
chown -R "$RUN_USER" "$WORK"
run_as "cd '$WORK' && NODE_BINDIR='$PG_BINDIR' MONITOR_BINDIR='$MONITOR_BINDIR' bash '$WORK/pg_auto_failover.sh'"
rc=$?
rm -rf "$WORK"
exit $rc
