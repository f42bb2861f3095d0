-- Access review against ground truth: refusals and failures that the documented
-- review queries (docs/compliance-mapping.md) must find.  A refusal by row-level
-- security is a DENIED PermissionDenied of the table its message names; a
-- failing statement is a FAILURE on every tagged table it names.
CREATE SCHEMA rg;
CREATE ROLE rg_clerk;
GRANT USAGE ON SCHEMA rg TO rg_clerk;
CREATE TABLE rg.charts (id int PRIMARY KEY, patient text, org text);
SELECT bh_audit.tag_table('rg.charts', 'RgChart', 'id', 'patient');
INSERT INTO rg.charts VALUES (1, 'rp1', 'org1');
ALTER TABLE rg.charts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_org ON rg.charts USING (org = current_setting('bh_audit.actor_org_id', true))
  WITH CHECK (org = current_setting('bh_audit.actor_org_id', true));
GRANT SELECT, INSERT, UPDATE ON rg.charts TO rg_clerk;
CREATE TABLE rg.rooms (id int PRIMARY KEY, label text);
SELECT bh_audit.tag_table('rg.rooms', 'RgRoom', 'id');
CREATE TABLE rg.sud (id int PRIMARY KEY, patient text, dx text);
SELECT bh_audit.tag_table('rg.sud', 'RgSud', 'id', 'patient', part2 => true);
INSERT INTO rg.rooms VALUES (1, 'r1');
INSERT INTO rg.sud VALUES (1, 'sp1', 'not-a-number');

-- 1. Access control refusing a write through row-level security (42501):
--    the "All denied attempts" query should list it.
SET ROLE rg_clerk;
BEGIN;
SELECT bh_audit.set_context('rg_clerk_1', org_id => 'org1');
INSERT INTO rg.charts VALUES (2, 'rp2', 'org2');
ROLLBACK;
RESET ROLE;

-- 2. A failed statement over a Part 2 table named after an untagged-patient table:
--    its FAILURE should be found by the patient's second query and carry part2.
BEGIN;
SELECT bh_audit.set_context('rg_reader_2');
SELECT s.dx::int FROM rg.rooms r JOIN rg.sud s ON s.id = r.id;
ROLLBACK;
SELECT bh_audit.seal() >= 0 AS sealed;

-- denied attempts (compliance-mapping.md), restricted to this test's actor
SELECT actor_id, action, resource_type, error_type
  FROM bh_audit.events
 WHERE outcome = 'DENIED' AND ts >= now() - interval '7 days' AND actor_id = 'rg_clerk_1'
 ORDER BY ts;

-- patient sp1's second query: its statement's FAILURE must be among them
SELECT actor_id, action, resource_type, outcome, error_type
  FROM bh_audit.events
 WHERE patient_id IS NULL
   AND resource_type = ANY (ARRAY(SELECT resource_type FROM bh_audit.events
                                   WHERE patient_id = 'sp1'
                                  UNION
                                  SELECT event -> 'metadata' ->> 'tag_resource_type'
                                    FROM bh_audit.events
                                   WHERE resource_type = 'AuditConfiguration'
                                     AND patient_id IS NULL
                                     AND event -> 'metadata' ? 'patient_column'))
   AND ts >= now() - interval '90 days' AND actor_id = 'rg_reader_2'
 ORDER BY ts;

-- Part 2 events of the failed statement: its failure should carry part2
SELECT action, resource_type, outcome
  FROM bh_audit.events
 WHERE actor_id = 'rg_reader_2' AND outcome = 'FAILURE'
   AND (event -> 'metadata' ->> 'part2')::boolean;

-- 3. Every form of row-level security's refusal, on each path that records it:
--    the executor (a new row failing WITH CHECK, a policy named; ON CONFLICT
--    DO UPDATE's and MERGE's row failing USING), parse analysis (row_security
--    off: SELECT, COPY TO), EXECUTE (a prepared statement analysed again).
--    A refusal of another table (another name, or the same name in another
--    schema) and a view's CHECK OPTION stay failures.  Messages keep no names.
CREATE POLICY see_all ON rg.charts FOR SELECT USING (true);
CREATE POLICY no_closed ON rg.charts AS RESTRICTIVE FOR UPDATE USING (true)
  WITH CHECK (patient <> 'closed');
