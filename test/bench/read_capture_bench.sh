#!/usr/bin/env bash
# test/bench/read_capture_bench.sh: the read-capture benchmark (issue 5,
# "Performance"), side by side in one run, on one throwaway server
# (bh_audit and pgaudit both preloaded, identical settings for every mode,
# the helpers' fsync = off kept), modes alternating round-robin (the
# starting mode rotates every round):
#
#   1. pgbench select-only (pgbench -S, default simple query protocol) on
#      scale 20, in three modes:
#        plain     no capture at all (the baseline);
#        bh_audit  pgbench_accounts tagged with
#                    bh_audit.tag_table('pgbench_accounts', 'Account', 'aid', 'aid')
#                  (reads and writes captured; -S writes nothing): one READ
#                  event per transaction, through the shared-memory ring;
#                  untagged again with untag_table() after the run;
#        pgaudit   pgaudit.log = 'read' (ALTER SYSTEM + reload), logging to
#                  the server log, tables untagged; 'none' otherwise.
#   2. pgbench's TPC-B-like script (pgbench -b tpcb-like) with reads AND
#      writes captured together, in two modes:
#        plain     no capture;
#        bh_audit  the four pgbench tables tagged (capture_reads and
#                  capture_writes, the defaults):
#                    pgbench_accounts  id aid, patient aid
#                    pgbench_history   id aid, patient aid
#                    pgbench_tellers   id tid, no patient
#                    pgbench_branches  id bid, no patient
#                  Per transaction: 1 READ (the SELECT of abalance, through
#                  the ring) and 4 writes (3 UPDATEs + 1 INSERT, through the
#                  queue); per run, pgbench's own "select count(*) from
#                  pgbench_branches" (1 READ, rows_read) and its TRUNCATE
#                  pgbench_history (1 write).
#
# Every run starts from a CHECKPOINT with an empty queue and ring.  After
# each bh_audit run:
#   - the ring and queue depth when pgbench ended (bh_audit.stats());
#   - the drain time: from pgbench's exit until bh_audit.seal() returned
#     (both the ring and the queue empty; target <= 5 s);
#   - events_dropped_total before the run and after the drain (must not
#     grow: no event dropped);
#   - the events sealed against the transactions: the READ and the other
#     events the run added to the ledger (by seq), minus pgbench's own per
#     run, against 1 READ (and 4 writes for TPC-B) per transaction.  A
#     client's statement still in flight when pgbench -T stops may have
#     been captured without being counted by pgbench, so up to one extra
#     transaction's events per client ("extra") is expected; fewer than
#     the transactions ("missing") is a failure.
# The ledger is left to the server as in production: no VACUUM or ANALYZE
# of bh_audit.events or bh_audit.queue between runs (one would change the
# plans the sealer caches for them).  At the end: verify_chain() over the
# whole ledger.
#
# Usage (as root): bash test/bench/read_capture_bench.sh
# Knobs (environment):
#   BH_BENCH_CLIENTS (4), BH_BENCH_DURATION (30 s), BH_BENCH_ROUNDS (5),
#   BH_BENCH_MODES ("plain bh_audit pgaudit")           part 1 (-S)
#   BH_BENCH_TPCB_CLIENTS (4), BH_BENCH_TPCB_DURATION (30 s),
#   BH_BENCH_TPCB_ROUNDS (5)                            part 2 (TPC-B-like)
#   BH_BENCH_PARTS ("select tpcb"): the parts to run
#   BH_BENCH_SRC (this checkout): the source tree built and installed into
#     the benchmark's private installation (to measure a private copy of
#     the tree; bh_setup still builds and installs this checkout as usual)
#   BH_BENCH_SEAL_TIMEOUT (600 s): upper bound of any wait for the sealer
# Defaults: 5 rounds x 3 modes x 30 s of -S and 5 rounds x 2 modes x 30 s
# of TPC-B, about 13 minutes in all on a 2-core machine (789 s measured).
# pgbench runs one thread per core (at most one per client).  4 clients on
# 2 threads, as for TPC-B (see write_capture_bench.sh): for -S, 2 and 4
# clients gave the same plain TPS back to back (47,200 and 47,300), 8 fewer
# (40,800: more context switches, less room for the sealer).  Plain -S
# runs of one benchmark still spread by about +-15% on this shared virtual
# machine (36,900-52,800 TPS), hence 5 alternating rounds, medians, and the
# paired ratio (each run against the plain run of its own round).  The
# server keeps the helpers' fsync = off (as every bench/test server here):
# all modes pay the same, and the figures measure the CPU cost of capture,
# not the disk.  The
# sealer shares the two cores with the clients, so its cost per event is
# part of the figure.
set -euo pipefail

