-- A column of a tagged table cannot depend on the session's temporary
-- schema through its type (column_guard.c's bh_column_is_temp(), checked at
-- ADD COLUMN, ALTER TYPE, ALTER DOMAIN ... SET DEFAULT, tagging): at the
-- session's end PostgreSQL drops the type and the column with it (a tagged
-- patient column it cannot drop: the exit fails and the temporary schema
-- stays behind).  An object the type depends on can gain the dependency
-- later, unchecked: CREATE OR REPLACE FUNCTION of the function a domain's
-- DEFAULT calls, with a SQL-standard body (BEGIN ATOMIC, whose references
-- are dependencies) calling a pg_temp function; CREATE OR REPLACE VIEW of a
-- view whose row type a column is of, calling one.  Right: refused (0A000),
-- as ALTER DOMAIN ... SET DEFAULT calling it is.
\set VERBOSITY terse
CREATE SCHEMA s42rf2;
CREATE FUNCTION s42rf2.pat_default() RETURNS text LANGUAGE sql
  BEGIN ATOMIC SELECT 'pat_0'; END;
CREATE DOMAIN s42rf2.pat AS text DEFAULT s42rf2.pat_default();
CREATE TABLE s42rf2.notes (id int PRIMARY KEY, patient_id s42rf2.pat, body text);
INSERT INTO s42rf2.notes VALUES (1, 'pat_1', 'a');
SELECT bh_audit.tag_table('s42rf2.notes', 'Rf2Note', 'id', 'patient_id');
CREATE VIEW s42rf2.addr AS SELECT 'main st'::text AS street;
ALTER TABLE s42rf2.notes ADD COLUMN home s42rf2.addr;
CREATE FUNCTION pg_temp.pat_tmp() RETURNS text LANGUAGE sql AS $$SELECT 'pat_t'$$;
-- control: the same dependency given by ALTER DOMAIN ... SET DEFAULT is refused
DO $$BEGIN
  ALTER DOMAIN s42rf2.pat SET DEFAULT pg_temp.pat_tmp();
  RAISE NOTICE 'ALTER DOMAIN: allowed';
EXCEPTION WHEN feature_not_supported THEN RAISE NOTICE 'ALTER DOMAIN: refused (0A000)';
END$$;
-- the domain's DEFAULT's function replaced by one calling pg_temp: refused
DO $$BEGIN
  CREATE OR REPLACE FUNCTION s42rf2.pat_default() RETURNS text LANGUAGE sql
    BEGIN ATOMIC SELECT pg_temp.pat_tmp(); END;
  RAISE NOTICE 'CREATE OR REPLACE FUNCTION: allowed';
EXCEPTION WHEN feature_not_supported THEN RAISE NOTICE 'CREATE OR REPLACE FUNCTION: refused (0A000)';
END$$;
-- the view a column is of replaced by one calling pg_temp: refused
DO $$BEGIN
  CREATE OR REPLACE VIEW s42rf2.addr AS SELECT pg_temp.pat_tmp() AS street;
  RAISE NOTICE 'CREATE OR REPLACE VIEW: allowed';
EXCEPTION WHEN feature_not_supported THEN RAISE NOTICE 'CREATE OR REPLACE VIEW: refused (0A000)';
END$$;
-- whatever happened, nothing of the domain or the view depends on pg_temp now
CREATE OR REPLACE FUNCTION s42rf2.pat_default() RETURNS text LANGUAGE sql
  BEGIN ATOMIC SELECT 'pat_0'; END;
CREATE OR REPLACE VIEW s42rf2.addr AS SELECT 'main st'::text AS street;
DROP FUNCTION pg_temp.pat_tmp();
SELECT bh_audit.untag_table('s42rf2.notes');
DROP SCHEMA s42rf2 CASCADE;
\set VERBOSITY default
