-- Row-level security refusals of ANOTHER table of the same name (another schema)
-- must stay the statement's FAILURE (docs/read-capture.md, Denied access), also
-- when the tagged table of that name is written by the statement or the refusal
-- is raised before execution (a refusal of the tagged table itself stays its
-- denial once it has row-level security); and the failure of an UPDATE/DELETE through an
-- untagged partitioned table carries the command's action on its partitions
-- tagged on their own (Failed access: "the statement's own for the table it changes").
CREATE SCHEMA sn;
CREATE SCHEMA sn_hist;
CREATE ROLE sn_clerk;
GRANT USAGE ON SCHEMA sn, sn_hist TO sn_clerk;
CREATE TABLE sn.charts (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('sn.charts', 'SnChart', 'id', 'patient');
INSERT INTO sn.charts VALUES (1, 'sp1');
CREATE TABLE sn_hist.charts (id int, patient text);
ALTER TABLE sn_hist.charts ENABLE ROW LEVEL SECURITY;
CREATE POLICY ins ON sn_hist.charts FOR INSERT WITH CHECK (patient <> 'blocked');
CREATE POLICY sel ON sn_hist.charts FOR SELECT USING (true);
GRANT SELECT, INSERT ON sn.charts, sn_hist.charts TO sn_clerk;
CREATE FUNCTION sn.hist_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO sn_hist.charts VALUES (NEW.id, NEW.patient); RETURN NEW; END $$;
CREATE TRIGGER h AFTER INSERT ON sn.charts FOR EACH ROW EXECUTE FUNCTION sn.hist_copy();
CREATE TABLE sn.pp (id int, patient text, v text) PARTITION BY RANGE (id);
CREATE TABLE sn.pp1 PARTITION OF sn.pp FOR VALUES FROM (0) TO (10);
CREATE TABLE sn.pp2 PARTITION OF sn.pp FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('sn.pp1', 'SnPP1', 'id', 'patient');
SELECT bh_audit.tag_table('sn.pp2', 'SnPP2', 'id', 'patient', part2 => true);
INSERT INTO sn.pp VALUES (1, 'a', '1'), (11, 'b', 'x');
GRANT ALL ON sn.pp TO sn_clerk;
SET ROLE sn_clerk;
BEGIN;
SELECT bh_audit.set_context('sn_clerk_1');
SAVEPOINT s;
-- 1. a trigger copying the new row into sn_hist.charts, refused there
INSERT INTO sn.charts VALUES (2, 'blocked');
ROLLBACK TO s;
-- 2. a data-modifying WITH writing sn.charts, the main query sn_hist.charts (refused)
WITH a AS (INSERT INTO sn.charts VALUES (3, 'blocked') RETURNING id, patient)
INSERT INTO sn_hist.charts SELECT id, patient FROM a;
ROLLBACK TO s;
-- 3. row_security = off: only sn_hist.charts has a policy
SET LOCAL row_security = off;
SELECT c.id FROM sn.charts c JOIN sn_hist.charts h USING (id);
ROLLBACK TO s;
-- 4. UPDATE / DELETE through the untagged parent failing: UPDATE / DELETE failures
UPDATE sn.pp SET v = (v::int + 1)::text;
ROLLBACK TO s;
DELETE FROM sn.pp WHERE v::int > 0;
ROLLBACK;
RESET ROLE;
-- 5. the tagged table's own policies, enabled after it was tagged (the tag
-- cache learns it): its refusal is its denial, also before execution
ALTER TABLE sn.charts ENABLE ROW LEVEL SECURITY;
CREATE POLICY ins ON sn.charts FOR INSERT WITH CHECK (patient <> 'mine');
CREATE POLICY sel ON sn.charts FOR SELECT USING (true);
SET ROLE sn_clerk;
BEGIN;
SELECT bh_audit.set_context('sn_clerk_1');
SAVEPOINT s;
INSERT INTO sn.charts VALUES (5, 'mine');
ROLLBACK TO s;
SET LOCAL row_security = off;
SELECT id FROM sn.charts;
ROLLBACK;
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, patient_id, outcome, error_type
  FROM bh_audit.events
 WHERE actor_id = 'sn_clerk_1' AND outcome <> 'SUCCESS'
 ORDER BY seq;
