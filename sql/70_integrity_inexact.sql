-- An event's own top-level "integrity" is left out of its hash, but the
-- format has no number without a canonical form anywhere in an event: an
-- "integrity" holding a decimal with more significant digits than a double
-- keeps (a restored row, a row edited by a superuser with the guard off)
-- is reported by verification, named by the export and refused by the
-- ledger's restore check, as such a decimal in any other member is.  One
-- that is exact passes.  A queued event's own "integrity" is not the
-- event's: the sealer leaves it out of the row it stores.
SELECT bh_audit.emit('READ', 'Patient', 'pat_i1', 'pat_i1') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS last FROM bh_audit.events \gset
CREATE TEMP TABLE integrities (n int, integrity jsonb);
INSERT INTO integrities VALUES
  (1, '{"n": 0.5, "s": "x", "a": [1, 2.25e-3]}'),
  (2, '{"n": 0.123456789012345678901234567}'),
  (3, '[[{"deep": 123456789.123456789}]]'),
  (4, '0.30000000000000000001'),
  (5, '{"n": 1e-400}');

-- 1. Verification and the export of the ledger's last row, edited.
CREATE FUNCTION pg_temp.edited(k int, OUT n int, OUT result text, OUT hash_mismatches bigint,
                               OUT message text, OUT exported text)
LANGUAGE plpgsql AS $$
BEGIN
  n := k;
  ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
  UPDATE bh_audit.events e SET event = e.event || jsonb_build_object('integrity', i.integrity)
    FROM integrities i WHERE i.n = k AND e.seq = (SELECT max(seq) FROM bh_audit.events);
  SELECT v.result, v.hash_mismatches INTO result, hash_mismatches FROM bh_audit.verify_chain() v;
  SELECT string_agg(f.failure_type || ': ' || f.message, '; ') INTO message
    FROM bh_audit.chain_failures() f;
  BEGIN
    PERFORM count(*) FROM bh_audit.export_jsonl();
    exported := 'exported';
  EXCEPTION WHEN OTHERS THEN
    exported := SQLSTATE || ' ' || SQLERRM;
  END;
  RAISE EXCEPTION USING ERRCODE = 'P0001';  -- undo the edit
EXCEPTION WHEN SQLSTATE 'P0001' THEN
  RETURN;
END $$;
SELECT e.* FROM integrities i CROSS JOIN LATERAL pg_temp.edited(i.n) e ORDER BY 1;
SELECT result, hash_mismatches FROM bh_audit.verify_chain();

-- 2. The restore check: a row appended to the chain, hashed by event_hash()
--    of its text (which, as Python's json, reads such a decimal rounded).
CREATE FUNCTION pg_temp.restored(k int, OUT n int, OUT outcome text)
LANGUAGE plpgsql AS $$
DECLARE
  ev jsonb;
  head record;
BEGIN
  n := k;
  -- what the ring holds sealed first (the FAILURE of the row refused
  -- before): the sealer would otherwise move the head between the look at
  -- it and the INSERT, on a slow planning (JIT) or a loaded machine
  PERFORM bh_audit.seal();
  SELECT seq, event_hash INTO head FROM bh_audit.events ORDER BY seq DESC LIMIT 1;
  SELECT '{"schema_version": "1.1", "timestamp": "2026-01-01T00:00:00Z",
           "event_id": "00000000-0000-4000-8000-000000000070"}'::jsonb ||
         jsonb_build_object('integrity', i.integrity)
    INTO ev FROM integrities i WHERE i.n = k;
  BEGIN
    INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
    VALUES (head.seq + 1, ev, 'sha256', head.event_hash,
            bh_audit.event_hash(ev::json, head.event_hash));
    outcome := 'restored';
    RAISE EXCEPTION USING ERRCODE = 'P0001';  -- undo the row
  EXCEPTION WHEN SQLSTATE 'P0001' THEN
    NULL;
  WHEN OTHERS THEN
    outcome := SQLSTATE || ' ' || SQLERRM;
  END;
END $$;
SELECT r.* FROM integrities i CROSS JOIN LATERAL pg_temp.restored(i.n) r ORDER BY 1;

-- 3. The sealer: queued events (as a restore of the queue brings them:
--    the emitted event above with another event_id) with an "integrity"
--    of their own (the decimals that have no canonical form, a forged
--    event_hash) are sealed without it, none dropped; the export gives each
--    the chain's.
INSERT INTO integrities VALUES (6, '{"event_hash": "forged"}');
SELECT events_dropped_total AS dropped FROM bh_audit.stats() \gset
INSERT INTO bh_audit.queue (events)
SELECT array_agg(e.event || jsonb_build_object(
         'event_id', format('00000000-0000-4000-8000-%s', lpad((700 + i.n)::text, 12, '0')),
         'integrity', i.integrity) ORDER BY i.n)
  FROM integrities i, bh_audit.events e
 WHERE e.seq = :last;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP VIEW queued70 AS
SELECT * FROM bh_audit.events
 WHERE event_id BETWEEN '00000000-0000-4000-8000-000000000701'
                    AND '00000000-0000-4000-8000-000000000706';
SELECT event_id AS sealed_event_id, event ? 'integrity' AS has_integrity
  FROM queued70 ORDER BY seq;
SELECT events_dropped_total - :dropped AS dropped FROM bh_audit.stats();
SELECT result, hash_mismatches FROM bh_audit.verify_chain();
SELECT count(*) AS exported_with_chain_hash
  FROM bh_audit.export_jsonl() AS x(line)
  JOIN queued70 e ON e.event_id = (x.line::jsonb ->> 'event_id')::uuid
 WHERE x.line::jsonb -> 'integrity' ->> 'event_hash' = e.event_hash;
