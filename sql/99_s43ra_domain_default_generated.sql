-- A generated column of a tagged table depends on everything its
-- expression depends on, a domain it casts to included (not the column's
-- type: the column is text).  ALTER DOMAIN ... SET DEFAULT of that domain
-- to a function of the session's temporary schema makes the domain depend
-- on it: at the session's end PostgreSQL drops the function with CASCADE,
-- the domain with it, the expression and so the column with its values; a
-- tagged patient column that is one cannot be dropped, so the exit fails
-- and the temporary schema stays behind (test/t/341).  The check after
-- ALTER DOMAIN (column_guard.c, bh_check_domain_default()) looks only at
-- the columns OF the domain (bh_columns_of_type()), none here, and returns.
-- Right: refused (0A000) as CREATE OR REPLACE FUNCTION of a function the
-- expression calls is (bh_check_replaced()).
\set VERBOSITY terse
CREATE SCHEMA s43ra_dd;
CREATE DOMAIN s43ra_dd.code AS text;
CREATE TABLE s43ra_dd.notes (id int PRIMARY KEY, patient_id text, body text,
  norm text GENERATED ALWAYS AS ((body::s43ra_dd.code)::text) STORED);
INSERT INTO s43ra_dd.notes (id, patient_id, body) VALUES (1, 'pat_1', 'a');
SELECT bh_audit.tag_table('s43ra_dd.notes', 'S43raDdNote', 'id', 'patient_id');
-- a tagged patient column that is such a generated column
CREATE DOMAIN s43ra_dd.pid AS text;
CREATE TABLE s43ra_dd.gen (id int PRIMARY KEY, body text,
  patient_id text GENERATED ALWAYS AS ((body::s43ra_dd.pid)::text) STORED);
INSERT INTO s43ra_dd.gen (id, body) VALUES (1, 'pat_g');
SELECT bh_audit.tag_table('s43ra_dd.gen', 'S43raDdGen', 'id', 'patient_id');
CREATE FUNCTION pg_temp.k() RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'k'$$;
CREATE FUNCTION pg_temp.try(what text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN what || ': allowed';
EXCEPTION WHEN feature_not_supported THEN
  RETURN what || ': refused (0A000)';
END$$;

-- 1. SET DEFAULT of the domain a generated column casts to: refused
SELECT pg_temp.try('ALTER DOMAIN SET DEFAULT, generated column casts to it',
  'ALTER DOMAIN s43ra_dd.code SET DEFAULT pg_temp.k()');
-- 2. the same, the generated column being the tagged patient column: refused
SELECT pg_temp.try('ALTER DOMAIN SET DEFAULT, generated patient column casts to it',
  'ALTER DOMAIN s43ra_dd.pid SET DEFAULT pg_temp.k()');
-- the domains depend on no temporary function
SELECT t.typname, count(d.refobjid) AS temp_deps
  FROM pg_type t
  LEFT JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid
   AND d.refclassid = 'pg_proc'::regclass
   AND d.refobjid IN (SELECT oid FROM pg_proc WHERE pronamespace = pg_my_temp_schema())
  WHERE t.typnamespace = 's43ra_dd'::regnamespace AND t.typtype = 'd'
  GROUP BY 1 ORDER BY 1;
-- 3. control: SET DEFAULT to a permanent function, allowed
SELECT pg_temp.try('ALTER DOMAIN SET DEFAULT, permanent function',
  $$ALTER DOMAIN s43ra_dd.code SET DEFAULT lower('K')$$);

ALTER DOMAIN s43ra_dd.code DROP DEFAULT;
ALTER DOMAIN s43ra_dd.pid DROP DEFAULT;
SELECT bh_audit.untag_table(tbl) FROM bh_audit.tagged_tables
  WHERE schema_name = 's43ra_dd' ORDER BY table_name;
DROP SCHEMA s43ra_dd CASCADE;
\set VERBOSITY default
