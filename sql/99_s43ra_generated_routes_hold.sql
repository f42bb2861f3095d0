-- What held in the second read of the generated column check
-- (sql/99_s43a_generated_temp_function): the other routes by which a
-- generated expression of a tagged table reaches the session's temporary
-- schema are refused (0A000): a cast to a pg_temp domain or row type, a
-- pg_temp collation, an operator of pg_temp, a regconfig / regtype constant
-- naming a pg_temp object, a permanent function with a pg_temp argument
-- type or a pg_temp typed default argument; ATTACH PARTITION of a table
-- whose generated column calls one (PostgreSQL 15 lets a partition's
-- expression differ).  No false refusal: a same-named function of a
-- permanent schema (pg_temp is never searched for functions), an untagged
-- table, a tagged temporary table.  A statement dropping a column and
-- adding a refused one: nothing of it stays, no event of the drop.
\set VERBOSITY terse
CREATE SCHEMA s43ra_h;
CREATE TABLE s43ra_h.notes (id int PRIMARY KEY, patient_id text, body text, old text);
INSERT INTO s43ra_h.notes VALUES (1, 'pat_1', 'a', 'o');
SELECT bh_audit.tag_table('s43ra_h.notes', 'S43raHNote', 'id', 'patient_id');
CREATE DOMAIN pg_temp.d AS text;
CREATE TYPE pg_temp.t AS (a text);
CREATE COLLATION pg_temp.c (provider = libc, locale = 'C');
CREATE FUNCTION pg_temp.cat(text, text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$SELECT $1 || $2$$;
CREATE OPERATOR pg_temp.#### (function = pg_temp.cat, leftarg = text, rightarg = text);
CREATE TEXT SEARCH CONFIGURATION pg_temp.cfg (COPY = simple);
CREATE FUNCTION pg_temp.up(text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$SELECT upper($1)$$;
CREATE FUNCTION s43ra_h.f(pg_temp.t) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'x'$$;
CREATE FUNCTION s43ra_h.g(text, pg_temp.d DEFAULT 'x') RETURNS text LANGUAGE sql IMMUTABLE
  AS $$SELECT $1$$;
CREATE FUNCTION s43ra_h.up(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT upper($1)$$;
CREATE FUNCTION pg_temp.try(what text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN what || ': allowed';
EXCEPTION WHEN feature_not_supported THEN
  RETURN what || ': refused (0A000)';
END$$;

-- 1. refused
SELECT pg_temp.try('cast to a pg_temp domain',
  'ALTER TABLE s43ra_h.notes ADD COLUMN c text GENERATED ALWAYS AS ((body::pg_temp.d)::text) STORED');
SELECT pg_temp.try('field of a cast to a pg_temp row type',
  'ALTER TABLE s43ra_h.notes ADD COLUMN c text GENERATED ALWAYS AS ((ROW(body)::pg_temp.t).a) STORED');
SELECT pg_temp.try('COLLATE pg_temp',
  'ALTER TABLE s43ra_h.notes ADD COLUMN c text GENERATED ALWAYS AS (lower(body COLLATE pg_temp.c)) STORED');
SELECT pg_temp.try('OPERATOR(pg_temp.####)',
  $$ALTER TABLE s43ra_h.notes ADD COLUMN c text GENERATED ALWAYS AS (body OPERATOR(pg_temp.####) 'x') STORED$$);
SELECT pg_temp.try('regconfig constant of pg_temp',
  $$ALTER TABLE s43ra_h.notes ADD COLUMN c tsvector GENERATED ALWAYS AS (to_tsvector('pg_temp.cfg'::regconfig, body)) STORED$$);
SELECT pg_temp.try('regtype constant of pg_temp',
  $$ALTER TABLE s43ra_h.notes ADD COLUMN c text GENERATED ALWAYS AS (body || ('pg_temp.d'::regtype::oid)::text) STORED$$);
SELECT pg_temp.try('permanent function, pg_temp argument type',
  'ALTER TABLE s43ra_h.notes ADD COLUMN c text GENERATED ALWAYS AS (s43ra_h.f(NULL)) STORED');
SELECT pg_temp.try('permanent function, pg_temp default argument',
  'ALTER TABLE s43ra_h.notes ADD COLUMN c text GENERATED ALWAYS AS (s43ra_h.g(body)) STORED');
-- ATTACH PARTITION of a table whose own expression calls a pg_temp function
CREATE TABLE s43ra_h.parts (id int, patient_id text, body text,
  shout text GENERATED ALWAYS AS (upper(body)) STORED) PARTITION BY RANGE (id);
SELECT bh_audit.tag_table('s43ra_h.parts', 'S43raHParts', 'id', 'patient_id');
CREATE TABLE s43ra_h.part1 (id int, patient_id text, body text,
  shout text GENERATED ALWAYS AS (pg_temp.up(body)) STORED);
SELECT pg_temp.try('ATTACH PARTITION, pg_temp expression',
  'ALTER TABLE s43ra_h.parts ATTACH PARTITION s43ra_h.part1 FOR VALUES FROM (0) TO (100)');
-- CREATE TABLE ... PARTITION OF the tagged table: its parent's expression
SELECT pg_temp.try('CREATE TABLE PARTITION OF',
  'CREATE TABLE s43ra_h.part2 PARTITION OF s43ra_h.parts FOR VALUES FROM (100) TO (200)');

-- 2. allowed
SET search_path = pg_temp, s43ra_h, public;
SELECT pg_temp.try('up() with pg_temp first in search_path: s43ra_h.up',
  'ALTER TABLE s43ra_h.notes ADD COLUMN s text GENERATED ALWAYS AS (up(body)) STORED');
RESET search_path;
CREATE TABLE s43ra_h.plain (id int, body text);
SELECT pg_temp.try('untagged table',
  'ALTER TABLE s43ra_h.plain ADD COLUMN c text GENERATED ALWAYS AS (pg_temp.up(body)) STORED');
CREATE TEMP TABLE s43ra_h_tmp (id int PRIMARY KEY, patient_id text, body text);
SELECT bh_audit.tag_table('pg_temp.s43ra_h_tmp', 'S43raHTmp', 'id', 'patient_id');
SELECT pg_temp.try('tagged temporary table',
  'ALTER TABLE pg_temp.s43ra_h_tmp ADD COLUMN c text GENERATED ALWAYS AS (pg_temp.up(body)) STORED');

-- 3. DROP COLUMN and a refused ADD COLUMN in one statement
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT coalesce(max(seq), 0) AS mark FROM bh_audit.events \gset
SELECT pg_temp.try('DROP COLUMN old, ADD COLUMN pg_temp generated',
  'ALTER TABLE s43ra_h.notes DROP COLUMN old, ADD COLUMN c text GENERATED ALWAYS AS (pg_temp.up(body)) STORED');
SELECT string_agg(attname, ',' ORDER BY attnum) AS columns FROM pg_attribute
  WHERE attrelid = 's43ra_h.notes'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS write_events FROM bh_audit.events
  WHERE seq > :mark AND resource_type = 'S43raHNote' AND action <> 'READ';

SELECT bh_audit.untag_table(tbl) FROM bh_audit.tagged_tables
  WHERE schema_name = 's43ra_h' OR table_name = 's43ra_h_tmp' ORDER BY table_name;
DROP TABLE pg_temp.s43ra_h_tmp;
DROP SCHEMA s43ra_h CASCADE;
\set VERBOSITY default
