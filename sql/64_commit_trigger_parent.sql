-- A single INSERT / COPY ... FROM through an UNTAGGED partitioned table
-- whose only row went to the untagged partition ck.c2, failing at its
-- implicit commit in a deferred constraint trigger (RAISE EXCEPTION,
-- P0001) rather than a deferred foreign key (23503).  7e85f93 made such a
-- commit record nothing for a deferred foreign key (sql/62); with the
-- trigger, bh_error_at_commit() (class 23 / 40001 only when no portal
-- runs) does not see the commit, and both record CREATE FAILURE on ck.c1,
-- which the transaction never wrote.  The same rows with an explicit
-- COMMIT record nothing.  Expected: nothing for all three.
CREATE SCHEMA ck;
CREATE TABLE ck.child (id int, ref_id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE ck.c1 PARTITION OF ck.child FOR VALUES FROM (0) TO (10);
CREATE TABLE ck.c2 PARTITION OF ck.child FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('ck.c1', 'CkChild', 'id', 'patient');
CREATE FUNCTION ck.deferred_check() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN
  IF NEW.ref_id = 777 THEN RAISE EXCEPTION 'deferred check failed'; END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER dchk AFTER INSERT ON ck.c2 DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION ck.deferred_check();
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
INSERT INTO ck.child VALUES (15, 777, 'x');
COPY ck.child FROM STDIN;
15	777	x
\.
BEGIN;
INSERT INTO ck.child VALUES (15, 777, 'x');
COMMIT;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0 AND outcome <> 'SUCCESS'
 ORDER BY seq;