# shellcheck source=test/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "$0")/lib.sh"

SCALE=20
S_CLIENTS=${BH_BENCH_CLIENTS:-4}
S_DURATION=${BH_BENCH_DURATION:-30}
S_ROUNDS=${BH_BENCH_ROUNDS:-5}
T_CLIENTS=${BH_BENCH_TPCB_CLIENTS:-4}
T_DURATION=${BH_BENCH_TPCB_DURATION:-30}
T_ROUNDS=${BH_BENCH_TPCB_ROUNDS:-5}
read -r -a S_MODES <<<"${BH_BENCH_MODES:-plain bh_audit pgaudit}"
read -r -a PARTS <<<"${BH_BENCH_PARTS:-select tpcb}"
T_MODES=(plain bh_audit)
SRC=${BH_BENCH_SRC:-}
SEAL_TIMEOUT=${BH_BENCH_SEAL_TIMEOUT:-600}
# Targets (issue 5): -S ratio, drain time after a run.
S_TARGET=0.80
DRAIN_TARGET=5
# Reference figure of pgaudit (pgaudit.log = 'read') on this kind of machine.
PGAUDIT_REF=0.84

bh_bench_ints 20 S_ROUNDS T_ROUNDS
bh_bench_ints 600 S_DURATION T_DURATION
bh_bench_ints 64 S_CLIENTS T_CLIENTS
bh_bench_ints 3600 SEAL_TIMEOUT
bh_bench_modes "plain bh_audit pgaudit" "${S_MODES[@]}"
[ "${#PARTS[@]}" -gt 0 ] || bh_die "BH_BENCH_PARTS is empty"
RUN_SELECT=
RUN_TPCB=
for p in "${PARTS[@]}"; do
	case $p in
	select) RUN_SELECT=1 ;;
	tpcb) RUN_TPCB=1 ;;
	*) bh_die "unknown part '$p' (select, tpcb)" ;;
	esac
done
if [ -n "$SRC" ]; then
	if [ ! -f "$SRC/Makefile" ] || [ ! -f "$SRC/bh_audit.control" ]; then
		bh_die "BH_BENCH_SRC=$SRC is not a bh_audit source tree"
	fi
	SRC=$(cd "$SRC" && pwd)
fi
S_JOBS=$(bh_bench_jobs "$S_CLIENTS")
T_JOBS=$(bh_bench_jobs "$T_CLIENTS")

BENCH_T0=$(date +%s)
bh_bench_tree
bh_setup
bh_workdir

bh_bench_private_install "${SRC:-$BH_REPO}"
bh_bench_server
# max_of "LIST"
max_of() {
	local -a a
	read -r -a a <<<"$1"
	printf '%s\n' "${a[@]}" | sort -g | tail -n 1
}
# stats: "events_sealed_total events_dropped_total validation_failures_total ring_events queued_events"
stats() {
	psql_q -F ' ' -c 'SELECT events_sealed_total, events_dropped_total, validation_failures_total,
	                         ring_events, queued_events FROM bh_audit.stats()'
}
ledger_head() { psql_q -c 'SELECT coalesce(max(seq), 0) FROM bh_audit.events'; }

echo "== setup: extension, pgbench -i -s $SCALE"
psql_q -c 'CREATE EXTENSION bh_audit'
bh_as_pg pgbench -i -q -s "$SCALE" >"$BH_WORK/pgbench_init.log" 2>&1 ||
	{ cat "$BH_WORK/pgbench_init.log"; bh_die "pgbench -i failed"; }
