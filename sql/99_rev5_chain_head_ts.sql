-- chain_head() returns the ts of the chain's last event as a timestamptz,
-- read from bh_audit.events' column ts.  A superuser may change that
-- column's type (a generated column takes ALTER COLUMN ... TYPE without
-- USING): the sealer then refuses the ledger (42P16), verify_chain() and
-- chain_failures() too; chain_head() must not hand out another type's
-- datum as a timestamptz (a text's address, a local timestamp read as UTC),
-- nor read another type's event_hash as text.
SELECT bh_audit.emit('READ', 'Doc', 'rev5_head', 'p_rev5_head') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT h.ts = bh_audit.event_timestamp(e.event ->> 'timestamp') AS head_ts_right
  FROM bh_audit.chain_head() h JOIN bh_audit.events e USING (seq);
\set VERBOSITY terse
BEGIN;
ALTER TABLE bh_audit.events ALTER COLUMN ts TYPE timestamp;
SELECT h.ts = bh_audit.event_timestamp(e.event ->> 'timestamp') AS head_ts_right
  FROM bh_audit.chain_head() h JOIN bh_audit.events e USING (seq);
ROLLBACK;
BEGIN;
ALTER TABLE bh_audit.events ALTER COLUMN ts TYPE text;
SELECT h.ts = bh_audit.event_timestamp(e.event ->> 'timestamp') AS head_ts_right
  FROM bh_audit.chain_head() h JOIN bh_audit.events e USING (seq);
ROLLBACK;
-- event_hash changed to bigint: not read as text (the server crashed)
BEGIN;
ALTER TABLE bh_audit.events DROP COLUMN event_hash, ADD COLUMN event_hash bigint DEFAULT 1;
SELECT seq > 0 AS head FROM bh_audit.chain_head();
ROLLBACK;
\set VERBOSITY default
SELECT h.ts = bh_audit.event_timestamp(e.event ->> 'timestamp') AS head_ts_right
  FROM bh_audit.chain_head() h JOIN bh_audit.events e USING (seq);
