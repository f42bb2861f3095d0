#!/usr/bin/env bash
# test/bench/ledger_bench.sh: the ledger core benchmark, side by side in one run.
#
#   1. sealing N queued events (commit -> bh_audit.seal() returns) against a
#      plain INSERT ... SELECT of the same N rows into a copy of
#      bh_audit.events with the same columns and indexes;
#   2. verify_chain() over them against a plain SQL pass computing sha256()
#      of every row's text (median of 3 alternating runs each);
#   3. bytes per stored event (table, indexes, total).
#
# Usage (as root): bash test/bench/ledger_bench.sh [N]   (default N = 500000)
# Prints the figures and the two ratios with their targets (<= 2.0, <= 1.5).
set -euo pipefail

# shellcheck source=test/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "$0")/lib.sh"

N=${1:-500000}

bh_setup
bh_workdir
bh_bench_start "shared_buffers = '1GB'" \
	"max_wal_size = '4GB'" "checkpoint_timeout = '30min'"


psql_q -c 'CREATE EXTENSION bh_audit'

echo "== emitting $N events in one transaction"
t0=$(now)
psql_q -c "SELECT count(bh_audit.emit('READ', 'Patient', 'pat_' || i, 'pat_' || (i % 20000)))
             FROM generate_series(1, $N) i" >/dev/null
t1=$(now)
# The sealer starts at commit; seal() returns when the queue is empty.
psql_q -c 'SELECT bh_audit.seal()' >/dev/null
t2=$(now)
emit_s=$(elapsed "$t0" "$t1")
seal_s=$(elapsed "$t1" "$t2")
sealed=$(psql_q -c 'SELECT count(*) FROM bh_audit.events')
[ "$sealed" = "$N" ] || bh_die "expected $N sealed events, found $sealed"

echo "== baseline: INSERT ... SELECT into a copy with the same columns and indexes"
psql_q -c 'CREATE TABLE bench_copy (LIKE bh_audit.events INCLUDING ALL)'
psql_q -c 'CHECKPOINT'
t0=$(now)
psql_q -c 'INSERT INTO bench_copy (seq, event, hash_alg, prev_event_hash, event_hash)
           SELECT seq, event, hash_alg, prev_event_hash, event_hash FROM bh_audit.events'
t1=$(now)
insert_s=$(elapsed "$t0" "$t1")
psql_q -c 'VACUUM ANALYZE bh_audit.events' -c 'VACUUM ANALYZE bench_copy'

echo "== verify_chain() vs sha256() of every row's text (3 alternating runs)"
verify_runs=()
sha_runs=()
for _ in 1 2 3; do
	t0=$(now)
	r=$(psql_q -c 'SELECT result FROM bh_audit.verify_chain()')
	t1=$(now)
	[ "$r" = PASS ] || bh_die "verify_chain() returned $r"
	verify_runs+=("$(elapsed "$t0" "$t1")")
	t0=$(now)
	psql_q -c "SELECT count(sha256(convert_to(e::text, 'UTF8'))) FROM bh_audit.events e" >/dev/null
	t1=$(now)
	sha_runs+=("$(elapsed "$t0" "$t1")")
done
verify_s=$(median "${verify_runs[@]}")
sha_s=$(median "${sha_runs[@]}")

sizes=$(psql_q -F ' ' -c "SELECT pg_table_size('bh_audit.events'), pg_indexes_size('bh_audit.events'),
                                 pg_total_relation_size('bh_audit.events')")
read -r tbl idx total <<<"$sizes"

echo
echo "== bh_audit ledger benchmark: $N events"
printf 'emit (one transaction)      %8.2f s  %10.0f events/s\n' "$emit_s" "$(div "$N" "$emit_s")"
printf 'seal (commit -> sealed)     %8.2f s  %10.0f events/s\n' "$seal_s" "$(div "$N" "$seal_s")"
printf 'plain INSERT ... SELECT     %8.2f s  %10.0f rows/s\n' "$insert_s" "$(div "$N" "$insert_s")"
printf 'verify_chain()              %8.2f s  %10.0f events/s   (runs: %s)\n' "$verify_s" "$(div "$N" "$verify_s")" "${verify_runs[*]}"
printf 'sha256(row text) pass       %8.2f s  %10.0f rows/s     (runs: %s)\n' "$sha_s" "$(div "$N" "$sha_s")" "${sha_runs[*]}"
printf 'bytes per event             table %.0f + indexes %.0f = %.0f\n' \
	"$(div "$tbl" "$N")" "$(div "$idx" "$N")" "$(div "$total" "$N")"
seal_ratio=$(div "$seal_s" "$insert_s")
verify_ratio=$(div "$verify_s" "$sha_s")
printf 'ratio seal / INSERT         %8.2f  (target <= 2.00)\n' "$seal_ratio"
printf 'ratio verify / sha256 pass  %8.2f  (target <= 1.50)\n' "$verify_ratio"
