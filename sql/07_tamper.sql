-- Tampering by a superuser who switched the guard off: each manipulation
-- is reported by verify_chain() and located by chain_failures().  Every
-- case runs in a transaction that is rolled back afterwards.
SELECT bh_audit.emit('READ', 'Patient', 'pat_t' || i, 'pat_t' || i) IS NOT NULL AS emitted
  FROM generate_series(1, 5) AS i;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT result FROM bh_audit.verify_chain();

-- The last five events are the ones under test: t1 .. t5.
CREATE TEMP TABLE t AS
SELECT seq, row_number() OVER (ORDER BY seq) AS k, event_hash
  FROM (SELECT * FROM bh_audit.events ORDER BY seq DESC LIMIT 5) x;
-- expected and actual named by what they equal: the hash recomputed
-- (from the event, after the previous event's recorded hash), the previous
-- event's recorded hash, this event's recorded hash or link (a NULL hash
-- read as an empty one, as chain_failures() reads it); none (NULL).
CREATE TEMP VIEW failures AS
SELECT coalesce((SELECT 't' || k FROM t WHERE t.seq = f.seq), 'other') AS at,
       f.failure_type,
       CASE WHEN f.expected IS NULL THEN 'none'
            WHEN f.failure_type = 'chain_gap' AND f.expected = coalesce(p.event_hash, '') THEN 'previous hash'
            WHEN f.failure_type = 'hash_mismatch'
                 AND f.expected = bh_audit.event_hash(e.event::json, p.event_hash, e.hash_alg)
                 THEN 'recomputed'
            ELSE 'other: ' || f.expected END AS expected,
       CASE WHEN f.actual IS NULL THEN 'none'
            WHEN f.failure_type = 'chain_gap' AND f.actual = e.prev_event_hash THEN 'its link'
            WHEN f.failure_type = 'hash_mismatch' AND f.actual = coalesce(e.event_hash, '') THEN 'its hash'
            ELSE 'other: ' || f.actual END AS actual,
       f.message
  FROM bh_audit.chain_failures() f
  LEFT JOIN bh_audit.events e ON e.seq = f.seq
  LEFT JOIN LATERAL (SELECT event_hash FROM bh_audit.events b WHERE b.seq < f.seq
                      ORDER BY b.seq DESC LIMIT 1) p ON true;
CREATE TEMP VIEW summary AS
SELECT result, chain_gaps, hash_mismatches FROM bh_audit.verify_chain();

-- 1. A field changed (the patient of t2).
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
UPDATE bh_audit.events SET event = jsonb_set(event, '{resource,patient_id}', '"pat_forged"')
 WHERE seq = (SELECT seq FROM t WHERE k = 2);
SELECT * FROM summary;
SELECT * FROM failures;
ROLLBACK;

-- 2. A row deleted (t3).
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
DELETE FROM bh_audit.events WHERE seq = (SELECT seq FROM t WHERE k = 3);
SELECT * FROM summary;
SELECT * FROM failures;
ROLLBACK;

-- 3. The contents of two rows swapped (t2 and t3), hashes left in place.
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
UPDATE bh_audit.events e SET event = o.event
  FROM bh_audit.events o
 WHERE (e.seq, o.seq) IN (((SELECT seq FROM t WHERE k = 2), (SELECT seq FROM t WHERE k = 3)),
                          ((SELECT seq FROM t WHERE k = 3), (SELECT seq FROM t WHERE k = 2)));
SELECT * FROM summary;
SELECT * FROM failures;
ROLLBACK;

-- 4. A forged row inserted in the middle (between t3 and t4: seqs shifted
--    up to make room), with a plausible but wrong hash.
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
UPDATE bh_audit.events SET seq = -seq WHERE seq >= (SELECT seq FROM t WHERE k = 4);
UPDATE bh_audit.events SET seq = -seq + 1 WHERE seq < 0;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT seq + 1, jsonb_set(event, '{resource,patient_id}', '"pat_forged"'), hash_alg, event_hash,
       encode(sha256('forged'), 'hex')
  FROM bh_audit.events WHERE seq = (SELECT seq FROM t WHERE k = 3);
SELECT * FROM summary;
SELECT CASE WHEN e.patient_id = 'pat_forged' THEN 'forged'
            ELSE coalesce((SELECT 't' || k FROM t WHERE t.event_hash = e.event_hash), 'other') END AS at,
       f.failure_type
  FROM bh_audit.chain_failures() f JOIN bh_audit.events e ON e.seq = f.seq
 ORDER BY f.seq, f.failure_type DESC;
ROLLBACK;

-- 5. A forged row appended after t5, carrying a copied hash.
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT seq + 1, jsonb_set(event, '{resource,patient_id}', '"pat_forged"'), hash_alg, event_hash,
       event_hash
  FROM bh_audit.events WHERE seq = (SELECT seq FROM t WHERE k = 5);
SELECT * FROM summary;
SELECT coalesce((SELECT 't' || k FROM t WHERE t.seq = f.seq), 'forged') AS at, failure_type
  FROM bh_audit.chain_failures() f;
ROLLBACK;

-- 6. The tail removed (t4, t5): the chain itself still verifies, the
--    expected head does not.
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
DELETE FROM bh_audit.events WHERE seq >= (SELECT seq FROM t WHERE k = 4);
SELECT * FROM summary;
SELECT result, chain_gaps, hash_mismatches,
       head_seq = (SELECT seq FROM t WHERE k = 3) AS head_is_t3
  FROM bh_audit.verify_chain(expected_head => (SELECT event_hash FROM t WHERE k = 5));
SELECT coalesce((SELECT 't' || k FROM t WHERE t.seq = f.seq), 'other') AS at,
       failure_type, expected = (SELECT event_hash FROM t WHERE k = 5) AS expected_is_stored_head,
       actual = (SELECT event_hash FROM t WHERE k = 3) AS actual_is_t3, message
  FROM bh_audit.chain_failures(expected_head => (SELECT event_hash FROM t WHERE k = 5)) f;
ROLLBACK;

-- 7. A hash_alg rewritten to something unknown.
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
UPDATE bh_audit.events SET hash_alg = 'md5' WHERE seq = (SELECT seq FROM t WHERE k = 1);
SELECT * FROM summary;
SELECT * FROM failures;
ROLLBACK;

-- 8. A number no sealed event can hold (no canonical form) written into t2:
-- located like any change, the other changes (t4) too; the export names
-- the event it cannot make a line of.
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
UPDATE bh_audit.events SET event = jsonb_set(event, '{metadata}', '{"n": 1e4300}')
 WHERE seq = (SELECT seq FROM t WHERE k = 2);
UPDATE bh_audit.events SET event = jsonb_set(event, '{resource,patient_id}', '"pat_forged"')
 WHERE seq = (SELECT seq FROM t WHERE k = 4);
SELECT * FROM summary;
SELECT * FROM failures;
SELECT regress_err($$SELECT count(*) FROM bh_audit.export_jsonl()$$);
ROLLBACK;

-- 9. The end of a range removed (t2, t3 of the range t1 .. t3): the range's
-- own events still link, the event after it (t4) does not.
CREATE TEMP VIEW range_failures AS
SELECT coalesce((SELECT 't' || k FROM t WHERE t.seq = f.seq), 'other') AS at,
       failure_type, expected = (SELECT event_hash FROM t WHERE k = 1) AS expected_is_t1,
       actual = (SELECT event_hash FROM t WHERE k = 3) AS actual_is_t3, message
  FROM bh_audit.chain_failures((SELECT seq FROM t WHERE k = 1), (SELECT seq FROM t WHERE k = 3)) f;
SELECT result, events_scanned, chain_gaps, head_seq = (SELECT seq FROM t WHERE k = 3) AS head_is_t3
  FROM bh_audit.verify_chain((SELECT seq FROM t WHERE k = 1), (SELECT seq FROM t WHERE k = 3));
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
DELETE FROM bh_audit.events WHERE seq IN (SELECT seq FROM t WHERE k IN (2, 3));
SELECT result, events_scanned, chain_gaps, hash_mismatches,
       head_seq = (SELECT seq FROM t WHERE k = 1) AS head_is_t1
  FROM bh_audit.verify_chain((SELECT seq FROM t WHERE k = 1), (SELECT seq FROM t WHERE k = 3));
SELECT * FROM range_failures;
-- 10. ... and the whole range (t2 .. t3): nothing scanned, still FAIL.
SELECT result, events_scanned, chain_gaps, head_seq
  FROM bh_audit.verify_chain((SELECT seq FROM t WHERE k = 2), (SELECT seq FROM t WHERE k = 3));
SELECT coalesce((SELECT 't' || k FROM t WHERE t.seq = f.seq), 'other') AS at, failure_type,
       expected = (SELECT event_hash FROM t WHERE k = 1) AS expected_is_t1
  FROM bh_audit.chain_failures((SELECT seq FROM t WHERE k = 2), (SELECT seq FROM t WHERE k = 3)) f;
ROLLBACK;

-- 11. The last event moved to a later seq: its link is intact, its seq is
-- not the next one.
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
UPDATE bh_audit.events SET seq = seq + 10 WHERE seq = (SELECT seq FROM t WHERE k = 5);
SELECT * FROM summary;
SELECT f.seq - (SELECT seq FROM t WHERE k = 5) AS moved_by, failure_type,
       expected::bigint = (SELECT seq FROM t WHERE k = 5) AS expected_is_t5_seq,
       actual::bigint = f.seq AS actual_is_its_seq, message
  FROM bh_audit.chain_failures() f;
ROLLBACK;

-- 12. A decimal edited within what a double keeps (123456789.12345679 made
-- 123456789.123456789, which the canonical form rounds back): no such
-- number can be sealed, so it is found as a change.
SET bh_audit.metadata_allowlist = 'n';
SELECT bh_audit.emit('READ', 'Patient', 'pat_t6', 'pat_t6', metadata => '{"n": 123456789.12345679}') IS NOT NULL AS emitted;
RESET bh_audit.metadata_allowlist;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT result FROM bh_audit.verify_chain();
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
UPDATE bh_audit.events SET event = jsonb_set(event, '{metadata,n}', '123456789.123456789')
 WHERE patient_id = 'pat_t6';
SELECT * FROM summary;
SELECT e.patient_id, f.failure_type, f.message
  FROM bh_audit.chain_failures() f JOIN bh_audit.events e ON e.seq = f.seq;
ROLLBACK;

-- 13. An event made NULL (t2; the column's NOT NULL dropped first): a
-- hash mismatch, located; the export names the event it cannot make a
-- line of.
BEGIN;
ALTER TABLE bh_audit.events ALTER COLUMN event DROP NOT NULL;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
UPDATE bh_audit.events SET event = NULL WHERE seq = (SELECT seq FROM t WHERE k = 2);
SELECT * FROM summary;
SELECT * FROM failures;
SELECT regress_err(format('SELECT bh_audit.export_jsonl(%s, %s)',
                          (SELECT seq FROM t WHERE k = 1), (SELECT seq FROM t WHERE k = 3)))
       = format('XX001: the event at seq %s of bh_audit.events cannot be exported: its event is NULL',
                (SELECT seq FROM t WHERE k = 2)) AS export_names_t2;
ROLLBACK;

-- 14. A hash_alg and an event_hash made NULL (t1, t3): located as before;
-- the export names the first event it cannot make a line of, and so does
-- an export starting after it.
BEGIN;
ALTER TABLE bh_audit.events ALTER COLUMN hash_alg DROP NOT NULL;
ALTER TABLE bh_audit.events ALTER COLUMN event_hash DROP NOT NULL;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
UPDATE bh_audit.events SET hash_alg = NULL WHERE seq = (SELECT seq FROM t WHERE k = 1);
UPDATE bh_audit.events SET event_hash = NULL WHERE seq = (SELECT seq FROM t WHERE k = 3);
SELECT * FROM summary;
SELECT * FROM failures;
SELECT regress_err(format('SELECT bh_audit.export_jsonl(%s) LIMIT 2', (SELECT seq FROM t WHERE k = 1)))
       = format('XX001: the event at seq %s of bh_audit.events cannot be exported: its hash_alg is NULL',
                (SELECT seq FROM t WHERE k = 1)) AS export_names_t1;
SELECT regress_err(format('SELECT bh_audit.export_jsonl(%s) LIMIT 2', (SELECT seq FROM t WHERE k = 2)))
       = format('XX001: the event at seq %s of bh_audit.events cannot be exported: its event_hash is NULL',
                (SELECT seq FROM t WHERE k = 3)) AS export_names_t3;
ROLLBACK;

-- 15. A row whose event is NULL offered to the guard (which runs before
-- NOT NULL is checked) is refused like any row that does not continue the
-- chain.
SELECT regress_err($$INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
  SELECT seq + 1, NULL, 'sha256', event_hash, 'x' FROM bh_audit.events ORDER BY seq DESC LIMIT 1$$);

-- 16. The head's event_hash made NULL: the guard reads it as "", as
-- verification does: a row continuing it from an empty hash is accepted,
-- and the head alone fails.
BEGIN;
ALTER TABLE bh_audit.events ALTER COLUMN event_hash DROP NOT NULL;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
UPDATE bh_audit.events SET event_hash = NULL WHERE seq = (SELECT max(seq) FROM bh_audit.events);
ALTER TABLE bh_audit.events ENABLE ALWAYS TRIGGER events_chain_only;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT seq + 1, event, 'sha256', '', bh_audit.event_hash(event::json, '', 'sha256')
  FROM bh_audit.events ORDER BY seq DESC LIMIT 1;
SELECT * FROM summary;
SELECT f.seq = (SELECT max(seq) - 1 FROM bh_audit.events) AS at_old_head, f.failure_type,
       f.expected = bh_audit.event_hash(e.event::json, e.prev_event_hash, e.hash_alg) AS expected_recomputed,
       f.actual, f.message
  FROM bh_audit.chain_failures() f JOIN bh_audit.events e ON e.seq = f.seq;
ROLLBACK;

-- 17. The head's event changed to one without a "timestamp" (its ts, a
-- generated column, is then NULL): chain_head() gives its seq and hash,
-- and no time.
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
UPDATE bh_audit.events SET event = '[1]' WHERE seq = (SELECT max(seq) FROM bh_audit.events);
SELECT h.seq = (SELECT max(seq) FROM bh_audit.events) AS head_seq,
       h.event_hash = (SELECT event_hash FROM bh_audit.events ORDER BY seq DESC LIMIT 1) AS head_hash,
       h.ts IS NULL AS no_ts
  FROM bh_audit.chain_head() h;
ROLLBACK;

-- Everything was rolled back: intact again, guard on.
SELECT * FROM summary;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'bh_audit.events'::regclass ORDER BY 1;
SELECT attname, attnotnull FROM pg_attribute
 WHERE attrelid = 'bh_audit.events'::regclass AND attname IN ('event', 'hash_alg', 'event_hash') ORDER BY 1;
