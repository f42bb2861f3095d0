#!/usr/bin/env bash
# test/run-all.sh: build and install bh_audit, then run every test suite:
#   1. pg_regress  sql/*.sql against a private preloaded instance (test/regress.conf)
#   2. pgTAP       test/pgtap/*.sql with pg_prove against a throwaway server
#   3. Perl TAP    test/t/*.pl with prove and PostgreSQL::Test::Cluster
#   4. isolation   test/isolation/specs/*.spec with pg_isolation_regress
#                  (isolationtester: concurrent sessions in a fixed
#                  interleaving, lock waits shown) against a private
#                  preloaded instance like pg_regress's
# A failing suite does not stop the others.  Ends with one line
# "bh_audit tests: N passed, N failed"; exits non-zero if anything failed or
# if no test ran at all.  Must run as root (servers run as postgres); every
# runner runs in a postgres-owned copy of sql/, expected/, schema/, test/,
# docs/ and README.md.
set -euo pipefail

# shellcheck source=test/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

if ! (bh_setup); then
	echo "setup or build failed: no test ran"
	echo "bh_audit tests: 0 passed, 1 failed"
	exit 1
fi
bh_workdir
WORK=$BH_WORK

TOTAL_PASSED=0
TOTAL_FAILED=0
FAILED_SUITES=()
SUITE_LINES=()

# record SUITE PASSED FAILED: add a suite's counts to the totals.
record() {
	local suite=$1 passed=$2 failed=$3
	TOTAL_PASSED=$((TOTAL_PASSED + passed))
	TOTAL_FAILED=$((TOTAL_FAILED + failed))
	SUITE_LINES+=("$(printf '%-11s %4d passed, %4d failed' "$suite:" "$passed" "$failed")")
	if [ "$failed" -gt 0 ]; then
		FAILED_SUITES+=("$suite")
	fi
	echo
	echo "$suite: $passed passed, $failed failed"
}

# parse_regress LOG RC: print "PASSED FAILED" from pg_regress's summary
# (PG 15: " All N tests passed. ", " M of N tests failed. ", and the
# "ignored" variants); a run without a summary counts as 1 failure.
parse_regress() {
	local log=$1 rc=$2 n m k
	local line
	line=$(grep -E '^ *(All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests (passed|failed))' "$log" | tail -n 1 || true)
	if [[ $line =~ All\ ([0-9]+)\ tests\ passed ]]; then
		n=${BASH_REMATCH[1]}
		echo "$n 0"
	elif [[ $line =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ failed,\ ([0-9]+)\ of\ these ]]; then
		m=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]} k=${BASH_REMATCH[3]}
		echo "$((n - m + k)) $((m - k))"
	elif [[ $line =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ failed ]]; then
		m=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]}
		echo "$((n - m)) $m"
	elif [[ $line =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ passed ]]; then
		m=${BASH_REMATCH[1]}
		echo "$m 0"
	else
		echo "0 1"
		return
	fi
	# pg_regress exited non-zero without failing tests (e.g. server crash at exit)
	if [ "$rc" -ne 0 ] && ! [[ $line =~ tests\ failed ]]; then
		echo "pg_regress exited with status $rc" >&2
	fi
}

# regress_record SUITE LOG RC N_MISSING OUTDIR: count a pg_regress-style run
# (parse_regress; a non-zero exit without a failing test is 1 failure, a
# test without expected output another), show its diffs and server log when
# something failed, and record it.
regress_record() {
	local suite=$1 log=$2 rc=$3 n_missing=$4 outdir=$5 counts
	counts=$(parse_regress "$log" "$rc")
	# shellcheck disable=SC2086
	set -- $counts
	if [ "$rc" -ne 0 ] && [ "$2" -eq 0 ]; then
		set -- "$1" 1
	fi
	set -- "$1" $(($2 + n_missing))
	if [ "$2" -gt 0 ]; then
		if [ -s "$outdir/regression.diffs" ]; then
			echo "---- regression.diffs (first 300 lines) ----"
			head -n 300 "$outdir/regression.diffs"
			echo "---- end of regression.diffs ----"
		fi
		if [ -f "$outdir/log/postmaster.log" ]; then
			tail_file "$outdir/log/postmaster.log"
		fi
	fi
	record "$suite" "$1" "$2"
}

