-- Schema validation: bh_audit.validate_event() and validation_errors()
-- against the four vendored bh-audit-schema versions.
\getenv abs_srcdir PG_ABS_SRCDIR
\set examples :abs_srcdir '/test/examples'

-- The upstream examples of every version are valid; every file under
-- negative/ is invalid.
CREATE TEMP TABLE examples AS
SELECT v.version, f AS file, false AS negative,
       pg_read_file(:'examples' || '/' || v.version || '/' || f)::jsonb AS event
  FROM unnest(ARRAY['1.0', '1.1', '2.0', '2.1']) AS v(version),
       LATERAL pg_ls_dir(:'examples' || '/' || v.version) AS f
 WHERE f LIKE '%.json'
UNION ALL
SELECT v.version, f, true,
       pg_read_file(:'examples' || '/' || v.version || '/negative/' || f)::jsonb
  FROM unnest(ARRAY['2.0', '2.1']) AS v(version),
       LATERAL pg_ls_dir(:'examples' || '/' || v.version || '/negative') AS f
 WHERE f LIKE '%.json';

SELECT version, negative, count(*) AS files,
       count(*) FILTER (WHERE bh_audit.validate_event(event)) AS valid,
       count(*) FILTER (WHERE bh_audit.validate_event(event, version)) AS valid_explicit,
       count(*) FILTER (WHERE event ->> 'schema_version' = version) AS own_version
  FROM examples GROUP BY 1, 2 ORDER BY 1, 2;

-- Positive examples have no error rows; each negative one says why.
SELECT count(*) AS error_rows_of_positive_examples
  FROM examples, bh_audit.validation_errors(event) WHERE NOT negative;
SELECT version, file, e.path, e.message
  FROM examples, bh_audit.validation_errors(event) AS e
 WHERE negative ORDER BY 1, 2, 3, 4;

-- Hand-written cases, one keyword at a time, from a valid 1.1 event.
CREATE TEMP TABLE base AS SELECT '{
  "schema_version": "1.1",
  "event_id": "9a8b7c6d-5555-4666-8777-888899990000",
  "timestamp": "2026-03-11T18:43:10.123Z",
  "service": {"name": "bh-intake-db"},
  "actor": {"subject_id": "user_1", "subject_type": "human"},
  "action": {"type": "READ"},
  "resource": {"type": "Patient", "id": "pat_1", "patient_id": "pat_1"},
  "outcome": {"status": "SUCCESS"}
}'::jsonb AS ev;

