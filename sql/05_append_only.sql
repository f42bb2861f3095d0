-- bh_audit.events is append-only for everyone, superusers included.
SELECT bh_audit.emit('READ', 'Patient', 'pat_g', 'pat_g') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) > 0 AS has_events FROM bh_audit.events;

\set VERBOSITY default
UPDATE bh_audit.events SET event = '{}' WHERE seq = 1;
DELETE FROM bh_audit.events WHERE seq = 1;
DELETE FROM bh_audit.events WHERE false;
TRUNCATE bh_audit.events;
INSERT INTO bh_audit.events (seq, event, hash_alg, event_hash)
VALUES (-1, '{"event_id": "00000000-0000-4000-8000-000000000000", "timestamp": "2026-01-01T00:00:00Z"}', 'sha256', 'x');

-- session_replication_role does not switch the guard off.
SET session_replication_role = replica;
DELETE FROM bh_audit.events;
RESET session_replication_role;

-- Nothing was lost.
SELECT result FROM bh_audit.verify_chain();

-- Without the reader role there is no access at all.
CREATE ROLE bh_regress_nobody;
SET ROLE bh_regress_nobody;
SELECT count(*) FROM bh_audit.events;
SELECT count(*) FROM bh_audit.queue;
SELECT * FROM bh_audit.verify_chain();
SELECT * FROM bh_audit.export_jsonl() LIMIT 1;
SELECT bh_audit.seal();
-- ... but applications may emit.
SELECT bh_audit.emit('READ', 'Patient', 'pat_app', 'pat_app') IS NOT NULL AS app_emitted;
RESET ROLE;

-- The reader may read, verify and export.
GRANT bh_audit_reader TO bh_regress_nobody;
SET ROLE bh_regress_nobody;
SELECT count(*) > 0 AS reader_reads FROM bh_audit.events;
SELECT result FROM bh_audit.verify_chain();
SELECT count(*) > 0 AS reader_exports FROM bh_audit.export_jsonl();
SELECT seq IS NOT NULL AS reader_head FROM bh_audit.chain_head();
SELECT queued_events >= 0 AS reader_stats FROM bh_audit.stats();
UPDATE bh_audit.events SET event = '{}';
RESET ROLE;
REVOKE bh_audit_reader FROM bh_regress_nobody;
DROP ROLE bh_regress_nobody;
