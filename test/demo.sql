-- test/demo.sql: a short tour of bh_audit, run by test/run-demo.sh in the
-- database bh_demo (the extension is already created).

\pset pager off
\pset null '(null)'

\echo
\echo '== 1. Emit application events: two reads, an update, a denied export'
SELECT bh_audit.emit('READ', 'Patient', 'pat_001', 'pat_001');
SELECT bh_audit.emit('READ', 'Encounter', 'enc_042', 'pat_001');
SELECT bh_audit.emit('UPDATE', 'Observation', 'obs_007', 'pat_002',
                     metadata => '{"changed_columns": "value,unit"}');
SELECT bh_audit.emit('EXPORT', 'Patient', 'pat_003', 'pat_003',
                     outcome => 'DENIED',
                     error_type => 'PermissionDenied',
                     error_message => 'permission denied for table patients');

\echo
\echo '== 2. Seal: wait until the sealer has chained every committed event'
SELECT bh_audit.seal();

\echo
\echo '== 3. The ledger, in chain order'
SELECT seq, ts, actor_id, action, resource_type, patient_id, outcome
  FROM bh_audit.events ORDER BY seq;

\echo
\echo '== 4. The chain head: store it outside the database'
SELECT * FROM bh_audit.chain_head();

\echo
\echo '== 5. Verify the whole chain'
SELECT * FROM bh_audit.verify_chain();

\echo
\echo '== 6. JSONL export (first two lines), verifiable by bh-audit verify'
\pset tuples_only on
\pset format unaligned
SELECT * FROM bh_audit.export_jsonl() LIMIT 2;
