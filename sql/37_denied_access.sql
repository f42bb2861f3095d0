-- Denied access, told by the relation PostgreSQL refuses, not by its name:
-- a refusal of an untagged table of a tagged one's name is the statement's
-- failure (or nothing, on no tagged table).  Refusals raised by LOCK TABLE
-- (pg_dump's), a foreign key's REFERENCES, CREATE TRIGGER, GRANT and REVOKE
-- are denials of the tagged table (or of the ledger).  A read-only
-- transaction refuses a write before any privilege is checked: a failure,
-- no denial.  A refused MERGE is an UPDATE, as a failing one.
CREATE SCHEMA da;
CREATE SCHEMA da_other;
CREATE TABLE da.notes (id int PRIMARY KEY, patient_id int, body text);
CREATE TABLE da.pats (id int PRIMARY KEY, patient_id int, name text);
CREATE TABLE da.parts (id int, patient_id int) PARTITION BY RANGE (id);
CREATE TABLE da.parts_1 PARTITION OF da.parts FOR VALUES FROM (0) TO (10);
CREATE TABLE da_other.notes (id int PRIMARY KEY, patient_id int, body text);
INSERT INTO da.notes VALUES (1, 1, 'a');
INSERT INTO da.pats VALUES (1, 1, 'p');
INSERT INTO da_other.notes VALUES (1, 1, 'o');
SELECT bh_audit.tag_table('da.notes', 'DaNote', 'id', 'patient_id', capture_writes => false);
SELECT bh_audit.tag_table('da.pats', 'DaPat', 'id', 'patient_id', capture_writes => false);
SELECT bh_audit.tag_table('da.parts', 'DaPart', 'id', 'patient_id', capture_writes => false);
CREATE ROLE bh_da_user;
CREATE ROLE bh_da_owner;
GRANT USAGE ON SCHEMA da, da_other TO bh_da_user, bh_da_owner;
GRANT CREATE ON SCHEMA da_other TO bh_da_user, bh_da_owner;
CREATE FUNCTION pg_temp.da_events() RETURNS TABLE (action text, resource_type text, outcome text,
                                                   error_type text, tbl text, message text)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM regress_reads.mark;
    RETURN QUERY SELECT e.action, e.resource_type, e.outcome, e.error_type,
                        coalesce(e.event -> 'metadata' ->> 'table', e.resource_id),
                        e.event -> 'outcome' ->> 'error_message'
                   FROM bh_audit.events e
                  WHERE e.seq > m AND e.resource_type <> 'AuditConfiguration'
                  ORDER BY e.seq;
    UPDATE regress_reads.mark SET seq = (SELECT max(seq) FROM bh_audit.events);
END $$;
SELECT regress_reads.mark_now();

-- An untagged table of the same name refused: a failure of the statement
-- on the tagged table, not a denial of it; nothing where the statement
-- touches no tagged table (an earlier TRUNCATE holds the tagged one locked).
GRANT INSERT, SELECT, TRUNCATE ON da.notes TO bh_da_user;
SET ROLE bh_da_user;
INSERT INTO da.notes (id, patient_id, body) SELECT id + 10, patient_id, body FROM da_other.notes;
SELECT * FROM da.notes n JOIN da_other.notes o USING (id);
SET search_path = da_other;
SELECT * FROM da.notes n JOIN notes o USING (id);
RESET search_path;
BEGIN;
TRUNCATE da_other.notes, da.notes;
ROLLBACK;
BEGIN;
TRUNCATE da.notes;
SELECT * FROM da_other.notes;
ROLLBACK;
RESET ROLE;
SELECT * FROM pg_temp.da_events();
-- The tagged table refused still is a denial, whichever is refused first.
REVOKE SELECT ON da.notes FROM bh_da_user;
SET ROLE bh_da_user;
SELECT * FROM da_other.notes o JOIN da.notes n USING (id);
RESET ROLE;
SELECT * FROM pg_temp.da_events();
-- With the privileges: no denial, no failure.
GRANT SELECT ON da.notes TO bh_da_user;
GRANT SELECT, TRUNCATE ON da_other.notes TO bh_da_user;
SET ROLE bh_da_user;
BEGIN;
INSERT INTO da.notes (id, patient_id, body) SELECT id + 10, patient_id, body FROM da_other.notes;
SELECT count(*) FROM da.notes n JOIN da_other.notes o USING (id);
TRUNCATE da_other.notes, da.notes;
ROLLBACK;
RESET ROLE;
SELECT action, outcome FROM pg_temp.da_events() WHERE outcome <> 'SUCCESS';
REVOKE ALL ON da.notes, da_other.notes FROM bh_da_user;

-- LOCK TABLE (pg_dump's ACCESS SHARE: a read; other modes: a change), of
-- a tagged table, a partition of one, the ledger, a view whose owner may
-- not read the tagged table; not of an untagged table of the same name,
-- nor outside a transaction block (refused first), nor with the privilege.
CREATE VIEW da.notes_v AS SELECT id, patient_id FROM da.notes;
ALTER VIEW da.notes_v OWNER TO bh_da_owner;
GRANT SELECT ON da.notes_v TO bh_da_user;
SET ROLE bh_da_user;
BEGIN;
LOCK TABLE da.notes IN ACCESS SHARE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE da.pats IN EXCLUSIVE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE da.parts_1 IN ACCESS SHARE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE bh_audit.events IN ACCESS SHARE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE da.notes_v IN ACCESS SHARE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE da_other.notes IN ACCESS SHARE MODE;
ROLLBACK;
LOCK TABLE da.notes IN ACCESS SHARE MODE;
RESET ROLE;
SELECT * FROM pg_temp.da_events();
GRANT SELECT ON da.notes TO bh_da_user, bh_da_owner;
SET ROLE bh_da_user;
BEGIN;
LOCK TABLE da.notes, da.notes_v IN ACCESS SHARE MODE;
ROLLBACK;
RESET ROLE;
SELECT * FROM pg_temp.da_events();
REVOKE ALL ON da.notes FROM bh_da_user, bh_da_owner;

-- A foreign key reads the keys of the table it refers to: REFERENCES
-- refused is a READ denial (CREATE TABLE, ALTER TABLE); CREATE TRIGGER
-- without TRIGGER, GRANT and REVOKE without any privilege are UPDATE
-- denials.  With the privilege (any, for GRANT: a warning), none.
SET ROLE bh_da_user;
CREATE TABLE da_other.mine (x int REFERENCES da.notes (id));
CREATE TABLE da_other.mine (x int);
ALTER TABLE da_other.mine ADD FOREIGN KEY (x) REFERENCES da.notes;
CREATE TRIGGER da_trig BEFORE UPDATE ON da.notes
    FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
GRANT SELECT ON da.notes TO bh_da_user;
REVOKE SELECT ON da.pats FROM PUBLIC;
RESET ROLE;
SELECT * FROM pg_temp.da_events();
GRANT REFERENCES, SELECT ON da.notes TO bh_da_user;
SET ROLE bh_da_user;
ALTER TABLE da_other.mine ADD FOREIGN KEY (x) REFERENCES da.notes;
GRANT UPDATE ON da.notes TO bh_da_owner;
RESET ROLE;
SELECT * FROM pg_temp.da_events();
DROP TABLE da_other.mine;
REVOKE ALL ON da.notes FROM bh_da_user;

-- A read-only transaction refuses a write first: its failure, no denial.
SET ROLE bh_da_user;
BEGIN READ ONLY;
UPDATE da.pats SET name = 'x' WHERE false;
ROLLBACK;
BEGIN READ ONLY;
TRUNCATE da.pats;
ROLLBACK;
RESET ROLE;
SELECT * FROM pg_temp.da_events();

-- A refused MERGE is an UPDATE, whatever its actions ask for.
GRANT SELECT ON da.pats TO bh_da_user;
SET ROLE bh_da_user;
MERGE INTO da.pats t USING (VALUES (1)) v (k) ON t.id = v.k
  WHEN MATCHED THEN UPDATE SET name = 'x'
  WHEN NOT MATCHED THEN INSERT VALUES (v.k, 1, 'y');
RESET ROLE;
REVOKE SELECT ON da.pats FROM bh_da_user;
SET ROLE bh_da_user;
MERGE INTO da.pats t USING (VALUES (1)) v (k) ON t.id = v.k
  WHEN MATCHED THEN DO NOTHING;
RESET ROLE;
SELECT * FROM pg_temp.da_events();

-- A foreign key of an added column (its addition reloads the tag cache
-- before the key is checked, through the extension's own SQL, which is no
-- statement of the user's) refused: a READ denial, as one of ADD FOREIGN
-- KEY; the keys of added columns are checked first, whatever the order.
SET ROLE bh_da_user;
CREATE TABLE da_other.t2 (b int);
ALTER TABLE da_other.t2 ADD COLUMN a int REFERENCES da.notes;
ALTER TABLE da_other.t2 ADD COLUMN a int, ADD FOREIGN KEY (a) REFERENCES da.notes;
ALTER TABLE da_other.t2 ADD FOREIGN KEY (b) REFERENCES da.notes;
ALTER TABLE da_other.t2 ADD FOREIGN KEY (b) REFERENCES da_other.notes,
    ADD COLUMN a int REFERENCES da.notes;
RESET ROLE;
SELECT * FROM pg_temp.da_events();
SET ROLE bh_da_user;
ALTER TABLE da_other.t2 ADD FOREIGN KEY (b) REFERENCES da.notes,
    ADD COLUMN a int REFERENCES da_other.notes;
RESET ROLE;
SELECT * FROM pg_temp.da_events();

-- A refusal judged is the next error's at most: after an error caught, a
-- refusal of the untagged table of the same name is none of the tagged
-- one (currtid2() alone records nothing).
SET ROLE bh_da_user;
DO $$ DECLARE t tid; BEGIN
    BEGIN PERFORM 1 FROM da.notes; EXCEPTION WHEN insufficient_privilege THEN NULL; END;
    t := currtid2('da_other.notes', '(0,1)');
END $$;
DO $$ DECLARE t tid; BEGIN t := currtid2('da_other.notes', '(0,1)'); END $$;
RESET ROLE;
SELECT * FROM pg_temp.da_events();

-- CREATE TABLE checks a LIKE's source before any foreign key: the
-- untagged table refused there is no denial of the tagged one; with the
-- source readable, the foreign key's refusal is.
SET ROLE bh_da_user;
CREATE TABLE da_other.t1 (LIKE da_other.notes, pid int REFERENCES da.notes);
CREATE TABLE da_other.t1 (pid int REFERENCES da.notes, LIKE da_other.notes);
RESET ROLE;
SELECT * FROM pg_temp.da_events();
SET ROLE bh_da_user;
CREATE TABLE da_other.t1 (LIKE da.notes, pid int REFERENCES da_other.notes);
RESET ROLE;
GRANT SELECT ON da_other.notes TO bh_da_user;
SET ROLE bh_da_user;
CREATE TABLE da_other.t1 (LIKE da_other.notes, pid int REFERENCES da.notes);
RESET ROLE;
REVOKE SELECT ON da_other.notes FROM bh_da_user;
SELECT * FROM pg_temp.da_events();

-- A trigger on the ledger, without TRIGGER on it: PostgreSQL's refusal,
-- an UPDATE denial of the ledger.
GRANT USAGE ON SCHEMA bh_audit TO bh_da_user;
SET ROLE bh_da_user;
CREATE TRIGGER da_trig BEFORE INSERT ON bh_audit.events
    FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
RESET ROLE;
REVOKE USAGE ON SCHEMA bh_audit FROM bh_da_user;
SELECT * FROM pg_temp.da_events();
DROP TABLE da_other.t2;

SELECT bh_audit.untag_table('da.notes');
SELECT bh_audit.untag_table('da.pats');
SELECT bh_audit.untag_table('da.parts');
DROP SCHEMA da, da_other CASCADE;
DROP ROLE bh_da_user;
DROP ROLE bh_da_owner;
SELECT count(*) FROM regress_reads.reads();
