#!/usr/bin/env bash
# test/bench/error_watch_bench.sh: what the error watch (capture_failure.c)
# costs a session whose errors are caught, side by side in one run.
#
# The error watch looks at every error PostgreSQL raises in a session that
# can capture, before anything catches it, and matches the failing
# statement's text against the tagged tables.  Applications that catch
# errors in a loop (a PL/pgSQL upsert that catches unique_violation) pay
# that per error, so it must stay small however many tables are tagged.
# With P tagged partitions (default 1000), two workloads of N caught errors
# each (default 20000), each with capture off (bh_audit.enabled = off in the
# session) and on, alternating, R rounds (default 5):
#
#   untagged  a unique violation on an untagged table, caught: nothing is
#             recorded; the watch looks and finds no tagged table;
#   tagged    a statement on a tagged partition that fails in parse
#             analysis, caught: one FAILURE event each (through the ring).
#
# Usage (as root): bash test/bench/error_watch_bench.sh [N] [R] [P]
# Prints the median time of each and the ratio on / off.
set -euo pipefail

# shellcheck source=test/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "$0")/lib.sh"

N=${1:-20000}
R=${2:-5}
P=${3:-1000}
bh_bench_ints 10000000 N
bh_bench_ints 100 R
bh_bench_ints 10000 P

bh_setup
bh_workdir
bh_bench_start "shared_buffers = '512MB'"

psql_q -c 'CREATE EXTENSION bh_audit'
psql_q <<SQL
CREATE TABLE stays (stay_id int, patient_id int) PARTITION BY LIST (stay_id);
SELECT format('CREATE TABLE stays_%s PARTITION OF stays FOR VALUES IN (%s)', g, g)
  FROM generate_series(1, $P) g \gexec
SELECT bh_audit.tag_table('stays', 'EpisodeOfCare', 'stay_id', 'patient_id');
CREATE TABLE plain (id int PRIMARY KEY);
INSERT INTO plain VALUES (1);
SQL

# run WORKLOAD on|off: seconds for N caught errors in one DO block.
run() {
	local body enabled
	case $1 in
	untagged) body="INSERT INTO plain VALUES (1)" ;;
	tagged) body="EXECUTE 'SELECT * FROM stays_1 WHERE stay_id = ''x'''" ;;
	esac
	[ "$2" = on ] && enabled=on || enabled=off
	psql_q <<SQL
SET bh_audit.enabled = $enabled;
SELECT clock_timestamp() AS t0 \gset
DO \$\$ BEGIN
    FOR i IN 1..$N LOOP
        BEGIN $body; EXCEPTION WHEN unique_violation OR invalid_text_representation THEN NULL; END;
    END LOOP;
END \$\$;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 3);
SQL
}

declare -A times
for w in untagged tagged; do
	for m in off on; do times[$w.$m]=""; done
done
echo "== $N caught errors per run, $P tagged partitions, $R rounds"
for r in $(seq "$R"); do
	line="round $r:"
	for w in untagged tagged; do
		for m in off on; do
			t=$(run "$w" "$m")
			times[$w.$m]+="$t "
			line+=" $w/$m $t"
		done
	done
	psql_q -c 'SELECT bh_audit.seal()' >/dev/null
	echo "$line"
done

failures=$(psql_q -c "SELECT count(*) FROM bh_audit.events
                       WHERE resource_type = 'EpisodeOfCare' AND outcome = 'FAILURE'")
expected=$((N * R))
echo
printf '%-9s %12s %12s %8s %14s\n' workload 'off (s)' 'on (s)' 'on/off' 'us per error'
for w in untagged tagged; do
	off=$(med_of "${times[$w.off]}")
	on=$(med_of "${times[$w.on]}")
	per=$(awk -v a="$on" -v b="$off" -v n="$N" 'BEGIN { printf "%.2f", (a - b) * 1e6 / n }')
	printf '%-9s %12s %12s %8s %14s\n' "$w" "$off" "$on" "$(div "$on" "$off")" "$per"
done
echo "FAILURE events recorded for the tagged workload: $failures (expected $expected)"
[ "$failures" = "$expected" ] || bh_die "the tagged workload recorded $failures failures, not $expected"
