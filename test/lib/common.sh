# shellcheck shell=bash
# test/lib/common.sh: helpers sourced by test/run-all.sh and test/run-demo.sh.
#
#   bh_setup                     as root: install the missing Debian packages,
#                                then build and install the extension
#   bh_workdir                   create $BH_WORK (owned by postgres) holding a
#                                copy of sql/, expected/, schema/, test/, docs/
#                                and README.md, and install
#                                the trap that cleans up on any exit
#   bh_server_start NAME [LINE]  start a throwaway preloaded cluster; extra
#                                postgresql.conf lines come last, so they win
#                                (e.g. "bh_audit.database = 'bh_tap'")
#   bh_server_stop NAME          stop it (pg_ctl -m fast)
#   bh_server_log_tail NAME      print the last 50 lines of its server log
#   bh_as_pg CMD...              run CMD as the postgres OS user in $BH_WORK
#
# BH_KEEP_WORK=1 (for debugging: results/, logs) keeps $BH_WORK on exit; the
# servers are stopped all the same.
#
# Every server runs as postgres, listens only on a unix socket inside $BH_WORK
# (listen_addresses = ''), on a free port from 54320 up, and logs to
# $BH_WORK/NAME.log.  Port 5432 and existing clusters are never touched.

BH_PGBIN=/usr/lib/postgresql/15/bin
BH_PG_CONFIG=$BH_PGBIN/pg_config
BH_PGXS=/usr/lib/postgresql/15/lib/pgxs
# shellcheck disable=SC2034 # used by the scripts that source this file
BH_PG_REGRESS=$BH_PGXS/src/test/regress/pg_regress
# shellcheck disable=SC2034
BH_PG_ISOLATION_REGRESS=$BH_PGXS/src/test/isolation/pg_isolation_regress
# shellcheck disable=SC2034
BH_PERL_LIB=$BH_PGXS/src/test/perl
BH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BH_WORK=${BH_WORK:-}
BH_SERVERS=()
BH_FIRST_PORT=54320

BH_PACKAGES=(
	build-essential
	postgresql-15
	# pg_isolation_regress and isolationtester (test/isolation/)
	postgresql-client-15
	postgresql-server-dev-15
	postgresql-15-pgtap
	libtap-parser-sourcehandler-pgtap-perl
	libipc-run-perl
	libssl-dev
	libkrb5-dev
	python3
	python3-jsonschema
	# date-time for python3-jsonschema's FormatChecker (Debian 12 has no
	# rfc3339-validator): see test/validator_mutations.py
	python3-rfc3339
	postgresql-15-pgaudit
	postgresql-15-repack
	# writes over shared memory in test/t/095_losses_damaged_memory.pl
	gdb
	# localedef and its sources: the locales test/t makes for itself
	# (bh_locale): LATIN1 for 126_search_path_single_byte_case.pl, ja, ko,
	# zh_CN, fr, de in UTF-8 for 187_view_denial_translated.pl
	locales
	# PL/Perl and PL/Python for test/t/130_procedural_languages.pl (its
	# dblink comes with postgresql-15)
	postgresql-plperl-15
	postgresql-plpython3-15
)

bh_err() {
	echo "bh_audit: error: $*" >&2
}

bh_die() {
	bh_err "$@"
	exit 1
}

bh_header() {
	echo
	echo "======================================================================"
	echo "== $*"
	echo "======================================================================"
}

# bh_setup: install what is missing (Debian packages only), check the postgres
# OS user, then build and install the extension from the checkout.  Exits
# non-zero on any failure (safe to run in a subshell: it sets no state).
bh_setup() {
	[ "$(id -u)" -eq 0 ] ||
		bh_die "must run as root (it installs packages and the extension, and runs servers as the postgres user); try: sudo bash $0"
	command -v dpkg-query >/dev/null 2>&1 ||
		bh_die "dpkg-query not found: this script supports Debian 12 only"

	local pkg missing=()
	for pkg in "${BH_PACKAGES[@]}"; do
		if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
			missing+=("$pkg")
		fi
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		bh_header "setup: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q || bh_die "apt-get update failed"
		apt-get install -y -q --no-install-recommends "${missing[@]}" ||
			bh_die "apt-get install failed"
	fi

	if ! id -u postgres >/dev/null 2>&1; then
		# postgresql-common creates it; this covers a machine where it was removed.
		useradd --system --user-group --home-dir /var/lib/postgresql \
			--shell /bin/bash postgres ||
			bh_die "could not create the postgres OS user"
	fi
	[ -x "$BH_PG_CONFIG" ] || bh_die "$BH_PG_CONFIG not found"

	bh_header "setup: building and installing bh_audit"
	# -s: the compiler's and install's command lines are not the demo's or
	# the suite's output; a warning (an error under -Werror) still shows.
	make -s -C "$BH_REPO" PG_CONFIG="$BH_PG_CONFIG" ||
		bh_die "build failed"
	make -s -C "$BH_REPO" PG_CONFIG="$BH_PG_CONFIG" install ||
		bh_die "install failed"
}

