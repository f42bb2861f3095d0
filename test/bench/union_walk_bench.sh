#!/usr/bin/env bash
# test/bench/union_walk_bench.sh: what read capture costs planning a set
# operation of many calls of SQL functions.
#
# The body of each SQL function the planner analyses is noted under the
# planning (plan_tags.c); finding the function entries that may call it
# walked the planned query from its top each time, through the arms the
# planner had planned already, which made planning quadratic in the calls.
# For each N (default: 100 200 400 800 1600) and each shape, a query of N
# arms "SELECT * FROM fn(i)" joined by UNION ALL or UNION is planned
# (EXPLAIN (ANALYZE): a plain EXPLAIN is not captured) R times (default 3)
# in three configurations side by side; shape "cross" is a query
# "SELECT count(*) FROM fn(1) a1 CROSS JOIN fn(2) a2 ..." of N calls, run
# R times, each in a session of its own (EXPLAIN's naming of N range
# table entries is itself slow beyond a few hundred).  The calls of a
# "rejected" function there walked the query once per call (quadratic:
# at 1a46a8b, 800 calls, tagged 490 ms, untagged 372 ms; kept since,
# tagged 386 ms, untagged 394 ms; PostgreSQL's own planning of such a join
# grows faster than linearly):
#   tagged    bh_audit preloaded, fn reads a tagged table
#   untagged  the same server, fn's twin reads an untagged twin table
#   off       a server without bh_audit preloaded, the same tables
# with three kinds of function, each a LANGUAGE sql STABLE set-returning
# function of one row: "inlined" (its body a string, inlined), "rejected"
# (its body analysed but not inlined: it returns the whole row as one
# column) and "atomic" (a BEGIN ATOMIC body, inlined).
#
# Prints the median planner CPU milliseconds (user + system, as
# log_planner_stats gives them for the outermost planning) of each and the
# ratios tagged / off and untagged / off; asserts nothing.
#
# Usage (as root): bash test/bench/union_walk_bench.sh [R] [N...]
# Knobs (environment):
#   BH_BENCH_SHAPES ("union_all union cross"): the set operations, or a
#     CROSS JOIN
#   BH_BENCH_KINDS ("inlined rejected atomic"): the kinds of function
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
shift || true
SIZES=("$@")
[ "${#SIZES[@]}" -gt 0 ] || SIZES=(100 200 400 800 1600)
read -r -a SHAPES <<<"${BH_BENCH_SHAPES:-union_all union cross}"
read -r -a KINDS <<<"${BH_BENCH_KINDS:-inlined rejected atomic}"
bh_bench_ints 100 R
for n in "${SIZES[@]}"; do bh_bench_ints 20000 n; done
for s in "${SHAPES[@]}"; do
	case $s in union_all | union | cross) ;; *) bh_die "unknown shape '$s' (known: union_all union cross)" ;; esac
done
for k in "${KINDS[@]}"; do
	case $k in inlined | rejected | atomic) ;; *) bh_die "unknown kind '$k' (known: inlined rejected atomic)" ;; esac
done
bh_bench_private_setup

# the tables and functions: TAGGED 1 tags notes (the server with the extension)
SCHEMA_SQL="
CREATE TABLE notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes SELECT g, 'p' || (g % 10), 'n' FROM generate_series(1, 100) g;
CREATE TABLE plain (LIKE notes INCLUDING ALL);
INSERT INTO plain SELECT * FROM notes;
ANALYZE notes, plain;
CREATE FUNCTION t_inlined(k int) RETURNS SETOF notes LANGUAGE sql STABLE
  AS 'SELECT * FROM notes WHERE id = k';
CREATE FUNCTION t_rejected(k int) RETURNS SETOF notes LANGUAGE sql STABLE
  AS 'SELECT n FROM notes n WHERE id = k';
CREATE FUNCTION t_atomic(k int) RETURNS SETOF notes LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM notes WHERE id = k; END;
CREATE FUNCTION u_inlined(k int) RETURNS SETOF plain LANGUAGE sql STABLE
  AS 'SELECT * FROM plain WHERE id = k';