# regress_suite SUITE STEP RUNNER SOURCE_DIR EXT EXPECTED_DIR INPUT_DIR NAME
# [OPTION...]: a pg_regress-style suite. Its tests are SOURCE_DIR/*.EXT,
# run in name order in the C locale (as the Makefile's REGRESS does) by
# RUNNER (pg_regress or pg_isolation_regress, with OPTIONs) on a private
# preloaded instance, $WORK/NAME_instance (test/regress.conf); log
# $WORK/NAME.out, results in $WORK/NAME_out. A test without expected output
# (EXPECTED_DIR/TEST.out or a variant TEST_N.out) is reported as failed and
# not run: it would abort the runner for all.
regress_suite() {
	local suite=$1 step=$2 runner=$3 srcdir=$4 ext=$5 expected=$6 inputdir=$7 name=$8
	shift 8
	local tests=() runnable=() f t rc=0 n_missing=0
	local log="$WORK/$name.out" outdir="$WORK/${name}_out"
	for f in "$srcdir"/*."$ext"; do
		[ -e "$f" ] || continue
		f=${f##*/}
		tests+=("${f%."$ext"}")
	done
	bh_header "$step $suite: ${#tests[@]} test(s) from ${srcdir#"$WORK"/}/"
	if [ "${#tests[@]}" -eq 0 ]; then
		echo "no ${srcdir#"$WORK"/}/*.$ext files: nothing to run"
		record "$suite" 0 0
		return
	fi
	mapfile -t tests < <(printf '%s\n' "${tests[@]}" | LC_ALL=C sort)
	for t in "${tests[@]}"; do
		if compgen -G "$expected/$t.out" >/dev/null ||
			compgen -G "$expected/${t}_[0-9].out" >/dev/null; then
			runnable+=("$t")
		else
			echo "test $t: FAILED, ${expected#"$WORK"/}/$t.out does not exist"
			n_missing=$((n_missing + 1))
		fi
	done
	if [ "${#runnable[@]}" -eq 0 ]; then
		record "$suite" 0 "$n_missing"
		return
	fi
	bh_as_pg mkdir -p "$outdir"
	bh_as_pg "$runner" \
		--temp-instance="$WORK/${name}_instance" \
		--temp-config="$WORK/test/regress.conf" \
		--inputdir="$inputdir" \
		--outputdir="$outdir" \
		--bindir="$BH_PGBIN" \
		"$@" "${runnable[@]}" 2>&1 | tee "$log" || rc=$?
	regress_record "$suite" "$log" "$rc" "$n_missing" "$outdir"
}

# tap_failed_counts LOG: the Failed: count of each file listed in the
# harness's "Test Summary Report", one a line.
tap_failed_counts() {
	sed -n '/^Test Summary Report/,$p' "$1" |
		sed -n -E 's/^.* \(Wstat: .* Tests: [0-9]+ Failed: ([0-9]+)\)$/\1/p'
}

# tap_failed_files LOG: the files listed in the "Test Summary Report".
tap_failed_files() {
	sed -n '/^Test Summary Report/,$p' "$1" |
		sed -n -E 's/^(.*) \(Wstat: .* Tests: [0-9]+ Failed: [0-9]+\)$/\1/p'
}

# parse_tap LOG RC: print "PASSED FAILED" from a TAP::Harness summary
# (prove, pg_prove).  Tests=N counts every assertion run; each file in the
# "Test Summary Report" adds its Failed: count, or 1 when it failed without a
# failing assertion (died, bad plan, non-zero exit).  No "Result:" line means
# the runner crashed: 1 failure.
parse_tap() {
	local log=$1 rc=$2 total failed_asserts failed_files result
	result=$(sed -n 's/^Result: \([A-Z]*\).*/\1/p' "$log" | tail -n 1)
	total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$log" | tail -n 1)
	if [ -z "$result" ] || [ -z "$total" ]; then
		echo "0 1"
		return
	fi
	# e.g. "t/x.pl (Wstat: 256 (exited 1) Tests: 2 Failed: 1)"
	failed_asserts=$(tap_failed_counts "$log" | awk '{ s += $1 } END { print s + 0 }')
	failed_files=$(tap_failed_counts "$log" | awk '$1 == 0 { s++ } END { print s + 0 }')
	local passed=$((total - failed_asserts)) failed=$((failed_asserts + failed_files))
	if [ "$passed" -lt 0 ]; then
		passed=0
	fi
	if { [ "$result" != PASS ] || [ "$rc" -ne 0 ]; } && [ "$failed" -eq 0 ]; then
		failed=1
	fi
	echo "$passed $failed"
}

# tail_file FILE: print the last 50 lines of FILE with a banner.
tail_file() {
	echo "---- last 50 lines of $1 ----"
	tail -n 50 "$1"
	echo "---- end of $1 ----"
}

