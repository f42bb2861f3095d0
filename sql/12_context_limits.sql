-- Never an invalid event from context: every string the event builder
-- takes from settings or session state (service name, environment and
-- version; actor id, type, org ids and roles; correlation ids; db_user) is
-- cut to the schema's limit, in characters, ending in "..."; an empty one
-- is replaced by its default or left out.  Every event made here passes
-- bh_audit.validate_event(), in every schema version.
SELECT bh_audit.seal() >= 0 AS sealed_before;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- Over-long values, in 1-, 2-, 3- and 4-byte UTF-8 characters.
CREATE FUNCTION pg_temp.set_long() RETURNS void LANGUAGE sql AS $$
    SELECT set_config('bh_audit.service_name', repeat('é', 200), false);        -- 128
    SELECT set_config('bh_audit.service_environment', repeat('€', 100), false); -- 64
    SELECT set_config('bh_audit.service_version', repeat('😀', 100), false);    -- 64
    SELECT set_config('bh_audit.actor_id', repeat('😀', 300), false);           -- 256
    SELECT set_config('bh_audit.actor_type', 'service', false);
    SELECT set_config('bh_audit.actor_org_id', repeat('ö', 200), false);        -- 128
    SELECT set_config('bh_audit.owner_org_id', repeat('中', 200), false);       -- 128
    -- 30 roles of 100 characters, blank entries between them: 25 of 64
    SELECT set_config('bh_audit.actor_roles',
                      (SELECT string_agg(' ' || repeat(chr(252 + i % 3), 100) || ' ', ', ,')
                         FROM generate_series(1, 30) i), false);
    SELECT set_config('bh_audit.request_id', repeat('r', 300), false);        -- 256
    SELECT set_config('bh_audit.trace_id', repeat('✓', 300), false);          -- 256
    SELECT set_config('bh_audit.session_id', repeat('𝄞', 300), false);        -- 256
$$;
-- Empty values everywhere (roles: only separators and blanks).
CREATE FUNCTION pg_temp.set_empty() RETURNS void LANGUAGE sql AS $$
    SELECT set_config(name, '', false)
      FROM unnest(ARRAY['bh_audit.service_name', 'bh_audit.service_environment',
                        'bh_audit.service_version', 'bh_audit.actor_id', 'bh_audit.actor_type',
                        'bh_audit.actor_org_id', 'bh_audit.owner_org_id', 'bh_audit.request_id',
                        'bh_audit.trace_id', 'bh_audit.session_id']) AS name;
    SELECT set_config('bh_audit.actor_roles', ' , ,,	,', false);
$$;
-- Values exactly at the limits are kept whole.
CREATE FUNCTION pg_temp.set_exact() RETURNS void LANGUAGE sql AS $$
    SELECT set_config('bh_audit.service_name', repeat('é', 128), false);
    SELECT set_config('bh_audit.service_environment', repeat('€', 64), false);
    SELECT set_config('bh_audit.service_version', repeat('😀', 64), false);
    SELECT set_config('bh_audit.actor_id', repeat('😀', 256), false);
    SELECT set_config('bh_audit.actor_type', 'human', false);
    SELECT set_config('bh_audit.actor_org_id', repeat('ö', 128), false);
    SELECT set_config('bh_audit.owner_org_id', repeat('中', 128), false);
    SELECT set_config('bh_audit.actor_roles',
                      (SELECT string_agg(repeat('ü', 64), ',') FROM generate_series(1, 25)), false);
    SELECT set_config('bh_audit.request_id', repeat('r', 256), false);
    SELECT set_config('bh_audit.trace_id', repeat('✓', 256), false);
    SELECT set_config('bh_audit.session_id', repeat('𝄞', 256), false);
