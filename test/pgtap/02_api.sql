-- API contracts: signatures, defaults, result columns, volatility.
BEGIN;
SELECT plan(24);

SELECT has_schema('bh_audit');
SELECT has_table('bh_audit', 'events', 'the ledger table');
SELECT has_pk('bh_audit', 'events', 'events has a primary key');
SELECT col_is_pk('bh_audit', 'events', 'seq', 'seq is the primary key');
SELECT columns_are('bh_audit', 'events', ARRAY['seq', 'event', 'hash_alg', 'prev_event_hash', 'event_hash',
    'event_id', 'ts', 'actor_id', 'patient_id', 'resource_type', 'resource_id', 'action', 'outcome', 'error_type']);
SELECT col_type_is('bh_audit', 'events', 'ts', 'timestamp with time zone', 'ts is timestamptz');
SELECT col_type_is('bh_audit', 'events', 'event_id', 'uuid', 'event_id is uuid');
SELECT indexes_are('bh_audit', 'events', ARRAY['events_pkey', 'events_patient_ts', 'events_actor_ts', 'events_denied_ts', 'events_unattributed_ts', 'events_ts_brin']);
SELECT has_index('bh_audit', 'events', 'events_ts_brin', ARRAY['ts'], 'time-bounded review queries have a block-range index on ts');
SELECT index_is_type('bh_audit', 'events', 'events_ts_brin', 'brin', 'events_ts_brin is a BRIN index');
SELECT is(pg_get_expr(indpred, indrelid), '(outcome = ''DENIED''::text)', 'denials have their own partial index')
  FROM pg_index WHERE indexrelid = 'bh_audit.events_denied_ts'::regclass;

SELECT function_returns('bh_audit', 'emit',
    ARRAY['text','text','text','text','text','text','text','jsonb','text','boolean','text'], 'uuid');
SELECT is(pg_get_function_arguments('bh_audit.emit'::regproc),
    'action text, resource_type text, resource_id text DEFAULT NULL::text, patient_id text DEFAULT NULL::text, outcome text DEFAULT ''SUCCESS''::text, error_type text DEFAULT NULL::text, error_message text DEFAULT NULL::text, metadata jsonb DEFAULT NULL::jsonb, data_classification text DEFAULT NULL::text, phi_touched boolean DEFAULT NULL::boolean, action_name text DEFAULT NULL::text',
    'emit() arguments and defaults');
SELECT function_returns('bh_audit', 'seal', ARRAY[]::text[], 'bigint');
SELECT function_returns('bh_audit', 'canonical_json', ARRAY['json'], 'text');
SELECT function_returns('bh_audit', 'export_jsonl', ARRAY['bigint','bigint'], 'setof text');
SELECT is(pg_get_function_arguments('bh_audit.verify_chain'::regproc),
    'from_seq bigint DEFAULT NULL::bigint, to_seq bigint DEFAULT NULL::bigint, expected_head text DEFAULT NULL::text, OUT result text, OUT events_scanned bigint, OUT chain_length bigint, OUT chain_gaps bigint, OUT hash_mismatches bigint, OUT head_seq bigint, OUT head_hash text',
    'verify_chain() result columns');
SELECT is(pg_get_function_arguments('bh_audit.chain_failures'::regproc),
    'from_seq bigint DEFAULT NULL::bigint, to_seq bigint DEFAULT NULL::bigint, expected_head text DEFAULT NULL::text, OUT seq bigint, OUT event_id uuid, OUT failure_type text, OUT expected text, OUT actual text, OUT message text',
    'chain_failures() result columns');
SELECT is(pg_get_function_arguments('bh_audit.chain_head'::regproc),
    'OUT seq bigint, OUT event_hash text, OUT ts timestamp with time zone',
    'chain_head() result columns');
SELECT is(pg_get_function_arguments('bh_audit.stats'::regproc),
    'OUT events_emitted_total bigint, OUT events_sealed_total bigint, OUT events_dropped_total bigint, OUT validation_failures_total bigint, OUT queued_events bigint, OUT ring_events bigint, OUT sealer_last_seal_at timestamp with time zone, OUT sealer_pid integer',
    'stats() result columns');
SELECT volatility_is('bh_audit', 'canonical_json', ARRAY['json'], 'immutable');
SELECT volatility_is('bh_audit', 'verify_chain', ARRAY['bigint','bigint','text'], 'stable');

-- Every function and table is documented.
SELECT is(count(*)::int, 0, 'every bh_audit function has a comment')
  FROM pg_proc p WHERE pronamespace = 'bh_audit'::regnamespace
   AND proname NOT LIKE '\_%' AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT is(count(*)::int, 0, 'every bh_audit table has a comment')
  FROM pg_class c WHERE relnamespace = 'bh_audit'::regnamespace AND relkind = 'r'
   AND obj_description(c.oid, 'pg_class') IS NULL;

SELECT * FROM finish();
ROLLBACK;
