-- GRANT and REVOKE on a tagged table by a role that holds no privilege on
-- it are refused, an UPDATE denial of the table (a change of its
-- privileges), whatever the statement's form: privileges on some of its
-- columns ("permission denied for column ... of relation ..."), a table's
-- privileges named with a column's (refused as the table), or ON ALL
-- TABLES IN SCHEMA (refused as the table, the statement naming none).
CREATE SCHEMA sgd;
CREATE TABLE sgd.notes (id int PRIMARY KEY, patient_id text, body text);
SELECT bh_audit.tag_table('sgd.notes', 'SgdNote', 'id', 'patient_id');
CREATE ROLE regress_sgd_none;
CREATE ROLE regress_sgd_other;
GRANT USAGE ON SCHEMA sgd TO regress_sgd_none;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE sgd_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

SET ROLE regress_sgd_none;
-- the table's privileges: a denial (as sql/37_denied_access)
GRANT SELECT ON sgd.notes TO regress_sgd_other;
-- a column's
GRANT SELECT (body) ON sgd.notes TO regress_sgd_other;
REVOKE UPDATE (body) ON sgd.notes FROM regress_sgd_other;
-- a table's with a column's
GRANT SELECT (body), UPDATE ON sgd.notes TO regress_sgd_other;
-- every table of the schema
GRANT SELECT ON ALL TABLES IN SCHEMA sgd TO regress_sgd_other;
REVOKE SELECT ON ALL TABLES IN SCHEMA sgd FROM regress_sgd_other;
RESET ROLE;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type, resource_type,
       event -> 'metadata' ->> 'table' AS tbl,
       (event -> 'action' ->> 'phi_touched')::boolean AS phi_touched,
       event -> 'metadata' ->> 'db_role' AS db_role
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM sgd_mark) AND resource_type = 'SgdNote'
 ORDER BY seq;

SELECT bh_audit.untag_table('sgd.notes');
DROP TABLE sgd.notes;
DROP SCHEMA sgd;
DROP ROLE regress_sgd_none, regress_sgd_other;