# bh_cleanup: stop every server started by bh_server_start, remove $BH_WORK.
# Installed as the EXIT trap by bh_workdir.
bh_cleanup() {
	local rc=$? name
	trap - EXIT INT TERM HUP
	set +e
	for name in "${BH_SERVERS[@]}"; do
		[ -n "$name" ] && bh_server_stop "$name" >/dev/null 2>&1
	done
	BH_SERVERS=()
	if [ -n "$BH_WORK" ] && [ -d "$BH_WORK" ]; then
		# servers the runners started (pg_regress's temp instance, TAP nodes)
		# and left behind when interrupted
		local pidfile
		while IFS= read -r -d '' pidfile; do
			bh_as_pg pg_ctl stop -w -t 30 -m immediate \
				-D "$(dirname "$pidfile")" >/dev/null 2>&1
		done < <(find "$BH_WORK" -name postmaster.pid -print0 2>/dev/null)
		if [ -n "${BH_KEEP_WORK:-}" ]; then
			echo "bh_audit: BH_KEEP_WORK is set: kept $BH_WORK (servers stopped)" >&2
		else
			cd / && rm -rf -- "$BH_WORK"
		fi
	fi
	exit "$rc"
}

# bh_workdir: create $BH_WORK, owned by postgres, with what servers and
# runners read (the checkout may not be readable by postgres).
bh_workdir() {
	id -u postgres >/dev/null 2>&1 || bh_die "the postgres OS user does not exist (run bh_setup first)"
	# /tmp, not $TMPDIR: postgres must reach it and socket paths stay short
	BH_WORK=$(mktemp -d /tmp/bh_audit.XXXXXX)
	export BH_WORK
	trap bh_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP

	local d
	mkdir -p "$BH_WORK/test" "$BH_WORK/tmp"
	# docs/ and README.md: test/t/166_docs_match_catalog.pl reads them
	for d in sql expected schema docs; do
		mkdir -p "$BH_WORK/$d"
		if [ -d "$BH_REPO/$d" ]; then
			cp -R "$BH_REPO/$d/." "$BH_WORK/$d/"
		fi
	done
	cp -R "$BH_REPO/test/." "$BH_WORK/test/"
	cp "$BH_REPO/README.md" "$BH_WORK/"
	# the sources and src/typedefs.list: test/t/364_typedefs_list.pl
	mkdir -p "$BH_WORK/src"
	cp "$BH_REPO"/src/*.[ch] "$BH_REPO/src/typedefs.list" "$BH_WORK/src/"
	chown -R postgres:postgres "$BH_WORK"
	chmod 700 "$BH_WORK"
}

# bh_as_pg CMD...: run CMD as postgres from $BH_WORK with a PATH that holds
# only system directories and the PostgreSQL 15 binaries, and TMPDIR inside
# $BH_WORK (pg_regress and TAP socket directories); the caller's other
# environment (PGHOST, PGPORT, ...) is kept.
bh_as_pg() {
	(
		cd "${BH_WORK:-/}" &&
			exec runuser -u postgres -- env \
				PATH="$BH_PGBIN:/usr/local/bin:/usr/bin:/bin" \
				TMPDIR="${BH_WORK:-/tmp}/tmp" \
				"$@"
	)
}

# bh_port_busy PORT: true if something listens on PORT over TCP or has a
# PostgreSQL socket lock in a usual socket directory.
bh_port_busy() {
	local port=$1 hex f
	hex=$(printf ':%04X' "$port")
	for f in /proc/net/tcp /proc/net/tcp6; do
		[ -r "$f" ] || continue
		# local_address is field 2, state 0A is LISTEN
		if awk -v p="$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' "$f"; then
			return 0
		fi
	done
	for f in /tmp /var/run/postgresql /run/postgresql; do
		[ -e "$f/.s.PGSQL.$port.lock" ] && return 0
	done
	return 1
}

# bh_free_port: print the first free port from $BH_FIRST_PORT up, skipping
# the ports of our own servers.
bh_free_port() {
	local port=$BH_FIRST_PORT name used
	while [ "$port" -lt 65000 ]; do
		used=
		for name in "${BH_SERVERS[@]}"; do
			if [ "$(cat "$BH_WORK/$name.port" 2>/dev/null)" = "$port" ]; then
				used=1
			fi
		done
		if [ -z "$used" ] && ! bh_port_busy "$port"; then
			echo "$port"
			return 0
		fi
		port=$((port + 1))
	done
	bh_err "no free port found from $BH_FIRST_PORT up"
	return 1
}

# bh_server_log_tail NAME: the last 50 lines of the server's log.
bh_server_log_tail() {
	local log="$BH_WORK/$1.log"
	if [ -f "$log" ]; then
		echo "---- last 50 lines of the server log $log ----"
		tail -n 50 "$log"
		echo "---- end of server log ----"
	fi
}

# bh_server_start NAME [postgresql.conf lines...]: initdb and start a cluster
# in $BH_WORK/NAME; exports PGHOST, PGPORT and PGUSER for the caller.
# Returns non-zero (after printing why, and the server log) on failure.
bh_server_start() {
	local name=$1 line port data sock log
	shift
	if [ -z "$BH_WORK" ]; then
		bh_err "bh_server_start: call bh_workdir first"
		return 1
	fi
	if ! [[ $name =~ ^[A-Za-z0-9_]+$ ]]; then
		bh_err "bh_server_start: bad server name '$name'"
		return 1
	fi
	data="$BH_WORK/$name"
	sock="$BH_WORK/sock_$name"
	log="$BH_WORK/$name.log"
	if [ -e "$data" ]; then
		bh_err "bh_server_start: server '$name' already exists"
		return 1
	fi

	if ! bh_as_pg mkdir -p "$sock"; then
		bh_err "could not create $sock"
		return 1
	fi
	if ! bh_as_pg initdb -A trust -U postgres --no-sync -D "$data" >"$BH_WORK/$name.initdb.log" 2>&1; then
		cat "$BH_WORK/$name.initdb.log" >&2
		bh_err "initdb failed for server '$name'"
		return 1
	fi

	port=$(bh_free_port) || return 1
	echo "$port" >"$BH_WORK/$name.port"
	BH_SERVERS+=("$name")
	{
		echo
		echo "# Added by bh_audit test/lib/common.sh"
		echo "port = $port"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$sock'"
		echo "fsync = off"
		echo "shared_preload_libraries = 'bh_audit'"
		echo "bh_audit.database = 'bh_demo'"
		for line in "$@"; do
			echo "$line"
		done
	} >>"$data/postgresql.conf"

	if ! bh_as_pg pg_ctl start -w -t 60 -D "$data" -l "$log" >/dev/null; then
		bh_err "server '$name' failed to start"
		bh_server_log_tail "$name" >&2
		return 1
	fi
	export PGHOST="$sock" PGPORT="$port" PGUSER=postgres
	echo "bh_audit: server '$name' running on port $port (socket $sock, log $log)"
}

# bh_server_stop NAME: fast shutdown; a no-op if it is not running.
bh_server_stop() {
	local name=$1 data="$BH_WORK/$1" n
	if [ -f "$data/postmaster.pid" ]; then
		bh_as_pg pg_ctl stop -w -t 60 -m fast -D "$data" >/dev/null ||
			bh_as_pg pg_ctl stop -w -t 30 -m immediate -D "$data" >/dev/null
	fi
	for n in "${!BH_SERVERS[@]}"; do
		if [ "${BH_SERVERS[$n]}" = "$name" ]; then
			unset 'BH_SERVERS[n]'
		fi
	done
	return 0
}
