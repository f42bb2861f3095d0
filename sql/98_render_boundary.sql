-- The jsonb renderer keeps its first 8 open containers (and objects of up
-- to 16 pairs) in its own frame, deeper ones on the heap: values nested
-- across that boundary, arrays and objects mixed, objects of 15, 16, 17
-- and 33 keys, empty containers and "integrity" members at depths 7 to 10,
-- must render as event_hash() renders their text (the restore check
-- compares the two), verify and export as Python's json.dumps(sort_keys)
-- would; an event failing at depth > 8 fails as the text path does and
-- leaves nothing behind for the next one.
\set VERBOSITY terse
BEGIN;
-- the sealer waits until the end, so the head read below stays the head
LOCK TABLE bh_audit.events IN SHARE ROW EXCLUSIVE MODE;
CREATE TEMP TABLE shapes AS
SELECT row_number() OVER (ORDER BY d, k, m) AS n, d, k, m,
       (SELECT string_agg(CASE WHEN (m >> (i % 3)) & 1 = 1 THEN '[0,' ELSE '{"b":1,"aa":' END, '' ORDER BY i) FROM generate_series(1, d) i)
       || CASE WHEN k = 0 THEN (CASE WHEN m % 2 = 0 THEN '[]' ELSE '{}' END)
               ELSE '{' || (SELECT string_agg(format('"%s":%s', CASE WHEN i = 3 THEN 'integrity' ELSE repeat('k', 1 + i % 5) || i END,
                                                 CASE WHEN i % 5 = 0 THEN '[{"integrity":[]},{}]' ELSE i::text END), ',')
                              FROM generate_series(1, k) i) || '}' END
       || (SELECT string_agg(CASE WHEN (m >> (i % 3)) & 1 = 1 THEN ',2]' ELSE '}' END, '' ORDER BY i DESC) FROM generate_series(1, d) i)
       AS doc
  FROM generate_series(6, 11) d, unnest(ARRAY[0, 15, 16, 17, 33]) k, generate_series(0, 7) m;
CREATE TEMP TABLE res (n bigint, outcome text);
DO $$
DECLARE r record; s bigint; prev text; ev jsonb; h text; bad jsonb;
BEGIN
  FOR r IN SELECT * FROM shapes ORDER BY n LOOP
    -- a failing event at the same depth first: no trace of it must remain
    bad := jsonb_build_object('schema_version', '1.1', 'timestamp', '2026-01-01T00:00:00Z',
             'event_id', '00000000-0000-4000-8000-000000000000',
             'x', replace(r.doc, '"b":1', '"b":0.10000000000000000555')::jsonb);
    SELECT seq, event_hash INTO s, prev FROM bh_audit.events ORDER BY seq DESC LIMIT 1;
    s := coalesce(s, 0);
    BEGIN
      INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
      VALUES (s + 1, bad, 'sha256', prev, repeat('0', 64));
      INSERT INTO res VALUES (r.n, 'bad event accepted');
    EXCEPTION WHEN others THEN
      IF r.doc LIKE '%"b":1%' AND sqlstate <> '22023' THEN
        INSERT INTO res VALUES (r.n, 'bad event: ' || sqlstate || ' ' || sqlerrm);
      END IF;
    END;
    ev := jsonb_build_object('schema_version', '1.1', 'timestamp', '2026-01-01T00:00:00Z',
            'event_id', format('00000000-0000-4000-8000-%s', lpad(r.n::text, 12, '0')),
            'integrity', r.doc::jsonb, 'x', r.doc::jsonb);
    h := bh_audit.event_hash(ev::json, prev);
    INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
    VALUES (s + 1, ev, 'sha256', prev, h);
  END LOOP;
END $$;
SELECT count(*) AS problems FROM res;
SELECT count(*) AS rendered, count(DISTINCT event_hash) AS distinct_hashes
  FROM bh_audit.events WHERE event ->> 'event_id' LIKE '00000000-0000-4000-8000-%' AND event ? 'x';
SELECT result, hash_mismatches FROM bh_audit.verify_chain(
  (SELECT min(seq) FROM bh_audit.events WHERE event ? 'x' AND event ->> 'timestamp' = '2026-01-01T00:00:00Z'));
-- the exported line: the canonical text of the event with its integrity
-- block in place of its own "integrity" (event_id sorts before it)
SELECT count(*) AS exported, count(*) FILTER (WHERE
         replace(l, format(',"integrity":{"event_hash":"%s","hash_alg":"sha256"%s}', e.event_hash,
                           CASE WHEN e.prev_event_hash IS NOT NULL THEN format(',"prev_event_hash":"%s"', e.prev_event_hash) ELSE '' END), '')
         = bh_audit.canonical_json(e.event::json)) AS as_text_path
  FROM bh_audit.events e,
       LATERAL bh_audit.export_jsonl(e.seq, e.seq) AS l
 WHERE e.event ? 'x' AND e.event ->> 'timestamp' = '2026-01-01T00:00:00Z';
ROLLBACK;
