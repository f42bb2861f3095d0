-- Stored rows that a constraint's error shows, fetched by PostgreSQL itself
-- outside any scan: an exclusion constraint's conflicting row (another
-- patient's), a deferred unique or exclusion constraint checked again at
-- COMMIT, SET CONSTRAINTS or a statement's end, and the duplicates a unique
-- index build finds.  The DETAIL the client gets shows their values, so the
-- table is read: one READ event without a patient (whose row it was is not
-- known), metadata.shown_in_error naming the condition, recorded however
-- the transaction ends.  An immediate unique violation shows the key of the
-- row being written: its events stay as they were (the row a scan was
-- evaluating is read; an INSERT's own values are no read).
CREATE SCHEMA cs;
CREATE ROLE regress_cs_app;
CREATE ROLE regress_cs_owner;
GRANT USAGE, CREATE ON SCHEMA cs TO regress_cs_app, regress_cs_owner;
-- an exclusion constraint on a range: no extension needed
CREATE TABLE cs.beds (bid int PRIMARY KEY, patient_id text, during int4range,
  EXCLUDE USING gist (during WITH &&));
INSERT INTO cs.beds VALUES (1, 'p_hidden', '[1,5)'), (2, 'p_other', '[10,20)');
SELECT bh_audit.tag_table('cs.beds', 'Bed', 'bid', 'patient_id');
GRANT INSERT, SELECT, UPDATE ON cs.beds TO regress_cs_app;
CREATE TABLE cs.du (id int PRIMARY KEY, patient_id text, ssn text,
  CONSTRAINT du_u UNIQUE (patient_id, ssn) DEFERRABLE INITIALLY DEFERRED);
INSERT INTO cs.du VALUES (4, 'pc', '999-S'), (5, 'pa', '999-S');
SELECT bh_audit.tag_table('cs.du', 'D', 'id', 'patient_id');
GRANT ALL ON cs.du TO regress_cs_app;
-- an immediate unique constraint, for the controls
CREATE TABLE cs.iu (id int PRIMARY KEY, patient_id text, ssn text,
  CONSTRAINT iu_u UNIQUE (patient_id, ssn));
INSERT INTO cs.iu VALUES (4, 'pc', '999-S'), (5, 'pa', '999-S');
SELECT bh_audit.tag_table('cs.iu', 'I', 'id', 'patient_id');
GRANT ALL ON cs.iu TO regress_cs_app;
-- duplicates a unique index build finds; owned by a role that is no superuser
CREATE TABLE cs.dup (id int, patient_id text, ssn text, during int4range);
INSERT INTO cs.dup VALUES (1, 'p1', 'S-1', '[1,5)'), (2, 'p2', 'S-1', '[3,8)');
ALTER TABLE cs.dup OWNER TO regress_cs_owner;
SELECT bh_audit.tag_table('cs.dup', 'Dup', 'id', 'patient_id');
SELECT regress_reads.mark_now();

-- 1. An exclusion violation, as a user who is no superuser: the DETAIL
-- shows p_hidden's stored range.
BEGIN;
SET LOCAL ROLE regress_cs_app;
INSERT INTO cs.beds VALUES (3, 'p_new', '[3,8)');
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- ... by an UPDATE: the row it evaluated (p_other's) is read, and the table
UPDATE cs.beds SET during = '[2,3)' WHERE bid = 2;
SELECT * FROM regress_reads.reads();
-- ... caught by an exception block, which is given the DETAIL: read all the same
DO $$
BEGIN
    INSERT INTO cs.beds VALUES (3, 'p_new', '[4,6)');
EXCEPTION WHEN exclusion_violation THEN
    RAISE NOTICE 'caught';
END $$;
SELECT * FROM regress_reads.reads();
-- ... with capture_reads => false: no read
SELECT bh_audit.untag_table('cs.beds');
SELECT bh_audit.tag_table('cs.beds', 'Bed', 'bid', 'patient_id', capture_reads => false);
SELECT regress_reads.mark_now();
INSERT INTO cs.beds VALUES (3, 'p_new', '[3,8)');
SELECT * FROM regress_reads.reads();
SELECT bh_audit.untag_table('cs.beds');
SELECT bh_audit.tag_table('cs.beds', 'Bed', 'bid', 'patient_id');
SELECT regress_reads.mark_now();

-- 2. A deferred unique constraint failing at COMMIT: the DETAIL shows pc's
-- stored ssn; the UPDATE's events are rolled back.
BEGIN;
SET LOCAL ROLE regress_cs_app;
UPDATE cs.du SET patient_id = 'pa' WHERE id = 4;
COMMIT;
SELECT * FROM regress_reads.reads();
-- ... outside a transaction block (the commit that ends the statement)
UPDATE cs.du SET patient_id = 'pa' WHERE id = 4;
SELECT * FROM regress_reads.reads();
-- ... at SET CONSTRAINTS ... IMMEDIATE (no failure: the transaction may go
-- on after a ROLLBACK TO), and at the end of a statement once immediate
BEGIN;
UPDATE cs.du SET patient_id = 'pa' WHERE id = 4;
SAVEPOINT s;
SET CONSTRAINTS cs.du_u IMMEDIATE;
ROLLBACK TO s;
SET CONSTRAINTS cs.du_u IMMEDIATE;
ROLLBACK;
SELECT * FROM regress_reads.reads();
BEGIN;
SET CONSTRAINTS cs.du_u IMMEDIATE;
UPDATE cs.du SET patient_id = 'pa' WHERE id = 4;
ROLLBACK;
SELECT * FROM regress_reads.reads();

-- 3. A unique index build finding duplicates, as the table's owner: the
-- DETAIL shows S-1.  No failure (DDL is no data access); an exclusion
-- constraint's build evaluates it over the rows (read before it runs) and
-- its failure shows two rows.
SET ROLE regress_cs_owner;
CREATE UNIQUE INDEX dup_ssn ON cs.dup (ssn);
ALTER TABLE cs.dup ADD CONSTRAINT dup_u UNIQUE (ssn);
ALTER TABLE cs.dup ADD PRIMARY KEY (ssn);
ALTER TABLE cs.dup ADD CONSTRAINT dup_x EXCLUDE USING gist (during WITH &&);
RESET ROLE;
SELECT * FROM regress_reads.reads();
-- a build that succeeds shows nothing
CREATE UNIQUE INDEX dup_id ON cs.dup (id);
SELECT * FROM regress_reads.reads();
-- a partition's duplicates (the error names the partition): its tagged table
CREATE TABLE cs.pt (id int, patient_id text) PARTITION BY LIST (id);
CREATE TABLE cs.pt1 PARTITION OF cs.pt FOR VALUES IN (1);
INSERT INTO cs.pt VALUES (1, 'pa'), (1, 'pb');
SELECT bh_audit.tag_table('cs.pt', 'Pt', 'id', 'patient_id');
SELECT regress_reads.mark_now();
CREATE UNIQUE INDEX pt_id ON cs.pt (id);
SELECT * FROM regress_reads.reads();
SELECT e.event -> 'metadata' ->> 'table' AS tbl FROM bh_audit.events e
 WHERE e.event -> 'metadata' ? 'shown_in_error' ORDER BY e.seq DESC LIMIT 1;
-- a table of the same name in another schema, untagged: nothing
CREATE SCHEMA cs2;
CREATE TABLE cs2.dup (ssn text);
INSERT INTO cs2.dup VALUES ('S-1'), ('S-1');
CREATE UNIQUE INDEX ON cs2.dup (ssn);
SELECT * FROM regress_reads.reads();
DROP SCHEMA cs2 CASCADE;

-- 4. Controls: an immediate unique violation keeps its events.  An UPDATE:
-- the row it evaluated (pc's) is read.
BEGIN;
SET LOCAL ROLE regress_cs_app;
UPDATE cs.iu SET patient_id = 'pa' WHERE id = 4;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- an INSERT shows its own values: no read
INSERT INTO cs.iu VALUES (6, 'pa', '999-S');
SELECT * FROM regress_reads.reads();
-- ... also from a trigger's statement, and caught in a function
CREATE TABLE cs.log (id int);
CREATE FUNCTION cs.copy_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cs.iu VALUES (NEW.id, 'pa', '999-S');
    RETURN NEW;
END $$;
CREATE TRIGGER copy_in AFTER INSERT ON cs.log FOR EACH ROW EXECUTE FUNCTION cs.copy_in();
INSERT INTO cs.log VALUES (7);
DO $$
BEGIN
    INSERT INTO cs.iu VALUES (8, 'pa', '999-S');
EXCEPTION WHEN unique_violation THEN
    RAISE NOTICE 'caught';
END $$;
SELECT * FROM regress_reads.reads();
-- a function's own error naming the table is no constraint's
DO $$
BEGIN
    RAISE EXCEPTION 'mine' USING ERRCODE = 'unique_violation', SCHEMA = 'cs', TABLE = 'iu';
END $$;
DO $$
BEGIN
    RAISE EXCEPTION 'mine' USING ERRCODE = 'exclusion_violation', SCHEMA = 'cs', TABLE = 'beds';
END $$;
SELECT * FROM regress_reads.reads();
-- an untagged table's exclusion violation: nothing
CREATE TABLE cs.plain (id int, during int4range, EXCLUDE USING gist (during WITH &&));
INSERT INTO cs.plain VALUES (1, '[1,5)'), (2, '[3,8)');
SELECT * FROM regress_reads.reads();

SELECT bh_audit.untag_table('cs.beds');
SELECT bh_audit.untag_table('cs.du');
SELECT bh_audit.untag_table('cs.iu');
SELECT bh_audit.untag_table('cs.dup');
SELECT bh_audit.untag_table('cs.pt');
DROP SCHEMA cs CASCADE;
DROP ROLE regress_cs_app;
DROP ROLE regress_cs_owner;
