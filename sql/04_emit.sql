-- bh_audit.emit(): building, validating and queueing manual events.
SELECT bh_audit.seal() >= 0 AS sealed_before;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- A full event, and a minimal one.  Callers' metadata keys must be allowed
-- (see the metadata rules below).
SET bh_audit.metadata_allowlist = 'k, n, ok, z';
SELECT bh_audit.emit('UPDATE', 'Note', 'note_1', 'pat_1', 'FAILURE', 'Timeout',
                     'write timed out', '{"k": "v", "n": 1.50, "ok": true, "z": null}',
                     'PHI', true, 'sign_note') AS full_id \gset
SELECT bh_audit.emit('READ', 'Patient') IS NOT NULL AS emitted;
SELECT bh_audit.emit('LOGIN', 'Session', outcome => 'DENIED', error_type => 'PermissionDenied') IS NOT NULL AS emitted;
SELECT bh_audit.emit('OTHER', 'Patient', error_message => repeat('x', 300)) IS NOT NULL AS emitted;

-- Rolled back: gone with the transaction; a rolled back savepoint too.
BEGIN;
SELECT bh_audit.emit('DELETE', 'RolledBack') IS NOT NULL AS emitted;
ROLLBACK;
BEGIN;
SELECT bh_audit.emit('CREATE', 'Kept') AS kept_id \gset
SAVEPOINT s;
SELECT bh_audit.emit('DELETE', 'RolledBackToSavepoint') IS NOT NULL AS emitted;
ROLLBACK TO SAVEPOINT s;
COMMIT;

SELECT bh_audit.seal() >= 0 AS sealed;

-- What was sealed, in order (ids and timestamps vary: shown by shape).
SELECT seq - (SELECT seq FROM mark) AS n,
       event ->> 'schema_version' AS v,
       event ->> 'event_id' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS uuid_v4,
       event ->> 'timestamp' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$' AS ts_us_utc,
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

-- emit() returns the event_id of the event it queued.
SELECT seq - (SELECT seq FROM mark) AS n, resource_type
  FROM bh_audit.events WHERE event_id IN (:'full_id', :'kept_id') ORDER BY seq;

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
SELECT regress_err($$SELECT bh_audit.emit('LOOK', 'Patient')$$);
SELECT regress_err($$SELECT bh_audit.emit(NULL, 'Patient')$$);
SELECT regress_err($$SELECT bh_audit.emit('READ', 'Patient', outcome => 'MAYBE')$$);
SELECT regress_err($$SELECT bh_audit.emit('READ', 'Patient', outcome => 'DENIED')$$);
SELECT regress_err($$SELECT bh_audit.emit('READ', 'Patient', outcome => 'FAILURE')$$);
SELECT regress_err($$SELECT bh_audit.emit('READ', '')$$);
SELECT regress_err($$SELECT bh_audit.emit('READ', NULL)$$);
SELECT regress_err($$SELECT bh_audit.emit('READ', repeat('r', 129))$$);
-- The resource types of bh_audit's own events are its own.
SELECT regress_err($$SELECT bh_audit.emit('OTHER', 'AuditLog', outcome => 'FAILURE', error_type => 'EventsLost')$$);
SELECT regress_err($$SELECT bh_audit.emit('UPDATE', 'AuditConfiguration')$$);
SELECT regress_err($$SELECT bh_audit.emit('UPDATE', 'auditconfiguration')$$);
-- ... nor anything that reads as one: spaces, invisible characters and
-- look-alike letters (Cyrillic, Greek, fullwidth) are not told apart.
SELECT regress_err($$SELECT bh_audit.emit('OTHER', 'AuditLog ')$$);
SELECT regress_err($$SELECT bh_audit.emit('OTHER', ' Audit Log')$$);
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'OTHER', E'Audit\u200bLog'));
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'OTHER', E'Audit\u00adLog'));
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'OTHER', E'\ufeffAuditLog\u2060'));
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'OTHER', E'\u0410uditL\u043eg'));
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'UPDATE', E'Audit\u0421onfigurat\u0456on'));
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'UPDATE', E'\uff21uditConfiguration'));
-- compatibility letters (Roman numerals, mathematical letters) and the
-- blank Braille pattern
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'OTHER', E'Audit\u216cog'));
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'OTHER', E'Au\u217e\u2170t\u217cog'));
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'OTHER', E'\U0001D400\U0001D42E\U0001D41D\U0001D422\U0001D42D\U0001D40B\U0001D428\U0001D420'));
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'OTHER', E'Audit\u2800Log'));
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'OTHER', E'Audit\U0001BCA0Log\ufff0'));
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'OTHER', E'A\u03c5ditLog'));
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'OTHER', E'A\u057dditL\u0585g'));
-- A resource type that shows no character at all is none.
SELECT regress_err($$SELECT bh_audit.emit('OTHER', '   ')$$);
SELECT regress_err(format('SELECT bh_audit.emit(%L, %L)', 'OTHER', E'\u200b\u2800\ufeff'));
-- Names that merely contain or resemble them are free.
SELECT bh_audit.emit('OTHER', 'AuditLogs') IS NOT NULL AS plural_free,
       bh_audit.emit('OTHER', 'Audit-Log') IS NOT NULL AS hyphen_free,
       bh_audit.emit('OTHER', E'Audit\u00e9Log') IS NOT NULL AS accented_free,
       bh_audit.emit('OTHER', 'AuditConfig') IS NOT NULL AS prefix_free;
