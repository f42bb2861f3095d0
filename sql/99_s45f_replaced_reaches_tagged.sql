-- After a statement altering or replacing an object that then depends on
-- an object of a temporary schema (column_guard.c bh_check_replaced()),
-- only the tagged tables that may reach the altered object by pg_depend
-- are checked (bh_objects_reaching(), read backwards: what depends on it,
-- the type or relation it is an internal part of, a generated column's
-- table), not every tagged table (which waited for other sessions' locks
-- on them: test/t/345).  Each route from a tagged column to the object
-- altered is still found, and refused (0A000): a domain over an array of
-- a domain whose DEFAULT calls the function replaced; a view's row type
-- (its rule calls the function); a generated column of a partitioned
-- tagged table; a table's row type after ALTER TABLE ... OF a temporary
-- type.  Not refused: a plain DEFAULT calling the function (PostgreSQL
-- drops the default, not the column), and an ALTER of an untagged table
-- with a column of a temporary row type that no tagged table reaches.
\set VERBOSITY terse
CREATE SCHEMA s45f;
CREATE FUNCTION s45f.f() RETURNS int LANGUAGE sql IMMUTABLE RETURN 1;
CREATE FUNCTION s45f.k() RETURNS int LANGUAGE sql IMMUTABLE RETURN 2;
CREATE FUNCTION s45f.g(t text) RETURNS text LANGUAGE sql IMMUTABLE RETURN upper(t);
CREATE FUNCTION s45f.h() RETURNS text LANGUAGE sql IMMUTABLE RETURN 'h';
CREATE DOMAIN s45f.d1 AS int DEFAULT s45f.f();
CREATE DOMAIN s45f.d2 AS s45f.d1[];
CREATE VIEW s45f.vw AS SELECT s45f.k() AS x;
CREATE TABLE s45f.rowsrc (a int);
CREATE TABLE s45f.near (id int PRIMARY KEY, patient_id text, v s45f.d2);
CREATE TABLE s45f.viewed (id int PRIMARY KEY, patient_id text, w s45f.vw);
CREATE TABLE s45f.parted (id int PRIMARY KEY, patient_id text, body text,
  loud text GENERATED ALWAYS AS (s45f.g(body)) STORED) PARTITION BY RANGE (id);
CREATE TABLE s45f.parted_1 PARTITION OF s45f.parted FOR VALUES FROM (0) TO (100);
CREATE TABLE s45f.dflt (id int PRIMARY KEY, patient_id text, note text DEFAULT s45f.h());
CREATE TABLE s45f.holder (id int PRIMARY KEY, patient_id text, rs s45f.rowsrc);
INSERT INTO s45f.near VALUES (1, 'pat_1', '{1}');
INSERT INTO s45f.viewed VALUES (1, 'pat_1', ROW(2));
INSERT INTO s45f.parted (id, patient_id, body) VALUES (1, 'pat_1', 'a');
INSERT INTO s45f.dflt (id, patient_id) VALUES (1, 'pat_1');
INSERT INTO s45f.holder VALUES (1, 'pat_1', ROW(3));
SELECT bh_audit.tag_table('s45f.near', 'S45fNear', 'id', 'patient_id');
SELECT bh_audit.tag_table('s45f.viewed', 'S45fViewed', 'id', 'patient_id');
SELECT bh_audit.tag_table('s45f.parted', 'S45fParted', 'id', 'patient_id');
SELECT bh_audit.tag_table('s45f.dflt', 'S45fDflt', 'id', 'patient_id');
SELECT bh_audit.tag_table('s45f.holder', 'S45fHolder', 'id', 'patient_id');
CREATE FUNCTION pg_temp.one() RETURNS int LANGUAGE sql IMMUTABLE RETURN 1;
CREATE FUNCTION pg_temp.up(t text) RETURNS text LANGUAGE sql IMMUTABLE RETURN upper(t);
CREATE FUNCTION pg_temp.hh() RETURNS text LANGUAGE sql IMMUTABLE RETURN 'hh';
CREATE TYPE pg_temp.tt AS (a int);
CREATE TEMP TABLE trow (z int);
CREATE TABLE s45f.scratch (a int, b text, r trow);
CREATE FUNCTION pg_temp.try(what text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN what || ': allowed';
EXCEPTION WHEN feature_not_supported THEN
  RETURN what || ': refused: ' || regexp_replace(SQLERRM, 'pg_temp_\d+', 'pg_temp_N', 'g');
END$$;

-- 1. the function a domain's DEFAULT calls, the domain under an array
-- under another domain a tagged column is of: refused
SELECT pg_temp.try('replace f (domain over array of domain)',
  'CREATE OR REPLACE FUNCTION s45f.f() RETURNS int LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT pg_temp.one(); END');
-- 2. the function a view calls, a tagged column of the view's row type: refused
SELECT pg_temp.try('replace k (view row type)',
  'CREATE OR REPLACE FUNCTION s45f.k() RETURNS int LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT pg_temp.one(); END');
-- 3. the function a generated column of a partitioned tagged table calls: refused
SELECT pg_temp.try('replace g (generated column, partitioned)',
  'CREATE OR REPLACE FUNCTION s45f.g(t text) RETURNS text LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT pg_temp.up(t); END');
-- 4. an untagged table whose row type a tagged column is of, made a typed
-- table of a temporary type: refused
SELECT pg_temp.try('ALTER TABLE rowsrc OF temporary type',
  'ALTER TABLE s45f.rowsrc OF pg_temp.tt');
-- none of them depends on a temporary object
SELECT count(*) AS temp_deps FROM pg_depend
  WHERE refobjid IN (SELECT oid FROM pg_proc WHERE pronamespace = pg_my_temp_schema()
                     UNION ALL SELECT oid FROM pg_type WHERE typnamespace = pg_my_temp_schema())
    AND objid IN ('s45f.f()'::regprocedure, 's45f.k()'::regprocedure,
                  's45f.g(text)'::regprocedure, 's45f.rowsrc'::regclass);
-- 5. the function a plain DEFAULT of a tagged table calls: allowed
SELECT pg_temp.try('replace h (plain DEFAULT)',
  'CREATE OR REPLACE FUNCTION s45f.h() RETURNS text LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT pg_temp.hh(); END');
-- 6. an untagged table with a column of a temporary row type, which no
-- tagged table reaches: allowed
SELECT pg_temp.try('ALTER TABLE scratch RENAME COLUMN',
  'ALTER TABLE s45f.scratch RENAME COLUMN b TO c');
SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
  WHERE attrelid = 's45f.scratch'::regclass AND attnum > 0;
-- the tagged tables' rows are as they were
SELECT id, patient_id, v FROM s45f.near;
SELECT id, patient_id, w FROM s45f.viewed;
SELECT id, patient_id, body, loud FROM s45f.parted;
SELECT id, patient_id, note FROM s45f.dflt;
SELECT id, patient_id, rs FROM s45f.holder;

ALTER TABLE s45f.dflt ALTER COLUMN note DROP DEFAULT;
DROP TABLE s45f.scratch;
SELECT bh_audit.untag_table(tbl) FROM bh_audit.tagged_tables
  WHERE schema_name = 's45f' ORDER BY table_name;
DROP SCHEMA s45f CASCADE;
\set VERBOSITY default
