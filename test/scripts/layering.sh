#!/usr/bin/env bash
# layering.sh — `make check-layout`: the shape of the PostgreSQL shell.
#
#   1. no two files of src/pg call into each other, directly or around a
#      circle: the references between their objects (nm: a symbol one
#      object uses and another defines) must form a graph without cycles;
#   2. no file of src/pg is longer than LAYOUT_MAX_LINES (450).
#
# Prints the file-level references (VERBOSE=1) and one line per breach;
# exits non-zero if there is any.  Needs the objects built (make).
set -uo pipefail
cd "$(dirname "$0")/../.."
MAX=${LAYOUT_MAX_LINES:-450}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

objs=$(find src/pg -name '*.o' | sort)
srcs=$(find src/pg -name '*.c' | sort)
if [ -z "$objs" ] || [ "$(echo "$objs" | wc -l)" -ne "$(echo "$srcs" | wc -l)" ]; then
	echo "layering: build the extension first (make)" >&2
	exit 2
fi

for o in $objs; do
	f=${o%.o}.c
	nm -g --defined-only "$o" | awk -v f="$f" 'NF == 3 { print $3, f }' >>"$tmp/defs"
	nm -u "$o" | awk -v f="$f" '{ print $2, f }' >>"$tmp/uses"
done
sort -o "$tmp/defs" "$tmp/defs"
sort -o "$tmp/uses" "$tmp/uses"
# user definer symbol, for symbols defined in another src/pg file
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 { print $2, $3, $1 }' | sort -u >"$tmp/refs"
[ -n "${VERBOSE:-}" ] && awk '{ print $1 " -> " $2 " (" $3 ")" }' "$tmp/refs"

awk '{ print $1, $2 }' "$tmp/refs" | sort -u >"$tmp/edges"
if ! tsort "$tmp/edges" >/dev/null 2>"$tmp/loops"; then
	echo "layering: src/pg files call each other around a circle:"
	sed -n 's/^tsort: //p' "$tmp/loops" | grep -v "input contains a loop" | sed 's/^/    /'
	status=1
fi

for f in $(find src/pg -name '*.[ch]' | sort); do
	n=$(wc -l <"$f")
	if [ "$n" -gt "$MAX" ]; then
		echo "layering: $f has $n lines (more than $MAX)"
		status=1
	fi
done

[ $status -eq 0 ] && echo "layering: $(wc -l <"$tmp/edges") references between $(echo "$srcs" | wc -l) files of src/pg, no cycle, none over $MAX lines"
exit $status
