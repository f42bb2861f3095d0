-- Write capture: one event per changed row, atomic with the change.
-- (Uses the tables tagged by 20_tagging.)
CREATE TEMP TABLE mark (seq bigint);
CREATE TEMP VIEW new_events AS
SELECT seq, action, resource_type, resource_id, patient_id,
       event -> 'action' ->> 'phi_touched' AS phi,
       event -> 'action' ->> 'data_classification' AS class,
       (event -> 'metadata') - 'db_user' AS meta,
       event -> 'metadata' ->> 'db_user' AS db_user
  FROM bh_audit.events WHERE seq > (SELECT coalesce(max(seq), 0) FROM mark);
CREATE FUNCTION pg_temp.next() RETURNS void LANGUAGE sql AS $$
    SELECT bh_audit.seal();
    DELETE FROM mark;
    INSERT INTO mark SELECT max(seq) FROM bh_audit.events;
$$;
SELECT pg_temp.next();

-- INSERT, UPDATE, DELETE: one event each, ids from the tagged columns only.
INSERT INTO clinic.patients VALUES (1, 'MRN-1', 'PATIENT_JANE_DOE', '1990-01-01'),
                                   (2, 'MRN-2', 'PATIENT_JOHN_ROE', '1985-05-05');
INSERT INTO clinic.notes VALUES (10, 1, 'NOTE_TEXT_I_AM_NOT_OK');
UPDATE clinic.patients SET name = 'PATIENT_JANE_ROE', dob = '1990-01-02' WHERE id = 1;
UPDATE clinic.patients SET mrn = mrn WHERE id = 2;
DELETE FROM clinic.patients WHERE id = 2;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, phi, class, meta, db_user
  FROM new_events ORDER BY seq;
SELECT pg_temp.next();

-- Names in events are quoted where SQL would quote them, so that they are
-- not ambiguous: a column named "a,b" is not the columns a and b, a table
-- "Intake.v2" of schema "Clinic" is not table v2 of schema Clinic.Intake.
CREATE SCHEMA "Clinic";
CREATE TABLE "Clinic"."Intake.v2" (id int, pat int, "a,b" text, a text, b text);
INSERT INTO "Clinic"."Intake.v2" VALUES (1, 1, 'x', 'x', 'x');
SELECT bh_audit.tag_table('"Clinic"."Intake.v2"', 'Intake', 'id', 'pat');
UPDATE "Clinic"."Intake.v2" SET "a,b" = 'y';
UPDATE "Clinic"."Intake.v2" SET a = 'y', b = 'y';
-- A float's NaN is one value, whatever its bits ('Infinity' - 'Infinity'
-- leaves other ones than 'NaN'): not a change; a number is one.
ALTER TABLE "Clinic"."Intake.v2" ADD COLUMN f8 float8 DEFAULT 'NaN', ADD COLUMN f4 float4 DEFAULT 'NaN';
UPDATE "Clinic"."Intake.v2" SET f8 = 'Infinity'::float8 - 'Infinity'::float8,
                                f4 = 'Infinity'::float4 - 'Infinity'::float4;
UPDATE "Clinic"."Intake.v2" SET f8 = 'NaN', f4 = 'NaN';
UPDATE "Clinic"."Intake.v2" SET f8 = 1;
ALTER TABLE "Clinic"."Intake.v2" ALTER COLUMN "a,b" TYPE varchar, DROP COLUMN a;
-- (a failure in parse analysis finds the table by its quoted names too)
SELECT * FROM "Clinic"."Intake.v2" WHERE id = 'z';
-- (a statement's READ of the rows it converts and its write are not held
-- to one order here: READs are listed last)
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type, event -> 'metadata' ->> 'table' AS tbl,
       event -> 'metadata' ->> 'changed_columns' AS changed,
       event -> 'metadata' ->> 'dropped_columns' AS dropped
  FROM bh_audit.events WHERE seq > (SELECT max(seq) FROM mark) AND resource_type = 'Intake'
 ORDER BY outcome = 'FAILURE', action = 'READ', seq;
