-- DROP EXTENSION bh_audit revokes the schema's mark (USAGE to
-- bh_audit_reader, own_acl.c bh_schema_unmark()) when the schema bh_audit
-- existed before CREATE EXTENSION and outlives it.  When the schema's owner
-- had given bh_audit_reader USAGE WITH GRANT OPTION and a member passed it
-- on (to an application role), that REVOKE (RESTRICT) fails with "dependent
-- privileges exist", and with it the DBA's DROP EXTENSION.  Right: the
-- DROP EXTENSION succeeds, and the application's grant, which is not the
-- extension's, is left.
CREATE ROLE regress_r3c_dba SUPERUSER;
CREATE ROLE regress_r3c_app;
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_r3c_go;
\c regress_r3c_go
SET client_min_messages = error;
CREATE SCHEMA bh_audit AUTHORIZATION regress_r3c_dba;
GRANT USAGE ON SCHEMA bh_audit TO bh_audit_reader WITH GRANT OPTION;
SET ROLE bh_audit_reader;
GRANT USAGE ON SCHEMA bh_audit TO regress_r3c_app;
RESET ROLE;
CREATE EXTENSION bh_audit;
RESET client_min_messages;
DROP EXTENSION bh_audit;
SELECT count(*) AS bh_audit_here FROM pg_extension WHERE extname = 'bh_audit';
SELECT count(*) AS app_usage_left
  FROM pg_namespace, aclexplode(nspacl) a
 WHERE nspname = 'bh_audit' AND a.grantee = 'regress_r3c_app'::regrole;
SET client_min_messages = error;
DROP SCHEMA bh_audit CASCADE;
RESET client_min_messages;
\c :regress_db
DROP DATABASE regress_r3c_go;
DROP ROLE regress_r3c_app;
DROP ROLE regress_r3c_dba;
