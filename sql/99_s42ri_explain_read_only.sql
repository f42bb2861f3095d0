-- A plain EXPLAIN (no ANALYZE) of a write refused a tagged table inside a
-- read-only transaction: PostgreSQL skips its read-only check for an
-- EXPLAIN without ANALYZE (ExecCheckXactReadOnly runs only when the plan
-- is to be run) and raises "permission denied for table" as the executor
-- starts, as outside a read-only transaction.  That refusal is a DENIED
-- event (docs/read-capture.md "Denied access"), as the same EXPLAIN in a
-- read-write transaction is one.
CREATE SCHEMA sro;
CREATE TABLE sro.notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO sro.notes VALUES (1, 'p1', 'a');
SELECT bh_audit.tag_table('sro.notes', 'SroNote', 'id', 'patient_id');
CREATE ROLE regress_sro_user;
GRANT USAGE ON SCHEMA sro TO regress_sro_user;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE sro_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

SET ROLE regress_sro_user;
-- read-write: recorded
EXPLAIN (COSTS OFF) INSERT INTO sro.notes VALUES (2, 'p2', 'b');
-- read-only: the same refusal, PostgreSQL raises it as well
BEGIN TRANSACTION READ ONLY;
EXPLAIN (COSTS OFF) INSERT INTO sro.notes VALUES (2, 'p2', 'b');
ROLLBACK;
BEGIN TRANSACTION READ ONLY;
EXPLAIN (COSTS OFF) UPDATE sro.notes SET body = 'c';
ROLLBACK;
BEGIN TRANSACTION READ ONLY;
EXPLAIN (COSTS OFF) DELETE FROM sro.notes;
ROLLBACK;
RESET ROLE;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type, resource_type,
       event -> 'metadata' ->> 'table' AS tbl,
       event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM sro_mark) AND resource_type = 'SroNote'
 ORDER BY seq;

SELECT bh_audit.untag_table('sro.notes');
DROP TABLE sro.notes;
DROP SCHEMA sro;
DROP TABLE sro_mark;
DROP ROLE regress_sro_user;