psql_q -c 'VACUUM ANALYZE'
seal

# mode_on PART MODE / mode_off PART MODE
mode_on() {
	case $1/$2 in
	select/bh_audit)
		psql_q -c "SELECT bh_audit.tag_table('pgbench_accounts', 'Account', 'aid', 'aid')" >/dev/null
		;;
	tpcb/bh_audit)
		psql_q >/dev/null <<'SQL'
SELECT bh_audit.tag_table('pgbench_accounts', 'Account', 'aid', 'aid');
SELECT bh_audit.tag_table('pgbench_history', 'AccountHistory', 'aid', 'aid');
SELECT bh_audit.tag_table('pgbench_tellers', 'Teller', 'tid');
SELECT bh_audit.tag_table('pgbench_branches', 'Branch', 'bid');
SQL
		;;
	*/pgaudit)
		psql_q -c "ALTER SYSTEM SET pgaudit.log = 'read'" -c 'SELECT pg_reload_conf()' >/dev/null
		;;
	esac
	return 0
}

mode_off() {
	local t
	case $2 in
	bh_audit)
		for t in $(psql_q -c 'SELECT tbl::text FROM bh_audit.tagged_tables ORDER BY 1'); do
			psql_q -c "SELECT bh_audit.untag_table('$t')" >/dev/null
		done
		;;
	pgaudit)
		psql_q -c "ALTER SYSTEM SET pgaudit.log = 'none'" -c 'SELECT pg_reload_conf()' >/dev/null
		;;
	esac
	return 0
}

# check_mode PART MODE: fail unless exactly MODE's capture is in place
# (tables tagged with reads and writes captured, pgaudit.log).
check_mode() {
	local want_tags=0 want_log=none got
	case $1/$2 in
	select/bh_audit) want_tags=1 ;;
	tpcb/bh_audit) want_tags=4 ;;
	*/pgaudit) want_log='read' ;;
	esac
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		# a reload reaches new backends within moments: retry briefly
		got=$(psql_q -F ' ' -c "SELECT (SELECT count(*) FROM bh_audit.tagged_tables
		                                 WHERE capture_reads AND capture_writes),
		                               (SELECT count(*) FROM bh_audit.tagged_tables),
		                               current_setting('pgaudit.log')")
		[ "$got" = "$want_tags $want_tags $want_log" ] && return 0
		sleep 0.5
	done
	bh_die "mode $2 of part $1: expected tags/pgaudit.log '$want_tags $want_tags $want_log', found '$got'"
}

declare -A TPS_RUNS			# PART/MODE -> " tps tps ..."
declare -A ROUND_RATIOS		# PART/MODE -> " ratio ratio ..." (vs plain of the same round)
declare -A DRAINS			# PART -> " drain_s ..."
declare -A DETAIL			# PART -> lines of the bh_audit detail table
declare -A PROBLEMS			# PART -> problems found in bh_audit runs (count)
PGAUDIT_LOG_BYTES=()

