-- Runtime validation: every event is validated against the schema of its
-- version right before it is queued, and bh_audit.validation_mode decides
-- what happens to an invalid one (raise | log_and_emit | drop).
--
-- The event builder never makes an invalid event (context strings are cut
-- to the schema's limits, emit() checks its arguments, ...), so invalid
-- events are queued here through a superuser-only test hook that the
-- install script does not declare: it hands raw JSON to the same
-- bh_queue_event() every event goes through.
CREATE FUNCTION pg_temp.queue_raw(event text) RETURNS boolean
AS '$libdir/bh_audit', 'bh_audit_test_queue_event' LANGUAGE C STRICT;

-- Counters are cluster-wide and count from server start: compare deltas.
CREATE TEMP TABLE counters AS
SELECT validation_failures_total AS failures, events_dropped_total AS dropped
  FROM bh_audit.stats();
CREATE FUNCTION pg_temp.delta(OUT failures bigint, OUT dropped bigint)
LANGUAGE sql AS $$
SELECT s.validation_failures_total - c.failures, s.events_dropped_total - c.dropped
  FROM bh_audit.stats() s, counters c
$$;

-- The settings: defaults, values, superuser-only.
SELECT name, setting, context, enumvals FROM pg_settings
 WHERE name IN ('bh_audit.validation_mode', 'bh_audit.schema_version') ORDER BY 1;
SET bh_audit.validation_mode = 'ignore';
CREATE ROLE regress_bh_mode_user;
SET ROLE regress_bh_mode_user;
SET bh_audit.validation_mode = 'drop';
-- the hook refuses anyone but a superuser
SELECT pg_temp.queue_raw('{}');
RESET ROLE;
DROP ROLE regress_bh_mode_user;

-- An invalid event carrying synthetic PHI in its values and in an unknown
-- key: four violations, none of which may echo what the event holds.
\set bad '{"schema_version": "1.1", "event_id": "0f4b5c3e-8d1a-4e6f-9a2b-3c4d5e6f7a8b", "timestamp": "2026-03-11T18:43:10.123Z", "service": {"name": "SSN_123-45-6789 SSN_123-45-6789 SSN_123-45-6789 SSN_123-45-6789 SSN_123-45-6789 SSN_123-45-6789 SSN_123-45-6789 SSN_123-45-6789 SSN_123-45-6789"}, "actor": {"subject_id": "PATIENT_JANE_DOE", "subject_type": "DIAGNOSIS_BIPOLAR"}, "action": {"type": "READ"}, "resource": {"type": "Note"}, "outcome": {"status": "FAILURE", "error_type": "Timeout"}, "EMAIL_jane.doe@example.com": "NOTE_TEXT_I_AM_NOT_OK"}'
SELECT bh_audit.validate_event(:'bad') AS bad_is_invalid;
SELECT * FROM bh_audit.validation_errors(:'bad') ORDER BY 1, 2;
\set good '{"schema_version": "1.1", "event_id": "0f4b5c3e-8d1a-4e6f-9a2b-3c4d5e6f7a8b", "timestamp": "2026-03-11T18:43:10.123Z", "service": {"name": "bh-intake-db"}, "actor": {"subject_id": "user_1", "subject_type": "human"}, "action": {"type": "READ"}, "resource": {"type": "Note"}, "outcome": {"status": "SUCCESS"}}'

-- log_and_emit (the default): a WARNING, counted, and the event is queued.
-- (Rolled back: the ledger keeps only valid events.)
SHOW bh_audit.validation_mode;
BEGIN;
SELECT pg_temp.queue_raw(:'bad') AS queued;
SELECT count(*) AS in_queue FROM bh_audit.pending_events() AS e
 WHERE e ->> 'event_id' = '0f4b5c3e-8d1a-4e6f-9a2b-3c4d5e6f7a8b';
ROLLBACK;
SELECT * FROM pg_temp.delta();

-- A valid event passes silently and is not counted.
BEGIN;
SELECT pg_temp.queue_raw(:'good') AS queued;
ROLLBACK;
SELECT * FROM pg_temp.delta();

-- An event without a known schema_version fails validation too.
BEGIN;
SELECT pg_temp.queue_raw('{"schema_version": "PATIENT_JANE_DOE"}') AS queued;
SELECT pg_temp.queue_raw('{"event_id": "x"}') AS queued;
ROLLBACK;
SELECT * FROM pg_temp.delta();

-- drop: a WARNING, counted as a failure and as dropped, and not queued.
SET bh_audit.validation_mode = 'drop';
BEGIN;
SELECT pg_temp.queue_raw(:'bad') AS queued;
SELECT count(*) AS in_queue FROM bh_audit.pending_events() AS e
 WHERE e ->> 'event_id' = '0f4b5c3e-8d1a-4e6f-9a2b-3c4d5e6f7a8b';
SELECT pg_temp.queue_raw(:'good') AS queued;
ROLLBACK;
SELECT * FROM pg_temp.delta();

-- raise: the statement fails (22023) naming paths and keywords, never values.
SET bh_audit.validation_mode = 'raise';
SELECT pg_temp.queue_raw(:'bad');
SELECT regress_err($$SELECT pg_temp.queue_raw('$$ || :'bad' || $$')$$) LIKE '22023: %' AS sqlstate_22023;
SELECT * FROM pg_temp.delta();
-- the transaction of the audited statement fails with it
BEGIN;
SELECT bh_audit.emit('READ', 'Patient', 'pat_raise', 'pat_raise') IS NOT NULL AS emitted;
SELECT pg_temp.queue_raw(:'bad');
ROLLBACK;
-- valid events go through in raise mode
SELECT bh_audit.emit('READ', 'Patient', 'pat_raise', 'pat_raise') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT bh_audit.validate_event(event) AS valid, resource_id
  FROM bh_audit.events WHERE resource_id = 'pat_raise';
SELECT * FROM pg_temp.delta();
RESET bh_audit.validation_mode;

-- A queued event the sealer cannot hash (a number without a canonical
-- form: emit() refuses one, a restored queue row may hold one) is
-- discarded and counted, and the sealer goes on with the others.
\set unhashable '{"schema_version": "1.1", "event_id": "1f4b5c3e-8d1a-4e6f-9a2b-3c4d5e6f7a8b", "timestamp": "2026-03-11T18:43:10.123Z", "service": {"name": "bh-intake-db"}, "actor": {"subject_id": "user_1", "subject_type": "human"}, "action": {"type": "READ"}, "resource": {"type": "Note"}, "outcome": {"status": "SUCCESS"}, "metadata": {"n": 1e4300}}'
SELECT bh_audit.seal() >= 0 AS sealed;
DELETE FROM counters;
INSERT INTO counters SELECT validation_failures_total, events_dropped_total FROM bh_audit.stats();
CREATE TEMP TABLE before_unhashable AS SELECT max(seq) AS seq FROM bh_audit.events;
BEGIN;
SELECT pg_temp.queue_raw(:'unhashable') AS queued;
-- (an event_id that is no uuid: the same; validation lets the queue take it
-- in log_and_emit mode, with a WARNING)
SET client_min_messages = error;
SELECT pg_temp.queue_raw(replace(:'good', '0f4b5c3e-8d1a-4e6f-9a2b-3c4d5e6f7a8b', 'not-a-uuid')) AS queued;
RESET client_min_messages;
SELECT bh_audit.emit('READ', 'Patient', 'pat_after', 'pat_after') IS NOT NULL AS emitted;
COMMIT;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT bh_audit.emit('READ', 'Patient', 'pat_after2', 'pat_after2') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT * FROM pg_temp.delta();
SELECT resource_type, resource_id, error_type, event -> 'metadata' ->> 'events_dropped' AS dropped
  FROM bh_audit.events WHERE seq > (SELECT seq FROM before_unhashable) ORDER BY seq;
SELECT result FROM bh_audit.verify_chain();
