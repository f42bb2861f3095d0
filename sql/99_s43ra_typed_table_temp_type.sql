-- A tagged table made a typed table of a composite type of the session's
-- temporary schema (ALTER TABLE ... OF, by its owner), or a typed table of
-- one tagged: the table depends on the type, so at the session's end
-- PostgreSQL drops the type with CASCADE and the whole tagged table with
-- it, every row, in no statement the owner ran (recorded as a
-- tagged_table_dropped with no statement).  The guard refuses a single
-- column of a temporary type (bh_column_is_temp()), but neither
-- ALTER TABLE ... OF (AT_AddOf: no check) nor tag_table() of such a table
-- (bh_check_under_tag() checks the columns, not the table's own
-- dependency).  Right: refused (0A000) as a column of a temporary type is
-- (test/t/341: the table gone at the session's end).
\set VERBOSITY terse
CREATE SCHEMA s43ra_of;
CREATE TABLE s43ra_of.notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO s43ra_of.notes VALUES (1, 'pat_1', 'a');
SELECT bh_audit.tag_table('s43ra_of.notes', 'S43raOfNote', 'id', 'patient_id');
CREATE TYPE pg_temp.row_t AS (id int, patient_id text, body text);
CREATE FUNCTION pg_temp.try(what text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN what || ': allowed';
EXCEPTION WHEN feature_not_supported THEN
  RETURN what || ': refused (0A000)';
END$$;

-- control: OF a permanent type and back, allowed
CREATE TYPE s43ra_of.row_p AS (id int, patient_id text, body text);
SELECT pg_temp.try('ALTER TABLE tagged OF a permanent type',
  'ALTER TABLE s43ra_of.notes OF s43ra_of.row_p');
SELECT pg_temp.try('ALTER TABLE tagged NOT OF',
  'ALTER TABLE s43ra_of.notes NOT OF');
-- 1. ALTER TABLE tagged OF a temporary type: refused
SELECT pg_temp.try('ALTER TABLE tagged OF pg_temp type',
  'ALTER TABLE s43ra_of.notes OF pg_temp.row_t');
SELECT reloftype = 0 AS not_typed FROM pg_class WHERE oid = 's43ra_of.notes'::regclass;
-- 2. tag_table() of a typed table of a temporary type: refused
CREATE TABLE s43ra_of.typed OF pg_temp.row_t (PRIMARY KEY (id));
SELECT pg_temp.try('tag_table of a typed table of a pg_temp type',
  $$SELECT bh_audit.tag_table('s43ra_of.typed', 'S43raOfTyped', 'id', 'patient_id')$$);
SELECT count(*) AS typed_tagged FROM bh_audit.tagged_tables WHERE table_name = 'typed';
-- control: a temporary table OF it, tagged: allowed (dropped with the type)
CREATE TEMP TABLE s43ra_of_tmp OF pg_temp.row_t (PRIMARY KEY (id));
SELECT pg_temp.try('tag_table of a temporary typed table',
  $$SELECT bh_audit.tag_table('pg_temp.s43ra_of_tmp', 'S43raOfTmp', 'id', 'patient_id')$$);

SELECT bh_audit.untag_table(tbl) FROM bh_audit.tagged_tables
  WHERE schema_name IN ('s43ra_of') OR table_name = 's43ra_of_tmp' ORDER BY table_name;
DROP TABLE pg_temp.s43ra_of_tmp;
DROP SCHEMA s43ra_of CASCADE;
\set VERBOSITY default
