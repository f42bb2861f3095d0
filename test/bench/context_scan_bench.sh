#!/usr/bin/env bash
# test/bench/context_scan_bench.sh: whether the error watch's walk through
# a failing statement's error context stays linear in the context's length
# when the statements' texts in it are not closed read as SQL.
#
# The error watch reads each statement's text in an error's context as SQL
# to find where it ends (error_context.c, bh_statement_end_lexed); a text
# whose literal, dollar-quoted or not, is not closed where the text ends is
# lexed on to the end of the whole context, then taken to end at the first
# '"' and new line.  In a recursion of F such frames, each lexing would run
# to the context's end: quadratic in the context's length (at b6042c7's
# parent: 8 times, 1.3 s against 0.16 s for 300 frames of 10 kB).  Two
# recursions of F frames (default 300) of statements padded to 10 kB, each
# failing at its innermost frame (division by zero) under a tagged table's
# read, each run R times (default 3), closed and unclosed alternating:
#
#   recx  a dollar quote after a nested block comment's first */, its tag
#         other in each frame: closed ($x1x... as plain text) or not ($t1$)
#   recs  a literal '\' of each frame's statement, parsed with
#         standard_conforming_strings on, read as the error is raised with
#         it off (the innermost frame sets it so): each literal runs on into
#         the next frame; closed: '/'
#
# Prints the best of R elapsed milliseconds of each failing statement, the
# ratio unclosed / closed, and whether the unclosed one stays within three
# times the closed one + 100 ms (the bound t/251 checked in one run before
# timed comparisons moved here).  t/251 keeps the checks that do not depend
# on the machine's speed (the recursions fail, and their FAILURE events).
#
# Usage (as root): bash test/bench/context_scan_bench.sh [R] [F]
# Knobs (environment):
#   BH_BENCH_SRC (this checkout): the built source tree installed into the
#     benchmark's private installation (e.g. an older commit's copy)
#   BH_BENCH_SETUP (1): 0 skips bh_setup (packages present; the benchmark
#     runs from its private installation and needs no system-wide install)
set -euo pipefail

# shellcheck source=test/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "$0")/lib.sh"

R=${1:-3}
F=${2:-300}
bh_bench_ints 100 R
bh_bench_ints 2000 F
bh_bench_private_setup
bh_bench_start "autovacuum = off"

psql_q -c 'CREATE EXTENSION bh_audit' >/dev/null
psql_q >/dev/null <"$BH_REPO/test/lib/context_scan_recursions.sql"

# run FN UNCLOSED: the elapsed ms of the failing recursion (in a
# transaction that read the tagged table first, as t/251's did)
run() {
	bh_as_pg psql -X -q -At -v ON_ERROR_STOP=0 2>/dev/null <<SQL | tail -1
BEGIN;
SELECT count(*) FROM notes \\g /dev/null
SELECT clock_timestamp() AS t0 \\gset
SELECT $1($F, repeat('y', 10000), $2);
ROLLBACK;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1);
SQL
}

best() { printf '%s\n' $1 | sort -g | head -1; }

echo "== context scan: $F frames of 10 kB, best of $R, build of $SRC ($TREE)"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-5s %12s %14s %8s  %s\n' fn 'closed (ms)' 'unclosed (ms)' ratio 'unclosed < 3 x closed + 100 ms'
for fn in recx recs; do
	closed="" unclosed=""
	for _ in $(seq "$R"); do
		closed+="$(run "$fn" false) "
		unclosed+="$(run "$fn" true) "
	done
	c=$(best "$closed")
	u=$(best "$unclosed")
	ok=$(awk -v u="$u" -v c="$c" 'BEGIN { print (u < 3 * c + 100) ? "yes" : "NO (quadratic?)" }')
	printf '%-5s %12s %14s %8s  %s\n' "$fn" "$c" "$u" "$(div "$u" "$c")" "$ok"
done
failures=$(psql_q -c "SELECT bh_audit.seal() >= 0" \
	-c "SELECT count(*) FROM bh_audit.events WHERE resource_type = 'Note' AND outcome = 'FAILURE'" | tail -1)
expected=$((4 * R * F))
echo "FAILURE events of notes: $failures (expected $expected, one per frame's failing statement)"
[ "$failures" = "$expected" ] || bh_die "the recursions recorded $failures failures, not $expected"
