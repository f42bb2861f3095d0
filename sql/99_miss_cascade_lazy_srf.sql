-- A foreign key's own queries are no reads, told by their security context
-- (no force RLS) and by running without firing triggers at their end; what
-- a user's trigger does while a cascade runs is captured
-- (docs/read-capture.md).  A set-returning SQL function called in a select
-- list runs its last SELECT lazily, which PostgreSQL also starts without
-- firing triggers at its end (EXEC_FLAG_SKIP_TRIGGERS): called by a user's
-- trigger on the referencing table while a cascade runs, its read of a
-- tagged table must be captured as it is without the cascade (control).
CREATE SCHEMA fcl;
CREATE TABLE fcl.notes (id int PRIMARY KEY, pid text, body text);
INSERT INTO fcl.notes SELECT i, 'f' || i, 'b' || i FROM generate_series(1, 6) i;
SELECT bh_audit.tag_table('fcl.notes', 'FcNote', 'id', 'pid');
CREATE TABLE fcl.par (id int PRIMARY KEY);
CREATE TABLE fcl.ch (id int, par_id int REFERENCES fcl.par ON DELETE CASCADE);
INSERT INTO fcl.par VALUES (1), (2);
INSERT INTO fcl.ch VALUES (1, 1), (2, 2);
CREATE FUNCTION fcl.lazy_pids() RETURNS SETOF text LANGUAGE sql AS 'SELECT pid FROM fcl.notes WHERE id IN (5, 6)';
CREATE FUNCTION fcl.ch_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN SELECT fcl.lazy_pids() AS p LOOP RAISE NOTICE 'trigger saw %', r.p; END LOOP;
    RETURN OLD;
END $$;
CREATE TRIGGER ch_bd BEFORE DELETE ON fcl.ch FOR EACH ROW EXECUTE FUNCTION fcl.ch_trg();
SELECT regress_reads.mark_now();
-- control: the trigger fired by a DELETE of the referencing table
BEGIN;
DELETE FROM fcl.ch WHERE id = 2;
ROLLBACK;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
-- the same trigger fired by the cascade of a DELETE of the referenced table
BEGIN;
DELETE FROM fcl.par WHERE id = 1;
ROLLBACK;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
-- and a PL/pgSQL loop's own query in the trigger, for comparison
CREATE OR REPLACE FUNCTION fcl.ch_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN SELECT pid AS p FROM fcl.notes WHERE id IN (5, 6) LOOP RAISE NOTICE 'trigger saw %', r.p; END LOOP;
    RETURN OLD;
END $$;
BEGIN;
DELETE FROM fcl.par WHERE id = 1;
ROLLBACK;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
DROP SCHEMA fcl CASCADE;