# run_part PART ROUNDS DURATION CLIENTS JOBS MODES...
run_part() {
	local part=$1 rounds=$2 duration=$3 clients=$4 jobs=$5
	shift 5
	local -a modes=("$@")
	local nmodes=${#modes[@]} r k mode out tps txns line st0 st1 seq0 seq1
	local t_end t_sealed drain reads others exp_reads exp_others extra missing
	local per_txn fixed_reads fixed_others logsize0 bytes
	local -a pgb_args s0 s1 s2
	local -A round_tps
	case $part in
	select)
		pgb_args=(-S)
		per_txn="1 0"
		fixed_reads=0
		fixed_others=0
		;;
	tpcb)
		pgb_args=(-b tpcb-like)
		per_txn="1 4"
		# pgbench's "select count(*) from pgbench_branches" and its
		# "truncate pgbench_history" before the run
		fixed_reads=1
		fixed_others=1
		;;
	esac
	PROBLEMS[$part]=0
	for ((r = 1; r <= rounds; r++)); do
		round_tps=()
		for ((k = 0; k < nmodes; k++)); do
			mode=${modes[$(((k + r - 1) % nmodes))]}
			mode_on "$part" "$mode"
			seal
			check_mode "$part" "$mode"
			psql_q -c 'CHECKPOINT'
			read -r -a s0 <<<"$(stats)"
			seq0=$(ledger_head)
			logsize0=$(stat -c %s "$BH_WORK/bench.log")
			out="$BH_WORK/pgbench_${part}_${mode}_$r.log"
			if ! bh_as_pg pgbench "${pgb_args[@]}" -c "$clients" -j "$jobs" -T "$duration" >"$out" 2>&1; then
				cat "$out"
				bh_die "pgbench failed in part $part, mode $mode"
			fi
			t_end=$(now)
			tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out")
			txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
			if [ -z "$tps" ] || [ -z "$txns" ]; then
				cat "$out"
				bh_die "no tps in pgbench output"
			fi
			TPS_RUNS[$part/$mode]="${TPS_RUNS[$part/$mode]:-} $tps"
			round_tps[$mode]=$tps
			line=$(printf 'round %d  %-8s  %9.1f tps  %8d txns' "$r" "$mode" "$tps" "$txns")
			if [ "$mode" = bh_audit ]; then
				# s1: at pgbench's end; s2: once seal() returned
				read -r -a s1 <<<"$(stats)"
				seal
				t_sealed=$(now)
				drain=$(elapsed "$t_end" "$t_sealed")
				read -r -a s2 <<<"$(stats)"
				seq1=$(ledger_head)
				read -r reads others <<<"$(psql_q -F ' ' -c "SELECT count(*) FILTER (WHERE action = 'READ'),
				                                               count(*) FILTER (WHERE action <> 'READ')
				                                          FROM bh_audit.events
				                                         WHERE seq > $seq0 AND seq <= $seq1")"
				read -r st0 st1 <<<"$per_txn"
				exp_reads=$((st0 * txns + fixed_reads))
				exp_others=$((st1 * txns + fixed_others))
				extra=$((reads + others - exp_reads - exp_others))
				missing=0
				if [ "$reads" -lt "$exp_reads" ] || [ "$others" -lt "$exp_others" ]; then
					missing=1
				fi
				DRAINS[$part]="${DRAINS[$part]:-} $drain"
				DETAIL[$part]+=$(printf '%d %.1f %d %d %d %d %d %d %d %d %.2f %d %d %d %d\n' \
					"$r" "$tps" "$txns" "$reads" "$exp_reads" "$others" "$exp_others" "$extra" \
					"${s1[3]}" "${s1[4]}" "$drain" "${s0[1]}" "${s2[1]}" \
					"$((s2[0] - s0[0]))" "$((s2[2] - s0[2]))")$'\n'
				line+=$(printf '  ring %d + queue %d at end, drained in %.2f s, READ %d (expected %d), other %d (expected %d), dropped %d -> %d' \
					"${s1[3]}" "${s1[4]}" "$drain" "$reads" "$exp_reads" "$others" "$exp_others" \
					"${s0[1]}" "${s2[1]}")
				if [ "$missing" -ne 0 ] || [ "$extra" -gt $(((st0 + st1) * clients)) ] ||
					[ "${s2[1]}" -ne "${s0[1]}" ] || [ "$((s2[2] - s0[2]))" -ne 0 ] ||
					[ "${s2[3]}" -ne 0 ] || [ "${s2[4]}" -ne 0 ]; then
					PROBLEMS[$part]=$((PROBLEMS[$part] + 1))
					line+="  PROBLEM"
				fi
			fi
			if [ "$mode" = pgaudit ]; then
				bytes=$(($(stat -c %s "$BH_WORK/bench.log") - logsize0))
				PGAUDIT_LOG_BYTES+=("$bytes")
				line+=$(printf '  server log +%.1f MB' "$(div "$bytes" 1048576)")
			fi
			echo "$line"
			mode_off "$part" "$mode"
		done
		for mode in "${modes[@]}"; do
			[ "$mode" = plain ] && continue
			ROUND_RATIOS[$part/$mode]="${ROUND_RATIOS[$part/$mode]:-} $(div "${round_tps[$mode]}" "${round_tps[plain]}")"
		done
	done
	seal
	check_mode "$part" plain
}

