-- test/demo.sql: a short tour of bh_audit in a small behavioral-health
-- clinic database, run by test/run-demo.sh in the database bh_demo (the
-- extension is already created there).

\pset pager off
\pset null ''

\echo
\echo '== 1. A clinic schema: patients, therapy notes (42 CFR Part 2), and a lookup table'
CREATE TABLE patients (patient_id text PRIMARY KEY, name text, dob date);
CREATE TABLE therapy_notes (note_id int PRIMARY KEY, patient_id text REFERENCES patients,
                            author text, body text);
CREATE TABLE clinics (clinic_id int PRIMARY KEY, name text);

\echo
\echo '== 2. Tag the PHI tables (once, by a DBA or a member of bh_audit_admin)'
SELECT bh_audit.tag_table('patients', 'Patient', 'patient_id', 'patient_id');
SELECT bh_audit.tag_table('therapy_notes', 'Note', 'note_id', 'patient_id', part2 => true);
SELECT tbl, resource_type, id_column, patient_column, part2 FROM bh_audit.tagged_tables;

\echo
\echo '== 3. The application works as usual, stating the end user per transaction'
BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr_rivera', roles => ARRAY['therapist'],
                            request_id => 'req-1001');
INSERT INTO patients VALUES ('pat_001', 'Jane Example', '1990-01-01'),
                            ('pat_002', 'John Example', '1985-05-05');
INSERT INTO therapy_notes VALUES (1, 'pat_001', 'dr_rivera', 'Session 1 ...'),
                                 (2, 'pat_002', 'dr_rivera', 'Session 1 ...');
COMMIT;
BEGIN;
SET LOCAL bh_audit.actor_id = 'nurse_kim';
SET LOCAL bh_audit.request_id = 'req-1002';
UPDATE therapy_notes SET body = 'Session 1, amended ...' WHERE note_id = 1;
COMMIT;
-- A change that is rolled back leaves no event: it never happened.
BEGIN;
DELETE FROM therapy_notes WHERE note_id = 2;
ROLLBACK;
-- Reads are captured too, per patient, whoever reads: here an analyst in psql
-- who rolls back afterwards (the read happened all the same) ...
BEGIN;
SET LOCAL bh_audit.actor_id = 'analyst_lee';
SELECT count(*) AS notes_read FROM therapy_notes WHERE patient_id = 'pat_002';
ROLLBACK;
-- ... and a role without the privilege, refused (the denial is recorded).
CREATE ROLE demo_intern;
BEGIN;
SET LOCAL bh_audit.actor_id = 'intern_sam';
SET LOCAL ROLE demo_intern;
\set ON_ERROR_STOP 0
SELECT body FROM therapy_notes WHERE patient_id = 'pat_001';
\set ON_ERROR_STOP 1
ROLLBACK;
-- The application can record events of its own (here, a refused export).
SELECT bh_audit.emit('EXPORT', 'Patient', 'pat_002', 'pat_002', outcome => 'DENIED',
                     error_type => 'PermissionDenied') IS NOT NULL AS emitted;

\echo
\echo '== 4. Seal: wait until the sealer has chained every committed event'
SELECT bh_audit.seal() >= 0 AS sealed;

\echo
\echo '== 5. The ledger, in chain order (db_user is always the real login)'
SELECT seq, to_char(ts, 'HH24:MI:SS.MS') AS time, actor_id, action, resource_type, resource_id,
       patient_id, outcome, event -> 'metadata' ->> 'changed_columns' AS changed,
       event -> 'metadata' ->> 'db_user' AS db_user
  FROM bh_audit.events ORDER BY seq;

\echo
\echo '== 6. Access review: everything that touched patient pat_002 (the rolled-back read included)'
SELECT to_char(ts, 'HH24:MI:SS.MS') AS time, actor_id, action, resource_type, resource_id, outcome
  FROM bh_audit.events WHERE patient_id = 'pat_002' ORDER BY ts;

\echo
\echo '== 7. All denied attempts (the intern''s read, the application''s refused export)'
SELECT to_char(ts, 'HH24:MI:SS.MS') AS time, actor_id, event -> 'metadata' ->> 'db_user' AS login,
       action, resource_type, resource_id, error_type
  FROM bh_audit.events WHERE outcome = 'DENIED' ORDER BY ts;

\echo
\echo '== 8. Capture cannot be switched off quietly: the table owner cannot disable it'
CREATE ROLE demo_app;
ALTER TABLE therapy_notes OWNER TO demo_app;
SET ROLE demo_app;
\set ON_ERROR_STOP 0
ALTER TABLE therapy_notes DISABLE TRIGGER bh_audit_capture_row;
\set ON_ERROR_STOP 1
RESET ROLE;
SELECT * FROM bh_audit.capture_status();

\echo
\echo '== 9. The ledger is append-only, for superusers too'
\set ON_ERROR_STOP 0
DELETE FROM bh_audit.events WHERE patient_id = 'pat_001';
\set ON_ERROR_STOP 1

\echo
\echo '== 10. The refused DELETE is recorded too; verify the whole chain, and the head to store outside the database'
-- (the refused DELETE above is itself a FAILURE event: sealed first)
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT seq, actor_id, action, resource_type, outcome, error_type
  FROM bh_audit.events ORDER BY seq DESC LIMIT 1;
SELECT * FROM bh_audit.verify_chain();
SELECT * FROM bh_audit.chain_head();

\echo
\echo '== 11. JSONL export (first two lines), verifiable by bh-audit verify'
\pset tuples_only on
\pset format unaligned
SELECT bh_audit.export_jsonl() LIMIT 2;
\pset tuples_only off
\pset format aligned

\echo
\echo '== 12. Counters'
SELECT * FROM bh_audit.stats();
