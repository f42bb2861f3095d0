-- A bh_audit schema that existed before CREATE EXTENSION bh_audit (a
-- superuser's: the extension uses it then) is no member of the extension:
-- DROP EXTENSION leaves it, with the grant the install script added to it
-- as a mark (USAGE to bh_audit_reader, so that pg_shdepend shows its owner
-- to the other databases: own_acl.c, bh_owner_elsewhere()).  That mark
-- outlives the extension: from any other database, ALTER ROLE ...
-- NOSUPERUSER of the schema's owner is still refused ("it owns objects
-- granted to bh_audit_reader in database ..."), though that database no
-- longer holds bh_audit, and the database still counts as holding it
-- (an extension the role owns there is taken for bh_audit's).  Right: once
-- the extension is dropped, its mark is gone, and the schema's owner is
-- demoted from anywhere.
CREATE ROLE regress_s43rd_dba SUPERUSER;
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_s43rd_app;
\c regress_s43rd_app
SET client_min_messages = error;
CREATE SCHEMA bh_audit AUTHORIZATION regress_s43rd_dba;
CREATE EXTENSION bh_audit;
DROP EXTENSION bh_audit;
RESET client_min_messages;
SELECT count(*) AS bh_audit_here FROM pg_extension WHERE extname = 'bh_audit';
-- the schema left: no grant to bh_audit_reader any more
SELECT count(*) AS reader_grants_left
  FROM pg_namespace, aclexplode(nspacl) a
 WHERE nspname = 'bh_audit' AND a.grantee = 'bh_audit_reader'::regrole;
\c :regress_db
-- demoted from another database
BEGIN;
ALTER ROLE regress_s43rd_dba NOSUPERUSER;
SELECT rolsuper FROM pg_authid WHERE rolname = 'regress_s43rd_dba';
ROLLBACK;
DROP DATABASE regress_s43rd_app;
DROP ROLE regress_s43rd_dba;