SELECT bh_audit.untag_table('"Clinic"."Intake.v2"');
DROP SCHEMA "Clinic" CASCADE;
SELECT pg_temp.next();

-- A note moved to another patient is in both patients' histories.
UPDATE clinic.notes SET patient_id = 2 WHERE note_id = 10;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_id, patient_id, meta FROM new_events ORDER BY seq;
SELECT pg_temp.next();

-- Rolled back: no event; rolled back to a savepoint: no event.
BEGIN;
INSERT INTO clinic.notes VALUES (11, 1, 'x');
ROLLBACK;
BEGIN;
INSERT INTO clinic.notes VALUES (12, 1, 'kept');
SAVEPOINT s;
INSERT INTO clinic.notes VALUES (13, 1, 'rolled back');
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_id, patient_id FROM new_events ORDER BY seq;
SELECT pg_temp.next();

-- INSERT ... SELECT and COPY FROM: one event per row.
INSERT INTO clinic.notes SELECT 100 + i, i % 3, 'bulk' FROM generate_series(1, 5) i;
COPY clinic.notes FROM STDIN;
200	1	copied
201	2	copied
202	\N	no patient
\.
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_id, patient_id FROM new_events ORDER BY seq;
SELECT pg_temp.next();

-- Partitions: captured through the tagged parent, present and future.
INSERT INTO clinic.visits VALUES (1, 1, 'intake');
CREATE TABLE clinic.visits_2 PARTITION OF clinic.visits FOR VALUES FROM (1000) TO (2000);
INSERT INTO clinic.visits VALUES (1500, 2, 'follow-up');
UPDATE clinic.visits SET reason = 'moved' WHERE id = 1;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, meta FROM new_events ORDER BY seq;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'clinic.visits_2'::regclass AND tgname LIKE 'bh_audit%' ORDER BY 1;
SELECT pg_temp.next();

-- TRUNCATE: one DELETE event per table truncated, with the row estimate
-- where the table was analyzed.
ANALYZE clinic.notes;
TRUNCATE clinic.notes;
TRUNCATE clinic.visits_2;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, meta FROM new_events ORDER BY seq;
SELECT pg_temp.next();

