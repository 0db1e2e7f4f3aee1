#!/usr/bin/env bash
# release_1_0.sh DIR — release 1.0 of the engine, built from the git tag v1.0
# of this checkout and installed into a private PostgreSQL copy in DIR
# (pg_prefix.sh), for the upgrade test (test/t/018_upgrade.pl).
#
# Prints the installation's path (the directory holding bin/ and lib/, what
# PostgreSQL::Test::Cluster calls install_path); make test passes it to the
# TAP tests as ENGINE_RELEASE_1_0.  Fails, saying why, when the tag or the
# history is missing (a shallow clone, an exported tree) or the build fails.
set -euo pipefail
dir=${1:?usage: release_1_0.sh DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
tag=v1.0

git -C "$root" rev-parse --git-dir >/dev/null 2>&1 ||
	{ echo "release_1_0.sh: $root is not a git checkout: the upgrade test needs the history with tag $tag" >&2; exit 1; }
git -C "$root" rev-parse -q --verify "refs/tags/$tag^{commit}" >/dev/null ||
	{ echo "release_1_0.sh: git tag $tag not found in $root (fetch the tags: git fetch --tags)" >&2; exit 1; }

mkdir -p "$dir/src"
git -C "$root" archive "$tag" | tar -x -C "$dir/src"
pg_config=$(bash "$root/test/scripts/pg_prefix.sh" "$dir/pg")
# The copy may carry another build of the engine: only release 1.0's files.
rm -f "$("$pg_config" --sharedir)"/extension/engine[.-]* "$("$pg_config" --pkglibdir)"/engine.so
if ! make -s -C "$dir/src" PG_CONFIG="$pg_config" >"$dir/build.log" 2>&1 ||
	! make -s -C "$dir/src" PG_CONFIG="$pg_config" install >>"$dir/build.log" 2>&1; then
	echo "release_1_0.sh: building release 1.0 failed; see $dir/build.log" >&2
	exit 1
fi
dirname "$("$pg_config" --bindir)"