SELECT regress_err($$SELECT bh_audit.emit('READ', 'Patient', '')$$);
SELECT regress_err($$SELECT bh_audit.emit('READ', 'Patient', patient_id => repeat('p', 257))$$);
SELECT regress_err($$SELECT bh_audit.emit('READ', 'Patient', data_classification => 'SECRET')$$);
SELECT regress_err($$SELECT bh_audit.emit('READ', 'Patient', metadata => '[1, 2]')$$);
-- A number without a canonical form (the sealer could not hash the event).
SELECT regress_err($$SELECT bh_audit.emit('READ', 'Patient', metadata => '{"n": 1e4300}')$$);
SELECT regress_err($$SELECT bh_audit.emit('READ', 'Patient', metadata => jsonb_build_object('n', ('1' || repeat('0', 400) || '.5')::numeric))$$);
SELECT bh_audit.emit('READ', 'Patient', metadata => '{"n": 1e300}') IS NOT NULL AS big_but_canonical;
SELECT regress_err($$SELECT bh_audit.emit('READ', 'Patient', metadata => '{"n": 1e-400}')$$);
SELECT bh_audit.emit('READ', 'Patient', metadata => '{"n": 0.000}') IS NOT NULL AS zero_is_canonical;
-- A decimal more precise than a double is stored as the canonical form
-- rounds it (so that the stored value is the one its hash covers); one
-- that a double reads back as written is kept.
SELECT bh_audit.emit('READ', 'Patient', 'pat_dec', 'pat_dec', metadata => jsonb_build_object('n', x)) IS NOT NULL AS emitted
  FROM (VALUES (123456789.123456789), (1 / 3.0), (0.1000000000000000000001), (0.1), (2.675),
               (1.10), (0.30000000000000004), (-1e-7)) v(x);
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT event -> 'metadata' -> 'n' AS stored FROM bh_audit.events WHERE patient_id = 'pat_dec' ORDER BY seq;
SELECT regress_err($$SELECT bh_audit.emit('READ', 'Patient', action_name => repeat('a', 129))$$);

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS rolled_back_events FROM bh_audit.events
 WHERE resource_type IN ('RolledBack', 'RolledBackToSavepoint');
SELECT count(*) AS queued FROM bh_audit.queue;

--------------------------------------------------------------------------
-- Metadata rules: keys must be in bh_audit.metadata_allowlist or be the
-- extension's own; values must be scalars; strings are cut to
-- bh_audit.max_metadata_value_length; 20 keys at most.  Dropped keys are
-- counted in one WARNING per event, never named.
--------------------------------------------------------------------------
CREATE TEMP TABLE mark2 AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- No allowlist: every caller key is dropped; db_user stays.
RESET bh_audit.metadata_allowlist;
SELECT bh_audit.emit('READ', 'Meta1', metadata => '{"k": "v", "n": 1}') IS NOT NULL AS emitted;
-- Allowed keys are kept; the others, and non-scalar values (even under an
-- allowed key), are dropped; an over-long string is cut.
SET bh_audit.metadata_allowlist = ' a,b , nested,arr,long,,empty ';
SELECT bh_audit.emit('READ', 'Meta2', metadata => jsonb_build_object(
    'a', 1.50, 'b', 'x', 'c', 2, 'empty', '', 'nested', '{"x": 1}'::jsonb,
    'arr', '[1, 2]'::jsonb, 'long', repeat('y', 300))) IS NOT NULL AS emitted;