CREATE FUNCTION u_rejected(k int) RETURNS SETOF plain LANGUAGE sql STABLE
  AS 'SELECT n FROM plain n WHERE id = k';
CREATE FUNCTION u_atomic(k int) RETURNS SETOF plain LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM plain WHERE id = k; END;
"

bh_server_start on "bh_audit.database = 'bh_bench'" "autovacuum = off"
ON=("-h" "$PGHOST" "-p" "$PGPORT")
bh_as_pg createdb "${ON[@]}" bh_bench
psql_q "${ON[@]}" -d bh_bench -c 'CREATE EXTENSION bh_audit' -c "$SCHEMA_SQL" \
	-c "SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id')" >/dev/null
bh_server_start off "shared_preload_libraries = ''" "autovacuum = off"
OFF=("-h" "$PGHOST" "-p" "$PGPORT")
bh_as_pg createdb "${OFF[@]}" bh_bench
psql_q "${OFF[@]}" -d bh_bench -c "$SCHEMA_SQL" >/dev/null

# plan_ms SERVER FUNCTION SHAPE N: median planner CPU ms of R plannings
plan_ms() {
	local -n srv=$1
	local fn=$2 shape=$3 n=$4 op script=$BH_WORK/q.sql i q=""
	local -a ms
	if [ "$shape" = cross ]; then
		for i in $(seq "$n"); do
			[ "$i" -eq 1 ] || q+=" CROSS JOIN "
			q+="$fn($i) a$i"
		done
		printf 'SET client_min_messages = log;\nSET log_planner_stats = on;\nSELECT count(*) FROM %s;\n' \
			"$q" >"$script"
		chmod a+r "$script"
		# one session per planning: its largest planning is the outermost
		mapfile -t ms < <(for _ in $(seq "$R"); do
			psql_q "${srv[@]}" -d bh_bench -f "$script" 2>&1 |
				awk '/ s user, .* s system, .* s elapsed/ {
						sub(/^!\t*/, ""); v = ($1 + $4) * 1000; if (v > max) max = v
					}
					END { printf "%.1f\n", max }'
		done)
		median "${ms[@]}"
		return
	fi
	if [ "$shape" = union_all ]; then op="UNION ALL"; else op="UNION"; fi
	for i in $(seq "$n"); do
		[ "$i" -eq 1 ] || q+=" $op "
		q+="SELECT * FROM $fn($i)"
	done
	{
		echo 'SET client_min_messages = log;'
		echo 'SET log_planner_stats = on;'
		for _ in $(seq "$R"); do
			echo "EXPLAIN (ANALYZE, SUMMARY, COSTS OFF, TIMING OFF) $q;"
		done
	} >"$script"
	chmod a+r "$script"
	# the outermost planning takes the longest (the functions' own
	# plannings, as they run, log theirs too)
	mapfile -t ms < <(psql_q "${srv[@]}" -d bh_bench -f "$script" 2>&1 |
		awk '/ s user, .* s system, .* s elapsed/ {
				sub(/^!\t*/, ""); v = ($1 + $4) * 1000; if (v > max) max = v
			}
			/^Planning Time/ { printf "%.1f\n", max; max = 0 }')
	[ "${#ms[@]}" -eq "$R" ] || bh_die "$fn, $shape of $n: ${#ms[@]} plannings measured, not $R"
	median "${ms[@]}"
}

echo "== union walk: R=$R plannings each, sizes ${SIZES[*]}, build of $SRC ($TREE)"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); planner CPU ms, medians"
for shape in "${SHAPES[@]}"; do
	for kind in "${KINDS[@]}"; do
		echo
		echo "-- $shape of N calls, $kind"
		printf '%-6s %10s %10s %10s %12s %12s\n' N tagged untagged off tagged/off untagged/off
		for n in "${SIZES[@]}"; do
			t=$(plan_ms ON "t_$kind" "$shape" "$n")
			u=$(plan_ms ON "u_$kind" "$shape" "$n")
			o=$(plan_ms OFF "t_$kind" "$shape" "$n")
			printf '%-6s %10s %10s %10s %12s %12s\n' "$n" "$t" "$u" "$o" "$(div "$t" "$o")" "$(div "$u" "$o")"
		done
	done
done
