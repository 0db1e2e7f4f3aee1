#!/usr/bin/env bash
# test.sh — `make test`: everything a clean Debian 12 machine needs to run
# every suite, then the suites, then one line "N passed, N failed".
#
# 1. installs missing packages (apt-get, as root), builds and installs;
# 2. core unit and property tests under ASan/UBSan (make check-core), and
#    the shell's layering (make check-layout);
# 3. pg_regress suites in a temporary instance, as a non-root user;
# 4. TAP tests (crash, recovery, concurrency, upgrade from release 1.0, which
#    it builds from test/fixtures), as the same user.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
. test/scripts/common.sh

install_dependencies
build_and_install
ensure_run_user

LOGDIR=$(mktemp -d /tmp/engine-test.XXXXXX)
passed=0
failed=0

echo "== core (make check-core)"
make -s check-core >"$LOGDIR/core.log" 2>&1
core_rc=$?
line=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$LOGDIR/core.log" | tail -1)
if [ -n "$line" ]; then
	p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed}
	passed=$((passed + p)); failed=$((failed + f))
fi
if [ $core_rc -ne 0 ] && [ -z "$line" -o "${f:-0}" = 0 ]; then failed=$((failed + 1)); fi
grep -E "^not ok|^    " "$LOGDIR/core.log" | head -50
echo "core: ${line:-build failed (see $LOGDIR/core.log)}"
[ -z "$line" ] && tail -30 "$LOGDIR/core.log"

echo "== layout (make check-layout)"
if bash test/scripts/layering.sh >"$LOGDIR/layout.log" 2>&1; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
cat "$LOGDIR/layout.log"

# The PostgreSQL suites run in a copy owned by the unprivileged user.
WORK=$(mktemp -d /tmp/engine-tree.XXXXXX)
rsync -a --exclude .git --exclude build "$ROOT"/ "$WORK"/
# Release 1.0 for the upgrade test (test/t/020_upgrade.pl), built from its
# sources in test/fixtures; when that is impossible the test fails and says why.
if release_1_0=$(bash test/scripts/release_1_0.sh "$WORK/tmp_release_1.0" 2>"$LOGDIR/release_1_0.log"); then
	tap_env="export ENGINE_RELEASE_1_0=$(printf %q "$release_1_0");"
else
	tap_env="export ENGINE_RELEASE_1_0_ERROR=$(printf %q "$(tail -1 "$LOGDIR/release_1_0.log")");"
fi
chown -R "$RUN_USER" "$WORK" "$LOGDIR"
chmod 755 "$WORK"

echo "== pg_regress"
run_as "cd '$WORK' && make -s installcheck PG_CONFIG='$PG_CONFIG' TAP_TESTS=" >"$LOGDIR/regress.log" 2>&1
regress_rc=$?
rp=$(grep -cE "^(ok|test|     ) .*\.\.\. ok|^ok [0-9]+ " "$LOGDIR/regress.log")
rf=$(grep -cE "\.\.\. FAILED|^not ok [0-9]+ " "$LOGDIR/regress.log")
if [ $regress_rc -ne 0 ] && [ "$rf" -eq 0 ]; then rf=1; fi
grep -E "\.\.\. (ok|FAILED)" "$LOGDIR/regress.log"
if [ "$rf" -ne 0 ]; then
	tail -20 "$LOGDIR/regress.log"
	[ -f "$WORK/regression.diffs" ] && head -150 "$WORK/regression.diffs"
fi
echo "pg_regress: $rp passed, $rf failed"
passed=$((passed + rp)); failed=$((failed + rf))

echo "== TAP"
run_as "$tap_env cd '$WORK' && make -s installcheck PG_CONFIG='$PG_CONFIG' REGRESS=" >"$LOGDIR/tap.log" 2>&1
tap_rc=$?
total=$(grep -oE "Tests=[0-9]+" "$LOGDIR/tap.log" | tail -1 | cut -d= -f2)
tf=$(grep -oE "Failed [0-9]+/[0-9]+ subtests" "$LOGDIR/tap.log" | awk '{split($2,a,"/"); s+=a[1]} END {print s+0}')
if [ $tap_rc -ne 0 ] && [ "$tf" -eq 0 ]; then tf=1; fi
tp=$(( ${total:-0} - tf )); [ $tp -lt 0 ] && tp=0
grep -E "^test/t/.*\.pl \.\.|^(ok|not ok)|^#" "$LOGDIR/tap.log" | grep -vE "^ok " | head -80
if [ $tap_rc -ne 0 ]; then
	tail -40 "$LOGDIR/tap.log"
	for f in "$WORK"/tmp_check/log/regress_log_*; do
		[ -f "$f" ] && { echo "--- $f"; tail -60 "$f"; }
	done
fi
echo "TAP: $tp passed, $tf failed"
passed=$((passed + tp)); failed=$((failed + tf))

echo "logs: $LOGDIR"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
