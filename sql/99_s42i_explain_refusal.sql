-- A plain EXPLAIN refused a tagged table ("permission denied for table
-- notes": PostgreSQL checks the plan's privileges as the executor starts,
-- also for EXPLAIN) is a refused access to it like any other statement's,
-- a DENIED event (docs/read-capture.md "Denied access": a statement
-- refused for lack of table privileges on a tagged table; only a refused
-- call of bh_audit's own functions under EXPLAIN is said to be left out).
-- EXPLAIN ANALYZE of the same is one already; so should a refused EXPLAIN
-- of a write, and of the ledger without bh_audit_reader, be.
CREATE SCHEMA sxr;
CREATE TABLE sxr.notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO sxr.notes VALUES (1, 'p1', 'a');
SELECT bh_audit.tag_table('sxr.notes', 'SxrNote', 'id', 'patient_id');
CREATE ROLE regress_sxr_user;
GRANT USAGE ON SCHEMA sxr TO regress_sxr_user;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE sxr_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

SET ROLE regress_sxr_user;
-- recorded today
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM sxr.notes;
-- not recorded
EXPLAIN (COSTS OFF) SELECT * FROM sxr.notes;
EXPLAIN (COSTS OFF) INSERT INTO sxr.notes VALUES (2, 'p2', 'b');
EXPLAIN (COSTS OFF) SELECT seq FROM bh_audit.events;
RESET ROLE;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type, resource_type,
       event -> 'metadata' ->> 'table' AS tbl,
       event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM sxr_mark) AND resource_type IN ('SxrNote', 'AuditLog')
 ORDER BY seq;

SELECT bh_audit.untag_table('sxr.notes');
DROP TABLE sxr.notes;
DROP SCHEMA sxr;
DROP TABLE sxr_mark;
DROP ROLE regress_sxr_user;