# ---------------------------------------------------------------- pg_regress
suite_regress() {
	regress_suite pg_regress 1/4 "$BH_PG_REGRESS" "$WORK/sql" sql "$WORK/expected" \
		"$WORK" regress --dbname=contrib_regression
}

# ---------------------------------------------------------------- pgTAP
suite_pgtap() {
	local files=() f rc=0 counts log="$WORK/pgtap.out"
	for f in "$WORK"/test/pgtap/*.sql; do
		[ -e "$f" ] && files+=("test/pgtap/${f##*/}")
	done
	bh_header "2/4 pgTAP: ${#files[@]} file(s) from test/pgtap/"
	if [ "${#files[@]}" -eq 0 ]; then
		echo "no test/pgtap/*.sql files: nothing to run"
		record pgTAP 0 0
		return
	fi
	if ! bh_server_start tap "bh_audit.database = 'bh_tap'"; then
		bh_server_stop tap
		record pgTAP 0 1
		return
	fi
	if ! bh_as_pg createdb bh_tap ||
		! bh_as_pg psql -X -q -v ON_ERROR_STOP=1 -d bh_tap \
			-c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION bh_audit'; then
		echo "could not prepare the database bh_tap"
		bh_server_log_tail tap
		bh_server_stop tap
		record pgTAP 0 1
		return
	fi
	bh_as_pg pg_prove --psql-bin "$BH_PGBIN/psql" -d bh_tap "${files[@]}" 2>&1 |
		tee "$log" || rc=$?
	counts=$(parse_tap "$log" "$rc")
	# shellcheck disable=SC2086
	set -- $counts
	if [ "$2" -gt 0 ]; then
		bh_server_log_tail tap
	fi
	bh_server_stop tap
	unset PGHOST PGPORT PGUSER
	record pgTAP "$1" "$2"
}

# ---------------------------------------------------------------- Perl TAP
suite_perl() {
	local files=() f rc=0 counts log="$WORK/perl.out"
	for f in "$WORK"/test/t/*.pl; do
		[ -e "$f" ] && files+=("test/t/${f##*/}")
	done
	bh_header "3/4 Perl TAP: ${#files[@]} file(s) from test/t/"
	if [ "${#files[@]}" -eq 0 ]; then
		echo "no test/t/*.pl files: nothing to run"
		record "Perl TAP" 0 0
		return
	fi
	bh_as_pg mkdir -p "$WORK/tap"
	bh_as_pg env \
		TESTDIR="$WORK/tap" \
		PG_REGRESS="$BH_PG_REGRESS" \
		prove -I "$BH_PERL_LIB" "${files[@]}" 2>&1 | tee "$log" || rc=$?
	counts=$(parse_tap "$log" "$rc")
	# shellcheck disable=SC2086
	set -- $counts
	# the logs (test log and node logs) of each failed file
	if [ "$2" -gt 0 ] && [ -d "$WORK/tap/tmp_check/log" ]; then
		local name logf
		while read -r name; do
			name=${name##*/}
			name=${name%.pl}
			for logf in "$WORK/tap/tmp_check/log/regress_log_$name" \
				"$WORK/tap/tmp_check/log/${name}"_*.log; do
				[ -f "$logf" ] && tail_file "$logf"
			done
		done < <(tap_failed_files "$log")
	fi
	record "Perl TAP" "$1" "$2"
}

# ---------------------------------------------------------------- isolation
# The specs run in the database contrib_regression, as pg_regress's tests
# do: test/regress.conf names it as bh_audit.database, so that seal() works
# there.  Each spec creates what it uses in its setup and drops it in its
# teardown (the extension is created once, --load-extension).
suite_isolation() {
	regress_suite isolation 4/4 "$BH_PG_ISOLATION_REGRESS" "$WORK/test/isolation/specs" spec \
		"$WORK/test/isolation/expected" "$WORK/test/isolation" isolation \
		--dbname=contrib_regression --load-extension=bh_audit
}

suite_regress
suite_pgtap
suite_perl
suite_isolation

bh_header "summary"
for line in "${SUITE_LINES[@]}"; do
	echo "$line"
done
if [ "${#FAILED_SUITES[@]}" -gt 0 ]; then
	echo "failed suites: ${FAILED_SUITES[*]}"
fi
if [ $((TOTAL_PASSED + TOTAL_FAILED)) -eq 0 ]; then
	echo "no test ran at all"
fi
echo "bh_audit tests: $TOTAL_PASSED passed, $TOTAL_FAILED failed"

if [ "$TOTAL_FAILED" -gt 0 ] || [ $((TOTAL_PASSED + TOTAL_FAILED)) -eq 0 ]; then
	exit 1
fi
exit 0