-- ALTER TABLE converting (ALTER COLUMN ... TYPE, with or without USING) or
-- removing (DROP COLUMN) a column's values in every row is a write: one
-- UPDATE event per table holding rows (each partition), naming the column,
-- with the row estimate where analyzed.  An added column changes no value;
-- a rolled-back ALTER leaves no event.
INSERT INTO clinic.notes VALUES (290, 1, 'x');
ANALYZE clinic.notes;
ALTER TABLE clinic.notes ALTER COLUMN body TYPE varchar(200) USING upper(body);
ALTER TABLE clinic.visits ADD COLUMN scratch text;
ALTER TABLE clinic.visits DROP COLUMN scratch;
ALTER TABLE clinic.notes DROP COLUMN IF EXISTS nosuch;
BEGIN;
ALTER TABLE clinic.notes DROP COLUMN body;
ROLLBACK;
ALTER TABLE clinic.notes ALTER COLUMN body TYPE text;
DELETE FROM clinic.notes WHERE note_id = 290;
SELECT bh_audit.seal() >= 0 AS sealed;
-- (a statement's READ of the rows it converts and its write are not held
-- to one order here: READs are listed last)
SELECT action, resource_type, resource_id, patient_id, meta FROM new_events ORDER BY action = 'READ', seq;
SELECT pg_temp.next();
-- One event per table for several subcommands; a child's own column stays
-- when its parent's is dropped (no event); ALTER TYPE ... CASCADE changes
-- the typed tables of the type, and a tagged column renamed that way is
-- followed.
CREATE TABLE clinic.forms (id int, pat int, a text, b text, c int);
INSERT INTO clinic.forms VALUES (1, 1, 'x', 'y', 2);
SELECT bh_audit.tag_table('clinic.forms', 'Form', 'id', 'pat');
ALTER TABLE clinic.forms ALTER COLUMN a TYPE varchar(10), DROP COLUMN b, ALTER COLUMN c TYPE bigint;
CREATE TABLE clinic.form_base (a varchar(10));
ALTER TABLE clinic.forms INHERIT clinic.form_base;
ALTER TABLE clinic.form_base DROP COLUMN a;
SELECT count(a) FROM clinic.forms;
SELECT bh_audit.seal() >= 0 AS sealed;  -- (the read, through the ring, chained before what follows)
CREATE TABLE clinic.d_top (id int, pat int, x text);
CREATE TABLE clinic.d_left () INHERITS (clinic.d_top);
CREATE TABLE clinic.d_right () INHERITS (clinic.d_top);
CREATE TABLE clinic.d_both () INHERITS (clinic.d_left, clinic.d_right);
INSERT INTO clinic.d_both VALUES (1, 4, 'x');
SELECT bh_audit.tag_table('clinic.d_both', 'Diamond', 'id', 'pat');
ALTER TABLE clinic.d_top DROP COLUMN x;
CREATE TYPE clinic.intake_row AS (id int, pat int, reason text, score int);
CREATE TABLE clinic.intakes OF clinic.intake_row;
INSERT INTO clinic.intakes VALUES (1, 3, 'x', 5);
CREATE TYPE clinic.kid_row AS (id int, pat int, reason text);
CREATE TABLE clinic.kid_base OF clinic.kid_row;
CREATE TABLE clinic.kids (reason text) INHERITS (clinic.kid_base);
INSERT INTO clinic.kids VALUES (2, 5, 'y');
SELECT bh_audit.tag_table('clinic.kids', 'Kid', 'id', 'pat');
ALTER TYPE clinic.kid_row DROP ATTRIBUTE reason CASCADE;
SELECT count(reason) FROM clinic.kids;
SELECT bh_audit.seal() >= 0 AS sealed;  -- (the read, through the ring, chained before what follows)
SELECT bh_audit.tag_table('clinic.intakes', 'Intake', 'id', 'pat');
ALTER TYPE clinic.intake_row ALTER ATTRIBUTE score TYPE text CASCADE, DROP ATTRIBUTE reason CASCADE;
ALTER TYPE clinic.intake_row RENAME ATTRIBUTE pat TO client CASCADE;
SELECT id_column, patient_column FROM bh_audit.tagged_tables WHERE table_name = 'intakes';
UPDATE clinic.intakes SET score = '6';
SELECT bh_audit.seal() >= 0 AS sealed;
-- (a statement's READ of the rows it converts and its write are not held
-- to one order here: READs are listed last)
SELECT action, resource_type, resource_id, patient_id, meta FROM new_events ORDER BY action = 'READ', seq;
SELECT bh_audit.untag_table('clinic.forms');
SELECT bh_audit.untag_table('clinic.intakes');
SELECT bh_audit.untag_table('clinic.kids');
SELECT bh_audit.untag_table('clinic.d_both');
DROP TABLE clinic.forms, clinic.form_base, clinic.intakes, clinic.kids, clinic.kid_base;
DROP TABLE clinic.d_top CASCADE;
DROP TYPE clinic.kid_row;
DROP TYPE clinic.intake_row;
SELECT pg_temp.next();

