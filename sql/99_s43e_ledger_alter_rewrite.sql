-- A superuser's ALTER TABLE that rewrites the ledger's rows: ALTER COLUMN
-- ... TYPE ... USING of a chain column (event_hash, prev_event_hash,
-- event, seq), and DROP COLUMN of its generated columns (which PostgreSQL
-- requires before event's type can be altered, and which drops the
-- access-review indexes with them).  Such a statement changes sealed
-- events as an UPDATE would, past the append-only guard's row triggers;
-- an UPDATE is refused and a DISABLE TRIGGER of the guard is recorded
-- (an AuditConfiguration event of bh_audit.events, pending in its
-- transaction), so each of these must be refused or recorded too.  Each
-- case runs in a transaction rolled back afterwards.
\set VERBOSITY terse
SELECT bh_audit.emit('READ', 'Patient', 's43e_r' || i, 's43e_p' || i) IS NOT NULL AS emitted
  FROM generate_series(1, 4) AS i;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT result FROM bh_audit.verify_chain();
CREATE TEMP TABLE s43e_t AS
SELECT seq, row_number() OVER (ORDER BY seq) AS k
  FROM (SELECT seq FROM bh_audit.events ORDER BY seq DESC LIMIT 4) x;
-- the statement run in a subtransaction: refused (an error), or let
-- through and recorded by an event of the ledger it added to those
-- pending in the transaction
CREATE FUNCTION pg_temp.ledger_events_pending() RETURNS bigint
LANGUAGE sql AS $$
SELECT count(*) FROM bh_audit.pending_events() e
 WHERE e -> 'resource' ->> 'type' = 'AuditConfiguration'
   AND e -> 'resource' ->> 'id' = 'bh_audit.events' $$;
