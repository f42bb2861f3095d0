-- verify_chain() and chain_failures() find the ledger's access-review
-- columns (and check their types) for each row they compare with its event
-- (bh_ledger_columns(), ledger_write.c).  Within one transaction, after an
-- ALTER TABLE of bh_audit.events (a column dropped and added again, or a
-- column's type changed), they must see the table as it is then, not as a
-- verification earlier in the same transaction found it: no false
-- column_mismatch, no forged column missed, 42P16 for a changed type as in
-- a new transaction, and no crash.
SELECT bh_audit.emit('READ', 'Doc', 'rev5_cache', 'p_rev5_cache') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT result FROM bh_audit.verify_chain();
-- dropped and added back as the install script declares it: PASS
BEGIN;
SELECT result FROM bh_audit.verify_chain();
ALTER TABLE bh_audit.events DROP COLUMN patient_id;
ALTER TABLE bh_audit.events ADD COLUMN patient_id text COLLATE "C"
  GENERATED ALWAYS AS (event -> 'resource' ->> 'patient_id') STORED;
SELECT result, hash_mismatches FROM bh_audit.verify_chain();
SELECT count(*) AS column_mismatches FROM bh_audit.chain_failures()
 WHERE failure_type = 'column_mismatch';
ROLLBACK;
-- dropped and added back plain with a forged value: FAIL, each event
BEGIN;
SELECT result FROM bh_audit.verify_chain();
ALTER TABLE bh_audit.events DROP COLUMN ts;
ALTER TABLE bh_audit.events ADD COLUMN ts timestamptz DEFAULT '2000-01-01 00:00:00+00';
SELECT result, hash_mismatches = (SELECT count(*) FROM bh_audit.events) AS each_event
  FROM bh_audit.verify_chain();
ROLLBACK;
-- a column's type changed after a verification in the same transaction:
-- refused with 42P16 as in a new transaction (varchar: no length, which a
-- long patient_id of an earlier test would exceed)
BEGIN;
SELECT result FROM bh_audit.verify_chain();
ALTER TABLE bh_audit.events ALTER COLUMN patient_id TYPE varchar;
\set VERBOSITY terse
SELECT result FROM bh_audit.verify_chain();
\set VERBOSITY default
ROLLBACK;
-- (last: the server crashed here, SIGSEGV, the stored text read as a
-- timestamptz)
BEGIN;
SELECT result FROM bh_audit.verify_chain();
ALTER TABLE bh_audit.events ALTER COLUMN ts TYPE text;
\set VERBOSITY terse
SELECT result FROM bh_audit.verify_chain();
\set VERBOSITY default
ROLLBACK;
SELECT result FROM bh_audit.verify_chain();
