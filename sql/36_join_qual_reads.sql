-- Reads through a condition above the scan of the table a statement
-- changes.  A user's function (not leakproof) in a join filter of
-- UPDATE ... FROM or DELETE ... USING, in a MERGE's ON condition left in the
-- join, or in a MERGE's WHEN condition, is given the target's rows, also
-- those it then rejects: every row the target's scan produced is read, the
-- rows changed are writes too; so is one in the new values (SET, a MERGE's
-- UPDATE SET) computed above the scan.  Built-in functions and operators
-- there, and a user's function in RETURNING, leave the statement's events
-- as they were: the writes, the rows returned, and the rows a MERGE
-- matched and left as they are (sql/99_miss_merge_matched_untouched.sql).
-- A condition beside the target's scan counts when given the target's
-- values: a nested loop's parameters from it (its inner side's filters
-- and index conditions); not an InitPlan's or another table's.
CREATE SCHEMA jq;
CREATE TABLE jq.notes (id int PRIMARY KEY, pid text NOT NULL, body text, score int);
INSERT INTO jq.notes SELECT g, 'p' || g, 'b' || g, g FROM generate_series(1, 6) g;
CREATE TABLE jq.src (id int, flag bool);
CREATE INDEX src_id ON jq.src (id);
INSERT INTO jq.src VALUES (1, false), (2, true), (3, false), (4, false), (9, true);
VACUUM ANALYZE jq.notes, jq.src;
SELECT bh_audit.tag_table('jq.notes', 'JoinNote', 'id', 'pid');

SELECT regress_reads.mark_now();
SELECT count(*) FROM regress_reads.reads();

CREATE ROLE bh_jq_user;
GRANT USAGE ON SCHEMA jq TO bh_jq_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON jq.notes TO bh_jq_user;
GRANT SELECT ON jq.src TO bh_jq_user;
SET ROLE bh_jq_user;
-- Each returns true for note 2's row only, and tells what it was given.
CREATE FUNCTION pg_temp.steal(text) RETURNS bool LANGUAGE plpgsql
AS $$BEGIN RAISE NOTICE 'steal %', $1; RETURN $1 = 'b2'; END$$;
CREATE FUNCTION pg_temp.steal2(text, bool) RETURNS bool LANGUAGE plpgsql
AS $$BEGIN RAISE NOTICE 'steal2 % %', $1, $2; RETURN $1 = 'b2' AND $2; END$$;
CREATE FUNCTION pg_temp.same(text) RETURNS text LANGUAGE plpgsql
AS $$BEGIN RAISE NOTICE 'same %', $1; RETURN $1; END$$;
-- Returns what it is given, and tells it (stable: usable in an index
-- condition).
CREATE FUNCTION pg_temp.leak(int) RETURNS int LANGUAGE plpgsql STABLE
AS $$BEGIN RAISE NOTICE 'leak %', $1; RETURN $1; END$$;
-- The target scanned in full (its own condition id <= 5: notes 1 to 5),
-- joined to the source by a hash join.
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET enable_mergejoin = off;
SET enable_nestloop = off;

-- A MERGE's WHEN condition.
EXPLAIN (COSTS OFF)
MERGE INTO jq.notes t USING (SELECT id FROM jq.src WHERE id < 200) s ON t.id = s.id AND t.id <= 5
  WHEN MATCHED AND pg_temp.steal(t.body) THEN UPDATE SET score = t.score;
MERGE INTO jq.notes t USING (SELECT id FROM jq.src WHERE id < 200) s ON t.id = s.id AND t.id <= 5
  WHEN MATCHED AND pg_temp.steal(t.body) THEN UPDATE SET score = t.score;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- UPDATE ... FROM, the function in the join filter.