-- Columns dropped however PostgreSQL reaches them are named too: a
-- generated column DROP COLUMN ... CASCADE takes with the column it is
-- computed from, a column of a type or domain dropped with CASCADE, a
-- generated column whose function is dropped with CASCADE.  A drop rolled
-- back (by ROLLBACK or by an exception block) leaves no event.
CREATE TYPE clinic.mood AS ENUM ('calm', 'tense');
CREATE DOMAIN clinic.score AS int CHECK (VALUE >= 0);
CREATE FUNCTION clinic.twice(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 * 2';
CREATE TABLE clinic.moods (id int, pat int, a int, g int GENERATED ALWAYS AS (a + 1) STORED,
                           m clinic.mood, s clinic.score,
                           t int GENERATED ALWAYS AS (clinic.twice(id)) STORED);
INSERT INTO clinic.moods (id, pat, a, m, s) VALUES (1, 6, 2, 'calm', 3);
SELECT bh_audit.tag_table('clinic.moods', 'Mood', 'id', 'pat');
ALTER TABLE clinic.moods DROP COLUMN a CASCADE;
DROP TYPE clinic.mood CASCADE;
BEGIN;
DROP DOMAIN clinic.score CASCADE;
ROLLBACK;
DO $$
BEGIN
  DROP DOMAIN clinic.score CASCADE;
  RAISE EXCEPTION 'undone';
EXCEPTION WHEN raise_exception THEN NULL;
END $$;
DROP FUNCTION clinic.twice(int) CASCADE;
DROP DOMAIN clinic.score CASCADE;
SELECT attname FROM pg_attribute WHERE attrelid = 'clinic.moods'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, meta FROM new_events ORDER BY seq;
SELECT bh_audit.untag_table('clinic.moods');
DROP TABLE clinic.moods;
SELECT pg_temp.next();

-- ALTER TYPE ... RENAME VALUE of an enum changes what every row holding
-- the label reads.  The tagged patient column's: recorded as a change of
-- the tagged column, and each table's rows move from the old patient to
-- the new one (two events, one in each patient's history); another
-- column's: one UPDATE event naming it; also through an array of the type
-- and in each partition.
CREATE TYPE clinic.client AS ENUM ('alice', 'bob');
CREATE TYPE clinic.level AS ENUM ('low', 'high');
CREATE TABLE clinic.enum_notes (id int PRIMARY KEY, pid clinic.client, lvl clinic.level,
                                lvls clinic.level[]);
CREATE TABLE clinic.enum_parts (id int, pid clinic.client) PARTITION BY RANGE (id);
CREATE TABLE clinic.enum_parts_1 PARTITION OF clinic.enum_parts FOR VALUES FROM (0) TO (100);
INSERT INTO clinic.enum_notes VALUES (1, 'alice', 'low', '{high}');
INSERT INTO clinic.enum_parts VALUES (1, 'alice');
SELECT bh_audit.tag_table('clinic.enum_notes', 'EnumNote', 'id', 'pid');
SELECT bh_audit.tag_table('clinic.enum_parts', 'EnumPart', 'id', 'pid');
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT pg_temp.next();
ALTER TYPE clinic.client RENAME VALUE 'alice' TO 'carol';
ALTER TYPE clinic.level RENAME VALUE 'high' TO 'top';
BEGIN;
ALTER TYPE clinic.level RENAME VALUE 'low' TO 'bottom';
ROLLBACK;
DELETE FROM clinic.enum_notes WHERE id = 1;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, meta FROM new_events ORDER BY seq;
SELECT bh_audit.untag_table('clinic.enum_notes');
SELECT bh_audit.untag_table('clinic.enum_parts');
DROP TABLE clinic.enum_notes, clinic.enum_parts;
DROP TYPE clinic.client, clinic.level;
SELECT pg_temp.next();

-- A composite type's attributes added or dropped (ALTER TYPE, or with a
-- type dropped with CASCADE) change the values of its columns in every row:
-- the tagged patient column's is a change of its type, each table's change
-- one UPDATE event naming the columns.  An enum renamed inside a composite
-- patient column: a change of its values, one UPDATE event (the labels are
-- not the patients there).
CREATE TYPE clinic.site AS ENUM ('north', 'south');
CREATE TYPE clinic.mrn AS (site clinic.site, num int);
CREATE TYPE clinic.addr AS (street text, zip text);
CREATE TABLE clinic.pts (id int PRIMARY KEY, pat clinic.mrn, home clinic.addr);
INSERT INTO clinic.pts VALUES (1, ROW('north', 42), ROW('1 Main St', '02139'));
SELECT bh_audit.tag_table('clinic.pts', 'Patient', 'id', 'pat');
SELECT pg_temp.next();
ALTER TYPE clinic.addr DROP ATTRIBUTE street;
ALTER TYPE clinic.mrn ADD ATTRIBUTE extra int;
ALTER TYPE clinic.site RENAME VALUE 'north' TO 'east';
DROP TYPE clinic.site CASCADE;
SELECT pat, home FROM clinic.pts;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, meta FROM new_events
 WHERE action <> 'READ' ORDER BY seq;
SELECT bh_audit.untag_table('clinic.pts');
DROP TABLE clinic.pts;
DROP TYPE clinic.mrn, clinic.addr;
-- A table's row type as a column's type: its columns dropped or added
-- change that column's values too.
CREATE TABLE clinic.other_rows (a int, secret text, b int);
CREATE TABLE clinic.holders (id int PRIMARY KEY, pat int, info clinic.other_rows);
INSERT INTO clinic.holders VALUES (1, 5, ROW(1, 'x', 2));
SELECT bh_audit.tag_table('clinic.holders', 'Holder', 'id', 'pat');
SELECT pg_temp.next();
ALTER TABLE clinic.other_rows DROP COLUMN secret;
ALTER TABLE clinic.other_rows ADD COLUMN c int;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, meta FROM new_events ORDER BY seq;
SELECT bh_audit.untag_table('clinic.holders');
DROP TABLE clinic.holders, clinic.other_rows;
SELECT pg_temp.next();

-- A message of several statements whose implicit commit fails (a deferred
-- constraint): a failure of the writes it undoes, with their action, not of
-- the statement the message starts with.
CREATE TABLE clinic.dfk (id int PRIMARY KEY, pat int,
                         parent int REFERENCES clinic.dfk (id) DEFERRABLE INITIALLY DEFERRED);
SELECT bh_audit.tag_table('clinic.dfk', 'Deferred', 'id', 'pat');
SELECT pg_temp.next();
SELECT 1 AS one \; INSERT INTO clinic.dfk VALUES (1, 7, 99);
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, outcome, error_type
  FROM bh_audit.events WHERE seq > (SELECT coalesce(max(seq), 0) FROM mark) ORDER BY seq;
SELECT bh_audit.untag_table('clinic.dfk');
DROP TABLE clinic.dfk;
SELECT pg_temp.next();

-- A PREPARE TRANSACTION that PostgreSQL refuses once it has begun to
-- prepare (here: after a NOTIFY; also a name in use or too long, too many
-- prepared): the writes are undone, a failure of each table written.
BEGIN;
INSERT INTO clinic.notes VALUES (404, 1, 'never prepared');
UPDATE clinic.patients SET name = name WHERE id = 1;
NOTIFY bh_regress;
PREPARE TRANSACTION 'bh_regress_refused';
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, outcome, error_type, event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events WHERE seq > (SELECT coalesce(max(seq), 0) FROM mark) ORDER BY seq;
SELECT count(*) FROM clinic.notes WHERE note_id = 404;
SELECT pg_temp.next();

-- The end user's context: per transaction, via SET LOCAL or set_context().
BEGIN;
SET LOCAL bh_audit.actor_id = 'dr_smith';
SET LOCAL bh_audit.actor_roles = 'therapist, supervisor';
SET LOCAL bh_audit.actor_org_id = 'org_77';
SET LOCAL bh_audit.owner_org_id = 'org_12';
SET LOCAL bh_audit.request_id = 'req-1';
INSERT INTO clinic.notes VALUES (300, 1, 'a');
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'svc_intake', actor_type => 'service',
                            roles => ARRAY['etl'], trace_id => 'trace-9', session_id => 'sess-3');