if [ -n "$RUN_SELECT" ]; then
	echo "== select-only (-S): $S_ROUNDS rounds x ${S_MODES[*]}, $S_DURATION s each, $S_CLIENTS clients ($S_JOBS threads), scale $SCALE"
	run_part select "$S_ROUNDS" "$S_DURATION" "$S_CLIENTS" "$S_JOBS" "${S_MODES[@]}"
fi
if [ -n "$RUN_TPCB" ]; then
	echo "== TPC-B-like, reads and writes captured: $T_ROUNDS rounds x ${T_MODES[*]}, $T_DURATION s each, $T_CLIENTS clients ($T_JOBS threads), scale $SCALE"
	run_part tpcb "$T_ROUNDS" "$T_DURATION" "$T_CLIENTS" "$T_JOBS" "${T_MODES[@]}"
fi

t0=$(now)
verify=$(psql_q -c 'SELECT result FROM bh_audit.verify_chain()')
t1=$(now)
total_events=$(psql_q -c 'SELECT count(*) FROM bh_audit.events')
read -r -a s_end <<<"$(stats)"

# ---------------------------------------------------------------------------
# detail_table PART: the bh_audit runs of a part
detail_table() {
	printf '%5s %9s %8s %8s %8s %8s %8s %5s %6s %6s %7s %10s %7s\n' \
		round tps txns READ expected other expected extra ring queue drain_s dropped valfail
	printf '%s' "${DETAIL[$1]}" | awk 'NF { printf "%5s %9s %8s %8s %8s %8s %8s %5s %6s %6s %7s %10s %7s\n",
		$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 "->" $13, $15 }'
}
# verdict LABEL OK
verdict() { if [ "$2" = 1 ]; then echo "$1: MET"; else echo "$1: NOT MET"; fi; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
# part_verdicts PART LABEL WHAT: the drain-time and completeness verdicts of a part
part_verdicts() {
	local part=$1 label=$2 what=$3 d ok
	d=$(max_of "${DRAINS[$part]}")
	ok=0
	ge "$DRAIN_TARGET" "$d" && ok=1
	verdict "$label ring and queue drained within $DRAIN_TARGET s after every run (slowest $d s)" "$ok"
	ok=0
	[ "${PROBLEMS[$part]}" -eq 0 ] && ok=1
	verdict "$label no event dropped or missing, $what (${PROBLEMS[$part]} runs with problems)" "$ok"
}

echo
echo "======================================================================"
echo "== bh_audit read-capture benchmark: summary"
echo "======================================================================"
echo "tree: $TREE, $DIRTY tracked files with uncommitted changes when the run started (built and installed by bh_setup)"
if [ -n "$SRC" ]; then
	echo "bh_audit under test: built from $SRC (BH_BENCH_SRC), not from the checkout"
fi
echo "machine: $(nproc) cores; server: shared_buffers 1GB, fsync off (helpers), synchronous_commit on,"
echo "         shared_preload_libraries 'bh_audit,pgaudit' in every mode, bh_audit settings at their defaults"
echo "scale $SCALE; modes alternate round-robin, the first mode rotating every round"

if [ -n "$RUN_SELECT" ]; then
	echo
	echo "-- pgbench -S (select-only): $S_CLIENTS clients ($S_JOBS threads), $S_ROUNDS rounds x $S_DURATION s per mode"
	printf '%-26s %10s %8s %8s  %-10s  %s\n' "mode" "median TPS" "ratio" "paired" "target" "runs (TPS)"
	s_base=$(med_of "${TPS_RUNS[select/plain]}")
	for mode in "${S_MODES[@]}"; do
		med=$(med_of "${TPS_RUNS[select/$mode]}")
		case $mode in
		plain) label="untagged (baseline)" target="" ;;
		bh_audit) label="bh_audit accounts tagged" target=">= $S_TARGET" ;;
		pgaudit) label="pgaudit log=read" target="(ref $PGAUDIT_REF)" ;;
		esac
		if [ "$mode" = plain ]; then paired="-"; else paired=$(med_of "${ROUND_RATIOS[select/$mode]}"); fi
		printf '%-26s %10.1f %8.3f %8s  %-10s  %s\n' "$label" "$med" "$(div "$med" "$s_base")" "$paired" \
			"$target" "${TPS_RUNS[select/$mode]# }"
	done
	echo "(ratio: median TPS / median untagged TPS; paired: median over rounds of TPS / untagged TPS of the same round)"
	if [ -n "${DETAIL[select]:-}" ]; then
		echo
		echo "bh_audit -S runs: READ events sealed vs 1 per transaction (extra: statements in flight when pgbench"
		echo "stopped, at most 1 per client), ring and queue when pgbench ended, drain time, events_dropped_total"
		echo "before -> after, validation failures"
		detail_table select
	fi
	if [ "${#PGAUDIT_LOG_BYTES[@]}" -gt 0 ]; then
		echo
		echo "pgaudit server log written per run (MB): $(for b in "${PGAUDIT_LOG_BYTES[@]}"; do printf '%.1f ' "$(div "$b" 1048576)"; done)"
	fi
