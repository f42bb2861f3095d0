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
