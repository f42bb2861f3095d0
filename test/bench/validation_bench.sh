#!/usr/bin/env bash
# test/bench/validation_bench.sh: what runtime schema validation costs the
# emit path, measured in one run on one server.
#
# Every event the extension builds is validated (src/validate.c) before it
# is queued, and there is deliberately no setting that turns validation off
# (an off switch would be one more way to weaken the audit).  So the cost is
# measured from the other side, in the same transaction, on the same events:
#
#   T_emit     emit() of N events: build + validate + queue insert;
#   T_val      validate_event() over those N events, read back from the
#              queue, minus T_scan, the same scan with a trivial jsonb test
#              instead (what reading the rows costs);
#   T_off      = T_emit - T_val: emit without validation, estimated;
#   ratio      = T_off / T_emit = throughput with validation / without.
#
# validate_event() adds a function call and a row read that the emit path
# does not pay, but inside emit() validation runs between building the event
# and inserting it, with colder caches, so T_val is an estimate, not a bound.
# "counting the scan as validation" charges the row reads to validation too:
# that conservative figure is the one that matched a CPU profile of emit()
# (bh_validate_for_emit()'s inclusive share of bh_audit_emit()) and a private
# A/B build without validation, within about 0.02 (docs/validation.md).  The transaction is rolled back each time: nothing
# is sealed, and the sealer does not compete for the CPU.  Medians of R runs.
#
# Usage (as root): bash test/bench/validation_bench.sh [N] [R] [VERSION]
#   N events per run (default 100000), R runs (default 5), VERSION the
#   bh_audit.schema_version of the events (default 1.1).
# Prints the figures and the ratio with its target (>= 0.80).
set -euo pipefail

# shellcheck source=test/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

N=${1:-100000}
R=${2:-5}
VERSION=${3:-1.1}

bh_setup
bh_workdir
bh_bench_start "shared_buffers = '512MB'" \
	"max_wal_size = '4GB'" "checkpoint_timeout = '30min'" \
	"bh_audit.schema_version = '$VERSION'"

div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a / b }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

psql_q -c 'CREATE EXTENSION bh_audit'

# One run: three timings (seconds) in one rolled-back transaction.
run_once() {
	psql_q -v n="$N" <<'SQL'
BEGIN;
SELECT clock_timestamp() AS t0 \gset
SELECT count(bh_audit.emit('READ', 'Patient', 'pat_' || i, 'pat_' || (i % 20000),
                           data_classification => 'PHI', phi_touched => true,
                           action_name => 'chart_view'))
  FROM generate_series(1, :n) i \g /dev/null
SELECT extract(epoch FROM clock_timestamp() - :'t0') AS t_emit \gset
-- the transaction's events, one per row: those written to the queue (rows
-- of about 7 KB) and those still held
CREATE TEMP TABLE bench_events ON COMMIT DROP AS
SELECT unnest(events) AS event FROM bh_audit.queue
UNION ALL SELECT * FROM bh_audit.pending_events();
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FILTER (WHERE jsonb_typeof(event) = 'object') FROM bench_events \g /dev/null
SELECT extract(epoch FROM clock_timestamp() - :'t0') AS t_scan \gset
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FILTER (WHERE bh_audit.validate_event(event)) AS valid FROM bench_events \gset
SELECT extract(epoch FROM clock_timestamp() - :'t0') AS t_validate \gset
ROLLBACK;
\echo :t_emit :t_scan :t_validate :valid
SQL
}

echo "== warming up (compiles the schema, fills caches)"
N_SAVED=$N
N=1000 run_once >/dev/null
N=$N_SAVED

emit_runs=()
scan_runs=()
val_runs=()
ratio_runs=()
for r in $(seq 1 "$R"); do
	read -r t_emit t_scan t_validate valid < <(run_once)
	[ "$valid" = "$N" ] || bh_die "run $r: $valid of $N built events validate"
	emit_runs+=("$t_emit")
	scan_runs+=("$t_scan")
	val_runs+=("$t_validate")
	ratio_runs+=("$(awk -v e="$t_emit" -v s="$t_scan" -v v="$t_validate" \
		'BEGIN { d = v - s; if (d < 0) d = 0; printf "%.6f", (e - d) / e }')")
	echo "run $r: emit $t_emit s, scan $t_scan s, scan+validate $t_validate s"
done

t_emit=$(median "${emit_runs[@]}")
t_scan=$(median "${scan_runs[@]}")
t_validate=$(median "${val_runs[@]}")
t_val=$(awk -v a="$t_validate" -v b="$t_scan" 'BEGIN { d = a - b; if (d < 0) d = 0; printf "%.6f", d }')
t_off=$(awk -v a="$t_emit" -v b="$t_val" 'BEGIN { printf "%.6f", a - b }')
ratio=$(div "$t_off" "$t_emit")
ratio_gross=$(awk -v e="$t_emit" -v v="$t_validate" 'BEGIN { printf "%.6f", (e - v) / e }')

echo
echo "== bh_audit validation benchmark: $N events of version $VERSION, median of $R runs"
printf 'emit, validation on            %8.3f s  %10.0f events/s\n' "$t_emit" "$(div "$N" "$t_emit")"
printf 'validate_event() alone         %8.3f s  %10.0f events/s  (scan+validate %.3f s - scan %.3f s)\n' \
	"$t_val" "$(div "$N" "$t_val")" "$t_validate" "$t_scan"
printf 'emit, validation off (est.)    %8.3f s  %10.0f events/s\n' "$t_off" "$(div "$N" "$t_off")"
printf 'per event: emit %.2f us, validation %.2f us\n' \
	"$(awk -v t="$t_emit" -v n="$N" 'BEGIN { print t / n * 1e6 }')" \
	"$(awk -v t="$t_val" -v n="$N" 'BEGIN { print t / n * 1e6 }')"
printf 'ratio on / off                 %8.3f  (target >= 0.80; %.3f counting the scan as validation)\n' \
	"$ratio" "$ratio_gross"
printf 'ratio per run                  %s  (median %.3f)\n' "${ratio_runs[*]}" "$(median "${ratio_runs[@]}")"
