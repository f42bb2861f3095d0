-- LOCK TABLE of a view checks the tables the view reads with its owner's
-- privileges: a view whose owner may not read a tagged table refuses the
-- lock (pg_dump's ACCESS SHARE) — a READ DENIED of the tagged table,
-- whoever locks the view, a superuser too (who passes every check but the
-- view owner's, which PostgreSQL makes all the same).
CREATE SCHEMA slv;
CREATE TABLE slv.notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO slv.notes VALUES (1, 'p1', 'b1');
SELECT bh_audit.tag_table('slv.notes', 'SlvNote', 'id', 'patient_id');
CREATE ROLE regress_slv_owner;
CREATE ROLE regress_slv_user;
GRANT USAGE ON SCHEMA slv TO regress_slv_owner, regress_slv_user;
CREATE VIEW slv.v AS SELECT * FROM slv.notes;
ALTER VIEW slv.v OWNER TO regress_slv_owner;
GRANT SELECT ON slv.v TO regress_slv_user;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE slv_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- a role that may lock the view: refused the tagged table, its denial
SET ROLE regress_slv_user;
BEGIN;
LOCK TABLE slv.v IN ACCESS SHARE MODE;
ROLLBACK;
RESET ROLE;
-- a superuser: the same refusal, the same denial
BEGIN;
LOCK TABLE slv.v IN ACCESS SHARE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE slv.v IN ROW EXCLUSIVE MODE;
ROLLBACK;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type, resource_type,
       event -> 'metadata' ->> 'table' AS tbl,
       event -> 'outcome' ->> 'error_message' AS message,
       event -> 'metadata' ->> 'db_role' AS db_role
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM slv_mark) AND resource_type = 'SlvNote'
 ORDER BY seq;

DROP VIEW slv.v;
SELECT bh_audit.untag_table('slv.notes');
DROP TABLE slv.notes;
DROP SCHEMA slv;
DROP ROLE regress_slv_owner, regress_slv_user;