EXPLAIN (COSTS OFF)
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE t.id = s.id AND t.id <= 5 AND pg_temp.steal2(t.body, s.flag);
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE t.id = s.id AND t.id <= 5 AND pg_temp.steal2(t.body, s.flag);
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- DELETE ... USING; rolled back: the writes go, the reads stay.
BEGIN;
EXPLAIN (COSTS OFF)
DELETE FROM jq.notes t USING jq.src s
 WHERE t.id = s.id AND t.id <= 5 AND pg_temp.steal2(t.body, s.flag);
DELETE FROM jq.notes t USING jq.src s
 WHERE t.id = s.id AND t.id <= 5 AND pg_temp.steal2(t.body, s.flag);
ROLLBACK;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- The target's own filter calling one too: every row its scan gave the
-- function (not note 6's, which t.id <= 5 rejected first); it passes none.
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE t.id = s.id AND t.id <= 5 AND pg_temp.steal(t.pid) AND pg_temp.steal2(t.body, s.flag);
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- The function given the source's values only, in the source's own
-- filter, beside a parameter that is an InitPlan's output: no row of the
-- target read, the writes alone.
EXPLAIN (COSTS OFF)
DELETE FROM jq.notes t USING jq.src s
 WHERE t.id = s.id AND t.id <= 3 AND pg_temp.leak(s.id) > 0 AND s.id > (SELECT 0);
BEGIN;
DELETE FROM jq.notes t USING jq.src s
 WHERE t.id = s.id AND t.id <= 3 AND pg_temp.leak(s.id) > 0 AND s.id > (SELECT 0);
ROLLBACK;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- A MERGE's ON condition calling the function, left in the join.
EXPLAIN (COSTS OFF)
MERGE INTO jq.notes t USING jq.src s ON t.id = s.id AND t.id <= 5 AND pg_temp.steal2(t.body, s.flag)
  WHEN MATCHED THEN UPDATE SET score = t.score;
MERGE INTO jq.notes t USING jq.src s ON t.id = s.id AND t.id <= 5 AND pg_temp.steal2(t.body, s.flag)
  WHEN MATCHED THEN UPDATE SET score = t.score;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- The same, with NOT MATCHED actions too (an outer join): no insert here
-- (every source row the condition rejects is left alone).
MERGE INTO jq.notes t USING jq.src s ON t.id = s.id AND t.id <= 5 AND pg_temp.steal2(t.body, s.flag)
  WHEN MATCHED THEN UPDATE SET score = t.score
  WHEN NOT MATCHED AND false THEN INSERT VALUES (s.id + 100, 'x', 'x', 0);
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- A nested loop: the target outer, the join condition passed to the
-- source's index scan as a parameter, the function in that scan's filter.
RESET enable_nestloop;
RESET enable_indexscan;
SET enable_seqscan = off;
SET enable_hashjoin = off;
SET enable_material = off;
EXPLAIN (COSTS OFF)
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE s.id = t.id + 0 AND t.id <= 5 AND pg_temp.steal2(t.body, s.flag);
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE s.id = t.id + 0 AND t.id <= 5 AND pg_temp.steal2(t.body, s.flag);
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- The function given the source's values only, in the source's own
-- filter: no row of the target.
EXPLAIN (COSTS OFF)
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE s.id = t.id + 0 AND t.id <= 5 AND s.flag AND pg_temp.steal(s.id::text);
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE s.id = t.id + 0 AND t.id <= 5 AND s.flag AND pg_temp.steal(s.id::text);
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- Beside it in the source's filter, a condition given the target's value
-- (not calling the function): the function is given the source's values
-- only, no row of the target.
EXPLAIN (COSTS OFF)
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE s.id = t.id + 0 AND t.id <= 5 AND s.id + t.score > 0 AND pg_temp.steal(s.id::text);
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE s.id = t.id + 0 AND t.id <= 5 AND s.id + t.score > 0 AND pg_temp.steal(s.id::text);
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- The function in the source's index condition, given the target's
-- values (the index scan's keys are computed from each outer row): notes
-- 1 to 3 read, none changed.
EXPLAIN (COSTS OFF)
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE s.id = pg_temp.leak(t.score) + 1000 AND t.id <= 3;
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE s.id = pg_temp.leak(t.score) + 1000 AND t.id <= 3;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- The same through an index-only scan of the source (a UNION ALL: no
-- row identity of the source is needed) ...
EXPLAIN (COSTS OFF)
UPDATE jq.notes t SET score = t.score FROM (SELECT id FROM jq.src UNION ALL SELECT id FROM jq.src) s
 WHERE s.id = pg_temp.leak(t.score) + 1000 AND t.id <= 3;
UPDATE jq.notes t SET score = t.score FROM (SELECT id FROM jq.src UNION ALL SELECT id FROM jq.src) s
 WHERE s.id = pg_temp.leak(t.score) + 1000 AND t.id <= 3;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- The target's own filter: a correlated subquery whose index-only scan's
-- condition gives the function the target's values.  The rows the filter
-- rejected are read (here all: none changed).
EXPLAIN (COSTS OFF)
UPDATE jq.notes t SET score = t.score
 WHERE t.id <= 3 AND t.id IN (SELECT s.id - 1000 FROM jq.src s WHERE s.id = pg_temp.leak(t.score) + 1000);
UPDATE jq.notes t SET score = t.score
 WHERE t.id <= 3 AND t.id IN (SELECT s.id - 1000 FROM jq.src s WHERE s.id = pg_temp.leak(t.score) + 1000);
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- ... and through a bitmap scan (the bitmap index scan's condition).
SET enable_indexscan = off;
RESET enable_bitmapscan;
EXPLAIN (COSTS OFF)
DELETE FROM jq.notes t USING jq.src s
 WHERE s.id = pg_temp.leak(t.score) + 1000 AND t.id <= 3;
DELETE FROM jq.notes t USING jq.src s
 WHERE s.id = pg_temp.leak(t.score) + 1000 AND t.id <= 3;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
RESET enable_indexscan;
SET enable_bitmapscan = off;
-- A nested loop of two sources, the target joined to it after: the
-- parameter in the function's condition is the outer source's value, not
-- the target's.  The writes alone.
SET join_collapse_limit = 1;
SET from_collapse_limit = 1;
EXPLAIN (COSTS OFF)
UPDATE jq.notes t SET score = t.score
  FROM jq.src s JOIN jq.src s2 ON s2.id = s.id + 0 AND pg_temp.leak(s2.id + s.id) > 0
 WHERE t.id = s.id + 0 AND t.id <= 3;
UPDATE jq.notes t SET score = t.score
  FROM jq.src s JOIN jq.src s2 ON s2.id = s.id + 0 AND pg_temp.leak(s2.id + s.id) > 0
 WHERE t.id = s.id + 0 AND t.id <= 3;
RESET join_collapse_limit;
RESET from_collapse_limit;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
RESET enable_seqscan;
RESET enable_hashjoin;
RESET enable_material;
SET enable_nestloop = off;
SET enable_indexscan = off;

-- Built-in functions and operators only: the writes alone, and the rows
-- the first MERGE matched and left as they are (p1, p3, p4).
MERGE INTO jq.notes t USING (SELECT id FROM jq.src WHERE id < 200) s ON t.id = s.id AND t.id <= 5
  WHEN MATCHED AND t.body LIKE '%2' THEN UPDATE SET score = t.score;
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE t.id = s.id AND t.id <= 5 AND (t.body = 'b2') = s.flag AND s.flag;
MERGE INTO jq.notes t USING jq.src s ON t.id = s.id AND t.id <= 5 AND upper(t.body) = 'B2'
  WHEN MATCHED THEN UPDATE SET score = t.score;
BEGIN;
DELETE FROM jq.notes t USING jq.src s WHERE t.id = s.id AND t.id <= 5 AND lower(t.body) = 'b2';
ROLLBACK;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_jq_user;
-- A user's function in the new values, computed by the join above the
-- target's scan or by a MERGE's UPDATE: every row the target's scan
-- produced is read (which rows reached the function is not told apart:
-- here b2 only), besides the writes.  In RETURNING: the rows returned.
UPDATE jq.notes t SET body = pg_temp.same(t.body) FROM jq.src s
 WHERE t.id = s.id AND t.id <= 5 AND s.flag;
MERGE INTO jq.notes t USING (SELECT id FROM jq.src WHERE id < 200) s ON t.id = s.id AND t.id <= 5
  WHEN MATCHED AND t.body LIKE '%2' THEN UPDATE SET body = pg_temp.same(t.body);
UPDATE jq.notes t SET score = t.score FROM jq.src s
 WHERE t.id = s.id AND t.id <= 3 RETURNING pg_temp.same(t.body);
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
-- A partitioned target: the join above its partitions' scans.
RESET ROLE;
CREATE TABLE jq.parts (id int, pid text NOT NULL, body text) PARTITION BY RANGE (id);
CREATE TABLE jq.parts_a PARTITION OF jq.parts FOR VALUES FROM (1) TO (3);
CREATE TABLE jq.parts_b PARTITION OF jq.parts FOR VALUES FROM (3) TO (10);
INSERT INTO jq.parts SELECT g, 'q' || g, 'b' || g FROM generate_series(1, 6) g;
ANALYZE jq.parts;
SELECT bh_audit.tag_table('jq.parts', 'JoinPart', 'id', 'pid', capture_writes => false);
SELECT regress_reads.mark_now();
GRANT SELECT, UPDATE ON jq.parts TO bh_jq_user;
SET ROLE bh_jq_user;
EXPLAIN (COSTS OFF)
MERGE INTO jq.parts t USING jq.src s ON t.id = s.id
  WHEN MATCHED AND pg_temp.steal(t.body) THEN UPDATE SET body = t.body;
MERGE INTO jq.parts t USING jq.src s ON t.id = s.id
  WHEN MATCHED AND pg_temp.steal(t.body) THEN UPDATE SET body = t.body;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SELECT bh_audit.untag_table('jq.parts');
-- Partitions of different owners: the owner's own function is exempt
-- for the rows of the partitions that owner owns only (as in a scan's own
-- filter): those of the other partition are read.  (It passes every row:
-- a row the MERGE left as it is would be read as such.)
CREATE ROLE bh_jq_owner;
GRANT USAGE, CREATE ON SCHEMA jq TO bh_jq_owner;
ALTER TABLE jq.parts_a OWNER TO bh_jq_owner;
SET ROLE bh_jq_owner;
CREATE FUNCTION jq.owner_peek(text) RETURNS bool LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$BEGIN RAISE NOTICE 'owner_peek %', $1; RETURN true; END$$;
RESET ROLE;
SELECT bh_audit.tag_table('jq.parts', 'JoinPart', 'id', 'pid', capture_writes => false);
SELECT regress_reads.mark_now();
SET ROLE bh_jq_user;
MERGE INTO jq.parts t USING jq.src s ON t.id = s.id
  WHEN MATCHED AND jq.owner_peek(t.body) THEN UPDATE SET body = t.body;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SELECT bh_audit.untag_table('jq.parts');
RESET enable_indexscan;
RESET enable_bitmapscan;
RESET enable_mergejoin;
RESET enable_nestloop;

-- A MERGE whose actions are all DO NOTHING failing on a value: its
-- target is the table it would change, as for any MERGE.
SET ROLE bh_jq_user;
MERGE INTO jq.notes t USING jq.src s ON t.id = s.id
  WHEN MATCHED AND t.body::int > 0 THEN DO NOTHING;
RESET ROLE;
SELECT action, patient_id, outcome, error_type FROM regress_reads.reads();

SELECT bh_audit.untag_table('jq.notes');
DROP SCHEMA jq CASCADE;
DROP FUNCTION pg_temp.steal(text), pg_temp.steal2(text, bool), pg_temp.same(text), pg_temp.leak(int);
DROP ROLE bh_jq_user;
DROP ROLE bh_jq_owner;
SELECT count(*) FROM regress_reads.reads();