CREATE TEMP TABLE cases (n serial, name text, version text, event jsonb);
INSERT INTO cases (name, version, event)
SELECT c.name, c.version, c.event FROM base, LATERAL (VALUES
  ('valid', NULL, ev),
  ('type: object expected', NULL, jsonb_set(ev, '{service}', '"svc"')),
  ('type: integer 200.0 is an integer', NULL, ev || '{"http": {"status_code": 200.0}}'),
  ('type: integer 200.5 is not', NULL, ev || '{"http": {"status_code": 200.5}}'),
  ('type: string for an integer', NULL, ev || '{"http": {"status_code": "200"}}'),
  ('type: boolean', NULL, jsonb_set(ev, '{action,phi_touched}', '"yes"')),
  ('type: array of types (metadata scalars)', NULL,
     ev || '{"metadata": {"s": "x", "i": 1, "f": 1.5, "b": true, "z": null}}'),
  ('type: metadata array value', NULL, ev || '{"metadata": {"a": [1], "b": "ok"}}'),
  ('type: the document is an array', '1.1', '[]'),
  ('enum via $ref to $defs', NULL, jsonb_set(ev, '{action,type}', '"LOOK"')),
  ('enum: case matters', NULL, ev || '{"http": {"method": "get"}}'),
  ('enum: data_classification', NULL, jsonb_set(ev, '{action,data_classification}', '"SECRET"')),
  ('const: schema_version', '1.1', jsonb_set(ev, '{schema_version}', '"2.0"')),
  ('required: event_id', NULL, ev - 'event_id'),
  ('required: two missing', NULL, ev - 'event_id' - 'actor'),
  ('required: nested', NULL, jsonb_set(ev, '{outcome}', '{}')),
  ('minLength: empty service name', NULL, jsonb_set(ev, '{service,name}', '""')),
  ('maxLength: 128 characters', NULL, jsonb_set(ev, '{service,name}', to_jsonb(repeat('s', 128)))),
  ('maxLength: 129 characters', NULL, jsonb_set(ev, '{service,name}', to_jsonb(repeat('s', 129)))),
  ('maxLength in code points: 128 x 4-byte', NULL, jsonb_set(ev, '{service,name}', to_jsonb(repeat('😀', 128)))),
  ('maxLength in code points: 129 x 2-byte', NULL, jsonb_set(ev, '{service,name}', to_jsonb(repeat('é', 129)))),
  ('minLength and maxLength: uuid of 35', NULL, jsonb_set(ev, '{event_id}', '"9a8b7c6d-5555-4666-8777-88889999000"')),
  ('additionalProperties false: two unknown keys', NULL,
     ev || '{"ssn": "SSN_123-45-6789", "diagnosis": "DIAGNOSIS_BIPOLAR"}'),
  ('additionalProperties false: nested', NULL, jsonb_set(ev, '{actor,email}', '"EMAIL_jane.doe@example.com"')),
  ('additionalProperties schema', NULL, ev || '{"metadata": {"PATIENT_JANE_DOE": {"dob": "DOB_1990-01-01"}}}'),
  ('items: an empty role', NULL, jsonb_set(ev, '{actor,roles}', '["clinician", ""]')),
  ('items: a role that is not a string', NULL, jsonb_set(ev, '{actor,roles}', '["clinician", 7]')),
  ('maxItems: 25 roles', NULL, jsonb_set(ev, '{actor,roles}', (SELECT jsonb_agg('r' || i) FROM generate_series(1, 25) i))),
  ('maxItems: 26 roles', NULL, jsonb_set(ev, '{actor,roles}', (SELECT jsonb_agg('r' || i) FROM generate_series(1, 26) i))),
  ('minProperties: empty correlation', NULL, ev || '{"correlation": {}}'),
  ('maxProperties: 20 metadata keys', NULL, ev || jsonb_build_object('metadata', (SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 20) i))),
  ('maxProperties: 21 metadata keys', NULL, ev || jsonb_build_object('metadata', (SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 21) i))),
  ('minimum: status_code 99', NULL, ev || '{"http": {"status_code": 99}}'),
  ('maximum: status_code 600', NULL, ev || '{"http": {"status_code": 600}}'),
  ('minimum and maximum: 100 and 599', NULL, ev || '{"http": {"status_code": 599, "method": "GET"}}'),
  ('if/then: FAILURE needs error_type and error_message', NULL, jsonb_set(ev, '{outcome}', '{"status": "FAILURE"}')),
  ('if/then: DENIED needs error_type', NULL, jsonb_set(ev, '{outcome}', '{"status": "DENIED", "error_message": "no"}')),
  ('if/then: DENIED with error_type', NULL, jsonb_set(ev, '{outcome}', '{"status": "DENIED", "error_type": "PermissionDenied"}')),
  ('if/then: the if fails, nothing applies', NULL, jsonb_set(ev, '{outcome}', '{"status": "SUCCESS", "error_type": "X"}')),
  ('anyOf of formats: not an address', NULL, ev || '{"http": {"client_ip": "SSN_123-45-6789"}}'),
  ('anyOf of formats: ipv4', NULL, ev || '{"http": {"client_ip": "192.168.10.1"}}'),
  ('anyOf of formats: ipv6 with a dotted quad', NULL, ev || '{"http": {"client_ip": "::ffff:192.168.10.1"}}'),
  ('anyOf of formats: ipv4 leading zero', NULL, ev || '{"http": {"client_ip": "192.168.010.1"}}'),
  ('anyOf of formats: ipv6 zone', NULL, ev || '{"http": {"client_ip": "fe80::1%eth0"}}'),
  ('anyOf of formats: ipv6 two ::', NULL, ev || '{"http": {"client_ip": "1::2::3"}}'),
  ('dependentRequired: event_hash without hash_alg', NULL, ev || '{"integrity": {"event_hash": "ab"}}'),
  ('dependentRequired: prev_event_hash alone', NULL, ev || '{"integrity": {"prev_event_hash": "ab"}}'),
  ('dependentRequired: complete', NULL, ev || '{"integrity": {"prev_event_hash": "ab", "event_hash": "cd", "hash_alg": "sha256"}}'),
  ('format uuid: upper case', NULL, jsonb_set(ev, '{event_id}', '"9A8B7C6D-5555-4666-8777-888899990000"')),
  ('format uuid: not hex', NULL, jsonb_set(ev, '{event_id}', '"9a8b7c6d-5555-4666-8777-88889999000g"')),
  ('format uuid: braces', NULL, jsonb_set(ev, '{event_id}', '"{9a8b7c6d-5555-4666-8777-8888999900}"')),
  ('format date-time: offset and lower case', NULL, jsonb_set(ev, '{timestamp}', '"2026-03-11t18:43:10+05:30"')),
  ('format date-time: 29 February of a leap year', NULL, jsonb_set(ev, '{timestamp}', '"2024-02-29T00:00:00Z"')),
  ('format date-time: 29 February of 2026', NULL, jsonb_set(ev, '{timestamp}', '"2026-02-29T00:00:00Z"')),
  ('format date-time: leap second', NULL, jsonb_set(ev, '{timestamp}', '"2026-03-11T23:59:60Z"')),
  ('format date-time: no offset', NULL, jsonb_set(ev, '{timestamp}', '"2026-03-11T18:43:10"')),
  ('format date-time: space separator', NULL, jsonb_set(ev, '{timestamp}', '"2026-03-11 18:43:10Z"')),
  ('format date-time: offset 24:00', NULL, jsonb_set(ev, '{timestamp}', '"2026-03-11T18:43:10+24:00"')),
  ('format applies to strings only', NULL, jsonb_set(ev, '{timestamp}', '1741718590')),
  ('1.0: DENIED is not an outcome', NULL,
     jsonb_set(jsonb_set(ev, '{schema_version}', '"1.0"'), '{outcome}', '{"status": "DENIED", "error_type": "PermissionDenied"}')),
  ('1.0: no limits on lengths, no owner_org_id', NULL,
     jsonb_set(jsonb_set(ev, '{schema_version}', '"1.0"'), '{actor}',
               jsonb_build_object('subject_id', repeat('u', 300), 'subject_type', 'human', 'owner_org_id', 'o'))),
  ('1.0: metadata may nest', NULL, jsonb_set(ev, '{schema_version}', '"1.0"') || '{"metadata": {"a": {"b": [1]}}}'),
  ('2.0: the 1.1 event is valid', NULL, jsonb_set(ev, '{schema_version}', '"2.0"')),
  ('2.0: agent actor needs delegation (if/then)', NULL,
     jsonb_set(jsonb_set(ev, '{schema_version}', '"2.0"'), '{actor,subject_type}', '"agent"')),
  ('2.1: agent actor needs delegation or unattributed (anyOf)', NULL,
     jsonb_set(jsonb_set(ev, '{schema_version}', '"2.1"'), '{actor,subject_type}', '"agent"')),
  ('2.1: unattributed agent actor', NULL,
     jsonb_set(jsonb_set(ev, '{schema_version}', '"2.1"'), '{actor,subject_type}', '"agent"') || '{"attribution": {"level": "unattributed"}}'),
  ('2.1: verified attribution needs delegation', NULL,
     jsonb_set(ev, '{schema_version}', '"2.1"') || '{"attribution": {"level": "verified"}}')
) AS c(name, version, event);

