-- Privileges and roles: nothing for PUBLIC but emit(); the reader reads,
-- verifies and exports; the admin also seals.
BEGIN;
SELECT plan(63);

SELECT has_role('bh_audit_admin');
SELECT has_role('bh_audit_reader');
SELECT ok(NOT rolcanlogin, rolname || ' is NOLOGIN')
  FROM pg_roles WHERE rolname IN ('bh_audit_admin', 'bh_audit_reader') ORDER BY rolname;
SELECT is_member_of('bh_audit_reader', 'bh_audit_admin');

SELECT schema_privs_are('bh_audit', 'public', ARRAY['USAGE']);

SELECT table_privs_are('bh_audit', 'events', 'public', ARRAY[]::text[]);
SELECT table_privs_are('bh_audit', 'queue', 'public', ARRAY[]::text[]);
SELECT table_privs_are('bh_audit', 'events', 'bh_audit_reader', ARRAY['SELECT']);
SELECT table_privs_are('bh_audit', 'queue', 'bh_audit_reader', ARRAY[]::text[]);
SELECT table_privs_are('bh_audit', 'events', 'bh_audit_admin', ARRAY['SELECT'],
                       'the admin role reads events through the reader role');

-- Functions PUBLIC may call.
SELECT function_privs_are('bh_audit', 'emit',
    ARRAY['text','text','text','text','text','text','text','jsonb','text','boolean','text'],
    'public', ARRAY['EXECUTE']);
SELECT function_privs_are('bh_audit', 'set_context',
    ARRAY['text','text','text[]','text','text','text','text','text'], 'public', ARRAY['EXECUTE']);
SELECT function_privs_are('bh_audit', 'canonical_json', ARRAY['json'], 'public', ARRAY['EXECUTE']);
SELECT function_privs_are('bh_audit', 'event_hash', ARRAY['json','text','text'], 'public', ARRAY['EXECUTE']);

