#!/usr/bin/env bash
# test/bench/write_capture_bench.sh: the write-capture benchmark, side by side
# in one run, on one throwaway server (bh_audit and pgaudit both preloaded,
# identical settings for every mode):
#
#   1. pgbench's built-in TPC-B-like script (pgbench -b tpcb-like, default
#      simple query protocol) on scale 20, in four modes, alternating
#      round-robin (the starting mode rotates every round):
#        plain     no capture at all (the baseline);
#        bh_audit  the four pgbench tables tagged for writes only
#                  (bh_audit.tag_table(..., capture_reads => false): the
#                  script's SELECT of abalance is not captured):
#                    pgbench_accounts  id aid, patient aid
#                    pgbench_history   id aid, patient aid (a history row
#                                      belongs to the account it moved)
#                    pgbench_tellers   id tid, no patient (NULL)
#                    pgbench_branches  id bid, no patient (NULL)
#                  untagged again with untag_table() after the run;
#        pgaudit   pgaudit.log = 'write' (ALTER SYSTEM + reload), logging to
#                  the server log, tables untagged; 'none' otherwise;
#        plpgsql   the hand-rolled pattern: an AFTER row trigger on the four
#                  tables storing to_jsonb(OLD)/to_jsonb(NEW) in an audit
#                  table (created before the run, dropped after).
#      Every run starts from a CHECKPOINT with an empty bh_audit queue.
#      After each bh_audit run: the queue depth when pgbench ended, the time
#      bh_audit.seal() took to drain it, and the events sealed against the
#      expected 4 per transaction (3 UPDATEs + 1 INSERT) + 1 (pgbench's
#      TRUNCATE pgbench_history before the run).
#   2. COPY of 1,000,000 rows (id bigint, patient_id bigint, payload text)
#      into a tagged vs an untagged table of the same shape, alternating,
#      with the sealer's drain time for the tagged one.
#
# Usage (as root): bash test/bench/write_capture_bench.sh
# Knobs (environment): BH_BENCH_CLIENTS (4), BH_BENCH_DURATION (30 s),
# BH_BENCH_ROUNDS (5), BH_BENCH_COPY_ROUNDS (3), BH_BENCH_COPY_ROWS (1000000),
# BH_BENCH_MODES ("plain bh_audit pgaudit plpgsql").
# Defaults: 5 rounds x 4 modes x 30 s, about 15-20 minutes in all on a 2-core
# machine.  4 clients on 2 pgbench threads (one per core): on 2 cores, 2
# clients gave plain runs from 3400 to 6400 TPS back to back, 4 clients
# stayed within ~6%.  The server keeps the helpers' fsync = off (as every
# bench/test server here): all modes pay the same, and the figures measure
# the CPU cost of capture, not the disk.
set -euo pipefail

# shellcheck source=test/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "$0")/lib.sh"

SCALE=20
CLIENTS=${BH_BENCH_CLIENTS:-4}
DURATION=${BH_BENCH_DURATION:-30}
ROUNDS=${BH_BENCH_ROUNDS:-5}
COPY_ROUNDS=${BH_BENCH_COPY_ROUNDS:-3}
COPY_ROWS=${BH_BENCH_COPY_ROWS:-1000000}
read -r -a MODES <<<"${BH_BENCH_MODES:-plain bh_audit pgaudit plpgsql}"
# Upper bound of any single wait for the sealer (statement_timeout of seal()).
SEAL_TIMEOUT=${BH_BENCH_SEAL_TIMEOUT:-600}

bh_bench_ints 20 ROUNDS
bh_bench_ints 600 DURATION
bh_bench_ints 10 COPY_ROUNDS
bh_bench_ints 100000000 COPY_ROWS
bh_bench_ints 1000 CLIENTS
bh_bench_ints 86400 SEAL_TIMEOUT
bh_bench_modes "plain bh_audit pgaudit plpgsql" "${MODES[@]}"
JOBS=$(bh_bench_jobs "$CLIENTS")

bh_bench_tree

bh_setup
bh_workdir

bh_bench_private_install
bh_bench_server
stat_sealed() { psql_q -c 'SELECT events_sealed_total FROM bh_audit.stats()'; }
stat_queued() { psql_q -c 'SELECT queued_events FROM bh_audit.stats()'; }

