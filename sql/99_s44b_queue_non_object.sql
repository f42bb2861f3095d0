-- Rows that come into bh_audit.queue by SQL (a restore's COPY of events
-- still queued at the dump, a superuser's INSERT or UPDATE; the extension's
-- own rows bypass the executor) hold JSON objects only: the sealer chains
-- each event as it is, and the ledger's export and its guard in a restore
-- take nothing else.  A row with an element that is not a JSON object (a
-- number, a string, an array, JSON null, a boolean) is refused (23514) by
-- the row trigger queue_objects_only, enabled ALWAYS, naming the row's id,
-- the element's position and its JSON type, never its content; a NULL
-- element is let through (the sealer skips it with a WARNING).  With the
-- trigger off (a superuser's), the sealer skips such an element with a
-- WARNING: it never reaches the ledger.
SELECT bh_audit.emit('READ', 'Patient', 's44b_ref', 's44b_ref') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT seq AS s44b_head FROM bh_audit.chain_head() \gset
-- events as a restore brings them: the one just sealed, with another
-- event_id and resource id
SELECT max(ev::text) FILTER (WHERE n = 1) AS ev1, max(ev::text) FILTER (WHERE n = 2) AS ev2,
       max(ev::text) FILTER (WHERE n = 3) AS ev3, max(ev::text) FILTER (WHERE n = 4) AS ev4
  FROM bh_audit.events, generate_series(1, 4) n,
       LATERAL jsonb_set(jsonb_set(event, '{event_id}', to_jsonb('00000000-0000-4000-8000-0000000044b' || n)),
                         '{resource,id}', to_jsonb('s44b_ev' || n)) ev
 WHERE seq = :s44b_head \gset s44b_
SELECT :'s44b_ev4'::jsonb -> 'resource' ->> 'id' AS restored_event_made;
-- the statement's outcome: "accepted", or its SQLSTATE and message (the
-- row's id, given by the queue's identity, shown as <id>)
CREATE FUNCTION pg_temp.outcome(stmt text, keep_id boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'accepted';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' ||
           CASE WHEN keep_id THEN SQLERRM ELSE regexp_replace(SQLERRM, 'with id [0-9]+', 'with id <id>') END;
END $$;
CREATE TEMP VIEW s44b_queue AS
SELECT count(*) AS queue_rows,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM unnest(q.events) e
                                       WHERE jsonb_typeof(e) <> 'object')) AS rows_with_non_objects
  FROM bh_audit.queue q;
SELECT * FROM s44b_queue;

-- 1. An INSERT of a number (the row's id given by the queue's identity),
-- a string, an array, JSON null, a boolean: refused.
\set VERBOSITY default
SELECT pg_temp.outcome($$INSERT INTO bh_audit.queue (events) VALUES (ARRAY['42'::jsonb])$$);
INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE
VALUES (44001, ARRAY['"Jane Doe, MRN 12345"'::jsonb]);
INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE
VALUES (44002, ARRAY['[{"patient": "Jane Doe"}]'::jsonb]);
INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE VALUES (44003, ARRAY['null'::jsonb]);
INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE VALUES (44004, ARRAY['true'::jsonb]);
\set VERBOSITY terse
-- 2. An object and a non-object in one row: the whole row refused, the
-- position of the first non-object named; and the statement with it (a
-- good row before it is not kept).
INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE
VALUES (44005, ARRAY[:'s44b_ev1'::jsonb, '{}', '12.5', '"x"']);
INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE
VALUES (44006, ARRAY[:'s44b_ev1'::jsonb]), (44007, ARRAY[NULL, '[]'::jsonb]);
SELECT * FROM s44b_queue;

-- 3. COPY FROM (a restore): refused; the line's data (the events) is not
-- shown in the error's context either.
\set VERBOSITY default
COPY bh_audit.queue (id, events) FROM STDIN;
44008	{"{}"}
44009	{"{\\"name\\": \\"Jane Doe\\"}","\\"Jane Doe\\""}
\.
COPY bh_audit.queue (id, events) FROM STDIN (FORMAT csv);
44010,"{""[1, 2]""}"
\.
\set VERBOSITY terse
SELECT * FROM s44b_queue;

