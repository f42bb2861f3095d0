-- PHI leak test: the synthetic PHI tokens of the upstream test suite, put
-- where a careless implementation would leak them (error messages of
-- emit(), metadata keys and values, allowed and not, nested, over-long,
-- over the key limit, in place of the extension's own keys), never appear
-- in bh_audit.events, in export_jsonl(), in the queue, in the WARNINGs the
-- extension raises (shown below: they carry counts only) or in the server
-- log written while this test runs.
--
-- The tokens are spelled out in ONE statement (the INSERT into tok below);
-- every other statement takes them from that table, so that this file's
-- expected output shows a token nowhere else.
\getenv abs_builddir PG_ABS_BUILDDIR

SELECT bh_audit.seal() >= 0 AS sealed_before;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- Where the server log is (the pg_regress instance logs to
-- <outputdir>/log/postmaster.log; with logging_collector on, the current
-- log file), and how long it is now: only what this test adds is searched.
CREATE TEMP TABLE server_log AS
SELECT CASE WHEN current_setting('logging_collector') = 'on'
            THEN CASE WHEN pg_current_logfile() LIKE '/%' THEN pg_current_logfile()
                      ELSE current_setting('data_directory') || '/' || pg_current_logfile() END
            ELSE :'abs_builddir' || '/log/postmaster.log' END AS path,
       NULL::bigint AS start;
UPDATE server_log SET start = (pg_stat_file(path, true)).size;
SELECT start IS NOT NULL AS server_log_found FROM server_log;

-- The tokens, and for the two that carry a pattern, the part a partial
-- redaction could leave behind (searched for as well).
CREATE TEMP TABLE tok (name text PRIMARY KEY, t text NOT NULL, core text NOT NULL);
INSERT INTO tok VALUES
    ('ssn', 'SSN_123-45-6789', '123-45-6789'),
    ('dob', 'DOB_1990-01-01', '1990-01-01'),
    ('patient', 'PATIENT_JANE_DOE', 'JANE_DOE'),
    ('diagnosis', 'DIAGNOSIS_BIPOLAR', 'BIPOLAR'),
    ('note', 'NOTE_TEXT_I_AM_NOT_OK', 'I_AM_NOT_OK'),
    ('email', 'EMAIL_jane.doe@example.com', 'jane.doe@example.com');
CREATE FUNCTION pg_temp.tk(n text) RETURNS text LANGUAGE sql STABLE AS
    $$ SELECT t FROM tok WHERE name = n $$;
CREATE FUNCTION pg_temp.all_tokens() RETURNS text LANGUAGE sql STABLE AS
    $$ SELECT string_agg(t, ' ' ORDER BY name) FROM tok $$;

--------------------------------------------------------------------------
-- Metadata.  No allowlist: tokens as keys and as values are dropped.
--------------------------------------------------------------------------
SELECT bh_audit.emit('READ', 'PhiMeta', metadata => (SELECT jsonb_object_agg(t, 1) FROM tok)) IS NOT NULL AS keys_are_tokens;
SELECT bh_audit.emit('READ', 'PhiMeta', metadata => (SELECT jsonb_object_agg(name, t) FROM tok)) IS NOT NULL AS values_are_tokens;

-- With an allowlist: tokens under keys that are not in it, nested under
-- keys that are (in objects, as keys of objects, in arrays), in place of
-- db_user, and over the 20-key limit are all dropped.
SET bh_audit.metadata_allowlist = 'reason, ctx, detail, db_user';
SELECT bh_audit.emit('READ', 'PhiMeta', metadata => jsonb_build_object(
    'reason', 'continuity_of_care',
    'patient_name', pg_temp.tk('patient'),
    pg_temp.tk('diagnosis'), 'x',
    'ctx', jsonb_build_object('note', pg_temp.tk('note'), pg_temp.tk('ssn'), 1),
    'detail', (SELECT jsonb_agg(t) FROM tok),
    'db_user', pg_temp.tk('email'))) IS NOT NULL AS nested_and_disallowed;
SELECT set_config('bh_audit.metadata_allowlist',
                  (SELECT string_agg('k' || lpad(i::text, 2, '0'), ',') FROM generate_series(1, 25) i),
                  false) IS NOT NULL AS allowlist_set;
SELECT bh_audit.emit('READ', 'PhiMeta', metadata =>
    (SELECT jsonb_object_agg('k' || lpad(i::text, 2, '0'), i) FROM generate_series(1, 19) i) ||
    (SELECT jsonb_object_agg('k' || (19 + n)::text, t)
       FROM (SELECT t, row_number() OVER (ORDER BY name) AS n FROM tok) s)) IS NOT NULL AS over_the_key_limit;

-- Over-long values of allowed keys: the token lies beyond the cut.
SET bh_audit.metadata_allowlist = 'detail';
SELECT bh_audit.emit('READ', 'PhiMeta', metadata => jsonb_build_object(
    'detail', repeat('x', 200) || pg_temp.all_tokens())) IS NOT NULL AS beyond_default_cut;
SET bh_audit.max_metadata_value_length = 16;
SELECT bh_audit.emit('READ', 'PhiMeta', metadata => jsonb_build_object(
    'detail', 'see the record: ' || pg_temp.all_tokens())) IS NOT NULL AS beyond_short_cut;
RESET bh_audit.max_metadata_value_length;
RESET bh_audit.metadata_allowlist;

--------------------------------------------------------------------------
-- Error messages of emit(), with the default bh_audit.error_message_mode
-- (sanitize): the sanitiser's patterns catch the e-mail token and an SSN
-- that stands alone; the cut to bh_audit.error_message_max_len removes
-- whatever lies beyond it.
--------------------------------------------------------------------------
SELECT bh_audit.emit('UPDATE', 'PhiErr', outcome => 'FAILURE', error_type => 'NotifyError',
    error_message => 'could not notify ' || pg_temp.tk('email') || ', retry later') IS NOT NULL AS email_in_message;
SELECT bh_audit.emit('UPDATE', 'PhiErr', outcome => 'FAILURE', error_type => 'LookupError',
    error_message => 'lookup failed for ' || replace(pg_temp.tk('ssn'), '_', ' ')) IS NOT NULL AS ssn_standing_alone;
SELECT bh_audit.emit('UPDATE', 'PhiErr', outcome => 'FAILURE', error_type => 'LookupError',
    error_message => repeat('x', 200) || ' ' || pg_temp.all_tokens()) IS NOT NULL AS beyond_default_cut;
SET bh_audit.error_message_max_len = 16;
SELECT bh_audit.emit('UPDATE', 'PhiErr', outcome => 'DENIED', error_type => 'RoleDenied',
    error_message => 'not allowed: ' || pg_temp.all_tokens()) IS NOT NULL AS beyond_short_cut;
RESET bh_audit.error_message_max_len;

-- With bh_audit.error_message_mode = omit, no message text is kept at all:
-- every token, in FAILURE and DENIED events.
SET bh_audit.error_message_mode = omit;
SELECT bh_audit.emit('UPDATE', 'PhiErr', outcome => 'FAILURE', error_type => 'LookupError',
    error_message => 'lookup failed for ' || t) IS NOT NULL AS omitted
  FROM tok ORDER BY name;
SELECT bh_audit.emit('READ', 'PhiErr', outcome => 'DENIED', error_type => 'RoleDenied',
    error_message => pg_temp.all_tokens()) IS NOT NULL AS omitted;
RESET bh_audit.error_message_mode;

SELECT bh_audit.seal() >= 0 AS sealed;

-- What the events kept (no token here, or this output would show it).
SELECT resource_type, event -> 'metadata' AS metadata, event -> 'outcome' AS outcome
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark) ORDER BY seq;

