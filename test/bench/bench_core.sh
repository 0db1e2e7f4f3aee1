#!/usr/bin/env bash
# bench_core.sh — `make bench-core`: the matching core's throughput, latency
# and instructions per command, for the current core and a previous one
# measured in the same run, and their ratios.
#
# 1. Builds build/bench/current/bench_core from this tree's src/core and
#    build/bench/base/bench_core from src/core at BENCH_BASE (taken with git
#    archive), both from this tree's test/bench/bench_core.c with the same
#    compiler and flags.  Default BENCH_BASE: HEAD when src/core has
#    uncommitted changes, else the parent of the newest commit (first-parent
#    history) that changed src/core, i.e. the core before its last change.
#    BENCH_BASE=v1.0 compares with release 1.0.
# 2. Timing: BENCH_ROUNDS rounds; in each, every workload runs in its own
#    process for base and current back to back, base first in odd rounds and
#    current first in even ones, so a drift of the machine's speed falls on
#    both alike.  A process generates its commands (untimed), replays them
#    once to warm up, BENCH_RUNS times timed and once with a clock read per
#    command for the latency percentiles.  ops/s is commands per second of
#    the process's CPU time (time spent waiting for a core is left out; the
#    wall-time figure is printed beside it), the median over every timed
#    replay of all rounds; p50/p99/p99.9 are the median over the rounds; the
#    ops/s ratio is the median over the rounds of current's median over
#    base's in the same round (neighbours in time share the machine's load).
# 3. Instructions: both binaries under callgrind (side by side: counts do not
#    depend on load) with --ir and BENCH_IR_N commands per workload.  Only
#    replay() is counted (generation and setup are not), in two halves whose
#    figures are printed beside the total to show it is stable.
#    Before that, the restore part: the snapshot load of make bench-recovery's
#    state, base and current alternating over rounds as above (items per
#    CPU second, each process's median of its loads; the ratio is the median
#    over rounds of the same round's ratio).  A base core without snapshot
#    items (before format 2) has no restore figures.
# 4. Prints the table and the ratios (current / base), the per-function
#    profile of the current core on the swinging workload at 100k accounts,
#    and writes build/bench/: bench_core.tsv (the table), bench_core.png
#    (ops/s and instructions per command, base vs current), profile-*.txt
#    (instructions per command by function, every workload and build), the
#    raw per-process logs and callgrind files.
#
# Environment (make variables of the same name are passed on):
#   BENCH_BASE       git revision of the baseline core (see 1.)
#   QUICK=1          a fast run: 200k commands, 2 rounds of 3 runs, 100k under callgrind
#   BENCH_N          commands per workload and process (default 1000000)
#   BENCH_ROUNDS     rounds (default 4)      BENCH_RUNS   timed replays per process (3)
#   BENCH_IR_N       commands under callgrind (default 400000: within 0.5 % of
#                    the figure over 1M commands on every workload)
#   BENCH_WORKLOADS  comma-separated among a,b,c1k,c100k (default all)
#   BENCH_RESTORE=0  skip the restore part (snapshot load in the core, see
#                    bench_core.c "restore": make bench-recovery's state, 1M
#                    orders over 100k accounts; BENCH_RESTORE_N orders,
#                    BENCH_RESTORE_ROUNDS rounds (4; QUICK: 2, at 200k orders)
#                    x BENCH_RESTORE_RUNS loads (5) per process)
#   CC_CORE, BENCH_CFLAGS  compiler and flags for both builds
#
# Needs gcc, git, valgrind and gnuplot (installed with apt-get when run as
# root and missing; see NEEDED_PACKAGES in test/scripts/common.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
. test/scripts/common.sh

if [[ "${QUICK:-}" == 1 ]]; then
	N=${BENCH_N:-200000}; ROUNDS=${BENCH_ROUNDS:-2}; RUNS=${BENCH_RUNS:-3}; IR_N=${BENCH_IR_N:-100000}
