-- A view whose owner may not read a relation of the trail refuses it to
-- whoever reads or locks the view, a superuser too (PostgreSQL checks the
-- view's relations as its owner): a DENIED of that relation.  A
-- superuser's LOCK TABLE of such a view (the relations it reads, checked
-- as its owner) is refused as its read of the ledger through it is, and as
-- any other role's read or lock is: its denial too.  (A superuser's read
-- of the tag catalog's view through such a view is documented as not
-- covered, docs/read-capture.md: not asserted here.)
CREATE SCHEMA stv;
CREATE ROLE regress_stv_owner;
CREATE ROLE regress_stv_user;
GRANT USAGE ON SCHEMA stv TO regress_stv_owner, regress_stv_user;
CREATE VIEW stv.ev AS SELECT seq FROM bh_audit.events;
CREATE VIEW stv.tt AS SELECT * FROM bh_audit.tagged_tables;
ALTER VIEW stv.ev OWNER TO regress_stv_owner;
ALTER VIEW stv.tt OWNER TO regress_stv_owner;
GRANT SELECT ON stv.ev, stv.tt TO regress_stv_user;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE stv_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- another role: each a denial
SET ROLE regress_stv_user;
SELECT count(*) FROM stv.ev;
SELECT count(*) FROM stv.tt;
BEGIN;
LOCK TABLE stv.ev IN ACCESS SHARE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE stv.tt IN ACCESS SHARE MODE;
ROLLBACK;
RESET ROLE;
-- a superuser: the same
SELECT count(*) FROM stv.ev;
BEGIN;
LOCK TABLE stv.ev IN ACCESS SHARE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE stv.tt IN ACCESS SHARE MODE;
ROLLBACK;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type, resource_type,
       event -> 'metadata' ->> 'table' AS tbl,
       event -> 'outcome' ->> 'error_message' AS message,
       event -> 'metadata' ->> 'db_role' AS db_role
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM stv_mark) AND outcome = 'DENIED'
 ORDER BY seq;

DROP VIEW stv.ev, stv.tt;
DROP SCHEMA stv;
DROP ROLE regress_stv_owner, regress_stv_user;
