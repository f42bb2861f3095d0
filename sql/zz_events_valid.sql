-- Last of the suite: every event that the whole suite left in the ledger
-- validates against the schema of its own version, and the chain verifies.
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) > 0 AS has_events,
       count(*) FILTER (WHERE NOT bh_audit.validate_event(event)) AS invalid
  FROM bh_audit.events;
-- the errors of any invalid event (none expected)
SELECT seq, event ->> 'schema_version' AS v, e.path, e.message
  FROM bh_audit.events, bh_audit.validation_errors(event) AS e
 ORDER BY 1, 3, 4;
-- and every one is laid out as PostgreSQL lays out its JSON: keys in
-- jsonb's order, each once (see 48_event_bytes)
SELECT count(*) FILTER (WHERE event::text <> event::text::jsonb::text
                           OR jsonb_send(event) <> jsonb_send(event::text::jsonb)) AS misordered
  FROM bh_audit.events;
SELECT count(*) AS queued FROM bh_audit.queue;
SELECT result, chain_gaps, hash_mismatches FROM bh_audit.verify_chain();
-- Every event rendered both ways gives the same canonical bytes: its hash
-- (the sealer renders the stored jsonb in place) is the hash of its JSON
-- text's canonical form (event_hash() parses the text into a tree); and
-- every export line (the jsonb rendered with its integrity block) hashes
-- to the event_hash it carries.
SELECT count(*) > 0 AS has_events,
       count(*) FILTER (WHERE event_hash IS DISTINCT FROM
                        bh_audit.event_hash(event::json, prev_event_hash, hash_alg)) AS rendered_differently
  FROM bh_audit.events;
SELECT count(*) = (SELECT count(*) FROM bh_audit.events) AS every_event_exported,
       count(*) FILTER (WHERE j -> 'integrity' ->> 'event_hash' IS DISTINCT FROM
                        bh_audit.event_hash(j, j -> 'integrity' ->> 'prev_event_hash',
                                            j -> 'integrity' ->> 'hash_alg')) AS exported_differently
  FROM (SELECT line::json AS j FROM bh_audit.export_jsonl() AS line) AS l;
-- The sealer fills the access-review columns itself; re-evaluated by their
-- generated expressions over every row they agree (count of rows that differ).
SELECT count(*) AS derived_columns_differ
  FROM bh_audit.events
 WHERE event_id IS DISTINCT FROM (event ->> 'event_id')::uuid
    OR ts IS DISTINCT FROM bh_audit.event_timestamp(event ->> 'timestamp')
    OR actor_id IS DISTINCT FROM event -> 'actor' ->> 'subject_id'
    OR patient_id IS DISTINCT FROM event -> 'resource' ->> 'patient_id'
    OR resource_type IS DISTINCT FROM event -> 'resource' ->> 'type'
    OR resource_id IS DISTINCT FROM event -> 'resource' ->> 'id'
    OR action IS DISTINCT FROM event -> 'action' ->> 'type'
    OR outcome IS DISTINCT FROM event -> 'outcome' ->> 'status'
    OR error_type IS DISTINCT FROM event -> 'outcome' ->> 'error_type';
-- and they are filled (every event has an id, a timestamp, an actor, an action)
SELECT count(*) FILTER (WHERE event_id IS NULL OR ts IS NULL OR actor_id IS NULL
                          OR action IS NULL OR outcome IS NULL) AS derived_columns_missing
  FROM bh_audit.events;
