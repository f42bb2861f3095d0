-- tag_table() records the tagging and inserts the tag row before it
-- creates the capture triggers, whose DDL (CREATE TRIGGER, ALTER TABLE ...
-- ENABLE ALWAYS TRIGGER) runs as PostgreSQL's own subcommands do: no event
-- trigger fires for it (sql/99_own_ddl_user_code_role), so no user's code
-- runs while the tag cache stays as last loaded for the extension's own
-- DDL (tag_cache.c, bh_tags_ensure()).  A user's event trigger that would
-- write, read, drop or rename the tagged patient column of the table being
-- tagged does not fire inside tag_table(); fired by the user's own DDL
-- after tag_table() in the same transaction, it sees the table tagged: a
-- CREATE event, a READ event, a refusal, a tag that follows.  The same
-- statements of the user's after tag_table() in its transaction too.
SELECT regress_reads.mark_now();
CREATE SCHEMA odc;
CREATE TABLE odc.w (id int PRIMARY KEY, pat text);
CREATE TABLE odc.r (id int PRIMARY KEY, pat text);
CREATE TABLE odc.d (id int PRIMARY KEY, pat text);
CREATE TABLE odc.n (id int PRIMARY KEY, pat text);
CREATE TABLE odc.s (id int PRIMARY KEY, pat text);
CREATE TABLE odc.x (id int);
INSERT INTO odc.w VALUES (1, 'pw');
INSERT INTO odc.r VALUES (1, 'pr');
INSERT INTO odc.d VALUES (1, 'pd');
INSERT INTO odc.n VALUES (1, 'pn');
INSERT INTO odc.s VALUES (1, 'ps');
CREATE FUNCTION odc.et() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
  mode text := current_setting('odc.mode', true);
  t text := current_setting('odc.tbl', true);
  n int;
BEGIN
  IF mode IS NULL OR mode = '' THEN
    RETURN;
  END IF;
  PERFORM set_config('odc.mode', '', true);
  IF mode = 'write' THEN
    EXECUTE format('INSERT INTO %s VALUES (2, %L)', t, 'pw2');
  ELSIF mode = 'read' THEN
    EXECUTE format('SELECT count(*) FROM %s WHERE id = 1', t) INTO n;
  ELSIF mode = 'drop' THEN
    EXECUTE format('ALTER TABLE %s DROP COLUMN pat', t);
  ELSIF mode = 'rename' THEN
    EXECUTE format('ALTER TABLE %s RENAME COLUMN pat TO pat2', t);
  END IF;
  RAISE NOTICE '% at %', mode, tg_tag;
END $$;
CREATE EVENT TRIGGER odc_et ON ddl_command_end EXECUTE FUNCTION odc.et();
CREATE EVENT TRIGGER odc_et_start ON ddl_command_start EXECUTE FUNCTION odc.et();

-- 1. a write to the table just tagged: no firing in tag_table(); at the
-- user's next DDL one CREATE event (patient pw2)
BEGIN;
SET LOCAL odc.mode = 'write';
SET LOCAL odc.tbl = 'odc.w';
SELECT bh_audit.tag_table('odc.w', 'OdcW', 'id', 'pat');
SELECT current_setting('odc.mode') AS mode_left;
ALTER TABLE odc.x ADD COLUMN w int;
COMMIT;
SELECT action, resource_type, patient_id, outcome FROM regress_reads.reads();
SELECT b.action, b.resource_id, b.patient_id FROM bh_audit.events b
 WHERE b.resource_type = 'OdcW' ORDER BY b.seq;

-- 2. a read of it: one READ event (patient pr)
BEGIN;
SET LOCAL odc.mode = 'read';
SET LOCAL odc.tbl = 'odc.r';
SELECT bh_audit.tag_table('odc.r', 'OdcR', 'id', 'pat');
ALTER TABLE odc.x ADD COLUMN r int;
COMMIT;
SELECT action, resource_type, patient_id, outcome FROM regress_reads.reads();

-- 3. the tagged patient column dropped: refused, as after tag_table()
\set VERBOSITY terse
BEGIN;
SET LOCAL odc.mode = 'drop';
SET LOCAL odc.tbl = 'odc.d';
SELECT bh_audit.tag_table('odc.d', 'OdcD', 'id', 'pat');
ALTER TABLE odc.x ADD COLUMN d int;
COMMIT;
\set VERBOSITY default
SELECT attname FROM pg_attribute WHERE attrelid = 'odc.d'::regclass AND attnum > 0
   AND NOT attisdropped ORDER BY attnum;
SELECT id_column, patient_column FROM bh_audit.tagged_tables WHERE tbl = 'odc.d'::regclass;

-- 4. the tagged patient column renamed: the tag follows it, and a write
-- afterwards names its patient
BEGIN;
SET LOCAL odc.mode = 'rename';
SET LOCAL odc.tbl = 'odc.n';
SELECT bh_audit.tag_table('odc.n', 'OdcN', 'id', 'pat');
ALTER TABLE odc.x ADD COLUMN n int;
COMMIT;
SELECT id_column, patient_column FROM bh_audit.tagged_tables WHERE tbl = 'odc.n'::regclass;
INSERT INTO odc.n VALUES (2, 'pn2');
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT b.action, b.resource_id, b.patient_id FROM bh_audit.events b
 WHERE b.resource_type = 'OdcN' ORDER BY b.seq;

-- the same statements of the user's after tag_table() in its transaction:
-- captured, refused, followed
DROP EVENT TRIGGER odc_et;
DROP EVENT TRIGGER odc_et_start;
SELECT regress_reads.mark_now();
BEGIN;
SELECT bh_audit.tag_table('odc.s', 'OdcS', 'id', 'pat');
INSERT INTO odc.s VALUES (2, 'ps2');
SELECT count(*) FROM odc.s WHERE id = 1;
SAVEPOINT a;
\set VERBOSITY terse
ALTER TABLE odc.s DROP COLUMN pat;
\set VERBOSITY default
ROLLBACK TO a;
ALTER TABLE odc.s RENAME COLUMN pat TO pat2;
INSERT INTO odc.s VALUES (3, 'ps3');
COMMIT;
SELECT action, resource_type, patient_id, outcome FROM regress_reads.reads();
-- (the read comes by the ring, the writes by the queue at the commit:
-- where the sealer puts the read among them depends on when it sealed it)
SELECT b.action, b.resource_id, b.patient_id FROM bh_audit.events b
 WHERE b.resource_type = 'OdcS' ORDER BY b.action = 'READ', b.seq;

SELECT bh_audit.untag_table(tbl) FROM bh_audit.tagged_tables
 WHERE schema_name = 'odc' ORDER BY table_name;
\set VERBOSITY terse
DROP SCHEMA odc CASCADE;
