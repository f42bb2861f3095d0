-- export_jsonl() reads bh_audit.events' event_hash, prev_event_hash and
-- hash_alg as text and event as jsonb: a column a superuser changed to
-- another type (dropped and added as a bigint: a conversion by USING is
-- refused, 99_s43e_ledger_alter_rewrite) is refused
-- with the sealer's 42P16, as verify_chain() refuses it, not read as text
-- (the server crashed, SIGSEGV).
SELECT bh_audit.emit('READ', 'Doc', 'rev5_export', 'p_rev5_export') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
\set VERBOSITY terse
BEGIN;
ALTER TABLE bh_audit.events DROP COLUMN event_hash, ADD COLUMN event_hash bigint DEFAULT 1;
SELECT count(*) > 0 AS exported FROM bh_audit.export_jsonl();
ROLLBACK;
\set VERBOSITY default
SELECT count(*) > 0 AS exported FROM bh_audit.export_jsonl();
