-- bh_audit's objects are owned by superusers only: ALTER ... OWNER TO and
-- REASSIGN OWNED giving one to a role that is no superuser are refused
-- (99_s41h_catalog_owner_untag).  The same end was open the other way
-- round: a superuser that owns one loses the attribute (ALTER ROLE ...
-- NOSUPERUSER, in any spelling, among other options) and, as owner, may
-- then grant itself the ledger, alter it, or drop the schema.  Refused,
-- naming the role (42501); a role that owns nothing of bh_audit's, and
-- every other change of a role, is let through; a role that may not
-- change the attribute gets PostgreSQL's refusal.
CREATE ROLE regress_s42d_dba SUPERUSER;
CREATE ROLE regress_s42d_plain;
ALTER TABLE bh_audit.tags OWNER TO regress_s42d_dba;
-- the error, whole
ALTER ROLE regress_s42d_dba NOSUPERUSER;
\set VERBOSITY terse
-- other spellings, and among other options
ALTER ROLE regress_s42d_dba WITH NOSUPERUSER;
ALTER ROLE regress_s42d_dba nosuperuser;
ALTER USER regress_s42d_dba CREATEDB NOSUPERUSER CONNECTION LIMIT 3;
ALTER ROLE regress_s42d_dba WITH LOGIN NOSUPERUSER PASSWORD NULL;
SET ROLE regress_s42d_dba;
ALTER ROLE CURRENT_USER NOSUPERUSER;
RESET ROLE;
-- still a superuser, and none of the other options took effect
SELECT rolsuper, rolcreatedb, rolcanlogin, rolconnlimit FROM pg_authid
 WHERE rolname = 'regress_s42d_dba';
-- a role that may not change the attribute: PostgreSQL's refusal
SET ROLE regress_s42d_plain;
ALTER ROLE regress_s42d_dba NOSUPERUSER;
RESET ROLE;
-- other changes of the role, and keeping the attribute, are let through
ALTER ROLE regress_s42d_dba CREATEDB CONNECTION LIMIT 2;
ALTER ROLE regress_s42d_dba SUPERUSER;
ALTER ROLE regress_s42d_dba WITH SUPERUSER NOCREATEDB;
SELECT rolsuper, rolcreatedb, rolconnlimit FROM pg_authid WHERE rolname = 'regress_s42d_dba';
-- each kind of object: the ledger, a function, the schema
ALTER TABLE bh_audit.tags OWNER TO CURRENT_USER;
ALTER TABLE bh_audit.events OWNER TO regress_s42d_dba;
ALTER ROLE regress_s42d_dba NOSUPERUSER;
ALTER TABLE bh_audit.events OWNER TO CURRENT_USER;
ALTER FUNCTION bh_audit.export_jsonl(bigint, bigint) OWNER TO regress_s42d_dba;
ALTER ROLE regress_s42d_dba NOSUPERUSER;
ALTER FUNCTION bh_audit.export_jsonl(bigint, bigint) OWNER TO CURRENT_USER;
ALTER SCHEMA bh_audit OWNER TO regress_s42d_dba;
ALTER ROLE regress_s42d_dba NOSUPERUSER;
ALTER SCHEMA bh_audit OWNER TO CURRENT_USER;
-- the queue (its identity sequence follows it)
ALTER TABLE bh_audit.queue OWNER TO regress_s42d_dba;
ALTER ROLE regress_s42d_dba NOSUPERUSER;
ALTER TABLE bh_audit.queue OWNER TO CURRENT_USER;
SELECT rolsuper FROM pg_authid WHERE rolname = 'regress_s42d_dba';
-- the bootstrap superuser, who installed the extension here (rolled
-- back, whatever happens)
BEGIN;
SELECT regress_err(format('ALTER ROLE %I NOSUPERUSER', (SELECT rolname FROM pg_authid WHERE oid = 10)))
       LIKE '42501: cannot remove the superuser attribute from role %' AS bootstrap_refused;
ROLLBACK;
SELECT rolsuper FROM pg_authid WHERE oid = 10;
-- owning nothing of bh_audit's (a table of its own): let through
CREATE TABLE s42d_own_table (a int);
ALTER TABLE s42d_own_table OWNER TO regress_s42d_dba;
ALTER ROLE regress_s42d_dba NOSUPERUSER;
SELECT rolsuper FROM pg_authid WHERE rolname = 'regress_s42d_dba';
ALTER ROLE regress_s42d_dba SUPERUSER;
DROP TABLE s42d_own_table;
-- the extension's objects all superusers' again
SELECT count(*) AS owned_by_others
  FROM pg_class c WHERE c.relnamespace = 'bh_audit'::regnamespace
   AND NOT (SELECT rolsuper FROM pg_roles WHERE oid = c.relowner);
DROP ROLE regress_s42d_dba;
DROP ROLE regress_s42d_plain;