-- The same both ways for shapes no capture makes (nesting, arrays, every
-- kind of number, keys whose byte order is not jsonb's order, escapes,
-- objects of more than 16 keys, an event's own "integrity"): each is
-- replayed as a ledger row hashed by event_hash() from its text, which the
-- ledger's guard accepts only if its rendering of the stored jsonb hashes
-- the same; then verified, and exported with the integrity block the row
-- carries in place of the event's own.
BEGIN;
-- the sealer waits until the end, so the head read below stays the head
LOCK TABLE bh_audit.events IN SHARE ROW EXCLUSIVE MODE;
CREATE TEMP TABLE shapes (n int, event jsonb);
INSERT INTO shapes
SELECT n, '{"schema_version": "1.1", "timestamp": "2026-01-01T00:00:00Z"}'::jsonb ||
          jsonb_build_object('event_id', format('00000000-0000-4000-8000-%s', lpad(n::text, 12, '0'))) ||
          shape
  FROM (VALUES
    (1, '{"a": {"z": [1, 2.5, -0, 1e300, 0.1, 1.0, 100.25e-10, 1e22, 1e16, 1e15, 5e-324, -1.5e-7,
                      123456789012345678901234567890, null, true, false, {}, [], ""],
                "b": {"y": {"x": "deep"}}}}'::jsonb),
    (2, '{"é": 1, "e": 2, "ö": 3, "z": 4, "Z": 5, "日": 6, "😀": 7, "\uffff": 8, "": 9,
          "ab": 10, "a": 11, "b": 12, "aé": 13, "a\u0001": 14}'),
    (3, jsonb_build_object('s', E'tab\t nl\n cr\r bs\b ff\f \x01 \x1f \x7f quote" back\\ slash/ é 日本 😀',
                           'long', repeat('abcdefgh', 500) || E'"\n', 'quotes', repeat('a"b', 100))),
    (4, (SELECT jsonb_object_agg('k' || i, CASE WHEN i % 3 = 0 THEN to_jsonb(i * 0.5)
                                                WHEN i % 3 = 1 THEN to_jsonb(repeat('é', i))
                                                ELSE jsonb_build_object('k' || (40 - i), i) END)
           FROM generate_series(1, 40) i)),
    (5, (SELECT jsonb_build_object('list', jsonb_agg(jsonb_build_object('i', i, 'v', 'x' || i)))
           FROM generate_series(1, 40) i)),
    (6, '{"integrity": {"event_hash": "not this one"}, "metadata": {"integrity": 1}}')
  ) AS v(n, shape);
CREATE TEMP TABLE replayed AS
WITH RECURSIVE chain(n, seq, hash) AS (
    (SELECT 0, seq, event_hash FROM bh_audit.events ORDER BY seq DESC LIMIT 1)
  UNION ALL
    SELECT s.n, c.seq + 1, bh_audit.event_hash(s.event::json, c.hash)
      FROM chain c JOIN shapes s ON s.n = c.n + 1
)
SELECT c.n, c.seq, s.event, p.hash AS prev, c.hash
  FROM chain c JOIN shapes s USING (n) JOIN chain p ON p.n = c.n - 1;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT seq, event, 'sha256', prev, hash FROM replayed ORDER BY seq;
SELECT count(*) AS replayed FROM bh_audit.events e JOIN replayed r USING (seq);
SELECT result, hash_mismatches FROM bh_audit.verify_chain((SELECT min(seq) FROM replayed));
SELECT r.n, l.line = substr(c.text, 6, length(c.text) - 6) AS exported_as_rendered
  FROM replayed r
  JOIN bh_audit.export_jsonl() AS l(line) ON l.line::json -> 'integrity' ->> 'event_hash' = r.hash
  CROSS JOIN LATERAL bh_audit.canonical_json(json_build_object('e',
         (r.event - 'integrity') || jsonb_build_object('integrity',
         jsonb_build_object('event_hash', r.hash, 'hash_alg', 'sha256', 'prev_event_hash', r.prev))))
         AS c(text)
 ORDER BY 1;
