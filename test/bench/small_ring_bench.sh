#!/usr/bin/env bash
# test/bench/small_ring_bench.sh: readers on a ring smaller than a batch,
# side by side with the same readers on a batch smaller than the ring.
#
# The sealer lets events gather for up to 50 ms after a wake-up, unless a
# full batch (bh_audit.seal_batch_size) is in the ring.  A ring that holds
# fewer events than a batch fills first, and its readers then wait for room
# (on_ring_full = wait) for that whole delay, round after round; the sealer
# therefore also starts a batch once half of the ring's space is taken.
# This measures the two on one server with a 64 kB ring
# (bh_audit.ring_size): C concurrent sessions (default 8), each running S
# statements (default 60) that read 100 patients of a tagged table (100
# READ events each), with seal_batch_size at 10,000 (the ring
# holds far fewer; the default is 5,000) and at 50 (a batch fits in the ring many times),
# alternating, R rounds (default 5).
#
# Usage (as root): bash test/bench/small_ring_bench.sh [C] [S] [R]
# Prints the median seconds of each and their ratio (1.0: a ring smaller
# than a batch costs nothing more), and checks that every event was sealed
# and none dropped.
set -euo pipefail

# shellcheck source=test/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "$0")/lib.sh"

C=${1:-8}
S=${2:-60}
R=${3:-5}
bh_bench_ints 64 C
bh_bench_ints 100000 S
bh_bench_ints 100 R

bh_setup
bh_workdir
bh_bench_start "bh_audit.ring_size = '64kB'"

psql_q -c 'CREATE EXTENSION bh_audit'
psql_q <<'SQL'
CREATE TABLE small (id int PRIMARY KEY, patient_id int);
INSERT INTO small SELECT g, g % 100 FROM generate_series(1, 1000) g;
SELECT bh_audit.tag_table('small', 'Note', 'id', 'patient_id');
SQL
script=$BH_WORK/small_ring.sql
for _ in $(seq "$S"); do echo 'SELECT count(*) FROM small;'; done >"$script"
chmod a+r "$script"

# run BATCH: seconds for C sessions of S statements each.
run() {
	local t0 t1 c
	psql_q -c "ALTER SYSTEM SET bh_audit.seal_batch_size = $1" -c 'SELECT pg_reload_conf()' >/dev/null
	sleep 0.5
	t0=$(now)
	for c in $(seq "$C"); do psql_q -f "$script" >/dev/null & done
	wait
	t1=$(now)
	psql_q -c 'SELECT bh_audit.seal()' >/dev/null
	elapsed "$t0" "$t1"
}

big=""
fitting=""
echo "== $C sessions x $S statements x 100 READ events per run, 64 kB ring, $R rounds"
for r in $(seq "$R"); do
	a=$(run 10000)
	b=$(run 50)
	big+="$a "
	fitting+="$b "
	echo "round $r: batch 10000 (ring smaller) $a s, batch 50 $b s"
done

sealed=$(psql_q -c "SELECT count(*) FROM bh_audit.events WHERE action = 'READ' AND resource_type = 'Note'")
dropped=$(psql_q -c 'SELECT events_dropped_total FROM bh_audit.stats()')
expected=$((C * S * 100 * R * 2))
m_big=$(med_of "$big")
m_fit=$(med_of "$fitting")
echo
echo "median: batch 10000 $m_big s, batch 50 $m_fit s, ratio $(div "$m_fit" "$m_big") (1.0: no cost)"
echo "READ events sealed: $sealed (expected $expected), dropped: $dropped"
[ "$sealed" = "$expected" ] || bh_die "sealed $sealed READ events, not $expected"
[ "$dropped" = 0 ] || bh_die "$dropped events dropped"