else
	N=${BENCH_N:-1000000}; ROUNDS=${BENCH_ROUNDS:-4}; RUNS=${BENCH_RUNS:-3}; IR_N=${BENCH_IR_N:-400000}
fi
WORKLOADS=${BENCH_WORKLOADS:-a,b,c1k,c100k}
RESTORE=${BENCH_RESTORE:-1}
RESTORE_RUNS=${BENCH_RESTORE_RUNS:-5}
if [[ "${QUICK:-}" == 1 ]]; then
	RESTORE_N=${BENCH_RESTORE_N:-200000}; RESTORE_ROUNDS=${BENCH_RESTORE_ROUNDS:-2}
else
	RESTORE_N=${BENCH_RESTORE_N:-1000000}; RESTORE_ROUNDS=${BENCH_RESTORE_ROUNDS:-4}
fi
CC_CORE=${CC_CORE:-gcc}
BENCH_CFLAGS=${BENCH_CFLAGS:--std=gnu11 -Wall -Wextra -O2 -g -DNDEBUG}
OUT=$ROOT/build/bench
BUILDS="base current"

NEEDED_PACKAGES="gcc git valgrind gnuplot-nox" install_dependencies

# ------------------------------------------------------------------ build

command -v git >/dev/null && git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1 ||
	die "bench-core builds the baseline core from git history: run it in a git checkout"
if [[ -n "${BENCH_BASE:-}" ]]; then
	BASE_REV=$BENCH_BASE
	base_why="BENCH_BASE"
elif [[ -n "$(git -C "$ROOT" status --porcelain -- src/core)" ]]; then
	BASE_REV=HEAD
	base_why="HEAD: src/core has uncommitted changes"
else
	last=$(git -C "$ROOT" log -1 --first-parent --format=%H HEAD -- src/core)
	[[ -n "$last" ]] || die "no commit changes src/core: give BENCH_BASE"
	BASE_REV=$(git -C "$ROOT" rev-parse --short "$last")^
	base_why="the core before $(git -C "$ROOT" log -1 --format='%h (%s' "$last" | cut -c1-60)...)"
fi
base_sha=$(git -C "$ROOT" rev-parse --verify --quiet "$BASE_REV^{commit}") ||
	die "BENCH_BASE '$BASE_REV' is not a commit of this repository"
base_label="$BASE_REV ($(git -C "$ROOT" rev-parse --short "$base_sha"))"

rm -rf "$OUT"
mkdir -p "$OUT/current" "$OUT/base"
git -C "$ROOT" archive --format=tar "$base_sha" src/core | tar -x -C "$OUT/base"
compgen -G "$OUT/base/src/core/*.c" >/dev/null || die "$base_label has no core sources in src/core"
echo "bench-core: base    = $base_label, $base_why"
echo "bench-core: current = src/core of the work tree"
if diff -r -q "$OUT/base/src/core" "$ROOT/src/core" >/dev/null; then
	echo "bench-core: the two cores are identical: every ratio should be about 1.00"
