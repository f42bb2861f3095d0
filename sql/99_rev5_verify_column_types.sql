-- verify_chain() and chain_failures() refuse, with the sealer's 42P16, a
-- ledger whose columns do not have the install script's types
-- (sql-reference.md), before they read any value: a hash_alg a superuser
-- changed to bigint (dropped and added back: a conversion by USING is
-- refused, 99_s43e_ledger_alter_rewrite), or the event column
-- dropped (its generated columns with it) and added back as json, must not
-- be read as text or jsonb (the walk read them before checking the
-- columns: the server crashed, SIGSEGV, at the first of these).
SELECT bh_audit.emit('READ', 'Doc', 'rev5_evtype', 'p_rev5_evtype') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
\set VERBOSITY terse
BEGIN;
ALTER TABLE bh_audit.events DROP COLUMN hash_alg, ADD COLUMN hash_alg bigint DEFAULT 1;
SELECT result FROM bh_audit.verify_chain();
ROLLBACK;
BEGIN;
ALTER TABLE bh_audit.events DROP COLUMN event CASCADE;
ALTER TABLE bh_audit.events ADD COLUMN event json
  DEFAULT '{"a": "0123456789012345678901234567890123456789"}';
ALTER TABLE bh_audit.events ADD COLUMN event_id uuid;
SELECT result FROM bh_audit.verify_chain();
ROLLBACK;
\set VERBOSITY default
SELECT result FROM bh_audit.verify_chain();
