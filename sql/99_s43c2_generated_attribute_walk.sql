-- The walk from a generated column's expression follows what drops the
-- column, attribute by attribute: a field the expression reads of a
-- composite type whose attribute is of a temporary type is dropped with
-- that type at the session's end, and the column with it (the expression
-- depends on that attribute); an attribute it does not read is not (the
-- expression depends on the type, whose drop of one attribute leaves it:
-- sql/99_s43ra_generated_composite_false_refusal).  A typed table of a
-- permanent type stays taggable.
\set VERBOSITY terse
CREATE SCHEMA s43c2_aw;
CREATE TYPE pg_temp.t AS (x int);
CREATE TYPE s43c2_aw.comp AS (a text, y pg_temp.t);
CREATE FUNCTION s43c2_aw.mk(text) RETURNS s43c2_aw.comp LANGUAGE sql IMMUTABLE
  AS 'SELECT ROW($1, NULL)::s43c2_aw.comp';
CREATE TABLE s43c2_aw.reads_y (id int PRIMARY KEY, patient_id text, body text,
  g boolean GENERATED ALWAYS AS ((s43c2_aw.mk(body)).y IS NULL) STORED);
CREATE TABLE s43c2_aw.reads_a (id int PRIMARY KEY, patient_id text, body text,
  g text GENERATED ALWAYS AS ((s43c2_aw.mk(body)).a) STORED);
CREATE TYPE s43c2_aw.row_p AS (id int, patient_id text, body text);
CREATE TABLE s43c2_aw.typed OF s43c2_aw.row_p (PRIMARY KEY (id));
CREATE FUNCTION pg_temp.try(what text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN what || ': allowed';
EXCEPTION WHEN feature_not_supported THEN
  RETURN what || ': refused (0A000)';
END$$;

-- 1. reading the attribute of the temporary type: refused
SELECT pg_temp.try('tag_table, generated column reads attribute y',
  $$SELECT bh_audit.tag_table('s43c2_aw.reads_y', 'S43c2AwY', 'id', 'patient_id')$$);
-- 2. reading another attribute of the same type: allowed
SELECT pg_temp.try('tag_table, generated column reads attribute a',
  $$SELECT bh_audit.tag_table('s43c2_aw.reads_a', 'S43c2AwA', 'id', 'patient_id')$$);
-- 3. a typed table of a permanent type: allowed
SELECT pg_temp.try('tag_table of a typed table of a permanent type',
  $$SELECT bh_audit.tag_table('s43c2_aw.typed', 'S43c2AwTyped', 'id', 'patient_id')$$);
-- 4. the refusal names the column and the attribute's type
SELECT bh_audit.tag_table('s43c2_aw.reads_y', 'S43c2AwY', 'id', 'patient_id');
-- 5. the refusals of a typed table of a temporary type name the type
CREATE TYPE pg_temp.row_t AS (id int, patient_id text, body text);
CREATE TABLE s43c2_aw.typed_t OF pg_temp.row_t (PRIMARY KEY (id));
SELECT bh_audit.tag_table('s43c2_aw.typed_t', 'S43c2AwTypedT', 'id', 'patient_id');
ALTER TABLE s43c2_aw.typed NOT OF;
ALTER TABLE s43c2_aw.typed OF pg_temp.row_t;
SELECT reloftype = 0 AS not_typed FROM pg_class WHERE oid = 's43c2_aw.typed'::regclass;
DROP TABLE s43c2_aw.typed_t;

SELECT bh_audit.untag_table(tbl) FROM bh_audit.tagged_tables
  WHERE schema_name = 's43c2_aw' ORDER BY table_name;
-- what the session's end does: the column reading y goes, the other stays
DROP TYPE pg_temp.t CASCADE;
SELECT attrelid::regclass AS rel, attname FROM pg_attribute
  WHERE attrelid IN ('s43c2_aw.reads_y'::regclass, 's43c2_aw.reads_a'::regclass)
    AND attname = 'g' AND NOT attisdropped ORDER BY 1;
DROP SCHEMA s43c2_aw CASCADE;
\set VERBOSITY default