fi
# shellcheck disable=SC2086
$CC_CORE $BENCH_CFLAGS -I"$ROOT/src/core" -o "$OUT/current/bench_core" \
	"$ROOT"/src/core/*.c "$ROOT/test/bench/bench_core.c" ||
	die "cannot build bench_core against the current core"
# Cores from before the engine type was named core_engine call it core_t.
base_compat=
grep -q 'core_engine' "$OUT/base/src/core/core.h" || base_compat=-Dcore_engine=core_t
# shellcheck disable=SC2086
$CC_CORE $BENCH_CFLAGS $base_compat -I"$OUT/base/src/core" -o "$OUT/base/bench_core" \
	"$OUT"/base/src/core/*.c "$ROOT/test/bench/bench_core.c" ||
	die "test/bench/bench_core.c does not build against the core of $base_label: keep it on the parts of core.h both share"

# ------------------------------------------------------------------ timing

median() {	# of the numbers on stdin, one per line
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "bench-core: $N commands per workload, $ROUNDS rounds x $RUNS timed runs per build; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
SECONDS=0
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then order="base current"; else order="current base"; fi
	for w in ${WORKLOADS//,/ }; do
		for b in $order; do
			"$OUT/$b/bench_core" -n "$N" -r "$RUNS" --tsv "$OUT/$b/timing.tsv" "$w" >>"$OUT/$b/timing.log" ||
				die "$b/bench_core failed on workload $w (see $OUT/$b/timing.log)"
			tail -1 "$OUT/$b/timing.tsv" | awk -F'\t' -v r="$r/$ROUNDS" -v b="$b" '{
				n = split($6, s, ","); for (i = 1; i <= n; i++) sum += $2 / s[i]
				printf "  round %s  %-6s %-8s %7.2f M ops/s (mean of %d)  p50 %s ns  p99 %s ns\n", r, $1, b, sum / n / 1e6, n, $8, $9 }'
		done
	done
done

# ------------------------------------------------------------------ restore

# The snapshot load in the core (bench_core --restore): RESTORE_ROUNDS
# rounds, base and current back to back in alternating order, each process
# building the state once and timing RESTORE_RUNS loads.
RESTORE_OK=
if [[ "$RESTORE" != 0 ]]; then
	echo "bench-core: restore, $RESTORE_N resting orders, $RESTORE_ROUNDS rounds x $RESTORE_RUNS timed loads per build"
	SECONDS=0
	RESTORE_OK=1
	for ((r = 1; r <= RESTORE_ROUNDS; r++)); do
		if ((r % 2)); then order="base current"; else order="current base"; fi
		for b in $order; do
			if ! "$OUT/$b/bench_core" --restore -n "$RESTORE_N" -r "$RESTORE_RUNS" --tsv "$OUT/$b/restore.tsv" \
				>>"$OUT/$b/restore.log" 2>&1; then
				echo "bench-core: $b/bench_core --restore failed (see $OUT/$b/restore.log): no restore figures"
				RESTORE_OK=
				break 2
			fi
			tail -1 "$OUT/$b/restore.tsv" | awk -F'\t' -v r="$r/$RESTORE_ROUNDS" -v b="$b" '{
				printf "  round %s  restore %-8s %7.3f M items/s of CPU (median of its loads)\n", r, b, $2 / $3 / 1e6 }'
		done
	done
	echo "bench-core: restore took ${SECONDS} s"
fi

# ------------------------------------------------------------ instructions

echo "bench-core: timing took ${SECONDS} s; callgrind, $IR_N commands per workload, both builds side by side..."
SECONDS=0
run_ir() {
	valgrind --tool=callgrind --collect-atstart=no --toggle-collect=replay --dump-after=replay \
		--callgrind-out-file="$OUT/$1/callgrind.out" \
		"$OUT/$1/bench_core" -n "$IR_N" --ir --tsv "$OUT/$1/ir.tsv" "$WORKLOADS" >"$OUT/$1/ir.log" 2>&1
}
run_ir base & pid_base=$!
run_ir current & pid_cur=$!
wait "$pid_base" || die "callgrind run of the base failed (see $OUT/base/ir.log)"
wait "$pid_cur" || die "callgrind run of the current core failed (see $OUT/current/ir.log)"
echo "bench-core: callgrind took ${SECONDS} s"

# Part k of a callgrind run is the k-th replay() call: workload i (in the
# order ir.tsv lists them) is parts 2i-1 and 2i.
part_total() { awk '/^totals:/ { print $2 }' "$1"; }

# profile FILE...: instructions by function over the parts, one "count name" a line.
# Entries that carry a whole part are replay()'s callers, not costs of their own.
profile() {
	for f in "$@"; do
		callgrind_annotate --inclusive=no --threshold=100 --auto=no --show-percs=no "$f" |
			awk -v total="$(part_total "$f")" '
				/^-+$/ { sect++ }
				sect >= 5 && $1 ~ /^[0-9,]+$/ {
					n = $1; gsub(",", "", n)
					if (n + 0 == total + 0) next
					name = $2; sub(/.*\//, "", name); sub(/\047[0-9]+$/, "", name)
					print n, name }'
	done | awk '{ c[$2] += $1 } END { for (k in c) print c[k], k }' | sort -k1,1nr
}

declare -A IR IR1 IR2 HASH_IR
for b in $BUILDS; do
	i=0
	while IFS=$'\t' read -r id n hash _; do
		i=$((i + 1))
		p1=$OUT/$b/callgrind.out.$((2 * i - 1))
		p2=$OUT/$b/callgrind.out.$((2 * i))
		[[ -f "$p1" && -f "$p2" ]] || die "callgrind wrote no part for $id ($b)"
		t1=$(part_total "$p1"); t2=$(part_total "$p2")
		IR[$b,$id]=$(awk -v a="$t1" -v b="$t2" -v n="$n" 'BEGIN { printf "%.1f", (a + b) / n }')
		IR1[$b,$id]=$(awk -v a="$t1" -v n="$n" 'BEGIN { printf "%.1f", a / int(n / 2) }')
		IR2[$b,$id]=$(awk -v a="$t2" -v n="$n" 'BEGIN { printf "%.1f", a / (n - int(n / 2)) }')
		HASH_IR[$b,$id]=$hash
		profile "$p1" "$p2" | awk -v n="$n" '{ printf "%8.1f  %s\n", $1 / n, $2 }' \
			>"$OUT/profile-$id-$b.txt"
	done <"$OUT/$b/ir.tsv"
done

# ------------------------------------------------------------------ report

declare -A OPS WALL OPSLO OPSHI ROUND P50 P99 P999 HASH
for b in $BUILDS; do
	for w in ${WORKLOADS//,/ }; do
		rows=$(awk -F'\t' -v w="$w" '$1 == w' "$OUT/$b/timing.tsv")
		n=$(cut -f2 <<<"$rows" | head -1)
		OPS[$b,$w]=$(cut -f6 <<<"$rows" | tr ',' '\n' | median | awk -v n="$n" '{ printf "%.3f", n / $1 / 1e6 }')
		WALL[$b,$w]=$(cut -f7 <<<"$rows" | tr ',' '\n' | median | awk -v n="$n" '{ printf "%.3f", n / $1 / 1e6 }')
		# Each round's median, in round order.
		ROUND[$b,$w]=$(while read -r s; do tr ',' '\n' <<<"$s" | median; done < <(cut -f6 <<<"$rows") |
			awk -v n="$n" '{ printf "%.4f\n", n / $1 / 1e6 }')
		OPSLO[$b,$w]=$(sort -g <<<"${ROUND[$b,$w]}" | head -1)
		OPSHI[$b,$w]=$(sort -g <<<"${ROUND[$b,$w]}" | tail -1)
		P50[$b,$w]=$(cut -f8 <<<"$rows" | median)
		P99[$b,$w]=$(cut -f9 <<<"$rows" | median)
		P999[$b,$w]=$(cut -f10 <<<"$rows" | median)
		HASH[$b,$w]=$(cut -f3 <<<"$rows" | sort -u | tr '\n' ' ')
	done
done

# The ops/s ratio: median over rounds of current / base in the same round,
# then the least and the greatest of them.
paired_ratio() {
	paste <(echo "${ROUND[current,$1]}") <(echo "${ROUND[base,$1]}") |
		awk '{ print $1 / $2 }' | sort -g |
		awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.2f %.2f %.2f\n", m, v[1], v[NR] }'
}

name_of() {
	case $1 in
		a) echo "a) exchange-core mix" ;;
		b) echo "b) deep book, 100k orders" ;;
		c1k) echo "c) swinging, 1k accounts" ;;
		c100k) echo "c) swinging, 100k accounts" ;;
		*) echo "$1" ;;
	esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
ratio3() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.3f", a / b }'; }

TSV=$OUT/bench_core.tsv
printf "workload\tbuild\tops_per_cpu_s\tops_round_min\tops_round_max\tops_per_wall_s\tp50_ns\tp99_ns\tp999_ns\tinstr_per_cmd\n" >"$TSV"
echo
echo "base = $base_label; current = the work tree's src/core"
echo "ops/s: commands per second of CPU time, median of $((ROUNDS * RUNS)) timed replays of $N commands"
echo "       (each round's median: min..max; wall: per second of wall time, median)"
echo "latency: ns, median over $ROUNDS rounds; instr/cmd: callgrind over $IR_N commands (first half, second half)"
echo "ratio: current / base; for ops/s the median over rounds of the same round's ratio (their min..max)"
echo "       (ops/s above 1 is faster; latency and instructions below 1 are better)"
echo
printf "%-27s %-12s %9s %15s %8s %6s %6s %7s %9s %17s\n" workload build "ops/s" "rounds" wall p50 p99 p99.9 instr/cmd "(halves)"
for w in ${WORKLOADS//,/ }; do
	for b in $BUILDS; do
		printf "%-27s %-12s %7.2f M %6.2f..%-6.2f %6.2f M %6s %6s %7s %9s %17s\n" \
			"$( [[ $b == base ]] && name_of "$w")" "$b" "${OPS[$b,$w]}" "${OPSLO[$b,$w]}" "${OPSHI[$b,$w]}" \
			"${WALL[$b,$w]}" "${P50[$b,$w]}" "${P99[$b,$w]}" "${P999[$b,$w]}" "${IR[$b,$w]}" \
			"(${IR1[$b,$w]}, ${IR2[$b,$w]})"
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$w" "$b" "${OPS[$b,$w]}" "${OPSLO[$b,$w]}" \
			"${OPSHI[$b,$w]}" "${WALL[$b,$w]}" "${P50[$b,$w]}" "${P99[$b,$w]}" "${P999[$b,$w]}" "${IR[$b,$w]}" >>"$TSV"
	done
	read -r r_ops r_lo r_hi < <(paired_ratio "$w")
	r_wall=$(ratio "${WALL[current,$w]}" "${WALL[base,$w]}")
	r_p50=$(ratio "${P50[current,$w]}" "${P50[base,$w]}")
	r_p99=$(ratio "${P99[current,$w]}" "${P99[base,$w]}")
	r_p999=$(ratio "${P999[current,$w]}" "${P999[base,$w]}")
	r_ir=$(ratio3 "${IR[current,$w]}" "${IR[base,$w]}")
	printf "%-27s %-12s %7s x (%s..%s) %6s x %6s %6s %7s %9s\n" "" "current/base" \
		"$r_ops" "$r_lo" "$r_hi" "$r_wall" "$r_p50" "$r_p99" "$r_p999" "$r_ir"
	printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$w" "current/base" "$r_ops" "$r_lo" "$r_hi" \
		"$r_wall" "$r_p50" "$r_p99" "$r_p999" "$r_ir" >>"$TSV"
	if [[ "${HASH[base,$w]}" != "${HASH[current,$w]}" || "${HASH_IR[base,$w]}" != "${HASH_IR[current,$w]}" ]]; then
		echo "    note: base and current generated different command lists for $w (their cores behave differently): the ratio compares different work"
	fi
done
if [[ -n "$RESTORE_OK" ]]; then
	# items/s of each round's process; ratio: median over rounds of the same round's ratio
	rb=$(awk -F'\t' '{ printf "%.4f\n", $2 / $3 / 1e6 }' "$OUT/base/restore.tsv")
	rc=$(awk -F'\t' '{ printf "%.4f\n", $2 / $3 / 1e6 }' "$OUT/current/restore.tsv")
	items=$(head -1 "$OUT/current/restore.tsv" | cut -f2)
	read -r q q_lo q_hi < <(paste <(echo "$rc") <(echo "$rb") | awk '{ print $1 / $2 }' | sort -g |
		awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.2f %.2f %.2f\n", m, v[1], v[NR] }')
	echo
	echo "restore: make bench-recovery's state as $items snapshot items (assets, symbols, balances, orders),"
	echo "         decode + restore + checks + digest into a fresh arena; M items per CPU second,"
	echo "         median over $RESTORE_ROUNDS rounds of each process's median of $RESTORE_RUNS loads"
	printf "%-27s %-12s %9s\n" "" base "$(median <<<"$rb") M"
	printf "%-27s %-12s %9s\n" "" current "$(median <<<"$rc") M"
	printf "%-27s %-12s %7s x (%s..%s)\n" "" "current/base" "$q" "$q_lo" "$q_hi"
	printf "restore\tbase\t%s\nrestore\tcurrent\t%s\nrestore\tcurrent/base\t%s\t%s\t%s\n" \
		"$(median <<<"$rb")" "$(median <<<"$rc")" "$q" "$q_lo" "$q_hi" >>"$TSV"
fi
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

for w in c100k c1k b a; do
	if [[ -f "$OUT/profile-$w-current.txt" ]]; then
		echo
		echo "where the current core's instructions go, workload $w (instr/cmd by function, self cost, top 15):"
		head -15 "$OUT/profile-$w-current.txt"
		echo "    (all functions and workloads: $OUT/profile-*.txt)"
		break
	fi
done

# ------------------------------------------------------------------ plot

DAT=$OUT/plot.dat
for w in ${WORKLOADS//,/ }; do
	echo "$w ${OPS[base,$w]} ${OPS[current,$w]} ${IR[base,$w]} ${IR[current,$w]}" \
		"$(paired_ratio "$w" | cut -d' ' -f1)x $(ratio3 "${IR[current,$w]}" "${IR[base,$w]}")x"
done >"$DAT"
gnuplot <<EOF || die "gnuplot failed"
set terminal pngcairo size 1000,460 font ",10"
set output "$OUT/bench_core.png"
set multiplot layout 1,2 title "make bench-core: base $base_label vs current, $(date -u +%Y-%m-%d)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:*]
set offsets 0, 0, graph 0.15, 0
set grid ytics
set key top left horizontal
set bmargin 5
set xlabel "workload, and current / base" offset 0,-0.6
set ylabel "M commands per CPU second (median)"
set title "throughput"
plot "$DAT" using 2:xtic(strcol(1)."\\n".strcol(6)) title "base" lc rgb "#8c8c8c", \
     "" using 3 title "current" lc rgb "#1f77b4", \
     "" using (\$0 - 0.17):2:(sprintf("%.2f", \$2)) with labels offset 0,0.6 font ",8" notitle, \
     "" using (\$0 + 0.17):3:(sprintf("%.2f", \$3)) with labels offset 0,0.6 font ",8" notitle
set ylabel "instructions per command"
set title "instructions (callgrind, $IR_N commands)"
plot "$DAT" using 4:xtic(strcol(1)."\\n".strcol(7)) title "base" lc rgb "#8c8c8c", \
     "" using 5 title "current" lc rgb "#1f77b4", \
     "" using (\$0 - 0.17):4:(sprintf("%.0f", \$4)) with labels offset 0,0.6 font ",8" notitle, \
     "" using (\$0 + 0.17):5:(sprintf("%.0f", \$5)) with labels offset 0,0.6 font ",8" notitle
unset multiplot
EOF
echo
echo "written: $TSV, $OUT/bench_core.png"