echo "== setup: extension, pgbench -i -s $SCALE, audit table and trigger of the PL/pgSQL mode"
psql_q -c 'CREATE EXTENSION bh_audit'
bh_as_pg pgbench -i -q -s "$SCALE" >"$BH_WORK/pgbench_init.log" 2>&1 ||
	{ cat "$BH_WORK/pgbench_init.log"; bh_die "pgbench -i failed"; }
psql_q <<'SQL'
CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    tbl       text NOT NULL,
    op        text NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    who       text NOT NULL DEFAULT session_user,
    old_row   jsonb,
    new_row   jsonb
);
CREATE FUNCTION audit_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (tbl, op, new_row) VALUES (TG_TABLE_NAME, TG_OP, to_jsonb(NEW));
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO audit_log (tbl, op, old_row, new_row)
        VALUES (TG_TABLE_NAME, TG_OP, to_jsonb(OLD), to_jsonb(NEW));
    ELSE
        INSERT INTO audit_log (tbl, op, old_row) VALUES (TG_TABLE_NAME, TG_OP, to_jsonb(OLD));
    END IF;
    RETURN NULL;
END $$;
VACUUM ANALYZE;
SQL
seal

PGB_TABLES=(pgbench_accounts pgbench_history pgbench_tellers pgbench_branches)

mode_on() {
	local t
	case $1 in
	bh_audit)
		psql_q >/dev/null <<'SQL'
SELECT bh_audit.tag_table('pgbench_accounts', 'Account', 'aid', 'aid', capture_reads => false);
SELECT bh_audit.tag_table('pgbench_history', 'AccountHistory', 'aid', 'aid', capture_reads => false);
SELECT bh_audit.tag_table('pgbench_tellers', 'Teller', 'tid', capture_reads => false);
SELECT bh_audit.tag_table('pgbench_branches', 'Branch', 'bid', capture_reads => false);
SQL
		;;
	pgaudit)
		psql_q -c "ALTER SYSTEM SET pgaudit.log = 'write'" -c 'SELECT pg_reload_conf()' >/dev/null
		;;
	plpgsql)
		psql_q -c 'TRUNCATE audit_log'
		for t in "${PGB_TABLES[@]}"; do
			psql_q -c "CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON $t
			           FOR EACH ROW EXECUTE FUNCTION audit_trg()"
		done
		;;
	esac
	return 0
}

mode_off() {
	local t
	case $1 in
	bh_audit)
		for t in "${PGB_TABLES[@]}"; do
			psql_q -c "SELECT bh_audit.untag_table('$t')" >/dev/null
		done
		;;
	pgaudit)
		psql_q -c "ALTER SYSTEM SET pgaudit.log = 'none'" -c 'SELECT pg_reload_conf()' >/dev/null
		;;
	plpgsql)
		for t in "${PGB_TABLES[@]}"; do
			psql_q -c "DROP TRIGGER audit_row ON $t"
		done
		;;
	esac
	return 0
}