fi

if [ -n "$RUN_TPCB" ]; then
	echo
	echo "-- pgbench -b tpcb-like, reads and writes captured: $T_CLIENTS clients ($T_JOBS threads), $T_ROUNDS rounds x $T_DURATION s per mode"
	printf '%-26s %10s %8s %8s  %s\n' "mode" "median TPS" "ratio" "paired" "runs (TPS)"
	t_base=$(med_of "${TPS_RUNS[tpcb/plain]}")
	for mode in "${T_MODES[@]}"; do
		med=$(med_of "${TPS_RUNS[tpcb/$mode]}")
		case $mode in
		plain) label="untagged (baseline)" ;;
		bh_audit) label="bh_audit 4 tables, r+w" ;;
		esac
		if [ "$mode" = plain ]; then paired="-"; else paired=$(med_of "${ROUND_RATIOS[tpcb/$mode]}"); fi
		printf '%-26s %10.1f %8.3f %8s  %s\n' "$label" "$med" "$(div "$med" "$t_base")" "$paired" \
			"${TPS_RUNS[tpcb/$mode]# }"
	done
	echo
	echo "bh_audit TPC-B runs: READ events vs 1 per transaction + 1 (pgbench's count(*) of pgbench_branches),"
	echo "other events vs 4 per transaction + 1 (TRUNCATE pgbench_history); extra: at most 5 per client"
	detail_table tpcb
fi

echo
printf 'ledger: %d events, verify_chain() = %s (%.1f s); events_dropped_total %d, validation_failures_total %d\n' \
	"$total_events" "$verify" "$(elapsed "$t0" "$t1")" "${s_end[1]}" "${s_end[2]}"
echo "benchmark wall time: $(($(date +%s) - BENCH_T0)) s"
echo
if [ -n "$RUN_SELECT" ] && [ -n "${TPS_RUNS[select/bh_audit]:-}" ]; then
	r=$(div "$(med_of "${TPS_RUNS[select/bh_audit]}")" "$s_base")
	ok=0
	ge "$r" "$S_TARGET" && ok=1
	verdict "-S tagged/untagged ratio $r (target >= $S_TARGET)" "$ok"
	part_verdicts select -S "1 READ per transaction"
	if [ -n "${TPS_RUNS[select/pgaudit]:-}" ]; then
		p=$(div "$(med_of "${TPS_RUNS[select/pgaudit]}")" "$s_base")
		ok=0
		ge "$r" "$p" && ok=1
		verdict "-S bh_audit ($r) at least as fast as pgaudit log=read ($p)" "$ok"
	fi
fi
if [ -n "$RUN_TPCB" ]; then
	r=$(div "$(med_of "${TPS_RUNS[tpcb/bh_audit]}")" "$t_base")
	echo "TPC-B reads+writes tagged/untagged ratio $r (no target; write capture alone: >= 0.90)"
	part_verdicts tpcb TPC-B "1 READ + 4 writes per transaction"
fi
