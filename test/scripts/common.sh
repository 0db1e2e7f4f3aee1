# common.sh — shared by test.sh, demo.sh and the benchmark scripts.
#
# Installs what the project needs on Debian 12 (as root), builds and installs
# the extension, and picks a non-root user for anything that runs initdb.

# PG_CONFIG may name another PostgreSQL 15 installation, e.g. a private copy
# made by test/scripts/pg_prefix.sh (then nothing needs root but apt-get).
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
if [ -x "$PG_CONFIG" ]; then
	PG_BINDIR=$("$PG_CONFIG" --bindir)
else
	PG_BINDIR=/usr/lib/postgresql/15/bin
fi
export PATH="$PG_BINDIR:$PATH"

die() { echo "error: $*" >&2; exit 1; }

# Debian packages the build, the tests and the benchmarks use (pgbouncer and
# wal2json for the pooler and change-data-capture tests, gnuplot for make
# bench's plot).
NEEDED_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-contrib libipc-run-perl clang make gcc rsync pgbouncer postgresql-15-wal2json gnuplot-nox"

install_dependencies() {
	local missing=()
	for p in $NEEDED_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})"
	echo "Installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q "${missing[@]}" >/dev/null
	# Debian starts a default cluster and pgbouncer; the project's tests,
	# demo and benchmarks start their own.
	if command -v pg_ctlcluster >/dev/null 2>&1; then
		pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
	fi
	service pgbouncer stop >/dev/null 2>&1 || true
}

# A private installation (test/scripts/pg_prefix.sh) copied Debian's
# library directory before wal2json was installed: give it the plugin too.
install_wal2json_into_prefix() {
	local lib
	lib=$("$PG_CONFIG" --pkglibdir)
	if [ ! -f "$lib/wal2json.so" ] && [ -f /usr/lib/postgresql/15/lib/wal2json.so ] && [ -w "$lib" ]; then
		cp /usr/lib/postgresql/15/lib/wal2json.so "$lib/"
	fi
}

build_and_install() {
	install_wal2json_into_prefix
	make -s PG_CONFIG="$PG_CONFIG" >/dev/null || die "build failed"
	if [ "$(id -u)" -eq 0 ] || [ -w "$("$PG_CONFIG" --pkglibdir)" ]; then
		make -s PG_CONFIG="$PG_CONFIG" install >/dev/null || die "make install failed"
	else
		sudo make -s PG_CONFIG="$PG_CONFIG" install >/dev/null || die "make install failed (needs root)"
	fi
}

# The user that runs initdb: the caller, or when the caller is root a
# dedicated unprivileged account.
RUN_USER=engine
ensure_run_user() {
	if [ "$(id -u)" -ne 0 ]; then
		RUN_USER=$(id -un)
		return
	fi
	id "$RUN_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$RUN_USER"
}

# run_as CMD...: run a shell command as RUN_USER with PostgreSQL on PATH.
run_as() {
	if [ "$(id -u)" -eq 0 ]; then
		su "$RUN_USER" -s /bin/bash -c "export PATH='$PG_BINDIR':\$PATH; $*"
	else
		bash -c "$*"
	fi
}