-- Null, booleans and numbers are scalars; nothing dropped, no WARNING.
SELECT bh_audit.emit('READ', 'Meta3', metadata => '{"a": null, "b": false, "long": 12e3}') IS NOT NULL AS emitted;
-- The extension's own keys cannot be overridden, allowed or not.
-- (database too: bh_audit sets it in events of other databases than the sealer's)
SET bh_audit.metadata_allowlist = 'db_user, database, a';
SELECT bh_audit.emit('READ', 'Meta4', metadata => '{"db_user": "somebody_else", "database": "elsewhere", "a": "kept"}') IS NOT NULL AS emitted;
-- At most 20 keys in all: db_user counts first, then 19 of the caller's
-- in jsonb key order (shorter keys first, then bytewise).
SELECT set_config('bh_audit.metadata_allowlist',
                  (SELECT string_agg('k' || lpad(i::text, 2, '0'), ',') FROM generate_series(1, 25) i),
                  false) IS NOT NULL AS allowlist_set;
SELECT bh_audit.emit('READ', 'Meta5', metadata =>
    (SELECT jsonb_object_agg('k' || lpad(i::text, 2, '0'), i) FROM generate_series(1, 25) i)) IS NOT NULL AS emitted;
-- Every reason at once: counts only.
SELECT set_config('bh_audit.metadata_allowlist',
                  (SELECT string_agg('k' || lpad(i::text, 2, '0'), ',') FROM generate_series(1, 20) i) || ',obj',
                  false) IS NOT NULL AS allowlist_set;
SELECT bh_audit.emit('READ', 'Meta6', metadata =>
    (SELECT jsonb_object_agg('k' || lpad(i::text, 2, '0'), i) FROM generate_series(1, 20) i)
    || '{"obj": {}, "other": 1, "db_user": "x"}') IS NOT NULL AS emitted;
-- The cut follows bh_audit.max_metadata_value_length, in characters.
SET bh_audit.metadata_allowlist = 'at, over, mb';
SET bh_audit.max_metadata_value_length = 16;
SELECT bh_audit.emit('READ', 'Meta7', metadata => jsonb_build_object(
    'at', repeat('a', 16), 'over', repeat('b', 17), 'mb', repeat('é', 40))) IS NOT NULL AS emitted;
RESET bh_audit.max_metadata_value_length;
RESET bh_audit.metadata_allowlist;

SELECT bh_audit.seal() >= 0 AS sealed;
-- (the long string of Meta2 is shown by its length and end below)
SELECT resource_type, (SELECT count(*) FROM jsonb_object_keys(event -> 'metadata')) AS keys,
       CASE WHEN resource_type = 'Meta2' THEN (event -> 'metadata') - 'long'
            ELSE event -> 'metadata' END AS metadata
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark2) AND resource_type LIKE 'Meta_'
 ORDER BY seq;
SELECT length(event -> 'metadata' ->> 'long') AS long_len, right(event -> 'metadata' ->> 'long', 4) AS long_end
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark2) AND resource_type = 'Meta2';

-- The settings are superuser-only and range-checked.
SELECT regress_err($$SET bh_audit.max_metadata_value_length = 10$$);
SELECT regress_err($$SET bh_audit.error_message_max_len = 501$$);
CREATE ROLE bh_emit_app;
SET ROLE bh_emit_app;
SELECT regress_err($$SET bh_audit.metadata_allowlist = 'anything'$$);
SELECT regress_err($$SET bh_audit.max_metadata_value_length = 500$$);
SELECT regress_err($$SET bh_audit.error_message_max_len = 500$$);
SELECT regress_err($$SET bh_audit.error_message_mode = omit$$);
RESET ROLE;
DROP ROLE bh_emit_app;

--------------------------------------------------------------------------
-- Error messages: every event's error_message is sanitised (as
-- bh_audit.sanitize_error_message()) and cut to bh_audit.error_message_max_len.
--------------------------------------------------------------------------
SELECT bh_audit.emit('READ', 'Err1', outcome => 'FAILURE', error_type => 'LookupError',
                     error_message => E'  lookup   for 123-45-6789\nby a.b@example.org   failed ') IS NOT NULL AS emitted;
