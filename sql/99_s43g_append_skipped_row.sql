-- The ledger's append guard takes the head a row must continue from the
-- previous row of the same transaction it passed, as rows of one command
-- (a restore's COPY) do not see each other.  A row the guard passed may
-- still not be inserted without any error: INSERT ... ON CONFLICT DO
-- NOTHING skips it when its seq is taken.  A row continuing the skipped one
-- continues nothing the ledger holds: refused, and the chain verifies.
-- (Rolled back to a savepoint, or failed after the trigger:
-- 99_s43e_append_after_rollback.)  Rows of one command continuing each
-- other are accepted as before.  Each case runs in a transaction rolled
-- back afterwards.  The rows added are counted by their event ids: the
-- event recording a refused INSERT comes by the ring and is chained after
-- the head too, before the count or after it.
\set VERBOSITY terse
SELECT bh_audit.emit('READ', 'Patient', 's43g_k' || i, 's43g_k' || i) IS NOT NULL AS emitted
  FROM generate_series(1, 2) AS i;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT seq AS s43g_hs, event_hash AS s43g_hh FROM bh_audit.chain_head() \gset
-- three new events (copies of the head with new ids)
CREATE TEMP TABLE s43g_new AS
SELECT k, jsonb_set(e.event, '{event_id}', to_jsonb(gen_random_uuid()::text)) AS event
  FROM bh_audit.events e, generate_series(1, 3) AS k
 WHERE e.seq = :s43g_hs;
SELECT bh_audit.event_hash(event::json, :'s43g_hh', 'sha256') AS s43g_h1 FROM s43g_new WHERE k = 1 \gset
SELECT bh_audit.event_hash(event::json, :'s43g_h1', 'sha256') AS s43g_h2 FROM s43g_new WHERE k = 2 \gset
-- k = 3 in k = 1's place, and k = 2 continuing it
SELECT bh_audit.event_hash(event::json, :'s43g_hh', 'sha256') AS s43g_h3 FROM s43g_new WHERE k = 3 \gset
SELECT bh_audit.event_hash(event::json, :'s43g_h3', 'sha256') AS s43g_h4 FROM s43g_new WHERE k = 2 \gset
CREATE TEMP TABLE s43g_rows (ord int, seq bigint, k int, prev text, hash text);

-- 1. The reference: two rows continuing each other in one command.
BEGIN;
INSERT INTO s43g_rows VALUES
  (1, :s43g_hs + 1, 1, :'s43g_hh', :'s43g_h1'),
  (2, :s43g_hs + 2, 2, :'s43g_h1', :'s43g_h2');
SELECT regress_err(
  'INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
   SELECT r.seq, n.event, ''sha256'', r.prev, r.hash
     FROM s43g_rows r JOIN s43g_new n USING (k) ORDER BY r.ord') AS one_command;
SELECT count(*) AS added FROM bh_audit.events
 WHERE seq > :s43g_hs AND event_id IN (SELECT (event ->> 'event_id')::uuid FROM s43g_new);
SELECT result FROM bh_audit.verify_chain();
ROLLBACK;

-- 2. The second row takes the first's seq and is skipped (ON CONFLICT DO
-- NOTHING) after the guard passed it; the third continues the skipped row.
BEGIN;
INSERT INTO s43g_rows VALUES
  (1, :s43g_hs + 1, 1, :'s43g_hh', :'s43g_h1'),
  (2, :s43g_hs + 1, 3, :'s43g_hh', :'s43g_h3'),
  (3, :s43g_hs + 2, 2, :'s43g_h3', :'s43g_h4');
SELECT regress_err(
  'INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
   SELECT r.seq, n.event, ''sha256'', r.prev, r.hash
     FROM s43g_rows r JOIN s43g_new n USING (k) ORDER BY r.ord
       ON CONFLICT DO NOTHING') AS after_skipped;
SELECT count(*) AS added FROM bh_audit.events
 WHERE seq > :s43g_hs AND event_id IN (SELECT (event ->> 'event_id')::uuid FROM s43g_new);
SELECT result FROM bh_audit.verify_chain();
ROLLBACK;
SELECT result FROM bh_audit.verify_chain();