ROLLBACK;
-- The sealer reads the access-review columns of an event in one pass over
-- each object: events of shapes no capture makes (a member of another JSON
-- type, a string or an array where an object is read, members missing or
-- null, keys of the same length as those read, objects of more than 16
-- keys), queued as a restore brings them, get what the columns' generated
-- expressions give.
INSERT INTO bh_audit.queue (events)
SELECT array_agg(e ORDER BY n)
  FROM (VALUES
    (1, '{"actor": {"subject_id": 42, "subject_ie": "no"}, "action": {"type": 1.50},
          "resource": {"id": {"b": [1, 2], "a": null}, "type": true, "patient_id": null},
          "outcome": {"status": false, "error_type": ["x", 1]}}'::jsonb),
    (2, '{"actor": "alice", "actos": {"subject_id": "no"}, "resource": [1, 2],
          "resourcd": {"id": "no"}, "resourcf": {"id": "no"}, "outcome": {"status": "DENIED"},
          "a": 1, "zzzzzzzzzzzz": 2}'),
    (3, (SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 40) i) ||
        jsonb_build_object('actor', jsonb_build_object('subject_id', 'u3', 'x', 1),
          'action', jsonb_build_object('typf', 'no', 'typd', 'no', 'type', 'READ'),
          'outcome', jsonb_build_object('status', 'SUCCESS', 'error_type', null),
          'resource', (SELECT jsonb_object_agg('r' || i, i) FROM generate_series(1, 40) i) ||
                      '{"id": "r3", "ie": "no", "type": "Doc", "patient_id": "p3", "patient_idx": "no"}')),
    (4, '{"actor": {}, "action": null, "resource": {"type": "", "patient_id": "p\"4\u00e9"},
          "outcome": {"error_type": "42P01"}}')
  ) AS v(n, shape)
  CROSS JOIN LATERAL (SELECT shape || jsonb_build_object('schema_version', '1.1',
                        'timestamp', '2026-01-01T00:00:0' || n || 'Z', 'source', 'shapes',
                        'event_id', format('00000000-0000-4000-8000-%s', lpad(n::text, 12, '0')))) AS s(e);
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT event_id, ts, actor_id, patient_id, resource_type, resource_id, action, outcome, error_type
  FROM bh_audit.events WHERE event ->> 'source' = 'shapes' ORDER BY seq;
SELECT count(*) AS shapes,
       count(*) FILTER (WHERE event_id IS DISTINCT FROM (event ->> 'event_id')::uuid
                           OR ts IS DISTINCT FROM bh_audit.event_timestamp(event ->> 'timestamp')
                           OR actor_id IS DISTINCT FROM event -> 'actor' ->> 'subject_id'
                           OR patient_id IS DISTINCT FROM event -> 'resource' ->> 'patient_id'
                           OR resource_type IS DISTINCT FROM event -> 'resource' ->> 'type'
                           OR resource_id IS DISTINCT FROM event -> 'resource' ->> 'id'
                           OR action IS DISTINCT FROM event -> 'action' ->> 'type'
                           OR outcome IS DISTINCT FROM event -> 'outcome' ->> 'status'
                           OR error_type IS DISTINCT FROM event -> 'outcome' ->> 'error_type')
         AS derived_columns_differ
  FROM bh_audit.events WHERE event ->> 'source' = 'shapes';
-- The sealer looks the chain's head up from the head it read last (for a
-- batch of one event, the head before it); after the ledger's tail is
-- removed below that (by a superuser, the guard off) it finds the new
-- head: the next events continue the chain from there.
SELECT bh_audit.emit('READ', 'Doc', 'before the cut', 'p1') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) - 3 AS cut FROM bh_audit.events \gset
SELECT sealer_pid AS sealer FROM bh_audit.stats() \gset
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
DELETE FROM bh_audit.events WHERE seq > :cut;
ALTER TABLE bh_audit.events ENABLE TRIGGER USER;
COMMIT;
SELECT bh_audit.emit('READ', 'Doc', 'after the cut', 'p1') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT min(seq) = :cut + 1 AS continued_at_cut,
       count(*) FILTER (WHERE event -> 'resource' ->> 'id' = 'after the cut') AS sealed_after_cut
  FROM bh_audit.events WHERE seq > :cut;
-- (by the same sealer: no batch failed on the way)
SELECT sealer_pid = :sealer AS same_sealer FROM bh_audit.stats();
SELECT result, chain_gaps, hash_mismatches FROM bh_audit.verify_chain();
