-- ALTER ROLE ... NOSUPERUSER of a superuser is refused when it owns, in
-- another database, an object granted to bh_audit_reader or bh_audit_admin
-- (99_s42d_owner_nosuperuser, t/283): from here, pg_shdepend does not tell
-- bh_audit's ledger or functions there from an application's table granted
-- to those roles (auditors may read a lookup table).  Kept refused (the
-- safe side), but the refusal says what it found -- objects granted to
-- that role in that database -- not "objects of extension bh_audit", and
-- hints at running the statement in that database, where its own objects
-- are told exactly: there, the same demotion goes through.
CREATE ROLE regress_s42rd_dba SUPERUSER;
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_s42rd_app;
\c regress_s42rd_app
SELECT count(*) AS bh_audit_here FROM pg_extension WHERE extname = 'bh_audit';
CREATE TABLE app_lookup (code int);
ALTER TABLE app_lookup OWNER TO regress_s42rd_dba;
GRANT SELECT ON app_lookup TO bh_audit_reader;
\c :regress_db
-- the error, whole
ALTER ROLE regress_s42rd_dba NOSUPERUSER;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT rolsuper FROM pg_authid WHERE rolname = 'regress_s42rd_dba';
-- run in that database: let through
\c regress_s42rd_app
ALTER ROLE regress_s42rd_dba NOSUPERUSER;
SELECT rolsuper FROM pg_authid WHERE rolname = 'regress_s42rd_dba';
-- the same through bh_audit_admin
ALTER ROLE regress_s42rd_dba SUPERUSER;
REVOKE SELECT ON app_lookup FROM bh_audit_reader;
GRANT SELECT ON app_lookup TO bh_audit_admin;
\c :regress_db
\set VERBOSITY terse
ALTER ROLE regress_s42rd_dba NOSUPERUSER;
SELECT rolsuper FROM pg_authid WHERE rolname = 'regress_s42rd_dba';
\c regress_s42rd_app
ALTER ROLE regress_s42rd_dba NOSUPERUSER;
SELECT rolsuper FROM pg_authid WHERE rolname = 'regress_s42rd_dba';
\c :regress_db
DROP DATABASE regress_s42rd_app;
DROP ROLE regress_s42rd_dba;