# check_mode MODE: fail unless exactly MODE's capture is in place.
check_mode() {
	local want_tags=0 want_trg=0 want_log=none got
	case $1 in
	bh_audit) want_tags=4 ;;
	pgaudit) want_log='write' ;;
	plpgsql) want_trg=4 ;;
	esac
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		# a reload reaches new backends within moments: retry briefly
		got=$(psql_q -F ' ' -c "SELECT (SELECT count(*) FROM bh_audit.tagged_tables),
		                             (SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_row'),
		                             current_setting('pgaudit.log')")
		[ "$got" = "$want_tags $want_trg $want_log" ] && return 0
		sleep 0.5
	done
	bh_die "mode $1: expected tags/triggers/pgaudit.log '$want_tags $want_trg $want_log', found '$got'"
}

declare -A TPS_RUNS
BH_DETAIL=()
PGAUDIT_LOG_BYTES=()
# ratios of each round: mode TPS / plain TPS of the same round
declare -A ROUND_RATIOS

echo "== TPC-B-like: $ROUNDS rounds x ${MODES[*]}, $DURATION s each, $CLIENTS clients, scale $SCALE"
nmodes=${#MODES[@]}
for ((r = 1; r <= ROUNDS; r++)); do
	declare -A round_tps=()
	for ((k = 0; k < nmodes; k++)); do
		mode=${MODES[$(((k + r - 1) % nmodes))]}
		mode_on "$mode"
		seal
		check_mode "$mode"
		psql_q -c 'CHECKPOINT'
		sealed0=$(stat_sealed)
		logsize0=$(stat -c %s "$BH_WORK/bench.log")
		out="$BH_WORK/pgbench_${mode}_$r.log"
		if ! bh_as_pg pgbench -b tpcb-like -c "$CLIENTS" -j "$JOBS" -T "$DURATION" >"$out" 2>&1; then
			cat "$out"
			bh_die "pgbench failed in mode $mode"
		fi
		tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out")
		txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
		if [ -z "$tps" ] || [ -z "$txns" ]; then
			cat "$out"
			bh_die "no tps in pgbench output"
		fi
		TPS_RUNS[$mode]="${TPS_RUNS[$mode]:-} $tps"
		round_tps[$mode]=$tps
		line=$(printf 'round %d  %-8s  %9.1f tps  %8d txns' "$r" "$mode" "$tps" "$txns")
		if [ "$mode" = bh_audit ]; then
			queued=$(stat_queued)
			t0=$(now)
			seal
			t1=$(now)
			drain=$(elapsed "$t0" "$t1")
			sealed=$(($(stat_sealed) - sealed0))
			expected=$((4 * txns + 1))
			detail=$(printf '%d  %9.1f  %8d  %9d  %9d  %6.4f  %8d  %7.2f' "$r" "$tps" "$txns" "$sealed" \
				"$expected" "$(div "$sealed" "$expected")" "$queued" "$drain")
			BH_DETAIL+=("$detail")
			line+=$(printf '  queue at end %d, drained in %.2f s, sealed %d (expected %d)' \
				"$queued" "$drain" "$sealed" "$expected")
		fi
		if [ "$mode" = pgaudit ]; then
			bytes=$(($(stat -c %s "$BH_WORK/bench.log") - logsize0))
			PGAUDIT_LOG_BYTES+=("$bytes")
			line+=$(printf '  server log +%.1f MB' "$(div "$bytes" 1048576)")
		fi
		echo "$line"
		mode_off "$mode"
	done
	for mode in "${MODES[@]}"; do
		[ "$mode" = plain ] && continue
		ROUND_RATIOS[$mode]="${ROUND_RATIOS[$mode]:-} $(div "${round_tps[$mode]}" "${round_tps[plain]}")"
	done
	unset round_tps
done
seal
check_mode plain

echo "== COPY of $COPY_ROWS rows: tagged vs untagged, $COPY_ROUNDS rounds"
psql_q >/dev/null <<SQL
CREATE TABLE copy_plain (id bigint, patient_id bigint, payload text);
CREATE TABLE copy_tagged (id bigint, patient_id bigint, payload text);
COPY (SELECT i, i % 50000, md5(i::text) || md5((-i)::text)
        FROM generate_series(1, $COPY_ROWS) i) TO '$BH_WORK/copy.data';
SELECT bh_audit.tag_table('copy_tagged', 'Observation', 'id', 'patient_id', capture_reads => false);
SQL
COPY_PLAIN=()
COPY_TAGGED=()
COPY_DRAIN=()
COPY_SEALED=()
for ((r = 1; r <= COPY_ROUNDS; r++)); do
	if ((r % 2)); then order="copy_tagged copy_plain"; else order="copy_plain copy_tagged"; fi
	for tbl in $order; do
		psql_q -c "TRUNCATE $tbl"
		seal
		psql_q -c 'VACUUM bh_audit.queue' -c 'CHECKPOINT'
		sealed0=$(stat_sealed)
		t0=$(now)
		psql_q -c "COPY $tbl FROM '$BH_WORK/copy.data'"
		t1=$(now)
		s=$(elapsed "$t0" "$t1")
		if [ "$tbl" = copy_tagged ]; then
			queued=$(stat_queued)
			seal
			t2=$(now)
			drain=$(elapsed "$t1" "$t2")
			sealed=$(($(stat_sealed) - sealed0))
			[ "$sealed" -eq "$COPY_ROWS" ] ||
				bh_err "COPY round $r: sealed $sealed events, expected $COPY_ROWS"
			COPY_TAGGED+=("$s")
			COPY_DRAIN+=("$drain")
			COPY_SEALED+=("$sealed")
			printf 'round %d  tagged    COPY %7.2f s  queue %d  drained in %.2f s (%.0f events/s), sealed %d\n' \
				"$r" "$s" "$queued" "$drain" "$(div "$sealed" "$drain")" "$sealed"
		else
			COPY_PLAIN+=("$s")
			printf 'round %d  untagged  COPY %7.2f s\n' "$r" "$s"
		fi
	done
done

verify=$(psql_q -c 'SELECT result FROM bh_audit.verify_chain()')
total_events=$(psql_q -c 'SELECT count(*) FROM bh_audit.events')

# ---------------------------------------------------------------------------
echo
echo "======================================================================"
echo "== bh_audit write-capture benchmark: summary"
echo "======================================================================"
echo "tree: $TREE, $DIRTY tracked files with uncommitted changes when it was built"
echo "machine: $(nproc) cores; server: shared_buffers 1GB, fsync off (helpers), synchronous_commit on,"
echo "         shared_preload_libraries 'bh_audit,pgaudit' in every mode"
echo "pgbench -b tpcb-like, scale $SCALE, $CLIENTS clients ($JOBS threads), $ROUNDS rounds x $DURATION s per mode, alternating"
echo
printf '%-24s %10s %8s %8s  %-10s  %s\n' "mode" "median TPS" "ratio" "paired" "target" "runs (TPS)"
base=$(med_of "${TPS_RUNS[plain]}")
for mode in "${MODES[@]}"; do
	med=$(med_of "${TPS_RUNS[$mode]}")
	case $mode in
	plain) label="untagged (baseline)" target="" ;;
	bh_audit) label="bh_audit tagged" target=">= 0.90" ;;
	pgaudit) label="pgaudit log=write" target="(ref 0.97)" ;;
	plpgsql) label="PL/pgSQL jsonb trigger" target="(ref <0.81)" ;;
	esac
	if [ "$mode" = plain ]; then
		paired="-"
	else
		paired=$(med_of "${ROUND_RATIOS[$mode]}")
	fi
	printf '%-24s %10.1f %8.3f %8s  %-10s  %s\n' "$label" "$med" "$(div "$med" "$base")" "$paired" "$target" \
		"${TPS_RUNS[$mode]# }"
