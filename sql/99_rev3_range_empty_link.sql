-- A range of verification that ends at an event whose event_hash is NULL
-- (read as an empty hash) checks the event after it as the whole chain
-- does: that event was chained from the empty hash (its prev_event_hash is
-- '', as the sealer writes it after such a head), so its link holds; only
-- the damaged event is a failure, in the range as in the whole chain.
-- Everything runs in a transaction rolled back.
SELECT bh_audit.emit('READ', 'Doc', 'rev3_' || i, 'p_rev3') IS NOT NULL AS emitted
  FROM generate_series(1, 2) AS i;
SELECT bh_audit.seal() >= 0 AS sealed;
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
ALTER TABLE bh_audit.events ALTER COLUMN event_hash DROP NOT NULL;
CREATE TEMP TABLE k AS SELECT max(seq) AS k FROM bh_audit.events;
-- the head's hash made NULL, then an event sealed after it, as the sealer
-- chains it: from the empty hash
UPDATE bh_audit.events SET event_hash = NULL WHERE seq = (SELECT k FROM k);
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT seq + 1, event, hash_alg, '', bh_audit.event_hash(event::json, '', hash_alg)
  FROM bh_audit.events WHERE seq = (SELECT k FROM k);
SELECT f.seq - k.k AS at, f.failure_type, f.message
  FROM bh_audit.chain_failures() f, k ORDER BY 1, 2;
-- the same failures in a range that ends at the damaged event
SELECT f.seq - k.k AS at, f.failure_type, f.message
  FROM k, bh_audit.chain_failures(1, k.k) f ORDER BY 1, 2;
SELECT v.chain_gaps, v.hash_mismatches FROM k, bh_audit.verify_chain(1, k.k) v;
-- and a range that starts after it: nothing
SELECT count(*) AS failures FROM k, bh_audit.chain_failures(k.k + 1) f;
ROLLBACK;
SELECT result FROM bh_audit.verify_chain();
