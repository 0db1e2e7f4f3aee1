#!/usr/bin/env bash
# release_1_0.sh DIR — release 1.0 of the engine, built from its sources in
# test/fixtures/engine-1.0-src.tar.xz and installed into a private
# PostgreSQL copy in DIR (pg_prefix.sh), for the upgrade test
# (test/t/020_upgrade.pl).
#
# The sources are the files of git tag v1.0 that the build needs
# (git archive v1.0 Makefile engine.control src sql/engine--1.0.sql), kept
# in the tree so that the test does not depend on how the checkout was
# cloned.  Prints the installation's path (the directory holding bin/ and
# lib/, what PostgreSQL::Test::Cluster calls install_path); make test
# passes it to the TAP tests as ENGINE_RELEASE_1_0.  Fails, saying why,
# when the build fails.
set -euo pipefail
dir=${1:?usage: release_1_0.sh DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
archive=$root/test/fixtures/engine-1.0-src.tar.xz

[ -f "$archive" ] || { echo "release_1_0.sh: $archive is missing" >&2; exit 1; }
mkdir -p "$dir/src"
tar -xJf "$archive" -C "$dir/src"
pg_config=$(bash "$root/test/scripts/pg_prefix.sh" "$dir/pg")
# The copy may carry another build of the engine: only release 1.0's files.
rm -f "$("$pg_config" --sharedir)"/extension/engine[.-]* "$("$pg_config" --pkglibdir)"/engine.so
if ! make -s -C "$dir/src" PG_CONFIG="$pg_config" >"$dir/build.log" 2>&1 ||
	! make -s -C "$dir/src" PG_CONFIG="$pg_config" install >>"$dir/build.log" 2>&1; then
	echo "release_1_0.sh: building release 1.0 failed; see $dir/build.log" >&2
	exit 1
fi
dirname "$("$pg_config" --bindir)"
