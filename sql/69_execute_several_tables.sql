-- An EXECUTE of a prepared statement over several tagged tables (a join, a
-- subquery, a WITH query, an INSERT ... SELECT) whose parameter does not
-- convert fails before its plan: recorded on the first tagged table only.
-- The same statement failing unprepared, or failing as its custom plan is
-- made (1/$1 folded), records a FAILURE on each tagged table it names.
-- Expected: one FAILURE per tagged table for every statement, the
-- INSERT's target CREATE, the table it reads READ, as its executor's
-- failure (ins_exec); also under another search_path than the PREPARE's
-- (the names as they resolve now: ey.a, ey.b), and on the partitions
-- tagged on their own under an untagged partitioned table it names.
CREATE SCHEMA ex;
CREATE SCHEMA ey;
CREATE TABLE ex.a (id int PRIMARY KEY, patient text);
CREATE TABLE ex.b (id int PRIMARY KEY, patient text);
CREATE TABLE ey.a (id int PRIMARY KEY, patient text);
CREATE TABLE ey.b (id int PRIMARY KEY, patient text);
INSERT INTO ex.a VALUES (1, 'pa');
INSERT INTO ex.b VALUES (1, 'pb');
SELECT bh_audit.tag_table('ex.a', 'ExA', 'id', 'patient');
SELECT bh_audit.tag_table('ex.b', 'ExB', 'id', 'patient');
SELECT bh_audit.tag_table('ey.a', 'EyA', 'id', 'patient');
SELECT bh_audit.tag_table('ey.b', 'EyB', 'id', 'patient');
CREATE TABLE ex.parent (id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE ex.p1 PARTITION OF ex.parent FOR VALUES FROM (0) TO (10);
CREATE TABLE ex.p2 PARTITION OF ex.parent FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('ex.p1', 'ExP1', 'id', 'patient');
PREPARE ex_join(int) AS SELECT a.patient FROM ex.a JOIN ex.b USING (id) WHERE a.id = $1;
PREPARE ex_sub(int) AS SELECT patient FROM ex.a WHERE id IN (SELECT id FROM ex.b WHERE id = $1);
PREPARE ex_cte(int) AS WITH w AS (SELECT id FROM ex.b) SELECT patient FROM ex.a WHERE id IN (SELECT id FROM w) AND id = $1;
PREPARE ex_ins(int) AS INSERT INTO ex.a SELECT id + 10, patient FROM ex.b WHERE id = $1;
PREPARE ex_plan(int) AS SELECT a.patient FROM ex.a JOIN ex.b USING (id) WHERE a.id = 1 / $1;
PREPARE ex_parent(int) AS INSERT INTO ex.parent VALUES ($1, 'p');
SET search_path = ex;
PREPARE ex_moved(int) AS SELECT a.patient FROM a JOIN b USING (id) WHERE a.id = $1;
RESET search_path;
BEGIN;
SELECT bh_audit.set_context('ex_join');
EXECUTE ex_join('x');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('ex_sub');
EXECUTE ex_sub('x');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('ex_cte');
EXECUTE ex_cte('x');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('ex_ins');
EXECUTE ex_ins('x');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('ex_ins_exec');
INSERT INTO ex.a SELECT id + 10, patient FROM ex.b WHERE id = 1 / (id - 1);
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('ex_join_parse');
SELECT a.patient FROM ex.a JOIN ex.b USING (id) WHERE a.id = 'x';
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('ex_plan');
EXECUTE ex_plan(0);
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('ex_parent');
EXECUTE ex_parent('x');
ROLLBACK;
BEGIN;
SET LOCAL search_path = ey;
SELECT bh_audit.set_context('ex_moved');
EXECUTE ex_moved('x');
ROLLBACK;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, error_type, event -> 'metadata' ->> 'table' AS tbl,
       event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events
 WHERE actor_id LIKE 'ex\_%' AND outcome <> 'SUCCESS'
 ORDER BY seq;
DEALLOCATE ALL;