INSERT INTO clinic.notes VALUES (301, 1, 'b');
SELECT bh_audit.emit('READ', 'Patient', 'p1', 'p1') IS NOT NULL AS emitted;
COMMIT;
-- After the transaction: the login again.
INSERT INTO clinic.notes VALUES (302, 1, 'c');
-- A login listed in bh_audit.service_roles is a service.
SET bh_audit.service_roles = 'postgres';
INSERT INTO clinic.notes VALUES (303, 1, 'd');
RESET bh_audit.service_roles;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT n.resource_type, n.resource_id, b.event -> 'actor' AS actor, b.event -> 'correlation' AS correlation
  FROM new_events n JOIN bh_audit.events b USING (seq) ORDER BY seq;
SELECT current_setting('bh_audit.actor_id') = '' AS context_cleared;
SELECT bh_audit.set_context(actor_type => 'robot');
SELECT bh_audit.set_context(roles => ARRAY['a,b']);
SELECT pg_temp.next();

-- bh_audit.enabled: off stops capture, and both switches are recorded.
SET bh_audit.enabled = off;
INSERT INTO clinic.notes VALUES (400, 1, 'not captured');
SET bh_audit.enabled = on;
INSERT INTO clinic.notes VALUES (401, 1, 'captured');
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, meta FROM new_events ORDER BY seq;
CREATE ROLE bh_regress_app;
SET ROLE bh_regress_app;
SET bh_audit.enabled = off;
RESET ROLE;
DROP ROLE bh_regress_app;

