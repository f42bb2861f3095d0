-- bh_audit.events is append-only for everyone, superusers included.
SELECT bh_audit.emit('READ', 'Patient', 'pat_g', 'pat_g') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) > 0 AS has_events FROM bh_audit.events;

\set VERBOSITY default
UPDATE bh_audit.events SET event = '{}' WHERE seq = 1;
DELETE FROM bh_audit.events WHERE seq = 1;
DELETE FROM bh_audit.events WHERE false;
TRUNCATE bh_audit.events;
-- Inserting is refused unless the row continues the chain exactly (what a
-- restore replays): the wrong seq, the wrong link, the wrong hash.
-- (seal() first: refused statements on the ledger are themselves recorded,
-- so the head moves after each of them.)
CREATE TEMP TABLE forged AS
SELECT '{"schema_version": "1.1", "event_id": "00000000-0000-4000-8000-000000000000", "timestamp": "2026-01-01T00:00:00Z"}'::jsonb AS event;
CREATE TEMP VIEW head AS SELECT seq, event_hash FROM bh_audit.events ORDER BY seq DESC LIMIT 1;
SELECT bh_audit.seal() >= 0 AS sealed;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT h.seq + 5, f.event, 'sha256', h.event_hash, bh_audit.event_hash(f.event::json, h.event_hash) FROM head h, forged f;
SELECT bh_audit.seal() >= 0 AS sealed;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT h.seq + 1, f.event, 'sha256', 'abc', bh_audit.event_hash(f.event::json, 'abc') FROM head h, forged f;
SELECT bh_audit.seal() >= 0 AS sealed;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT h.seq + 1, f.event, 'sha256', h.event_hash, 'not-the-hash' FROM head h, forged f;
SELECT bh_audit.seal() >= 0 AS sealed;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT h.seq + 1, f.event, 'md5', h.event_hash, 'x' FROM head h, forged f;
SELECT bh_audit.seal() >= 0 AS sealed;
-- A correctly chained row is accepted (a restore), and then verifies.
BEGIN;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT h.seq + 1, f.event, 'sha384', h.event_hash, bh_audit.event_hash(f.event::json, h.event_hash, 'sha384')
  FROM head h, forged f;
SELECT result FROM bh_audit.verify_chain();
SELECT count(*) AS replayed FROM bh_audit.events WHERE event_id = '00000000-0000-4000-8000-000000000000';
ROLLBACK;

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

-- The reader may read, verify and export: in one snapshot (the sealer may
-- chain the events above meanwhile) the export has a line for each event,
-- the head is the last event, stats() names the sealer.
GRANT bh_audit_reader TO bh_regress_nobody;
SELECT pid AS sealer FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer' \gset
SET ROLE bh_regress_nobody;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) > 0 AS reader_reads FROM bh_audit.events;
SELECT result FROM bh_audit.verify_chain();
SELECT (SELECT count(*) FROM bh_audit.export_jsonl()) = (SELECT count(*) FROM bh_audit.events)
       AS reader_exports_each;
SELECT h.seq = e.seq AND h.event_hash = e.event_hash AS reader_head
  FROM bh_audit.chain_head() h, (SELECT seq, event_hash FROM bh_audit.events ORDER BY seq DESC LIMIT 1) e;
SELECT sealer_pid = :sealer AS reader_stats FROM bh_audit.stats();
COMMIT;
UPDATE bh_audit.events SET event = '{}';
RESET ROLE;

-- Row-level security on the ledger restricting the reader: the export,
-- which would show every event, refuses; verification (hashes and counts)
-- and the policy's own rows stay; a role the policy does not restrict
-- exports as before.
ALTER TABLE bh_audit.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY bh_regress_own ON bh_audit.events FOR SELECT TO bh_regress_nobody
  USING (patient_id = 'pat_app');
SELECT bh_audit.seal() >= 0 AS sealed;
SET ROLE bh_regress_nobody;
SELECT count(*) AS policy_rows FROM bh_audit.events;
SELECT * FROM bh_audit.export_jsonl() LIMIT 1;
SELECT result FROM bh_audit.verify_chain();
RESET ROLE;
SELECT count(*) = (SELECT count(*) FROM bh_audit.events) AS superuser_exports_all
  FROM bh_audit.export_jsonl();
DROP POLICY bh_regress_own ON bh_audit.events;
ALTER TABLE bh_audit.events DISABLE ROW LEVEL SECURITY;

REVOKE bh_audit_reader FROM bh_regress_nobody;
DROP ROLE bh_regress_nobody;
