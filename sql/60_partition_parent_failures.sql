-- A statement through an UNTAGGED partitioned table that fails before it
-- executes (parse analysis, the planner) is a FAILURE on each partition
-- tagged on its own under the table it names, at any depth, with the
-- statement's action (docs/read-capture.md, Failed access), as when it fails
-- while executing; a failure while executing is the executor's, which knows
-- the partitions its plan reaches (none tagged: no event), but for an INSERT,
-- which routes its rows at run time (each partition tagged on its own).
CREATE SCHEMA pf;
CREATE TABLE pf.other (id int PRIMARY KEY, patient text);
CREATE TABLE pf.parent (id int, patient text, v text) PARTITION BY RANGE (id);
CREATE TABLE pf.p1 PARTITION OF pf.parent FOR VALUES FROM (0) TO (10);
CREATE TABLE pf.p2 PARTITION OF pf.parent FOR VALUES FROM (10) TO (20) PARTITION BY RANGE (id);
CREATE TABLE pf.p2a PARTITION OF pf.p2 FOR VALUES FROM (10) TO (15);
CREATE TABLE pf.p2b PARTITION OF pf.p2 FOR VALUES FROM (15) TO (20);
CREATE TABLE pf.p3 PARTITION OF pf.parent FOR VALUES FROM (20) TO (30);
SELECT bh_audit.tag_table('pf.other', 'PfOther', 'id', 'patient');
SELECT bh_audit.tag_table('pf.p1', 'PfOne', 'id', 'patient');
SELECT bh_audit.tag_table('pf.p2a', 'PfTwoA', 'id', 'patient', part2 => true);
INSERT INTO pf.other VALUES (1, 'o1');
INSERT INTO pf.parent VALUES (1, 'a', '1'), (11, 'b', '2'), (16, 'c', '3'), (25, 'd', '4');
BEGIN;
SELECT bh_audit.set_context('pf_1');
SAVEPOINT s;
-- 1. planner (a constant folded to an error): UPDATE on pf.p1 and pf.p2a
UPDATE pf.parent SET v = 'x' WHERE id = 1/0;
ROLLBACK TO s;
-- 2. parse analysis: the same
UPDATE pf.parent SET v = 'x' WHERE id = 'abc';
ROLLBACK TO s;
-- 3. 4. a read: READ
SELECT * FROM pf.parent WHERE id = 1/0;
ROLLBACK TO s;
SELECT * FROM pf.parent WHERE id = 'abc';
ROLLBACK TO s;
-- 5. 6. an INSERT failing before any row is routed: CREATE
INSERT INTO pf.parent VALUES (1/0, 'e', 'x');
ROLLBACK TO s;
INSERT INTO pf.parent VALUES ('abc', 'e', 'x');
ROLLBACK TO s;
-- 5b. 6b. an INSERT failing while executing, before any row is routed, and
-- after one was routed to pf.p2a: CREATE on each
INSERT INTO pf.parent SELECT 1/(x - 1), 'e', 'x' FROM generate_series(1, 1) x;
ROLLBACK TO s;
INSERT INTO pf.parent SELECT 11 + 1/(x - 2), 'e', 'x' FROM generate_series(1, 2) x;
ROLLBACK TO s;
-- 7. through the untagged sub-partitioned pf.p2: its pf.p2a only
DELETE FROM pf.p2 WHERE id = 1/0;
ROLLBACK TO s;
-- 8. a tagged table named first, then the partitions under the parent
SELECT * FROM pf.other o JOIN pf.parent p USING (id) WHERE p.id = 1/0;
ROLLBACK TO s;
-- 9. a function's statement failing in parse analysis
DO $$ BEGIN UPDATE pf.parent SET v = 'x' WHERE id = 'abc'; END $$;
ROLLBACK TO s;
-- 10. failing while executing on the untagged pf.p3 alone (the plan reaches
-- no tagged partition): no event
SELECT * FROM pf.parent WHERE id = 25 AND 1/(id - 25) = 0;
ROLLBACK TO s;
-- 11. EXPLAIN only plans: no data access
EXPLAIN (COSTS OFF) SELECT * FROM pf.parent WHERE id = 1/0;
ROLLBACK TO s;
-- 12. the parent's name in the text, the parent not locked (a column's
-- alias): pf.other alone
SET LOCAL search_path = pf, public;
SELECT o.id AS parent FROM other o WHERE o.id = 'abc';
ROLLBACK;
-- 12b. an error at the commit after a statement through the parent (a
-- deferred unique constraint): the writes it undoes, pf.p1's
ALTER TABLE pf.parent ADD CONSTRAINT parent_id UNIQUE (id) DEFERRABLE INITIALLY DEFERRED;
CREATE FUNCTION pf.ctx() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM bh_audit.set_context('pf_1'); RETURN NEW; END $$;
CREATE TRIGGER ctx BEFORE INSERT ON pf.p1 FOR EACH ROW EXECUTE FUNCTION pf.ctx();
INSERT INTO pf.parent VALUES (2, 'f', 'x'), (2, 'f', 'x');
DROP TRIGGER ctx ON pf.p1;
ALTER TABLE pf.parent DROP CONSTRAINT parent_id;
-- 13. a tagged table attached under the parent, another detached: the
-- cache follows
CREATE TABLE pf.p4 (id int, patient text, v text);
SELECT bh_audit.tag_table('pf.p4', 'PfFour', 'id', 'patient');
ALTER TABLE pf.parent ATTACH PARTITION pf.p4 FOR VALUES FROM (30) TO (40);
ALTER TABLE pf.parent DETACH PARTITION pf.p1;
BEGIN;
SELECT bh_audit.set_context('pf_1');
UPDATE pf.parent SET v = 'x' WHERE id = 'abc';
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('pf_1');
DELETE FROM pf.parent WHERE id = 1/0;
ROLLBACK;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, outcome, error_type,
       event -> 'metadata' ->> 'table' AS tbl,
       (event -> 'metadata' ->> 'part2')::boolean AS part2
  FROM bh_audit.events
 WHERE actor_id = 'pf_1' AND outcome <> 'SUCCESS'
 ORDER BY seq;
