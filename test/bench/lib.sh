# shellcheck shell=bash
# test/bench/lib.sh: helpers shared by the pgbench benchmarks (sourced after
# test/lib/common.sh, bh_setup and bh_workdir).
#
#   bh_bench_private_setup          bh_setup (unless BH_BENCH_SETUP=0),
#                                   bh_workdir, and the private installation
#                                   of BH_BENCH_SRC (SRC, TREE: its commit)
#   bh_bench_private_install [SRC]  a private copy of the PostgreSQL 15
#                                   installation with SRC's (default: this
#                                   checkout's) build of bh_audit in it; sets
#                                   BH_PGBIN so the servers run from it
#   bh_bench_start [SETTING...]     start the "bench" server (bh_audit
#                                   preloaded, sealing bh_bench; SETTINGs:
#                                   further postgresql.conf lines) with
#                                   database bh_bench (PGDATABASE)
#   bh_bench_server                 the same with pgaudit preloaded too
#   bh_bench_jobs CLIENTS           pgbench's threads for CLIENTS clients
#   bh_bench_tree                   TREE and DIRTY: the checkout's commit and
#                                   its tracked files with uncommitted changes
#   seal                            bh_audit.seal(), within SEAL_TIMEOUT s
#   psql_q, now, elapsed, div, median, med_of

# The benchmarks run for many minutes, and a "make install" of bh_audit by
# anyone else meanwhile would replace the library under the running server
# (new backends then load a second, uninitialised copy of it and crash).
# PostgreSQL finds its lib and share directories relative to its binaries,
# so the copy is self-contained.
bh_bench_private_install() {
	local src=${1:-$BH_REPO}
	PGINST=$BH_WORK/pginst
	mkdir -p "$PGINST/usr/lib/postgresql" "$PGINST/usr/share/postgresql"
	cp -a /usr/lib/postgresql/15 "$PGINST/usr/lib/postgresql/"
	cp -a /usr/share/postgresql/15 "$PGINST/usr/share/postgresql/"
	make -s -C "$src" PG_CONFIG="$BH_PG_CONFIG" install DESTDIR="$PGINST" >/dev/null ||
		bh_die "install of $src into $PGINST failed"
	chmod -R a+rX "$PGINST"
	BH_PGBIN=$PGINST/usr/lib/postgresql/15/bin
	[ "$("$BH_PGBIN/pg_config" --pkglibdir)" = "$PGINST/usr/lib/postgresql/15/lib" ] ||
		bh_die "the private installation in $PGINST does not find its own lib directory"
}

# bh_bench_private_setup: bh_setup unless BH_BENCH_SETUP is 0, the work
# directory, and the private installation of BH_BENCH_SRC's build (default:
# this checkout's); sets SRC to that tree and TREE to its commit, for the
# report.
bh_bench_private_setup() {
	SRC=${BH_BENCH_SRC:-$BH_REPO}
	TREE=$(git -C "$SRC" --no-optional-locks rev-parse --short HEAD 2>/dev/null || echo "?")
	if [ "${BH_BENCH_SETUP:-1}" != 0 ]; then
		bh_setup
	fi
	bh_workdir
	bh_bench_private_install "$SRC"
}

# The benchmarks' server and database (the extension is left to the
# benchmark).
bh_bench_start() {
	bh_server_start bench "bh_audit.database = 'bh_bench'" "$@"
	bh_as_pg createdb bh_bench
	export PGDATABASE=bh_bench
}

# One server for every mode, identical settings: pgaudit is preloaded but
# off ('none') until a mode switches it on.
bh_bench_server() {
	bh_bench_start "shared_preload_libraries = 'bh_audit,pgaudit'" \
		"pgaudit.log = 'none'" \
		"shared_buffers = '1GB'" "max_wal_size = '8GB'" "checkpoint_timeout = '30min'"
}

# bh_bench_ints MAX VAR...: each named variable is a positive integer of at most MAX.
bh_bench_ints() {
	local max=$1 v
	shift
	for v in "$@"; do
		[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bh_die "$v must be a positive integer, not '${!v}'"
		[ "${!v}" -le "$max" ] || bh_die "$v must be at most $max, not ${!v}"
	done
}

# bh_bench_modes "ALLOWED..." MODE...: known modes, the first one plain (the baseline).
bh_bench_modes() {
	local allowed=" $1 " m
	shift
	for m in "$@"; do
		[[ $allowed == *" $m "* ]] || bh_die "unknown mode '$m' (known:$allowed)"
	done
	[ "${1:-}" = plain ] || bh_die "BH_BENCH_MODES must start with plain (the baseline)"
}

# bh_bench_jobs CLIENTS: pgbench threads, one per core, at most one per
# client.
bh_bench_jobs() {
	local j
	j=$(nproc)
	if [ "$j" -gt "$1" ]; then
		j=$1
	fi
	echo "$j"
}

# bh_bench_tree: what is measured, the checkout as bh_setup builds it now,
# for the report: TREE its commit, DIRTY how many tracked files have
# uncommitted changes.
# shellcheck disable=SC2034 # TREE and DIRTY are for the benchmark's report
bh_bench_tree() {
	TREE=$(git -C "$BH_REPO" --no-optional-locks rev-parse --short HEAD 2>/dev/null || echo "?")
	DIRTY=$(git -C "$BH_REPO" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null | wc -l)
}

psql_q() { bh_as_pg psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# seal: wait (bounded by the benchmark's SEAL_TIMEOUT, in seconds) until
# every committed event is chained and the ring is empty (bh_audit.seal()).
seal() { psql_q -c "SET statement_timeout = '${SEAL_TIMEOUT}s'" -c 'SELECT bh_audit.seal()' >/dev/null; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b == 0 ? 0 : a / b) }'; }
# median V...: the median of its arguments
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# med_of "LIST": median of a space-separated list
med_of() {
	local -a a
	read -r -a a <<<"$1"
	median "${a[@]}"
}