-- Reader functions.
SELECT function_privs_are('bh_audit', 'verify_chain', ARRAY['bigint','bigint','text'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'verify_chain', ARRAY['bigint','bigint','text'], 'bh_audit_reader', ARRAY['EXECUTE']);
SELECT function_privs_are('bh_audit', 'chain_failures', ARRAY['bigint','bigint','text'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'chain_failures', ARRAY['bigint','bigint','text'], 'bh_audit_reader', ARRAY['EXECUTE']);
SELECT function_privs_are('bh_audit', 'chain_head', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'chain_head', ARRAY[]::text[], 'bh_audit_reader', ARRAY['EXECUTE']);
SELECT function_privs_are('bh_audit', 'export_jsonl', ARRAY['bigint','bigint'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'export_jsonl', ARRAY['bigint','bigint'], 'bh_audit_reader', ARRAY['EXECUTE']);
SELECT function_privs_are('bh_audit', 'stats', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'stats', ARRAY[]::text[], 'bh_audit_reader', ARRAY['EXECUTE']);

-- Admin functions.
SELECT function_privs_are('bh_audit', 'seal', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'seal', ARRAY[]::text[], 'bh_audit_reader', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'seal', ARRAY[]::text[], 'bh_audit_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('bh_audit', 'pending_events', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'pending_events', ARRAY[]::text[], 'bh_audit_reader', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'pending_events', ARRAY[]::text[], 'bh_audit_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('bh_audit', '_refuse_change', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', '_check_preloaded', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', '_check_append', ARRAY[]::text[], 'public', ARRAY[]::text[]);

-- Tagging: bh_audit_admin only; the catalog view and capture_status() for readers.
SELECT function_privs_are('bh_audit', 'tag_table',
    ARRAY['regclass','text','name','name','text','boolean','boolean','boolean'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'tag_table',
    ARRAY['regclass','text','name','name','text','boolean','boolean','boolean'], 'bh_audit_reader', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'tag_table',
    ARRAY['regclass','text','name','name','text','boolean','boolean','boolean'], 'bh_audit_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('bh_audit', 'untag_table', ARRAY['regclass'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'untag_table', ARRAY['regclass'], 'bh_audit_admin', ARRAY['EXECUTE']);
SELECT table_privs_are('bh_audit', 'tags', 'public', ARRAY[]::text[]);
SELECT table_privs_are('bh_audit', 'tags', 'bh_audit_admin', ARRAY[]::text[],
                       'not even the admin role touches the tag catalog directly');
SELECT table_privs_are('bh_audit', 'tagged_tables', 'public', ARRAY[]::text[]);
SELECT table_privs_are('bh_audit', 'tagged_tables', 'bh_audit_reader', ARRAY['SELECT']);
SELECT function_privs_are('bh_audit', 'capture_status', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', 'capture_status', ARRAY[]::text[], 'bh_audit_reader', ARRAY['EXECUTE']);
-- The capture trigger functions run as whoever changes a tagged table.
SELECT function_privs_are('bh_audit', '_capture_row', ARRAY[]::text[], 'public', ARRAY['EXECUTE']);
SELECT function_privs_are('bh_audit', '_capture_truncate', ARRAY[]::text[], 'public', ARRAY['EXECUTE']);
-- A member of bh_audit_admin tags; a plain role cannot, even with EXECUTE granted.
CREATE TABLE pg_temp.tap_notes (id int PRIMARY KEY, patient_id int);
CREATE ROLE bh_tap_admin IN ROLE bh_audit_admin;
CREATE ROLE bh_tap_plain;
GRANT EXECUTE ON FUNCTION bh_audit.tag_table(regclass, text, name, name, text, boolean, boolean, boolean) TO bh_tap_plain;
SET LOCAL ROLE bh_tap_plain;
SELECT throws_ok($$SELECT bh_audit.tag_table('pg_temp.tap_notes', 'Note', 'id', 'patient_id')$$,
                 '42501', 'permission denied to tag tables', 'a role outside bh_audit_admin cannot tag');
RESET ROLE;
SET LOCAL ROLE bh_tap_admin;
SELECT lives_ok($$SELECT bh_audit.tag_table('pg_temp.tap_notes', 'Note', 'id', 'patient_id')$$,
                'a member of bh_audit_admin tags');
SELECT is((SELECT resource_type FROM bh_audit.tagged_tables WHERE tbl = 'pg_temp.tap_notes'::regclass),
          'Note', 'and sees the tag');
RESET ROLE;

-- SECURITY DEFINER functions pin their search_path.
SELECT is((SELECT string_agg(c, ',') FROM unnest(proconfig) c WHERE c LIKE 'search_path=%'),
          'search_path=pg_catalog, pg_temp',
          proname || ' is SECURITY DEFINER with a pinned search_path')
  FROM pg_proc WHERE pronamespace = 'bh_audit'::regnamespace AND prosecdef ORDER BY proname;
SELECT is(count(*)::int, 2, 'exactly two SECURITY DEFINER functions (capture_status, stats)')
  FROM pg_proc WHERE pronamespace = 'bh_audit'::regnamespace AND prosecdef;

-- What an application role can and cannot do.
CREATE ROLE bh_tap_app;
SET LOCAL ROLE bh_tap_app;
SELECT lives_ok($$SELECT bh_audit.emit('READ', 'Patient', 'p1', 'p1')$$, 'an application role may emit');
SELECT throws_ok($$SELECT * FROM bh_audit.events$$, '42501', NULL, 'an application role cannot read the ledger');
SELECT throws_ok($$SELECT * FROM bh_audit.verify_chain()$$, '42501', NULL, 'an application role cannot verify');
RESET ROLE;

-- The append-only guard, and the triggers that keep a subscriber's ledger
-- its own (replicated rows skipped, a replicated TRUNCATE undone), are
-- enabled ALWAYS (not bypassed by replication role).
SELECT is(string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname),
          'events_append_only=A,events_applied_skip=A,events_applied_truncate_keep=A,'
          'events_applied_truncate_restore=A,events_chain_only=A,events_no_truncate=A',
          'the ledger''s six guard triggers are enabled ALWAYS')
  FROM pg_trigger WHERE tgrelid = 'bh_audit.events'::regclass AND NOT tgisinternal;

-- The extension's functions cannot be replaced or altered, even by a superuser
-- (this test runs as one); granting on them still works.
SELECT ok((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), 'these checks run as a superuser');
SELECT throws_ok($$CREATE OR REPLACE FUNCTION bh_audit._capture_row() RETURNS trigger
                   LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'$$, '55000', NULL,
                 'the row capture function cannot be replaced');
SELECT throws_ok($$CREATE OR REPLACE FUNCTION bh_audit.verify_chain(from_seq bigint DEFAULT NULL,
                   to_seq bigint DEFAULT NULL, expected_head text DEFAULT NULL, OUT result text,
                   OUT events_scanned bigint, OUT chain_length bigint, OUT chain_gaps bigint,
                   OUT hash_mismatches bigint, OUT head_seq bigint, OUT head_hash text)
                   LANGUAGE sql AS 'SELECT ''PASS'', 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, NULL::text'$$,
                 '55000', NULL, 'verify_chain() cannot be replaced');
SELECT throws_ok($$ALTER FUNCTION bh_audit._capture_truncate() RENAME TO x$$, '55000', NULL,
                 'the TRUNCATE capture function cannot be renamed');
SELECT throws_ok($$ALTER EXTENSION bh_audit DROP FUNCTION bh_audit._capture_row()$$, '55000', NULL,
                 'no function can be taken out of the extension');
SELECT lives_ok($$GRANT EXECUTE ON FUNCTION bh_audit.chain_head() TO bh_tap_app$$,
                'granting on an extension function works');

SELECT * FROM finish();
ROLLBACK;
