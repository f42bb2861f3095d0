#!/usr/bin/env bash
# test/bench/tag_cache_bench.sh: what the backend-local tag cache costs
# statements around DDL and ANALYZE, with many tagged relations.
#
# For each N (default: 100 1000 5000) a database holds one tagged
# partitioned table with N partitions (N + 1 tagged relations; tagged with
# capture_writes => false so that setting it up creates no triggers), and
# measures, capture on (database bh_bench, the extension created) against
# capture off (database bh_off, the same tables, no extension):
#   (a) the first statement (a primary-key SELECT of an untagged table) of
#       a session after another session's INSERT and ANALYZE of that
#       table (what autovacuum does), median of R rounds, and the same
#       statement again (the steady cost);
#   (b) tag_table() of another table with 1,000 partitions (capture off:
#       the same triggers created by plain SQL);
#   (c) creating 1,000 partitions of an untagged parent in a DO loop, in a
#       session that has read the parent before (its cache holds it).
# Prints the times and their ratios (on / off); asserts nothing.
#
# Usage (as root): bash test/bench/tag_cache_bench.sh [R] [N...]
# BH_BENCH_SRC=DIR measures the build of another checkout (e.g. one of the
# commit before a change) instead of this one.
set -euo pipefail

# shellcheck source=test/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "$0")/lib.sh"

R=${1:-5}
shift || true
SIZES=("$@")
[ "${#SIZES[@]}" -gt 0 ] || SIZES=(100 1000 5000)
bh_bench_ints 100 R
for n in "${SIZES[@]}"; do bh_bench_ints 20000 n; done

[ -n "${BH_BENCH_SRC:-}" ] || bh_setup
bh_workdir
bh_bench_private_install "${BH_BENCH_SRC:-}"
bh_bench_server

# setup DB N: the tagged table of N partitions (with the extension) or its
# twin (without), the untagged table ut, and the parents of (b) and (c).
setup() {
	local db=$1 n=$2 ext=$3
	bh_as_pg dropdb --if-exists --force "$db" 2>/dev/null
	bh_as_pg createdb "$db"
	if [ "$ext" = 1 ]; then psql_q -d "$db" -c 'CREATE EXTENSION bh_audit'; fi
	psql_q -d "$db" <<SQL
CREATE TABLE ut (id int PRIMARY KEY, v text);
INSERT INTO ut SELECT g, 'v' || g FROM generate_series(1, 1000) g;
CREATE TABLE tagged (id int, patient_id int, k int) PARTITION BY LIST (k);
DO \$\$ BEGIN
  FOR i IN 1..$n LOOP
    EXECUTE format('CREATE TABLE tagged_%s PARTITION OF tagged FOR VALUES IN (%s)', i, i);
  END LOOP;
END \$\$;
CREATE TABLE big (id int, patient_id int, k int) PARTITION BY LIST (k);
DO \$\$ BEGIN
  FOR i IN 1..1000 LOOP
    EXECUTE format('CREATE TABLE big_%s PARTITION OF big FOR VALUES IN (%s)', i, i);
  END LOOP;
END \$\$;
CREATE TABLE grow (id int, k int) PARTITION BY LIST (k);
CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
SQL
	if [ "$ext" = 1 ]; then
		psql_q -d "$db" -c "SELECT bh_audit.tag_table('tagged', 'Note', 'id', 'patient_id', capture_writes => false)" >/dev/null
	fi
}

# first DB: "first after analyze" and "steady" milliseconds, medians of R rounds
first_after_analyze() {
	local db=$1 script=$BH_WORK/first_$1.sql out r
	{
		echo 'SELECT v FROM ut WHERE id = 1;'
		echo 'SELECT v FROM ut WHERE id = 1;'
		echo '\timing on'
		for r in $(seq "$R"); do
			echo "\\! psql -X -q -d $db -c 'INSERT INTO ut VALUES ($((1000 + r)), NULL); ANALYZE ut' >/dev/null"
			echo 'SELECT v FROM ut WHERE id = 1;'
			echo 'SELECT v FROM ut WHERE id = 1;'
		done
	} >"$script"
	chmod a+r "$script"
	out=$(psql_q -d "$db" -f "$script" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
	echo "$(median $(echo "$out" | awk 'NR % 2 == 1')) $(median $(echo "$out" | awk 'NR % 2 == 0'))"
}

# timed DB SQL: seconds to run SQL in DB
timed() {
	local t0 t1
	t0=$(now)
	psql_q -d "$1" -c "$2" >/dev/null
	t1=$(now)
	elapsed "$t0" "$t1"
}

TRIGGERS_SQL="DO \$\$ DECLARE p regclass; BEGIN
  CREATE TRIGGER row_t AFTER INSERT OR UPDATE OR DELETE ON big FOR EACH ROW EXECUTE FUNCTION noop();
  FOR p IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'big'::regclass LOOP
    EXECUTE format('CREATE TRIGGER trunc_t BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION noop()', p);
  END LOOP;
END \$\$"
GROW_SQL="SELECT count(*) FROM grow; DO \$\$ BEGIN
  FOR i IN 1..1000 LOOP
    EXECUTE format('CREATE TABLE grow_%s PARTITION OF grow FOR VALUES IN (%s)', i, i);
  END LOOP;
END \$\$"

echo "== tag cache: R=$R rounds, sizes ${SIZES[*]}, build of ${BH_BENCH_SRC:-$BH_REPO}"
printf '%-6s | %-34s | %-26s | %-26s\n' N "(a) first/steady ms on, off, ratio" "(b) tag_table s on, off, ratio" "(c) 1000 partitions s on, off, ratio"
for n in "${SIZES[@]}"; do
	setup bh_bench "$n" 1
	setup bh_off "$n" 0
	read -r a_on a_on_steady <<<"$(first_after_analyze bh_bench)"
	read -r a_off a_off_steady <<<"$(first_after_analyze bh_off)"
	b_on=$(timed bh_bench "SELECT bh_audit.tag_table('big', 'Big', 'id', 'patient_id')")
	b_off=$(timed bh_off "$TRIGGERS_SQL")
	c_on=$(timed bh_bench "$GROW_SQL")
	c_off=$(timed bh_off "$GROW_SQL")
	printf '%-6s | %8s/%-6s %8s/%-6s %6s | %8s %8s %8s | %8s %8s %8s\n' "$n" \
		"$a_on" "$a_on_steady" "$a_off" "$a_off_steady" "$(div "$a_on" "$a_off")" \
		"$b_on" "$b_off" "$(div "$b_on" "$b_off")" \
		"$c_on" "$c_off" "$(div "$c_on" "$c_off")"
done
