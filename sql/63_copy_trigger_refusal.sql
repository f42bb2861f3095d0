-- COPY ... FROM through an UNTAGGED partitioned table whose row, already
-- routed into a partition tagged on its own, is refused by a trigger with
-- "permission denied for table <the parent's name>" (the trigger reads the
-- parent; the role has INSERT but not SELECT on it).  PostgreSQL's own
-- privilege check of the COPY had passed: rows were routed.  The same
-- INSERT records CREATE FAILURE on ct.p1; bh_copy_from_routing() takes the
-- trigger's refusal for the COPY's privilege check and records nothing.
-- Expected: CREATE FAILURE on ct.p1 for both.
CREATE SCHEMA ct;
CREATE TABLE ct.parent (id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE ct.p1 PARTITION OF ct.parent FOR VALUES FROM (0) TO (10);
CREATE TABLE ct.p2 PARTITION OF ct.parent FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('ct.p1', 'CtOne', 'id', 'patient');
CREATE FUNCTION ct.dupcheck() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN
  IF NEW.id = 5 THEN
    PERFORM 1 FROM ct.parent WHERE id = NEW.id AND patient = NEW.patient;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER dupcheck BEFORE INSERT ON ct.p1 FOR EACH ROW EXECUTE FUNCTION ct.dupcheck();
CREATE ROLE regress_ct_loader;
GRANT USAGE ON SCHEMA ct TO regress_ct_loader;
GRANT USAGE ON SCHEMA bh_audit TO regress_ct_loader;
GRANT INSERT ON ct.parent TO regress_ct_loader;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
SET ROLE regress_ct_loader;
BEGIN;
SELECT bh_audit.set_context('ct_trigger_insert');
INSERT INTO ct.parent VALUES (1, 'a'), (2, 'b'), (5, 'c');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('ct_trigger_copy');
COPY ct.parent FROM STDIN;
1	a
2	b
5	c
\.
ROLLBACK;
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id AS actor, action, outcome, event -> 'metadata' ->> 'table' AS tbl,
       bh_audit.validate_event(event) AS valid
  FROM bh_audit.events
 WHERE seq > :m0 AND outcome <> 'SUCCESS'
 ORDER BY seq;
DROP OWNED BY regress_ct_loader;
DROP ROLE regress_ct_loader;
