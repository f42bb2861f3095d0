-- A CREATE TABLE ... INHERITS / PARTITION OF run from a cached plan (a
-- PL/pgSQL function's statement) must create the table PostgreSQL creates
-- under the search_path of each call.  The configuration guard's lookup of
-- the creation schema (bh_guard_lock_named(), config_guard.c) marks the
-- cached statement's RangeVar temporary (RangeVarAdjustRelationPersistence
-- on a read-only tree), so a later call with pg_temp no longer first in
-- search_path created a TEMPORARY table, dropped at the session's end.
-- (Found failing.)
CREATE TABLE cc_parent (a int);
CREATE FUNCTION cc_make() RETURNS void LANGUAGE plpgsql
  AS $$ BEGIN CREATE TABLE cc_kid () INHERITS (cc_parent); END $$;
SET search_path = pg_temp, public;
SELECT cc_make();
SELECT n.nspname LIKE 'pg_temp%' AS in_temp_schema, c.relpersistence
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'cc_kid';
DROP TABLE cc_kid;
RESET search_path;
SELECT cc_make();
SELECT n.nspname LIKE 'pg_temp%' AS in_temp_schema, c.relpersistence
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'cc_kid';
DROP TABLE cc_kid;
DROP FUNCTION cc_make();
DROP TABLE cc_parent;
