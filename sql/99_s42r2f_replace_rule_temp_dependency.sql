-- A column of a tagged table cannot depend on the session's temporary
-- schema through its type: CREATE OR REPLACE VIEW of a view whose row type
-- a column is of, calling a pg_temp function, is refused (0A000,
-- config_guard.c's bh_check_replaced()).  The same view rule can be
-- replaced by CREATE OR REPLACE RULE "_RETURN" ... ON SELECT TO the view
-- (a RuleStmt, not checked): at the session's end PostgreSQL drops the
-- function, the view's rule and with it the view, its row type and the
-- tagged column with its values.  Right: refused (0A000), as the CREATE OR
-- REPLACE VIEW doing the same is.  A plpgsql function merely using a
-- temporary table at run time, replaced, is not refused (its body is no
-- dependency), nor is a BEGIN ATOMIC one reaching a temporary table that no
-- tagged column's type reaches.
\set VERBOSITY terse
CREATE SCHEMA s42r2f;
CREATE TABLE s42r2f.notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO s42r2f.notes VALUES (1, 'pat_1', 'a');
SELECT bh_audit.tag_table('s42r2f.notes', 'R2fRule', 'id', 'patient_id');
CREATE VIEW s42r2f.addr AS SELECT 'main st'::text AS street;
ALTER TABLE s42r2f.notes ADD COLUMN home s42r2f.addr;
CREATE FUNCTION pg_temp.street_tmp() RETURNS text LANGUAGE sql AS $$SELECT 'tmp st'$$;
CREATE TEMP TABLE s42r2f_tt (k int);
-- not refused: run-time use of a temporary table, no tagged column reaching it
CREATE FUNCTION s42r2f.uses_temp() RETURNS bigint LANGUAGE plpgsql
  AS $$BEGIN RETURN (SELECT count(*) FROM pg_temp.s42r2f_tt); END$$;
CREATE OR REPLACE FUNCTION s42r2f.uses_temp() RETURNS bigint LANGUAGE plpgsql
  AS $$BEGIN RETURN (SELECT count(*) + 1 FROM pg_temp.s42r2f_tt); END$$;
CREATE FUNCTION s42r2f.atomic_temp() RETURNS bigint LANGUAGE sql
  BEGIN ATOMIC SELECT count(*) FROM pg_temp.s42r2f_tt; END;
CREATE OR REPLACE FUNCTION s42r2f.atomic_temp() RETURNS bigint LANGUAGE sql
  BEGIN ATOMIC SELECT count(*) + 1 FROM pg_temp.s42r2f_tt; END;
-- control: CREATE OR REPLACE VIEW calling pg_temp is refused
DO $$BEGIN
  CREATE OR REPLACE VIEW s42r2f.addr AS SELECT pg_temp.street_tmp() AS street;
  RAISE NOTICE 'CREATE OR REPLACE VIEW: allowed';
EXCEPTION WHEN feature_not_supported THEN RAISE NOTICE 'CREATE OR REPLACE VIEW: refused (0A000)';
END$$;
-- the view's rule replaced by one calling pg_temp: refused
DO $$BEGIN
  CREATE OR REPLACE RULE "_RETURN" AS ON SELECT TO s42r2f.addr
    DO INSTEAD SELECT pg_temp.street_tmp() AS street;
  RAISE NOTICE 'CREATE OR REPLACE RULE: allowed';
EXCEPTION WHEN feature_not_supported THEN RAISE NOTICE 'CREATE OR REPLACE RULE: refused (0A000)';
END$$;
-- whatever happened, nothing of the view depends on pg_temp now
CREATE OR REPLACE VIEW s42r2f.addr AS SELECT 'main st'::text AS street;
SELECT count(*) AS on_temp FROM pg_depend
 WHERE refclassid = 'pg_proc'::regclass AND refobjid = 'pg_temp.street_tmp'::regproc;
DROP FUNCTION pg_temp.street_tmp();
DROP TABLE s42r2f_tt CASCADE;
SELECT bh_audit.untag_table('s42r2f.notes');
DROP SCHEMA s42r2f CASCADE;
\set VERBOSITY default
