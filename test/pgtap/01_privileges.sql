-- Privileges and roles: nothing for PUBLIC but emit(); the reader reads,
-- verifies and exports; the admin also seals.
BEGIN;
SELECT plan(38);

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
SELECT function_privs_are('bh_audit', '_refuse_change', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', '_check_preloaded', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('bh_audit', '_check_append', ARRAY[]::text[], 'public', ARRAY[]::text[]);

-- SECURITY DEFINER functions pin their search_path.
SELECT is(array_to_string(proconfig, ','), 'search_path=pg_catalog, pg_temp',
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

-- The append-only guard is enabled ALWAYS (not bypassed by replication role).
SELECT is(string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname),
          'events_append_only=A,events_chain_only=A,events_no_truncate=A',
          'the three guard triggers are enabled ALWAYS')
  FROM pg_trigger WHERE tgrelid = 'bh_audit.events'::regclass AND NOT tgisinternal;

SELECT * FROM finish();
ROLLBACK;
