-- The ledger's append guard (bh_audit._check_append()) takes the head a
-- row must continue from the previous row the same transaction replayed
-- (guard.c: bh_replay_xid/seq/hash, set by the BEFORE INSERT trigger).
-- That row may never have been inserted: rolled back to a savepoint, or
-- failed after the trigger (its generated event_id or ts cannot be
-- computed).  A row continuing it was accepted: the ledger then holds a
-- seq that follows no event and a link to a hash it does not hold, a
-- chain that fails verification for good, although the guard accepts
-- only "a row that continues the chain exactly".  Each case runs in a
-- transaction rolled back afterwards.
\set VERBOSITY terse
SELECT bh_audit.emit('READ', 'Patient', 's43e_a' || i, 's43e_a' || i) IS NOT NULL AS emitted
  FROM generate_series(1, 2) AS i;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT result FROM bh_audit.verify_chain();
-- two new events continuing the head (copies of it with new ids): k = 1
-- is the one that never lands, k = 2 continues it
SELECT seq AS s43e_hs, event_hash AS s43e_hh FROM bh_audit.chain_head() \gset
CREATE TEMP TABLE s43e_new AS
SELECT k, jsonb_set(e.event, '{event_id}', to_jsonb(gen_random_uuid()::text)) AS event
  FROM bh_audit.events e, generate_series(1, 2) AS k
 WHERE e.seq = :s43e_hs;
-- the bad one: an event_id that is no uuid (its generated column fails)
INSERT INTO s43e_new
SELECT 3, jsonb_set(event, '{event_id}', '"not-a-uuid"') FROM s43e_new WHERE k = 1;
SELECT bh_audit.event_hash(event::json, :'s43e_hh', 'sha256') AS s43e_h1 FROM s43e_new WHERE k = 1 \gset
SELECT bh_audit.event_hash(event::json, :'s43e_h1', 'sha256') AS s43e_h2 FROM s43e_new WHERE k = 2 \gset
SELECT bh_audit.event_hash(event::json, :'s43e_hh', 'sha256') AS s43e_h3 FROM s43e_new WHERE k = 3 \gset
SELECT bh_audit.event_hash(event::json, :'s43e_h3', 'sha256') AS s43e_h4 FROM s43e_new WHERE k = 2 \gset
-- an INSERT run in a subtransaction: refused (an error) or not
CREATE FUNCTION pg_temp.refused(stmt text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN false;
EXCEPTION WHEN others THEN
	RETURN true;
END $$;

-- 0. The reference: a row continuing the head is accepted, and the row
-- after it too; verification passes.
BEGIN;
SELECT pg_temp.refused(format(
  'INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
   SELECT %s, event, ''sha256'', %L, %L FROM s43e_new WHERE k = 1',
  :s43e_hs + 1, :'s43e_hh', :'s43e_h1')) AS first_refused;
SELECT pg_temp.refused(format(
  'INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
   SELECT %s, event, ''sha256'', %L, %L FROM s43e_new WHERE k = 2',
  :s43e_hs + 2, :'s43e_h1', :'s43e_h2')) AS second_refused;
SELECT result FROM bh_audit.verify_chain();
ROLLBACK;

-- 1-2. The first row inserted, then rolled back to a savepoint: a row
-- continuing it continues nothing the ledger holds.  Refused, and the
-- chain still verifies.
BEGIN;
SAVEPOINT s;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT :s43e_hs + 1, event, 'sha256', :'s43e_hh', :'s43e_h1' FROM s43e_new WHERE k = 1;
ROLLBACK TO SAVEPOINT s;
SELECT pg_temp.refused(format(
  'INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
   SELECT %s, event, ''sha256'', %L, %L FROM s43e_new WHERE k = 2',
  :s43e_hs + 2, :'s43e_h1', :'s43e_h2')) AS after_rolled_back_refused;
SELECT result FROM bh_audit.verify_chain();
ROLLBACK;

-- 3-4. The first row failed after the guard passed it (its event_id is
-- no uuid: the generated column's cast fails), the error caught: a row
-- continuing it is refused, and the chain still verifies.
BEGIN;
SELECT pg_temp.refused(format(
  'INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
   SELECT %s, event, ''sha256'', %L, %L FROM s43e_new WHERE k = 3',
  :s43e_hs + 1, :'s43e_hh', :'s43e_h3')) AS bad_row_refused;
SELECT pg_temp.refused(format(
  'INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
   SELECT %s, event, ''sha256'', %L, %L FROM s43e_new WHERE k = 2',
  :s43e_hs + 2, :'s43e_h3', :'s43e_h4')) AS after_failed_refused;
SELECT result FROM bh_audit.verify_chain();
ROLLBACK;
SELECT result FROM bh_audit.verify_chain();