SET bh_audit.error_message_max_len = 16;
SELECT bh_audit.emit('READ', 'Err2', outcome => 'FAILURE', error_type => 'LookupError',
                     error_message => 'call 555-123-4567 or 555 123 4567') IS NOT NULL AS emitted;
RESET bh_audit.error_message_max_len;
-- FAILURE requires a message: a blank one falls back to the error type
-- (sanitised too); elsewhere a blank message is left out.
SELECT bh_audit.emit('READ', 'Err3', outcome => 'FAILURE', error_type => 'Timeout', error_message => E' \t ') IS NOT NULL AS emitted;
SELECT bh_audit.emit('READ', 'Err4', outcome => 'DENIED', error_type => 'RoleDenied', error_message => '   ') IS NOT NULL AS emitted;
-- error_message_mode = omit keeps no message text at all.
SET bh_audit.error_message_mode = omit;
SELECT bh_audit.emit('READ', 'Err5', outcome => 'FAILURE', error_type => 'Timeout', error_message => 'call jane back') IS NOT NULL AS emitted;
SELECT bh_audit.emit('READ', 'Err6', outcome => 'DENIED', error_type => 'RoleDenied', error_message => 'jane is not allowed') IS NOT NULL AS emitted;
RESET bh_audit.error_message_mode;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_type, event -> 'outcome' AS outcome
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark2) AND resource_type LIKE 'Err_'
 ORDER BY seq;