--------------------------------------------------------------------------
-- No token, nor the core of one, anywhere.
--------------------------------------------------------------------------
SELECT count(*) >= 17 AS events_checked FROM bh_audit.events;
SELECT name AS leaked_in_events FROM tok
 WHERE EXISTS (SELECT 1 FROM bh_audit.events e
                WHERE strpos(e.event::text, t) > 0 OR strpos(e.event::text, core) > 0)
 ORDER BY name;
SELECT name AS leaked_in_export FROM tok
 WHERE EXISTS (SELECT 1 FROM bh_audit.export_jsonl() x WHERE strpos(x, t) > 0 OR strpos(x, core) > 0)
 ORDER BY name;
SELECT name AS leaked_in_queue FROM tok
 WHERE EXISTS (SELECT 1 FROM bh_audit.queue q
                WHERE strpos(q.events::text, t) > 0 OR strpos(q.events::text, core) > 0)
 ORDER BY name;

-- The server log written since this test began: every WARNING above is
-- there (control: the search sees them), and no token is.
CREATE TEMP TABLE log_tail AS
SELECT pg_read_file(path, start, (pg_stat_file(path)).size - start) AS text FROM server_log;
SELECT (SELECT count(*) FROM regexp_matches(text, 'WARNING:  bh_audit dropped \d+ metadata key', 'g')) AS warnings_in_log,
       (SELECT count(*) FROM tok WHERE strpos(text, t) > 0 OR strpos(text, core) > 0) AS tokens_in_log
  FROM log_tail;

--------------------------------------------------------------------------
-- KNOWN GAPS, reported: what the rules above do NOT protect, shown on
-- events that are rolled back (never sealed).  With the default
-- error_message_mode (sanitize), the upstream algorithm leaves in an error
-- message every token but the e-mail: "\b" does not hold between "_" and a
-- digit, so an SSN glued to "SSN_" is not an SSN to it; dates are not
-- redacted; names, diagnoses and note text have no pattern.  And an allowed
-- metadata key keeps whatever string it is given (up to the cut).
-- The search finds these tokens (a control for the searches above).
--------------------------------------------------------------------------
BEGIN;
SET LOCAL bh_audit.metadata_allowlist = 'reason';
CREATE TEMP TABLE gap ON COMMIT DROP AS
SELECT name, bh_audit.emit('READ', 'PhiGap', outcome => 'FAILURE', error_type => 'LookupError',
                           error_message => 'lookup failed for ' || t) AS in_message,
       bh_audit.emit('READ', 'PhiGap', metadata => jsonb_build_object('reason', t)) AS in_allowed_value
  FROM tok;
SELECT g.name,
       strpos(bh_audit.sanitize_error_message('lookup failed for ' || tok.t), tok.t) > 0 AS survives_sanitiser,
       strpos(qm.event::text, tok.t) > 0 AS in_error_message_event,
       strpos(qv.event::text, tok.t) > 0 AS in_allowed_metadata_event
  FROM gap g JOIN tok USING (name)
  JOIN bh_audit.pending_events() qm(event) ON (qm.event ->> 'event_id')::uuid = g.in_message
  JOIN bh_audit.pending_events() qv(event) ON (qv.event ->> 'event_id')::uuid = g.in_allowed_value
 ORDER BY g.name;
ROLLBACK;
SELECT count(*) AS gap_events_sealed FROM bh_audit.events WHERE resource_type = 'PhiGap';