-- 4. A superuser's UPDATE of events: refused, the row unchanged (in a
-- transaction, where the sealer does not see the row); adding a NULL
-- element is accepted.
BEGIN;
INSERT INTO bh_audit.queue (events) VALUES (ARRAY[:'s44b_ev2'::jsonb]) RETURNING id AS s44b_qid \gset
SELECT pg_temp.outcome(format($$UPDATE bh_audit.queue SET events = events || '[1]'::jsonb WHERE id = %s$$, :s44b_qid));
SELECT pg_temp.outcome(format($$UPDATE bh_audit.queue SET events = ARRAY['"x"'::jsonb] WHERE id = %s$$, :s44b_qid));
SELECT pg_temp.outcome(format($$UPDATE bh_audit.queue SET events = events WHERE id = %s$$, :s44b_qid));
SELECT events = ARRAY[:'s44b_ev2'::jsonb] AS row_unchanged FROM bh_audit.queue WHERE id = :s44b_qid;
SELECT pg_temp.outcome(format($$UPDATE bh_audit.queue SET events = events || NULL::jsonb WHERE id = %s$$, :s44b_qid));
SELECT cardinality(events) AS events_with_null FROM bh_audit.queue WHERE id = :s44b_qid;
-- the id named is the row's
SELECT pg_temp.outcome(format($$UPDATE bh_audit.queue SET events = events || '1'::jsonb WHERE id = %s$$, :s44b_qid), true)
       = format('23514: bh_audit.queue takes JSON objects only: event 3 of the row with id %s is a JSON number', :s44b_qid)
       AS names_the_row;
ROLLBACK;

-- 5. Under session_replication_role = replica too (enabled ALWAYS).
SET session_replication_role = replica;
INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE VALUES (44011, ARRAY['42'::jsonb]);
RESET session_replication_role;

-- Nothing refused reached the queue or the ledger.
SELECT * FROM s44b_queue;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT seq = :s44b_head AS ledger_unchanged FROM bh_audit.chain_head();

-- 6. A restored row of objects, a NULL element beside them: accepted, its
-- objects sealed, the NULL skipped.
INSERT INTO bh_audit.queue (events) VALUES (ARRAY[:'s44b_ev3'::jsonb, NULL]);
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_id, event_id FROM bh_audit.events WHERE seq > :s44b_head ORDER BY seq;

-- 7. The trigger disabled by a superuser (recorded; capture_status()
-- reports it): a non-object queued, then skipped by the sealer, never in
-- the ledger; the object beside it sealed; the chain verifies and exports.
SELECT seq AS s44b_head2 FROM bh_audit.chain_head() \gset
ALTER TABLE bh_audit.queue DISABLE TRIGGER queue_objects_only;
SELECT * FROM bh_audit.capture_status();
INSERT INTO bh_audit.queue (events) VALUES (ARRAY['42'::jsonb, :'s44b_ev4'::jsonb, '[1]']);
ALTER TABLE bh_audit.queue ENABLE TRIGGER queue_objects_only;
SELECT * FROM bh_audit.capture_status();
ALTER TABLE bh_audit.queue ENABLE ALWAYS TRIGGER queue_objects_only;
SELECT * FROM bh_audit.capture_status();
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT * FROM s44b_queue;
SELECT jsonb_typeof(event) AS kind, resource_type, resource_id,
       event -> 'metadata' ->> 'trigger' AS trg, event -> 'metadata' ->> 'change' AS change
  FROM bh_audit.events WHERE seq > :s44b_head2 ORDER BY seq;
SELECT count(*) AS non_objects_in_ledger FROM bh_audit.events WHERE jsonb_typeof(event) <> 'object';
SELECT result, hash_mismatches FROM bh_audit.verify_chain();
SELECT count(*) = (SELECT count(*) FROM bh_audit.events) AS exported_whole
  FROM bh_audit.export_jsonl();
