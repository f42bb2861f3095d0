#!/usr/bin/env bash
# test/bench/partition_read_bench.sh: what read capture costs a scan of a
# tagged table split into many partitions, side by side in one run.
#
# Every scan of a partition is a wrapped plan node of its own, and each row
# a wrapped node returns finds the node's wrapper state
# (capture_read_wrap.c): that must cost the same however many nodes the
# open statements wrapped.  For each partition count P (default "1 100
# 1000"), a table hash-partitioned into P partitions holding the same N
# rows (default 1,000,000; 100 patients), tagged, is counted with
# SELECT count(*), Q times a run (default 5), with capture off
# (bh_audit.enabled = off in the superuser's session) and on, alternating
# (the first mode alternates every round), R rounds (default 5).  No
# parallel workers (max_parallel_workers_per_gather = 0): capture plans a
# tagged table's scans without them anyway.
#
# Usage (as root): bash test/bench/partition_read_bench.sh [N] [R] [Q]
# Knobs (environment):
#   BH_BENCH_PARTITIONS ("1 100 1000"): the partition counts
#   BH_BENCH_SRC (this checkout): the source tree built and installed into
#     the benchmark's private installation (to measure another tree, e.g.
#     an older commit's worktree, with this script)
#   BH_BENCH_SETUP (1): 0 skips bh_setup (packages present; the benchmark
#     runs from its private installation and needs no system-wide install)
# Prints the median milliseconds per count(*) of each, the ratio on / off
# and the cost per row in nanoseconds.  No timed assertions; the READ
# events of the captured runs are checked (one per patient per count).
set -euo pipefail

# shellcheck source=test/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "$0")/lib.sh"

N=${1:-1000000}
R=${2:-5}
Q=${3:-5}
read -r -a PARTS <<<"${BH_BENCH_PARTITIONS:-1 100 1000}"
SRC=${BH_BENCH_SRC:-}
PATIENTS=100
bh_bench_ints 100000000 N
bh_bench_ints 100 R Q
[ "${#PARTS[@]}" -gt 0 ] || bh_die "BH_BENCH_PARTITIONS is empty"
for p in "${PARTS[@]}"; do
	# shellcheck disable=SC2034 # read by bh_bench_ints
	P=$p
	bh_bench_ints 10000 P
done
if [ -n "$SRC" ]; then
	if [ ! -f "$SRC/Makefile" ] || [ ! -f "$SRC/bh_audit.control" ]; then
		bh_die "BH_BENCH_SRC=$SRC is not a bh_audit source tree"
	fi
	SRC=$(cd "$SRC" && pwd)
fi
TREE=$(git -C "${SRC:-$BH_REPO}" --no-optional-locks rev-parse --short HEAD 2>/dev/null || echo "?")
DIRTY=$({ git -C "${SRC:-$BH_REPO}" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null || true; } | wc -l)

if [ "${BH_BENCH_SETUP:-1}" != 0 ]; then
	bh_setup
fi
bh_workdir
bh_bench_private_install "${SRC:-$BH_REPO}"
bh_bench_start "shared_buffers = '1GB'" \
	"max_parallel_workers_per_gather = 0" "max_wal_size = '8GB'" "checkpoint_timeout = '30min'"

echo "== setup: $N rows in 1 table per partition count (${PARTS[*]}), $PATIENTS patients"
psql_q -c 'CREATE EXTENSION bh_audit'
for p in "${PARTS[@]}"; do
	psql_q >/dev/null <<SQL
CREATE TABLE p$p (visit_id int, patient_id text, note text) PARTITION BY HASH (visit_id);
SELECT format('CREATE TABLE p${p}_%s PARTITION OF p$p FOR VALUES WITH (MODULUS $p, REMAINDER %s)', g, g)
  FROM generate_series(0, $p - 1) g \gexec
INSERT INTO p$p SELECT g, 'patient-' || (g % $PATIENTS), 'note ' || g FROM generate_series(1, $N) g;
VACUUM ANALYZE p$p;
SELECT bh_audit.tag_table('p$p', 'Encounter', 'visit_id', 'patient_id');
SQL
done
psql_q -c 'CHECKPOINT'

# run P on|off: milliseconds per SELECT count(*) FROM pP, Q in one session
run() {
	psql_q <<SQL
SET bh_audit.enabled = $2;
SELECT count(*) FROM p$1 \g /dev/null
SELECT clock_timestamp() AS t0 \gset
$(for _ in $(seq "$Q"); do echo "SELECT count(*) FROM p$1 \\g /dev/null"; done)
SELECT round(extract(epoch FROM clock_timestamp() - :'t0')::numeric * 1000 / $Q, 1);
SQL
}

declare -A times
for p in "${PARTS[@]}"; do times[$p.off]=""; times[$p.on]=""; done
echo "== $R rounds, $Q counts a run; capture off and on alternating"
for r in $(seq "$R"); do
	line="round $r:"
	if [ $((r % 2)) -eq 1 ]; then modes="off on"; else modes="on off"; fi
	for p in "${PARTS[@]}"; do
		for m in $modes; do
			t=$(run "$p" "$m")
			times[$p.$m]+="$t "
			line+=" p$p/$m $t"
		done
	done
	psql_q -c 'SELECT bh_audit.seal()' >/dev/null
	echo "$line"
done

# each captured count(*) (R x (Q + 1) per table) makes one READ per patient
reads=$(psql_q -c "SELECT count(*) FROM bh_audit.events WHERE action = 'READ' AND resource_type = 'Encounter'")
expected=$((${#PARTS[@]} * R * (Q + 1) * PATIENTS))

echo
echo "======================================================================"
echo "== bh_audit partition read benchmark: summary"
echo "======================================================================"
echo "tree: $TREE, $DIRTY tracked files with uncommitted changes (${SRC:-$BH_REPO})"
echo "machine: $(nproc) cores; $N rows, $PATIENTS patients; medians of $R rounds x $Q counts"
printf '%-11s %10s %10s %8s %12s\n' partitions 'off (ms)' 'on (ms)' 'on/off' 'ns per row'
for p in "${PARTS[@]}"; do
	off=$(med_of "${times[$p.off]}")
	on=$(med_of "${times[$p.on]}")
	per=$(awk -v a="$on" -v b="$off" -v n="$N" 'BEGIN { printf "%.1f", (a - b) * 1e6 / n }')
	printf '%-11s %10s %10s %8s %12s\n' "$p" "$off" "$on" "$(div "$on" "$off")" "$per"
done
echo "READ events of the captured counts: $reads (expected $expected)"
[ "$reads" = "$expected" ] || bh_die "the captured counts recorded $reads READ events, not $expected"