$$;
-- One event of each kind in every schema version; the error message is
-- over-long too (cut to bh_audit.error_message_max_len).
CREATE TEMP TABLE made (version text, kind text, event_id uuid);
CREATE FUNCTION pg_temp.emit_all(v text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    PERFORM set_config('bh_audit.schema_version', v, false);
    FOREACH k IN ARRAY ARRAY['long', 'empty', 'exact'] LOOP
        EXECUTE format('SELECT pg_temp.set_%s()', k);
        INSERT INTO made
        SELECT v, k, bh_audit.emit('READ', 'Patient', 'p1', 'p1', 'FAILURE', 'Timeout',
                                   repeat('ß', 1000));
    END LOOP;
END $$;
SELECT pg_temp.emit_all(v) FROM unnest(ARRAY['1.0', '1.1', '2.0', '2.1']) AS v;
RESET bh_audit.schema_version;
SELECT pg_temp.set_empty();

SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE ev AS
SELECT m.version, m.kind, e.event
  FROM made m JOIN bh_audit.events e ON e.event_id = m.event_id;
SELECT version, count(*) AS events FROM ev GROUP BY version ORDER BY version;

-- The over-long event (1.1), field by field: each cut to exactly its
-- limit, in characters, ending in "...".
CREATE TEMP TABLE limits (path text[], lim int);
INSERT INTO limits VALUES
    ('{service,name}', 128), ('{service,environment}', 64), ('{service,version}', 64),
    ('{actor,subject_id}', 256), ('{actor,org_id}', 128), ('{actor,owner_org_id}', 128),
    ('{correlation,request_id}', 256), ('{correlation,trace_id}', 256),
    ('{correlation,session_id}', 256), ('{outcome,error_message}', 200);
SELECT array_to_string(l.path, '.') AS field, l.lim,
       length(ev.event #>> l.path) AS length,
       octet_length(ev.event #>> l.path) AS bytes,
       right(ev.event #>> l.path, 4) AS ending
  FROM ev, limits l WHERE ev.version = '1.1' AND ev.kind = 'long' ORDER BY l.lim, 1;
SELECT jsonb_array_length(event -> 'actor' -> 'roles') AS roles,
       (SELECT max(length(r)) FROM jsonb_array_elements_text(event -> 'actor' -> 'roles') r) AS longest_role,
       (SELECT bool_and(r ~ '^\S.*\.\.\.$') FROM jsonb_array_elements_text(event -> 'actor' -> 'roles') r) AS trimmed_and_cut,
       event -> 'actor' ->> 'subject_type' AS subject_type
  FROM ev WHERE version = '1.1' AND kind = 'long';

-- The same in every version: every field present is at its limit (1.0 has
-- no owner_org_id: it is left out there).
SELECT ev.version,
       bool_and(length(ev.event #>> l.path) = l.lim AND right(ev.event #>> l.path, 3) = '...')
           FILTER (WHERE ev.event #>> l.path IS NOT NULL) AS all_cut_to_limit,
       string_agg(array_to_string(l.path, '.'), ', ') FILTER (WHERE ev.event #>> l.path IS NULL) AS left_out
  FROM ev, limits l WHERE ev.kind = 'long' GROUP BY ev.version ORDER BY ev.version;

-- Values exactly at the limits are kept whole (no "...").
SELECT ev.version,
       bool_and(length(ev.event #>> l.path) = l.lim AND right(ev.event #>> l.path, 3) <> '...')
           FILTER (WHERE ev.event #>> l.path IS NOT NULL AND l.path <> '{outcome,error_message}') AS all_whole,
       jsonb_array_length(ev.event -> 'actor' -> 'roles') AS roles
  FROM ev, limits l WHERE ev.kind = 'exact' GROUP BY ev.version, ev.event ORDER BY ev.version;

-- Empty values: the service name falls back to "postgresql", the actor to
-- the login (a human), and the rest is left out, correlation included.
SELECT version, event -> 'service' AS service, event -> 'actor' AS actor,
       event ? 'correlation' AS has_correlation
  FROM ev WHERE kind = 'empty' ORDER BY version;

-- Every one of these events validates against its own version's schema.
SELECT version, kind, event ->> 'schema_version' AS schema_version,
       bh_audit.validate_event(event) AS valid
  FROM ev ORDER BY version, kind;
SELECT version, kind, v.path, v.message
  FROM ev, bh_audit.validation_errors(ev.event) v ORDER BY 1, 2, 3;

-- A role's name is recorded as it is (a role name is at most 63 bytes):
-- after SET SESSION AUTHORIZATION, metadata db_role; the actor without a
-- stated id and metadata db_user stay the login.
CREATE ROLE "rôle_😀_ünïcödé_ß_€_中文_𝄞";
SET SESSION AUTHORIZATION "rôle_😀_ünïcödé_ß_€_中文_𝄞";
SELECT bh_audit.emit('READ', 'Patient', 'p2', 'p2') IS NOT NULL AS emitted;
RESET SESSION AUTHORIZATION;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT event -> 'actor' = jsonb_build_object('subject_id', session_user, 'subject_type', 'human') AS actor_is_login,
       event -> 'metadata' = jsonb_build_object('db_role', 'rôle_😀_ünïcödé_ß_€_中文_𝄞', 'db_user', session_user) AS metadata,
       event -> 'metadata' ->> 'db_role' AS db_role, bh_audit.validate_event(event) AS valid
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark) AND patient_id = 'p2';

-- The error message follows bh_audit.error_message_max_len, up to the
-- schema's 500.
SET bh_audit.error_message_max_len = 500;
SELECT bh_audit.emit('READ', 'Patient', 'p3', 'p3', 'FAILURE', 'Timeout', repeat('ß', 1000)) IS NOT NULL AS emitted;
SET bh_audit.error_message_max_len = 16;
SELECT bh_audit.emit('READ', 'Patient', 'p4', 'p4', 'FAILURE', 'Timeout', repeat('ß', 1000)) IS NOT NULL AS emitted;
RESET bh_audit.error_message_max_len;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT patient_id, length(event -> 'outcome' ->> 'error_message') AS msg_len,
       right(event -> 'outcome' ->> 'error_message', 4) AS ending, bh_audit.validate_event(event) AS valid
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark) AND patient_id IN ('p3', 'p4') ORDER BY patient_id;

-- What cannot be cut is refused when set.
SELECT regress_err($$SET bh_audit.actor_type = 'robot'$$);
SELECT regress_err($$SELECT bh_audit.set_context(roles => ARRAY['a,b'])$$);

DROP ROLE "rôle_😀_ünïcödé_ß_€_中文_𝄞";