CREATE FUNCTION pg_temp.refused_or_recorded(stmt text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	before bigint := pg_temp.ledger_events_pending();
BEGIN
	BEGIN
		EXECUTE stmt;
	EXCEPTION WHEN others THEN
		RETURN true;
	END;
	RETURN pg_temp.ledger_events_pending() > before;
END $$;

-- 0. The reference: disabling the guard's trigger is recorded.
BEGIN;
SELECT pg_temp.refused_or_recorded(
  'ALTER TABLE bh_audit.events DISABLE TRIGGER events_append_only') AS disable_trigger;
ROLLBACK;

-- 1. One event's recorded hash rewritten: the chain breaks there, but
-- nothing says who rewrote it.
BEGIN;
SELECT pg_temp.refused_or_recorded(format(
  'ALTER TABLE bh_audit.events ALTER COLUMN event_hash TYPE text
     USING CASE WHEN seq = %s THEN repeat(''0'', 64) ELSE event_hash END',
  (SELECT seq FROM s43e_t WHERE k = 2))) AS event_hash_using;
ROLLBACK;

-- 2. Two events' seqs swapped (their order in the chain).
BEGIN;
SELECT pg_temp.refused_or_recorded(format(
  'ALTER TABLE bh_audit.events ALTER COLUMN seq TYPE bigint
     USING CASE seq WHEN %1$s THEN %2$s WHEN %2$s THEN %1$s ELSE seq END',
  (SELECT seq FROM s43e_t WHERE k = 2), (SELECT seq FROM s43e_t WHERE k = 3))) AS seq_using;
ROLLBACK;

-- 3. The generated columns dropped (with the indexes of access review).
BEGIN;
SELECT pg_temp.refused_or_recorded(
  'ALTER TABLE bh_audit.events DROP COLUMN patient_id') AS drop_patient_id;
ROLLBACK;

-- 4-8. The whole forgery: an event's patient changed, the chain after it
-- rehashed (event_hash() as the sealer hashes), the generated columns
-- added back as the install script declares them.  verify_chain() passes
-- (only an anchor kept outside, expected_head, tells), and each step must
-- be refused or recorded.
BEGIN;
SELECT pg_temp.refused_or_recorded(
  'ALTER TABLE bh_audit.events DROP COLUMN event_id, DROP COLUMN ts, DROP COLUMN actor_id,
     DROP COLUMN patient_id, DROP COLUMN resource_type, DROP COLUMN resource_id,
     DROP COLUMN action, DROP COLUMN outcome, DROP COLUMN error_type') AS drop_generated;
SELECT pg_temp.refused_or_recorded(format(
  'ALTER TABLE bh_audit.events ALTER COLUMN event TYPE jsonb
     USING CASE WHEN seq = %s THEN jsonb_set(event, ''{resource,patient_id}'', ''"s43e_forged"'')
                ELSE event END',
  (SELECT seq FROM s43e_t WHERE k = 2))) AS event_using;
CREATE TEMP TABLE s43e_forged AS
WITH RECURSIVE c(seq, prev, h) AS (
  SELECT e.seq, p.event_hash, bh_audit.event_hash(e.event::json, p.event_hash, e.hash_alg)
    FROM bh_audit.events e JOIN bh_audit.events p ON p.seq = e.seq - 1
   WHERE e.seq = (SELECT seq FROM s43e_t WHERE k = 2)
  UNION ALL
  SELECT e.seq, c.h, bh_audit.event_hash(e.event::json, c.h, e.hash_alg)
    FROM c JOIN bh_audit.events e ON e.seq = c.seq + 1)
SELECT * FROM c;
CREATE FUNCTION pg_temp.s43e_hash(s bigint, old text) RETURNS text LANGUAGE sql
  AS $$ SELECT coalesce((SELECT h FROM s43e_forged WHERE seq = s), old) $$;
CREATE FUNCTION pg_temp.s43e_prev(s bigint, old text) RETURNS text LANGUAGE sql
  AS $$ SELECT coalesce((SELECT prev FROM s43e_forged WHERE seq = s), old) $$;
SELECT pg_temp.refused_or_recorded(
  'ALTER TABLE bh_audit.events
     ALTER COLUMN event_hash TYPE text USING pg_temp.s43e_hash(seq, event_hash),
     ALTER COLUMN prev_event_hash TYPE text USING pg_temp.s43e_prev(seq, prev_event_hash)')
  AS rehash_using;
SELECT pg_temp.refused_or_recorded(
  'ALTER TABLE bh_audit.events
     ADD COLUMN event_id uuid GENERATED ALWAYS AS ((event ->> ''event_id'')::uuid) STORED,
     ADD COLUMN ts timestamptz GENERATED ALWAYS AS (bh_audit.event_timestamp(event ->> ''timestamp'')) STORED,
     ADD COLUMN actor_id text COLLATE "C" GENERATED ALWAYS AS (event -> ''actor'' ->> ''subject_id'') STORED,
     ADD COLUMN patient_id text COLLATE "C" GENERATED ALWAYS AS (event -> ''resource'' ->> ''patient_id'') STORED,
     ADD COLUMN resource_type text GENERATED ALWAYS AS (event -> ''resource'' ->> ''type'') STORED,
     ADD COLUMN resource_id text GENERATED ALWAYS AS (event -> ''resource'' ->> ''id'') STORED,
     ADD COLUMN action text GENERATED ALWAYS AS (event -> ''action'' ->> ''type'') STORED,
     ADD COLUMN outcome text GENERATED ALWAYS AS (event -> ''outcome'' ->> ''status'') STORED,
     ADD COLUMN error_type text GENERATED ALWAYS AS (event -> ''outcome'' ->> ''error_type'') STORED')
  AS add_generated;
-- a review shows the forged patient and verification (without an anchor
-- kept outside, expected_head) passes, with nothing of the rewrite on its
-- way to the ledger: must not be (refused, nothing is forged; recorded,
-- the chain says who rewrote it)
SELECT (SELECT patient_id = 's43e_forged' FROM bh_audit.events
         WHERE seq = (SELECT seq FROM s43e_t WHERE k = 2))
   AND (SELECT result = 'PASS' FROM bh_audit.verify_chain())
   AND pg_temp.ledger_events_pending() = 0 AS forged_unseen;
ROLLBACK;
SELECT result FROM bh_audit.verify_chain();