-- bh_audit.event_timestamp() (the ledger's ts) reads exactly the schema's
-- date-time format (RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)).
-- The builders' form YYYY-MM-DDTHH:MM:SS.uuuuuuZ (microseconds; .mmmZ,
-- milliseconds, before) gives the same instant as PostgreSQL's own input,
-- whatever TimeZone says; other RFC 3339 forms too; no offset is an error.
SET TimeZone = 'America/New_York';
SELECT t, bh_audit.event_timestamp(t) = t::timestamptz AS same,
       to_char(bh_audit.event_timestamp(t) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS utc
  FROM unnest(ARRAY['2026-11-23T16:20:45.123Z', '2024-02-29T23:59:59.999Z',
                    '2000-01-01T00:00:00.000Z', '1999-12-31T23:59:59.000Z',
                    '0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z',
                    '1970-01-01T00:00:00.001Z', '2026-03-08T07:00:00.000Z',
                    '2026-11-23T16:20:45Z', '2026-11-23T16:20:45.5z',
                    '2026-11-23T11:20:45.123-05:00', '2026-11-23t16:20:45.123456+00:00',
                    '2026-12-31T23:59:59.9999996Z']) AS t;
SELECT t, bh_audit.event_timestamp(t) = t::timestamptz AS same,
       to_char(bh_audit.event_timestamp(t) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS utc
  FROM unnest(ARRAY['2026-11-23T16:20:45.123456Z', '2024-02-29T23:59:59.999999Z',
                    '2000-01-01T00:00:00.000000Z', '1999-12-31T23:59:59.000001Z',
                    '0001-01-01T00:00:00.000000Z', '9999-12-31T23:59:59.999999Z',
                    '1970-01-01T00:00:00.000001Z', '2026-03-08T07:00:00.010000Z']) AS t;
-- Offsets beyond PostgreSQL's +-15:59, up to the format's +-23:59, are read
-- (the schema accepts them); 24:00:00 and a leap second are not (the schema
-- refuses them), nor is anything else the schema's date-time refuses.
SELECT t, to_char(bh_audit.event_timestamp(t) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US BC') AS utc
  FROM unnest(ARRAY['2026-01-01T00:00:00+16:00', '2026-01-01T00:00:00-23:59',
                    '2026-01-01T00:00:00.5+23:59', '0001-01-01T00:00:00+23:59',
                    '9999-12-31T23:59:59.999999-23:59']) AS t;
SELECT t, regress_err(format('SELECT bh_audit.event_timestamp(%L)', t)) AS refused
  FROM unnest(ARRAY['2026-01-01T24:00:00Z', '2026-01-01T23:59:60Z',
                    '2026-11-23T24:00:00.000Z', '2026-12-31T23:59:60.000Z',
                    '2023-02-29T00:00:00.000Z', '0000-01-01T00:00:00Z',
                    '2026-11-23T16:20:45.123', '2026-11-23 16:20:45.123Z',
                    '2026-01-01T00:00:00+24:00', '2026-01-01T00:00:00+05:60',
                    '2026-01-01T00:00:00.Z', '2026-01-01T00:00:00+0500',
                    '2026-1-01T00:00:00Z', '2026-01-01T00:00:00Z ',
                    '+2026-01-01T00:00:00Z', '2026-01-01T00:00:00UTC',
                    '2026-11-23T24:00:00.000000Z', '2023-02-29T00:00:00.000000Z',
                    '2026-11-23T16:20:45.12345xZ', '2026-11-23T16:20:45.123456+',
                    '2026-11-23T16:20:45.123456']) AS t;
-- One reading of the format: event_timestamp() reads a timestamp exactly
-- when validate_event() accepts an event carrying it.
WITH ev AS (SELECT event FROM bh_audit.events WHERE resource_type = 'Err1' ORDER BY seq LIMIT 1)
SELECT t, bh_audit.validate_event(jsonb_set(ev.event, '{timestamp}', to_jsonb(t))) AS schema_accepts,
       regress_err(format('SELECT bh_audit.event_timestamp(%L)', t)) = 'no error' AS read
  FROM ev, unnest(ARRAY['2026-03-11T18:43:10.123Z', '2026-03-11t18:43:10+05:30',
                        '2026-01-01T00:00:00+16:00', '2026-01-01T00:00:00.5+23:59',
                        '2026-01-01T00:00:00-23:59', '2026-01-01T24:00:00Z',
                        '2026-01-01T23:59:60Z', '2026-02-29T00:00:00Z',
                        '2026-01-01T00:00:00+24:00', '2026-03-11 18:43:10Z',
                        '2026-03-11T18:43:10']) AS t
 ORDER BY 1;
-- The same instant as PostgreSQL's input for everything both accept:
-- every offset up to +-15:59, fractions of 1 to 9 digits (rounded to
-- microseconds, carrying into the next second), T/t and Z/z, leap days, the
-- first and last days of years 0001 and 9999.
SET DateStyle = 'SQL, DMY';
WITH d(d) AS (VALUES ('0001-01-01'), ('0001-01-02'), ('0001-12-31'), ('1900-02-28'),
                     ('2000-02-29'), ('2024-02-29'), ('1999-12-31'), ('1970-01-01'),
                     ('2026-11-23'), ('9999-12-30'), ('9999-12-31')),
     tm(tm) AS (VALUES ('00:00:00'), ('23:59:59'), ('12:34:56'), ('00:00:59')),
     f(f) AS (VALUES (''), ('.5'), ('.12'), ('.123'), ('.1234'), ('.12345'), ('.123456'),
                     ('.1234567'), ('.12345678'), ('.123456789'), ('.9999995'),
                     ('.9999994'), ('.99999949'), ('.0000005'), ('.0000015'),
                     ('.0000025'), ('.999999999'), ('.000000499')),
     z(z) AS (SELECT 'Z' UNION ALL SELECT 'z'
              UNION ALL
              SELECT format('%s%s:%s', sign, lpad(h::text, 2, '0'), lpad(m::text, 2, '0'))
                FROM unnest(ARRAY['+', '-']) AS sign, generate_series(0, 15) AS h,
                     unnest(ARRAY[0, 1, 30, 45, 59]) AS m),
     every_offset(z) AS (SELECT format('%s%s:%s', sign, lpad(h::text, 2, '0'), lpad(m::text, 2, '0'))
                           FROM unnest(ARRAY['+', '-']) AS sign, generate_series(0, 15) AS h,
                                generate_series(0, 59) AS m),
     inputs(t) AS (SELECT d || CASE WHEN length(f) % 2 = 0 THEN 'T' ELSE 't' END || tm || f || z
                     FROM d, tm, f, z
                   UNION ALL
                   SELECT s || z
                     FROM unnest(ARRAY['0001-01-01T00:00:00', '9999-12-31T23:59:59.999999',
                                       '2024-02-29T12:00:00.5']) AS s, every_offset)
SELECT count(*) AS inputs,
       count(*) FILTER (WHERE bh_audit.event_timestamp(t) IS DISTINCT FROM t::timestamptz) AS differing,
       min(t) FILTER (WHERE bh_audit.event_timestamp(t) IS DISTINCT FROM t::timestamptz) AS first_differing
  FROM inputs;
RESET DateStyle;
RESET TimeZone;

--------------------------------------------------------------------------
-- Queue rows: a transaction's events are held in memory and written as
-- rows of bh_audit.queue of at most about 7000 bytes each, all of them at
-- commit and, meanwhile, whenever the current (sub)transaction's events
-- fill a row.  Savepoints keep their meaning for both.
--------------------------------------------------------------------------
BEGIN;
SELECT count(bh_audit.emit('READ', 'HeldA', 'a' || i, 'p' || i)) FROM generate_series(1, 3) i;
SELECT count(*) AS held, (SELECT count(*) FROM bh_audit.queue) AS queue_rows
  FROM bh_audit.pending_events();
SAVEPOINT s1;
-- 40 events of about 500 bytes each: rows are written inside s1
SELECT count(bh_audit.emit('READ', 'HeldRolledBack', 'b' || i, 'p' || i)) FROM generate_series(1, 40) i;
SELECT (SELECT count(*) FROM bh_audit.queue) > 0 AS rows_written,
       (SELECT sum(cardinality(events)) FROM bh_audit.queue) + (SELECT count(*) FROM bh_audit.pending_events()) AS queued_or_held,
       (SELECT max(pg_column_size(events)) FROM bh_audit.queue) <= 8160 AS rows_fit_a_page,
       (SELECT bool_and(pg_column_compression(events) IS NULL) FROM bh_audit.queue) AS uncompressed,
       (SELECT min(cardinality(events)) FROM bh_audit.queue) > 1 AS several_per_row;
ROLLBACK TO SAVEPOINT s1;
-- the rows of s1 are gone with it, and so are its held events (the savepoint
-- itself remains until released)
SELECT (SELECT count(*) FROM bh_audit.queue) AS queue_rows,
       count(*) AS held, count(*) FILTER (WHERE e -> 'resource' ->> 'type' = 'HeldA') AS held_a
  FROM bh_audit.pending_events() AS e;
RELEASE SAVEPOINT s1;
SAVEPOINT s2;
SELECT bh_audit.emit('READ', 'HeldB', 'b1', 'p1') IS NOT NULL AS emitted;
RELEASE SAVEPOINT s2;
SAVEPOINT s3;
SELECT bh_audit.emit('READ', 'HeldRolledBack', 'c1', 'p1') IS NOT NULL AS emitted;
ROLLBACK TO SAVEPOINT s3;
RELEASE SAVEPOINT s3;
-- 40 more at the top level: rows are written meanwhile, from the oldest
-- held event on; the rest at commit
SELECT count(bh_audit.emit('READ', 'HeldC', 'c' || i, 'p' || i)) FROM generate_series(1, 40) i;
SELECT e -> 'resource' ->> 'type' AS type, count(*)
  FROM bh_audit.pending_events() AS e GROUP BY 1 ORDER BY 1;
COMMIT;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_type, count(*), min(seq) < max(seq) OR count(*) = 1 AS ordered
  FROM bh_audit.events WHERE resource_type LIKE 'Held%' GROUP BY 1 ORDER BY 1;
-- in the order they were queued: HeldA, then HeldB, then HeldC
SELECT (SELECT max(seq) FROM bh_audit.events WHERE resource_type = 'HeldA') <
       (SELECT min(seq) FROM bh_audit.events WHERE resource_type = 'HeldB') AND
       (SELECT max(seq) FROM bh_audit.events WHERE resource_type = 'HeldB') <
       (SELECT min(seq) FROM bh_audit.events WHERE resource_type = 'HeldC') AS in_order;
SELECT count(*) AS queue_rows_left FROM bh_audit.queue;
-- Events held by an outer level while a savepoint's events fill rows are
-- written after those rows, at commit: the chain then has them in that
-- order (their timestamps keep the time they happened).
BEGIN;
SELECT bh_audit.emit('READ', 'HeldOuter', 'd1', 'p1') IS NOT NULL AS emitted;
SAVEPOINT s4;
SELECT count(bh_audit.emit('READ', 'HeldInner', 'e' || i, 'p' || i)) FROM generate_series(1, 40) i;
RELEASE SAVEPOINT s4;
COMMIT;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT (SELECT min(seq) FROM bh_audit.events WHERE resource_type = 'HeldInner') <
       (SELECT min(seq) FROM bh_audit.events WHERE resource_type = 'HeldOuter') AS inner_rows_first,
       (SELECT ts FROM bh_audit.events WHERE resource_type = 'HeldOuter') <=
       (SELECT min(ts) FROM bh_audit.events WHERE resource_type = 'HeldInner') AS outer_timestamp_first,
       (SELECT count(*) FROM bh_audit.events WHERE resource_type IN ('HeldOuter', 'HeldInner')) AS sealed_all;
-- A savepoint per event (a PL/pgSQL block with EXCEPTION, a driver's
-- autosave): each one's events join its parent's as it is released, and
-- once the two fill a row they are written, under the savepoint ending,
-- so that few stay in memory; a rollback to an outer savepoint still
-- takes them, rows and all.
CREATE FUNCTION pg_temp.emit_each(rtype text, prefix text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..300 LOOP
    BEGIN
      PERFORM bh_audit.emit('READ', rtype, prefix || i, 'p' || i);
    EXCEPTION WHEN division_by_zero THEN NULL;
    END;
  END LOOP;
END$$;
BEGIN;
SAVEPOINT s5;
SELECT pg_temp.emit_each('HeldEachGone', 'f');
SELECT count(*) < 20 AS few_held,
       (SELECT coalesce(sum(cardinality(events)), 0) FROM bh_audit.queue) + count(*) AS queued_or_held
  FROM bh_audit.pending_events();
ROLLBACK TO SAVEPOINT s5;
SELECT (SELECT count(*) FROM bh_audit.queue) AS queue_rows, count(*) AS held
  FROM bh_audit.pending_events();
SELECT pg_temp.emit_each('HeldEach', 'g');
SELECT count(*) < 20 AS few_held,
       (SELECT coalesce(sum(cardinality(events)), 0) FROM bh_audit.queue) + count(*) AS queued_or_held
  FROM bh_audit.pending_events();
-- (and writing them leaves nothing in the memory of the savepoints they
-- were written under: PostgreSQL keeps a released savepoint's memory until
-- the transaction ends unless it is empty; here only s5's is left)
SELECT count(*) AS savepoint_memory_kept FROM pg_backend_memory_contexts
 WHERE name = 'CurTransactionContext';
RELEASE SAVEPOINT s5;
COMMIT;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_type, count(*),
       array_agg(resource_id ORDER BY seq) = array_agg('g' || n ORDER BY n) AS in_order
  FROM (SELECT seq, resource_type, resource_id, substr(resource_id, 2)::int AS n
          FROM bh_audit.events WHERE resource_type LIKE 'HeldEach%') e
 GROUP BY 1 ORDER BY 1;
-- outside a transaction block nothing is held
SELECT count(*) AS held_after_commit FROM bh_audit.pending_events();
-- A user's function calling emit() labelled PARALLEL SAFE, run in a
-- parallel worker (capture off here, so the planner keeps parallelism):
-- refused, as nextval() is; nothing is counted as emitted, and the same
-- call outside a parallel operation is recorded.
CREATE TABLE emit_par AS SELECT g FROM generate_series(1, 3) g;
CREATE FUNCTION pg_temp.emit_par(t text) RETURNS uuid LANGUAGE sql PARALLEL SAFE
    AS $$ SELECT bh_audit.emit('READ', 'ParallelEmit', t) $$;
SET bh_audit.enabled = off;
SELECT events_emitted_total AS emitted_before FROM bh_audit.stats() \gset
BEGIN;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL force_parallel_mode = on;
SET LOCAL parallel_leader_participation = off;
SELECT pg_temp.emit_par('w' || g) IS NOT NULL FROM emit_par;
ROLLBACK;
SELECT events_emitted_total - :emitted_before AS emitted FROM bh_audit.stats();
SELECT pg_temp.emit_par('serial') IS NOT NULL AS emitted_serially;
RESET bh_audit.enabled;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_id FROM bh_audit.events WHERE resource_type = 'ParallelEmit' ORDER BY seq;
DROP TABLE emit_par;
