-- bh_audit.emit(): building, validating and queueing manual events.
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

SELECT bh_audit.seal() >= 0 AS sealed_before;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- A full event, and a minimal one.
SELECT bh_audit.emit('UPDATE', 'Note', 'note_1', 'pat_1', 'FAILURE', 'Timeout',
                     'write timed out', '{"k": "v", "n": 1.50, "ok": true, "z": null}',
                     'PHI', true, 'sign_note') IS NOT NULL AS emitted;
SELECT bh_audit.emit('READ', 'Patient') IS NOT NULL AS emitted;
SELECT bh_audit.emit('LOGIN', 'Session', outcome => 'DENIED', error_type => 'PermissionDenied') IS NOT NULL AS emitted;
SELECT bh_audit.emit('OTHER', 'Patient', error_message => repeat('x', 300)) IS NOT NULL AS emitted;

-- Rolled back: gone with the transaction; a rolled back savepoint too.
BEGIN;
SELECT bh_audit.emit('DELETE', 'RolledBack') IS NOT NULL AS emitted;
ROLLBACK;
BEGIN;
SELECT bh_audit.emit('CREATE', 'Kept') IS NOT NULL AS emitted;
SAVEPOINT s;
SELECT bh_audit.emit('DELETE', 'RolledBackToSavepoint') IS NOT NULL AS emitted;
ROLLBACK TO SAVEPOINT s;
COMMIT;

SELECT bh_audit.seal() >= 0 AS sealed;

-- What was sealed, in order (ids and timestamps vary: shown by shape).
SELECT seq - (SELECT seq FROM mark) AS n,
       event ->> 'schema_version' AS v,
       event ->> 'event_id' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS uuid_v4,
       event ->> 'timestamp' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$' AS ts_ms_utc,
       abs(extract(epoch FROM now() - ts)) < 300 AS ts_recent,
       event_id = (event ->> 'event_id')::uuid AS id_col,
       event -> 'service' AS service,
       event -> 'actor' AS actor,
       event -> 'action' AS action,
       event -> 'resource' AS resource,
       (event -> 'outcome') - 'error_message' AS outcome,
       length(event -> 'outcome' ->> 'error_message') AS msg_len,
       event -> 'metadata' AS metadata
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark) ORDER BY seq;

SELECT right(event -> 'outcome' ->> 'error_message', 5) AS truncated_end
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark) AND event -> 'action' ->> 'type' = 'OTHER';

-- Typed columns follow the event.
SELECT actor_id, patient_id, resource_type, resource_id, action, outcome, error_type
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark) ORDER BY seq;

-- Service identity comes from the settings.
SET bh_audit.service_name = 'bh-intake-db';
SET bh_audit.service_environment = 'staging';
SET bh_audit.service_version = '2026.11';
SELECT bh_audit.emit('READ', 'Patient', 'pat_2', 'pat_2') IS NOT NULL AS emitted;
RESET bh_audit.service_name;
RESET bh_audit.service_environment;
RESET bh_audit.service_version;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT event -> 'service' AS service FROM bh_audit.events ORDER BY seq DESC LIMIT 1;

-- Bad input: SQLSTATE 22023 naming the field (validation precedes queueing).
SELECT pg_temp.err($$SELECT bh_audit.emit('LOOK', 'Patient')$$);
SELECT pg_temp.err($$SELECT bh_audit.emit(NULL, 'Patient')$$);
SELECT pg_temp.err($$SELECT bh_audit.emit('READ', 'Patient', outcome => 'MAYBE')$$);
SELECT pg_temp.err($$SELECT bh_audit.emit('READ', 'Patient', outcome => 'DENIED')$$);
SELECT pg_temp.err($$SELECT bh_audit.emit('READ', 'Patient', outcome => 'FAILURE')$$);
SELECT pg_temp.err($$SELECT bh_audit.emit('READ', '')$$);
SELECT pg_temp.err($$SELECT bh_audit.emit('READ', NULL)$$);
SELECT pg_temp.err($$SELECT bh_audit.emit('READ', repeat('r', 129))$$);
SELECT pg_temp.err($$SELECT bh_audit.emit('READ', 'Patient', '')$$);
SELECT pg_temp.err($$SELECT bh_audit.emit('READ', 'Patient', patient_id => repeat('p', 257))$$);
SELECT pg_temp.err($$SELECT bh_audit.emit('READ', 'Patient', data_classification => 'SECRET')$$);
SELECT pg_temp.err($$SELECT bh_audit.emit('READ', 'Patient', metadata => '[1, 2]')$$);
SELECT pg_temp.err($$SELECT bh_audit.emit('READ', 'Patient', metadata => '{"a": {"b": 1}}')$$);
SELECT pg_temp.err($$SELECT bh_audit.emit('READ', 'Patient', action_name => repeat('a', 129))$$);

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS rolled_back_events FROM bh_audit.events
 WHERE resource_type IN ('RolledBack', 'RolledBackToSavepoint');
SELECT count(*) AS queued FROM bh_audit.queue;
