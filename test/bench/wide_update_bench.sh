#!/usr/bin/env bash
# test/bench/wide_update_bench.sh: what write capture costs an UPDATE of a
# wide tagged table, by the table's width, side by side in one run.
#
# An UPDATE event names the columns whose values changed, so the capture
# trigger compares each updated row's old and new values column by column.
# Clinical tables of hundreds of columns (flowsheets, imported records) are
# common: that comparison must cost in proportion to the columns, not more.
# For tables of C columns (default 10, 100 and 1000: an id, a patient and
# text columns), N rows each (default 2000), one UPDATE of one column of
# every row, rolled back, with capture off (bh_audit.enabled = off in the
# session) and on, alternating, R rounds (default 5).
#
# Usage (as root): bash test/bench/wide_update_bench.sh [N] [R] [C...]
# Prints the median time of each and the ratio on / off.
set -euo pipefail

# shellcheck source=test/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "$0")/lib.sh"

N=${1:-2000}
R=${2:-5}
shift $(($# > 2 ? 2 : $#))
WIDTHS=("${@:-10 100 1000}")
read -r -a WIDTHS <<<"${WIDTHS[*]}"
bh_bench_ints 1000000 N
bh_bench_ints 100 R
for C in "${WIDTHS[@]}"; do
	bh_bench_ints 1600 C
	[ "$C" -ge 3 ] || bh_die "a width must be at least 3 columns, not $C"
done

bh_setup
bh_workdir
bh_bench_start "shared_buffers = '512MB'"

psql_q -c 'CREATE EXTENSION bh_audit'
for C in "${WIDTHS[@]}"; do
	psql_q <<SQL
SELECT format('CREATE TABLE w$C (id int PRIMARY KEY, patient_id text, %s)',
              string_agg(format('c%s text DEFAULT %L', g, 'x'), ', '))
  FROM generate_series(1, $C - 2) g \gexec
INSERT INTO w$C (id, patient_id) SELECT g, 'p' || g FROM generate_series(1, $N) g;
SELECT bh_audit.tag_table('w$C', 'Observation', 'id', 'patient_id');
VACUUM ANALYZE w$C;
SQL
done

# run C on|off: seconds for one UPDATE of every row of wC, rolled back.
run() {
	psql_q <<SQL
SET bh_audit.enabled = $2;
BEGIN;
SELECT clock_timestamp() AS t0 \gset
UPDATE w$1 SET c$(($1 - 2)) = 'y' || id;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 4);
ROLLBACK;
SQL
}

declare -A times
for C in "${WIDTHS[@]}"; do
	for m in off on; do times[$C.$m]=""; done
done
echo "== UPDATE of $N rows, widths ${WIDTHS[*]} columns, $R rounds"
for r in $(seq "$R"); do
	line="round $r:"
	for C in "${WIDTHS[@]}"; do
		for m in off on; do
			t=$(run "$C" "$m")
			times[$C.$m]+="$t "
			line+=" $C/$m $t"
		done
	done
	echo "$line"
done

echo
printf '%-8s %12s %12s %8s %16s\n' columns 'off (s)' 'on (s)' 'on/off' 'us per row added'
for C in "${WIDTHS[@]}"; do
	off=$(med_of "${times[$C.off]}")
	on=$(med_of "${times[$C.on]}")
	per=$(awk -v a="$on" -v b="$off" -v n="$N" 'BEGIN { printf "%.2f", (a - b) * 1e6 / n }')
	printf '%-8s %12s %12s %8s %16s\n' "$C" "$off" "$on" "$(div "$on" "$off")" "$per"
done