SELECT n, name, bh_audit.validate_event(event, version) AS valid,
       e.path, e.message
  FROM cases LEFT JOIN LATERAL bh_audit.validation_errors(event, version) AS e ON true
 ORDER BY n, e.path, e.message;

-- Examples of 2.x with one change each (not, maximum, then on nested keys).
SELECT name, e.path, e.message FROM (VALUES
  ('2.1: unattributed with delegation (not)',
   (SELECT jsonb_set(event, '{attribution,level}', '"unattributed"') FROM examples
     WHERE version = '2.1' AND file = 'agent_asserted_call.json')),
  ('2.0: chain_depth 33 (maximum)',
   (SELECT jsonb_set(event, '{delegation,chain_depth}', '33') FROM examples
     WHERE version = '2.0' AND file = 'sub_agent_depth2_export.json')),
  ('2.0: chain_depth 1 with a parent (if/then minimum)',
   (SELECT jsonb_set(event, '{delegation,chain_depth}', '1') FROM examples
     WHERE version = '2.0' AND file = 'sub_agent_depth2_export.json')),
  ('2.1: OVERRIDE with attribution (not)',
   (SELECT event || '{"attribution": {"level": "unattributed"}}' FROM examples
     WHERE version = '2.1' AND file = 'human_override_agent_session.json'))
) AS c(name, event), LATERAL bh_audit.validation_errors(event) AS e
 ORDER BY 1, 2, 3;