INSERT INTO rg.charts VALUES (3, 'rp3', 'org2');
CREATE TABLE rg.plain (id int, patient text);
ALTER TABLE rg.plain ENABLE ROW LEVEL SECURITY;
CREATE POLICY nothing ON rg.plain WITH CHECK (false);
CREATE SCHEMA rg2;
CREATE TABLE rg2.charts (id int, patient text);
ALTER TABLE rg2.charts ENABLE ROW LEVEL SECURITY;
CREATE POLICY nothing ON rg2.charts WITH CHECK (false);
GRANT USAGE ON SCHEMA rg2 TO rg_clerk;
GRANT SELECT, INSERT ON rg.plain, rg2.charts TO rg_clerk;
CREATE VIEW rg.org1_charts AS SELECT * FROM rg.charts WHERE org = 'org1' WITH CHECK OPTION;
GRANT SELECT, INSERT ON rg.org1_charts TO rg_clerk;
SET ROLE rg_clerk;
BEGIN;
SELECT bh_audit.set_context('rg_clerk_3', org_id => 'org1');
SAVEPOINT s;
UPDATE rg.charts SET patient = 'closed' WHERE id = 1;
ROLLBACK TO s;
INSERT INTO rg.charts VALUES (3, 'rp3', 'org1') ON CONFLICT (id) DO UPDATE SET patient = 'x';
ROLLBACK TO s;
MERGE INTO rg.charts t USING (VALUES (3)) v(id) ON t.id = v.id
  WHEN MATCHED THEN UPDATE SET patient = 'x';
ROLLBACK TO s;
PREPARE rq AS SELECT patient FROM rg.charts WHERE id = 1;
EXECUTE rq;
SET LOCAL row_security = off;
SELECT patient FROM rg.charts WHERE id = 1;
ROLLBACK TO s;
SET LOCAL row_security = off;
COPY rg.charts TO STDOUT;
ROLLBACK TO s;
SET LOCAL row_security = off;
EXECUTE rq;
ROLLBACK TO s;
INSERT INTO rg.plain SELECT id, patient FROM rg.charts WHERE id = 1;
ROLLBACK TO s;
INSERT INTO rg2.charts SELECT id, patient FROM rg.charts WHERE id = 1;
ROLLBACK TO s;
INSERT INTO rg.org1_charts VALUES (4, 'rp4', 'org2');
ROLLBACK;
DEALLOCATE rq;
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, patient_id, outcome, error_type,
       event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events
 WHERE actor_id = 'rg_clerk_3'
 ORDER BY seq;

-- 4. A failing statement's FAILURE on each tagged table it names, each with its
--    own tag and action (the command on its target, READ or EXPORT on a table it
--    reads), in the order it accesses them; a partition counts for its table.
--    Executing (a write and a read), planning (1/0 folded; a data-modifying WITH
--    query's target), COPY ... TO, parse analysis (an unknown column).
CREATE TABLE rg.parts (id int, patient text, dx text) PARTITION BY RANGE (id);
CREATE TABLE rg.parts_1 PARTITION OF rg.parts FOR VALUES FROM (0) TO (10);
CREATE TABLE rg.parts_2 PARTITION OF rg.parts FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('rg.parts', 'RgPart', 'id', 'patient');
INSERT INTO rg.parts VALUES (1, 'pp1', 'x'), (11, 'pp11', 'y');
BEGIN;
SELECT bh_audit.set_context('rg_reader_4');
SAVEPOINT s;
INSERT INTO rg.sud SELECT r.id + 10, 'sp2', r.label::int::text FROM rg.rooms r;
ROLLBACK TO s;
UPDATE rg.sud SET dx = 'z' FROM rg.rooms r WHERE r.id = rg.sud.id AND r.id = 1/0;
ROLLBACK TO s;
COPY (SELECT s.dx::int FROM rg.sud s JOIN rg.rooms r USING (id)) TO STDOUT;
ROLLBACK TO s;
COPY (SELECT * FROM rg.rooms r JOIN rg.sud s USING (id) WHERE r.id = 1/0) TO STDOUT;
ROLLBACK TO s;
WITH w AS (UPDATE rg.sud SET dx = 'q' RETURNING id)
SELECT * FROM w JOIN rg.rooms r USING (id) WHERE r.id = 1/0;
ROLLBACK TO s;
SELECT p.dx::int FROM rg.parts p JOIN rg.parts_1 p1 USING (id) JOIN rg.rooms r USING (id);
ROLLBACK TO s;
SELECT r.nosuch FROM rg.rooms r JOIN rg.sud s USING (id);
ROLLBACK;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, patient_id, outcome, error_type,
       (event -> 'metadata' ->> 'part2')::boolean AS part2
  FROM bh_audit.events
 WHERE actor_id = 'rg_reader_4'
 ORDER BY seq;