SELECT pg_temp.next();
-- A transaction may declare itself read-only after its writes: it commits,
-- and their events with it.
BEGIN;
INSERT INTO clinic.notes VALUES (403, 1, 'then read-only');
SET TRANSACTION READ ONLY;
COMMIT;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_id, patient_id FROM new_events ORDER BY seq;
SELECT count(*) FROM clinic.notes WHERE note_id = 403;
SELECT pg_temp.next();
-- A read-only transaction may write a temporary table, a tagged one too, and
-- call emit(): their events are the trail's, written all the same.
CREATE TEMP TABLE ro_scratch (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('pg_temp.ro_scratch', 'Scratch', 'id', 'patient_id');
BEGIN READ ONLY;
INSERT INTO ro_scratch VALUES (1, 'ro_p1');
UPDATE ro_scratch SET patient_id = 'ro_p2' WHERE id = 1;
SELECT bh_audit.emit('EXPORT', 'Scratch', 'r1', 'ro_p2') IS NOT NULL AS emitted;
COMMIT;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id FROM new_events
 WHERE resource_type = 'Scratch' ORDER BY seq;
SELECT bh_audit.untag_table('pg_temp.ro_scratch');
DROP TABLE ro_scratch;
SELECT pg_temp.next();

-- The capture functions are trigger functions (39P01 otherwise).
SELECT regress_err('SELECT bh_audit._capture_row()');
SELECT regress_err('SELECT bh_audit._capture_truncate()');

-- Only the triggers tag_table() creates may call the capture functions:
-- another trigger calling them would record each change twice.
CREATE TRIGGER zz_twice AFTER INSERT ON clinic.notes
  FOR EACH ROW EXECUTE FUNCTION bh_audit._capture_row();
INSERT INTO clinic.notes VALUES (402, 1, 'twice');
DROP TRIGGER zz_twice ON clinic.notes;
CREATE TRIGGER zz_twice AFTER TRUNCATE ON clinic.notes
  FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._capture_truncate();
TRUNCATE clinic.notes;
DROP TRIGGER zz_twice ON clinic.notes;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) FROM new_events WHERE resource_id = '402' OR meta ->> 'statement' = 'TRUNCATE';

-- Every captured event so far still chains.
SELECT result FROM bh_audit.verify_chain();
