#!/usr/bin/env bash
# pg_prefix.sh DIR — a private, relocated copy of Debian's PostgreSQL 15 in
# DIR, writable by the caller, so that `make install` needs no root and two
# builds of the extension can be installed side by side (development
# checkouts, and the upgrade test, which runs release 1.0's library).
#
# PostgreSQL finds its share and lib directories relative to its binaries,
# so a copy of /usr/lib/postgresql/15 and /usr/share/postgresql/15 under one
# new prefix is a working installation.  Headers are linked, not copied.
# Prints the prefix's pg_config.
set -euo pipefail
dir=${1:?usage: pg_prefix.sh DIR}
src_lib=/usr/lib/postgresql/15
src_share=/usr/share/postgresql/15
[ -x "$src_lib/bin/postgres" ] || { echo "pg_prefix.sh: $src_lib/bin/postgres not found" >&2; exit 1; }
mkdir -p "$dir/lib/postgresql" "$dir/share/postgresql" "$dir/include"
if [ ! -x "$dir/lib/postgresql/15/bin/postgres" ]; then
	cp -a "$src_lib" "$dir/lib/postgresql/"
	cp -a "$src_share" "$dir/share/postgresql/"
	ln -sfn /usr/include/postgresql "$dir/include/postgresql"
fi
echo "$dir/lib/postgresql/15/bin/pg_config"