done
echo "(ratio: median TPS / median untagged TPS; paired: median over rounds of TPS / untagged TPS of the same round)"
if [ "${#BH_DETAIL[@]}" -gt 0 ]; then
	echo
	echo "bh_audit runs: events sealed vs 4 per transaction + 1 (TRUNCATE pgbench_history), queue when pgbench ended, drain"
	printf '%5s  %9s  %8s  %9s  %9s  %6s  %8s  %7s\n' round tps txns sealed expected ratio queued drain_s
	for d in "${BH_DETAIL[@]}"; do echo "$d"; done | awk '{ printf "%5s  %9s  %8s  %9s  %9s  %6s  %8s  %7s\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
fi
if [ "${#PGAUDIT_LOG_BYTES[@]}" -gt 0 ]; then
	echo
	echo "pgaudit server log written per run (MB): $(for b in "${PGAUDIT_LOG_BYTES[@]}"; do printf '%.1f ' "$(div "$b" 1048576)"; done)"
fi
echo
cp_plain=$(median "${COPY_PLAIN[@]}")
cp_tagged=$(median "${COPY_TAGGED[@]}")
cp_drain=$(median "${COPY_DRAIN[@]}")
printf 'COPY %d rows            untagged %7.2f s   tagged %7.2f s   ratio tagged/untagged %.2f (time)\n' \
	"$COPY_ROWS" "$cp_plain" "$cp_tagged" "$(div "$cp_tagged" "$cp_plain")"
printf '                          runs untagged: %s   tagged: %s\n' "${COPY_PLAIN[*]}" "${COPY_TAGGED[*]}"
printf 'sealer drain after COPY   median %.2f s (%.0f events/s)   runs: %s\n' \
	"$cp_drain" "$(div "$COPY_ROWS" "$cp_drain")" "${COPY_DRAIN[*]}"
printf 'COPY + drain vs untagged  ratio %.2f\n' \
	"$(div "$(awk -v a="$cp_tagged" -v b="$cp_drain" 'BEGIN { print a + b }')" "$cp_plain")"
echo
echo "ledger: $total_events events, verify_chain() = $verify"
bh_ratio=$(div "$(med_of "${TPS_RUNS[bh_audit]:-0}")" "$base")
if awk -v r="$bh_ratio" 'BEGIN { exit !(r >= 0.90) }'; then
	echo "TPC-B tagged/untagged ratio $bh_ratio: target >= 0.90 MET"
else
	echo "TPC-B tagged/untagged ratio $bh_ratio: target >= 0.90 NOT MET"
fi