-- Messages name the keyword and the limit, never the value; paths name only
-- the keys the schema declares.
SELECT count(*) AS leaks
  FROM cases, bh_audit.validation_errors(event, version) AS e
 WHERE e.path || e.message ~ '(SSN_|DOB_|PATIENT_|DIAGNOSIS_|EMAIL_|ssn|diagnosis|email|s{129}|é)';

-- The version: the argument, else the event's own; unknown ones are errors.
SELECT bh_audit.validate_event(ev) AS own, bh_audit.validate_event(ev, '1.1') AS v11,
       bh_audit.validate_event(ev, '2.0') AS v20 FROM base;
SELECT bh_audit.validate_event(ev, '3.0') FROM base;
SELECT bh_audit.validate_event(ev - 'schema_version') FROM base;
SELECT bh_audit.validate_event(jsonb_set(ev, '{schema_version}', '"PATIENT_JANE_DOE"')) FROM base;
SELECT bh_audit.validate_event(jsonb_set(ev, '{schema_version}', '11')) FROM base;
SELECT * FROM bh_audit.validation_errors('[1, 2]');
SELECT * FROM bh_audit.validation_errors('{}', 'v1');
CREATE FUNCTION pg_temp.sqlstate(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
SELECT pg_temp.sqlstate($$SELECT bh_audit.validate_event('{}', '3.0')$$) AS unknown_version,
       pg_temp.sqlstate($$SELECT bh_audit.validate_event('{}')$$) AS no_schema_version,
       pg_temp.sqlstate($$SELECT bh_audit.validate_event('{"schema_version": "0.9"}')$$) AS unknown_own_version,
       pg_temp.sqlstate($$SELECT * FROM bh_audit.validation_errors('{}', '')$$) AS empty_version;
SELECT bh_audit.validate_event(ev - 'schema_version', '1.1') AS explicit_version_of_event_without_one FROM base;
SELECT bh_audit.validate_event(NULL) IS NULL AS null_event, bh_audit.validate_event(NULL, '1.1') IS NULL AS null_event_v;
SELECT count(*) AS rows_for_null FROM bh_audit.validation_errors(NULL);

-- A violation found through two subschemas (2.1's allOf/if/then checks the
-- attribution's level again) is one row, where it was first found.
SELECT path, message
  FROM bh_audit.validation_errors('{"delegation": {"acting": {}}, "attribution": {}}', '2.1');

-- An event with 200,000 failing items: one row each, in linear time (under
-- a timeout that a look through the errors found so far, per error, would
-- far exceed).
SET statement_timeout = '60s';
SELECT count(*) AS errors, count(DISTINCT path) AS paths,
       min(path COLLATE "C") AS first_path, max(message) AS message
  FROM bh_audit.validation_errors(('{"schema_version": "1.1", "actor": {"roles": ['
       || (SELECT string_agg('1', ',') FROM generate_series(1, 200000)) || ']}}')::jsonb)
 WHERE path LIKE '/actor/roles/%';
RESET statement_timeout;

-- Objects of every size, keys of one length, required names the object
-- has and has not, in the keywords of both kinds of node: those that walk
-- every pair (properties, additionalProperties) and those that look a name
-- up (the "if" of a conditional, "then" that only requires names).
CREATE TEMP TABLE sized (n int, name text, version text, event jsonb);
INSERT INTO sized
SELECT row_number() OVER (), c.name, c.version, c.event
  FROM base, LATERAL (
  SELECT 'outcome FAILURE among ' || k || ' root keys, some as long as outcome', NULL,
         jsonb_set(ev, '{outcome}', '{"status": "FAILURE"}')
         || (SELECT jsonb_object_agg(CASE WHEN i % 3 = 0 THEN 'outcom' || chr(102 + i % 20)
                                          WHEN i % 3 = 1 THEN 'a' || i ELSE 'zzzzzzz' || i END, i)
               FROM generate_series(1, k) i)
    FROM unnest(ARRAY[1, 2, 30, 31, 32, 33, 64, 65, 200]) AS k
  UNION ALL
  SELECT 'outcome DENIED with ' || k || ' keys of six bytes like status', NULL,
         jsonb_set(ev, '{outcome}', '{"status": "DENIED"}'
                   || (SELECT jsonb_object_agg('st' || lpad(i::text, 4, '0'), i) FROM generate_series(1, k) i))
    FROM unnest(ARRAY[1, 31, 32, 33, 100]) AS k
  UNION ALL
  SELECT 'outcome DENIED, status among keys after it (' || k || ')', NULL,
         jsonb_set(ev, '{outcome}', '{"status": "DENIED", "error_type": "E"}'
                   || (SELECT jsonb_object_agg('z' || lpad(i::text, 5, '0'), i) FROM generate_series(1, k) i))
    FROM unnest(ARRAY[1, 40]) AS k
  UNION ALL
  SELECT 'metadata of ' || k || ' keys', NULL,
         ev || jsonb_build_object('metadata', (SELECT jsonb_object_agg('k' || i, CASE WHEN i = k THEN '[1]'::jsonb ELSE to_jsonb(i) END)
                                                  FROM generate_series(1, k) i))
    FROM unnest(ARRAY[19, 20, 21, 33, 64]) AS k
  UNION ALL
  SELECT 'required: all of ' || array_to_string(m, ', ') || ' missing, ' || k || ' other keys', NULL,
         (ev - m) || (SELECT jsonb_object_agg('x' || i, i) FROM generate_series(1, k) i)
    FROM (VALUES (ARRAY['event_id']), (ARRAY['schema_version', 'timestamp']),
                 (ARRAY['actor', 'action', 'resource', 'outcome', 'service'])) AS r(m),
         unnest(ARRAY[1, 40]) AS k
  UNION ALL
  SELECT 'required and dependentRequired: integrity ' || i::text, NULL, ev || jsonb_build_object('integrity', i)
    FROM (VALUES ('{"hash_alg": "sha256"}'::jsonb), ('{"event_hash": "a", "prev_event_hash": "b"}'),
                 ('{"prev_event_hash": 1}'), ('{"event_hash": "", "hash_alg": "md5"}'),
                 ('{"prev_event_hash": "b", "hash_alg": "sha256", "x": 1}')) AS d(i)
  UNION ALL
  SELECT '2.0: ' || d.name, '2.0', jsonb_set(ev, '{schema_version}', '"2.0"') || d.part
    FROM (VALUES ('delegation chain_depth 3 without parent', '{"delegation": {"chain_depth": 3}}'::jsonb),
                 ('delegation parent without chain_depth', '{"delegation": {"parent_agent_session_id": "p"}}'),
                 ('delegation parent and chain_depth 1.0', '{"delegation": {"parent_agent_session_id": "p", "chain_depth": 1.0}}'),
                 ('action OVERRIDE on a patient', '{"action": {"type": "OVERRIDE"}}'),
                 ('delegation as an array', '{"delegation": [1]}')) AS d(name, part)
  UNION ALL
  SELECT 'schema_version ' || s::text, NULL, jsonb_set(ev, '{schema_version}', s)
    FROM unnest(ARRAY['"1.2"', '"1.10"', '"1"', '""', '"2.1 "', '"1.0"', '"2.0"', '"2.1"', '1.1', 'null', '["1.1"]']::jsonb[]) AS s
  UNION ALL
  SELECT 'the document is ' || d::text, '2.1', d
    FROM unnest(ARRAY['"x"', '1', 'true', 'null', '[{"outcome": {}}]', '{}']::jsonb[]) AS d
) AS c(name, version, event);

SELECT n, name, pg_temp.sqlstate(format('SELECT bh_audit.validate_event(%L, %L)', event, version)) AS outcome,
       bh_audit.validate_event(event, coalesce(version, CASE WHEN event->>'schema_version' IN ('1.0', '1.1', '2.0', '2.1')
                                                        THEN event->>'schema_version' ELSE '1.1' END)) AS valid,
       e.path, e.message
  FROM sized LEFT JOIN LATERAL bh_audit.validation_errors(event,
         coalesce(version, CASE WHEN event->>'schema_version' IN ('1.0', '1.1', '2.0', '2.1')
                           THEN event->>'schema_version' ELSE '1.1' END)) WITH ORDINALITY AS e ON true
 ORDER BY n, e.ordinality;

-- Immutable, parallel safe, executable by anyone.
SELECT p.proname, p.provolatile, p.proparallel, p.proretset,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_proc p
 WHERE p.pronamespace = 'bh_audit'::regnamespace
   AND p.proname IN ('validate_event', 'validation_errors') ORDER BY 1;
CREATE ROLE regress_bh_validator_user;
SET ROLE regress_bh_validator_user;
SELECT bh_audit.validate_event('{"schema_version": "1.1"}') AS as_unprivileged;
SELECT * FROM bh_audit.validation_errors('{"schema_version": "1.1", "extra": 1}') ORDER BY 1, 2;
RESET ROLE;
DROP ROLE regress_bh_validator_user;
