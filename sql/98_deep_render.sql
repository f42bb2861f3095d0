-- The jsonb renderer (sealer, restore check, verify_chain(), export_jsonl())
-- renders every event the JSON-text path (event_hash()) hashes, however
-- deep: it keeps the containers it has open on a stack of its own, not the
-- C stack.  An event nesting arrays 4,000 levels deep and objects 4,000
-- levels deep is hashed by event_hash(), so the ledger's restore check must
-- accept it, verification pass and the export render it (rendering on the
-- C stack, 54001 "stack depth limit exceeded" from about 2,900 levels of
-- arrays and 2,150 of objects on, at the default max_stack_depth).
\set VERBOSITY terse
BEGIN;
-- the sealer waits until the end, so the head read below stays the head
LOCK TABLE bh_audit.events IN SHARE ROW EXCLUSIVE MODE;
CREATE TEMP TABLE deep AS
SELECT jsonb_build_object('schema_version', '1.1', 'timestamp', '2026-01-01T00:00:00Z',
                          'event_id', '00000000-0000-4000-8000-000000000098',
                          'x', (repeat('[', 4000) || '1' || repeat(']', 4000))::jsonb,
                          'y', (repeat('{"a":', 4000) || '1' || repeat('}', 4000))::jsonb) AS ev;
SELECT length(bh_audit.event_hash(ev::json, NULL)) AS text_path_hash_length FROM deep;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT h.seq + 1, d.ev, 'sha256', h.hash, bh_audit.event_hash(d.ev::json, h.hash)
  FROM (SELECT coalesce(max(seq), 0) AS seq,
               (SELECT event_hash FROM bh_audit.events ORDER BY seq DESC LIMIT 1) AS hash
          FROM bh_audit.events) AS h, deep AS d;
SELECT result, hash_mismatches
  FROM bh_audit.verify_chain((SELECT max(seq) FROM bh_audit.events));
-- the line ends with both values, in full
SELECT right(l, length(want)) = want AS exported
  FROM bh_audit.export_jsonl((SELECT max(seq) FROM bh_audit.events)) AS l,
       (SELECT ',"x":' || repeat('[', 4000) || '1' || repeat(']', 4000) ||
               ',"y":' || repeat('{"a":', 4000) || '1' || repeat('}', 4000) ||
               '}' AS want) AS w;
ROLLBACK;
