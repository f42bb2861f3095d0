-- capture_status() names each stored setting that switches capture off
-- for sessions (ALTER ROLE or DATABASE ... SET bh_audit.enabled, made
-- unseen while the library was not preloaded): ALTER ROLE ALL SET, which
-- applies to every role in every database (pg_db_role_setting's row with
-- setrole 0 and setdatabase 0), included, with a problem that says so.
BEGIN;
ALTER ROLE ALL IN DATABASE contrib_regression SET bh_audit.enabled = off;
SELECT tbl, problem FROM bh_audit.capture_status() WHERE problem LIKE '%bh_audit.enabled%';
ROLLBACK;
BEGIN;
ALTER ROLE ALL SET bh_audit.enabled = off;
SELECT count(*) AS rows, count(problem) AS rows_with_problem
  FROM bh_audit.capture_status() WHERE tbl IS NULL;
SELECT count(*) AS names_alter_role_all FROM bh_audit.capture_status()
 WHERE tbl IS NULL AND problem LIKE 'ALTER ROLE ALL SET bh_audit.enabled = ''off''%';
ROLLBACK;
-- nothing left behind
SELECT count(*) AS stored_settings FROM pg_db_role_setting
 WHERE EXISTS (SELECT 1 FROM unnest(setconfig) c WHERE c LIKE 'bh_audit.enabled=%');
