-- The ledger's append-only guard reads the chain's head with SQL of its
-- own (guard.c, bh_stored_head()): the extension's statement, not a read
-- of the role inserting.  A superuser's row gets the guard's verdict.  A
-- role that is no superuser, granted INSERT on bh_audit.events or
-- bh_audit.queue, is refused before any row reaches a trigger (only the
-- extension and superusers write them, own_acl.c: a restore is a
-- superuser's), and no DENIED read of the ledger is recorded for a read
-- it never made.
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TABLE ghr_mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE ROLE regress_ghr_restore;
GRANT USAGE ON SCHEMA bh_audit TO regress_ghr_restore;
GRANT INSERT ON bh_audit.events TO regress_ghr_restore;
\set VERBOSITY terse
-- a superuser's row that does not continue the chain: the guard refuses it
INSERT INTO bh_audit.events (seq, event, event_hash, prev_event_hash)
VALUES (1000000, '{}', 'x', 'y');
-- the same row by a role that is no superuser: refused, whatever it was granted
SET ROLE regress_ghr_restore;
INSERT INTO bh_audit.events (seq, event, event_hash, prev_event_hash)
VALUES (1000000, '{}', 'x', 'y');
RESET ROLE;
-- rows of the queue by a role granted INSERT: refused too
GRANT INSERT ON bh_audit.queue TO regress_ghr_restore;
BEGIN;
SET LOCAL ROLE regress_ghr_restore;
INSERT INTO bh_audit.queue (events) VALUES (ARRAY[]::jsonb[]);
ROLLBACK;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
-- one failed write of the ledger each, no denied read
SELECT action, resource_type, outcome, error_type, event -> 'metadata' ? 'db_role' AS as_role
  FROM bh_audit.events WHERE seq > (SELECT seq FROM ghr_mark) ORDER BY seq;
REVOKE ALL ON bh_audit.events, bh_audit.queue FROM regress_ghr_restore;
REVOKE ALL ON SCHEMA bh_audit FROM regress_ghr_restore;
DROP ROLE regress_ghr_restore;
DROP TABLE ghr_mark;
