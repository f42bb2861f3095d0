-- A false refusal.  A generated column whose expression casts to a
-- composite type and takes a field of it: (ROW(body)::comp).a.  Its
-- expression depends on the type comp and on its attribute a.  ALTER TYPE
-- comp ADD ATTRIBUTE y of a temporary type: allowed (no column is of
-- comp).  At the session's end PostgreSQL drops attribute y of comp, not
-- comp, and the generated column stays with its values (checked by hand:
-- nothing recorded, nothing lost).  But the walk from the generated
-- column's expression (bh_generated_is_temp() -> bh_walk_reaches_temp())
-- goes from the type to its relation and then to the dependencies of all
-- the relation's attributes (bh_walk_depend() ignores objsubid), reaches
-- the temporary type, and refuses every later ALTER TABLE ... ADD COLUMN
-- or ALTER COLUMN ... TYPE of the tagged table, and tagging a table with
-- such a column, for the rest of the session, naming a column nothing
-- will drop.  Right: allowed.
\set VERBOSITY terse
CREATE SCHEMA s43ra_fr;
CREATE TYPE s43ra_fr.comp AS (a text);
CREATE TABLE s43ra_fr.notes (id int PRIMARY KEY, patient_id text, body text,
  g text GENERATED ALWAYS AS ((ROW(body)::s43ra_fr.comp).a) STORED);
INSERT INTO s43ra_fr.notes (id, patient_id, body) VALUES (1, 'pat_1', 'a');
SELECT bh_audit.tag_table('s43ra_fr.notes', 'S43raFrNote', 'id', 'patient_id');
CREATE TABLE s43ra_fr.other (id int PRIMARY KEY, patient_id text, body text,
  g text GENERATED ALWAYS AS ((ROW(body)::s43ra_fr.comp).a) STORED);
CREATE TYPE pg_temp.t AS (x int);
CREATE FUNCTION pg_temp.try(what text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN what || ': allowed';
EXCEPTION WHEN feature_not_supported THEN
  RETURN what || ': refused (0A000)';
END$$;
-- allowed (right): no column is of comp; the session's end drops y only
SELECT pg_temp.try('ALTER TYPE comp ADD ATTRIBUTE y pg_temp.t',
  'ALTER TYPE s43ra_fr.comp ADD ATTRIBUTE y pg_temp.t');
-- 1. an unrelated ADD COLUMN of the tagged table: allowed
SELECT pg_temp.try('ADD COLUMN z int',
  'ALTER TABLE s43ra_fr.notes ADD COLUMN z int');
-- 2. ALTER COLUMN TYPE of another column (the patient column): allowed
SELECT pg_temp.try('ALTER COLUMN patient_id TYPE varchar',
  'ALTER TABLE s43ra_fr.notes ALTER COLUMN patient_id TYPE varchar');
-- 3. tagging a table with such a generated column: allowed
SELECT pg_temp.try('tag_table',
  $$SELECT bh_audit.tag_table('s43ra_fr.other', 'S43raFrOther', 'id', 'patient_id')$$);

ALTER TYPE s43ra_fr.comp DROP ATTRIBUTE y;
SELECT bh_audit.untag_table(tbl) FROM bh_audit.tagged_tables
  WHERE schema_name = 's43ra_fr' ORDER BY table_name;
DROP SCHEMA s43ra_fr CASCADE;
\set VERBOSITY default
