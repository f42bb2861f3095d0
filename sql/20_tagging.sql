-- Tagging PHI tables: tag_table(), untag_table(), the tagged_tables view,
-- the catalog's errors and who may tag.
CREATE SCHEMA clinic;
CREATE TABLE clinic.patients (id int PRIMARY KEY, mrn text, name text, dob date);
CREATE TABLE clinic.notes (note_id bigint PRIMARY KEY, patient_id int, body text);
CREATE TABLE clinic.visits (id int, patient_id int, reason text) PARTITION BY RANGE (id);
CREATE TABLE clinic.visits_1 PARTITION OF clinic.visits FOR VALUES FROM (0) TO (1000);
CREATE VIEW clinic.patient_view AS SELECT id FROM clinic.patients;
CREATE SEQUENCE clinic.seq;
CREATE TABLE clinic.lookup (code text PRIMARY KEY);

SELECT bh_audit.tag_table('clinic.patients', 'Patient', 'id', 'id');
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'note_id', 'patient_id',
                          classification => 'PHI', part2 => true);
SELECT bh_audit.tag_table('clinic.visits', 'Encounter', 'id', 'patient_id', capture_reads => false);
SELECT bh_audit.tag_table('clinic.lookup', 'Code', 'code', classification => 'NONE', capture_writes => false);

SELECT schema_name, table_name, partitioned, resource_type, id_column, patient_column,
       classification, part2, capture_reads, capture_writes, tagged_by
  FROM bh_audit.tagged_tables ORDER BY table_name;

-- The capture triggers, enabled ALWAYS; none on a table not capturing writes.
-- (Ordered by trigger and table name: "ORDER BY 1::text" sorted by a
-- constant, leaving each trigger's tables in the order the scan met them,
-- which changed when the extension gained bh_audit.ledger_home.)
SELECT tgrelid::regclass, tgname, tgenabled FROM pg_trigger
 WHERE tgname LIKE 'bh_audit_capture%' ORDER BY tgname, tgrelid::regclass::text;
SELECT * FROM bh_audit.capture_status();

-- Errors name the object.
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.patient_view', 'Patient', 'id')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.seq', 'Patient', 'last_value')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.patients', 'Patient', 'id')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.visits_1', 'Encounter', 'id')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.nosuch', 'Patient', 'id')$$);
-- a plain-inheritance parent (its children's rows would escape); a child
-- is a table of its own
CREATE TABLE clinic.intake (id int, pat int);
CREATE TABLE clinic.intake_2026 () INHERITS (clinic.intake);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.intake', 'Intake', 'id', 'pat')$$);
SELECT bh_audit.tag_table('clinic.intake_2026', 'Intake', 'id', 'pat');
SELECT bh_audit.untag_table('clinic.intake_2026');
DROP TABLE clinic.intake CASCADE;
-- a temporary table emptied at every commit (ON COMMIT DELETE ROWS: no
-- DELETE event) cannot be tagged, nor become a partition of a tagged one;
-- PRESERVE ROWS (the default) can
CREATE TEMP TABLE scratch_rows (id int, pat int) ON COMMIT DELETE ROWS;
SELECT regress_err($$SELECT bh_audit.tag_table('scratch_rows', 'Intake', 'id', 'pat')$$);
BEGIN;
DROP TABLE scratch_rows;
ROLLBACK;
SELECT regress_err($$SELECT bh_audit.tag_table('scratch_rows', 'Intake', 'id', 'pat')$$) AS after_drop_rolled_back;
CREATE TEMP TABLE scratch_as ON COMMIT DELETE ROWS AS SELECT 1 AS id, 2 AS pat;
SELECT regress_err($$SELECT bh_audit.tag_table('scratch_as', 'Intake', 'id', 'pat')$$);
CREATE TEMP TABLE scratch_parts (id int, pat int) PARTITION BY RANGE (id);
CREATE TEMP TABLE scratch_parts_1 PARTITION OF scratch_parts FOR VALUES FROM (0) TO (10) ON COMMIT DELETE ROWS;
SELECT regress_err($$SELECT bh_audit.tag_table('scratch_parts', 'Intake', 'id', 'pat')$$);
DROP TABLE scratch_parts_1;
SELECT bh_audit.tag_table('scratch_parts', 'Intake', 'id', 'pat');
SELECT regress_err($$CREATE TEMP TABLE scratch_parts_2 PARTITION OF scratch_parts FOR VALUES FROM (10) TO (20) ON COMMIT DELETE ROWS$$);
CREATE TEMP TABLE scratch_parts_3 (id int, pat int) ON COMMIT DELETE ROWS;
SELECT regress_err($$ALTER TABLE scratch_parts ATTACH PARTITION scratch_parts_3 FOR VALUES FROM (30) TO (40)$$);
CREATE TEMP TABLE scratch_parts_4 PARTITION OF scratch_parts FOR VALUES FROM (40) TO (50);
SELECT bh_audit.untag_table('scratch_parts');
-- an unlogged table (a crash empties it: no DELETE event) likewise; nor can
-- a tagged table be made unlogged
CREATE UNLOGGED TABLE clinic.scratch_unlogged (id int, pat int);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.scratch_unlogged', 'Intake', 'id', 'pat')$$);
CREATE TABLE clinic.scratch_logged (id int, pat int) PARTITION BY RANGE (id);
SELECT bh_audit.tag_table('clinic.scratch_logged', 'Intake', 'id', 'pat');
SELECT regress_err($$CREATE UNLOGGED TABLE clinic.scratch_logged_1 PARTITION OF clinic.scratch_logged FOR VALUES FROM (0) TO (10)$$);
SELECT regress_err($$ALTER TABLE clinic.scratch_logged ATTACH PARTITION clinic.scratch_unlogged FOR VALUES FROM (10) TO (20)$$);
CREATE TABLE clinic.scratch_logged_2 PARTITION OF clinic.scratch_logged FOR VALUES FROM (20) TO (30);
SELECT regress_err($$ALTER TABLE clinic.scratch_logged_2 SET UNLOGGED$$);
SELECT bh_audit.untag_table('clinic.scratch_logged');
DROP TABLE clinic.scratch_logged, clinic.scratch_unlogged;
CREATE TEMP TABLE scratch_keep (id int, pat int) ON COMMIT PRESERVE ROWS;
SELECT bh_audit.tag_table('scratch_keep', 'Intake', 'id', 'pat');
SELECT bh_audit.untag_table('scratch_keep');
-- ... nor one made by EXPLAIN ANALYZE, nor one an event trigger tags while
-- it is created; CREATE ... IF NOT EXISTS of an existing table changes
-- nothing, and a partitioned table created so holds no rows to empty
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    CREATE TEMP TABLE scratch_explained ON COMMIT DELETE ROWS AS SELECT 1 AS id, 2 AS pat;
SELECT regress_err($$SELECT bh_audit.tag_table('scratch_explained', 'Intake', 'id', 'pat')$$);
CREATE FUNCTION public.tag_new_scratch() RETURNS event_trigger LANGUAGE plpgsql AS $f$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM pg_event_trigger_ddl_commands()
              WHERE command_tag = 'CREATE TABLE' AND object_identity LIKE '%.scratch_auto' LOOP
        PERFORM bh_audit.tag_table(r.objid::regclass, 'Intake', 'id', 'pat');
    END LOOP;
END $f$;
CREATE EVENT TRIGGER tag_new_scratch ON ddl_command_end EXECUTE FUNCTION public.tag_new_scratch();
SELECT regress_err($$CREATE TEMP TABLE scratch_auto (id int, pat int) ON COMMIT DELETE ROWS$$);
DROP EVENT TRIGGER tag_new_scratch;
DROP FUNCTION public.tag_new_scratch();
CREATE TEMP TABLE scratch_ine (id int, pat int);
CREATE TEMP TABLE IF NOT EXISTS scratch_ine (id int, pat int) ON COMMIT DELETE ROWS;
SELECT bh_audit.tag_table('scratch_ine', 'Intake', 'id', 'pat');
SELECT bh_audit.untag_table('scratch_ine');
CREATE TEMP TABLE scratch_tree (id int, pat int) PARTITION BY RANGE (id) ON COMMIT DELETE ROWS;
SELECT bh_audit.tag_table('scratch_tree', 'Intake', 'id', 'pat');
SELECT bh_audit.untag_table('scratch_tree');
-- The session's list of them follows savepoints as PostgreSQL's own does:
-- created in a savepoint that is released, refused; dropped in one rolled
-- back, or released in a transaction rolled back, still refused; created
-- in a transaction or a savepoint rolled back, or dropped, forgotten: a
-- table made under the same name, not emptied, is tagged or attached.
BEGIN;
SAVEPOINT s;
CREATE TEMP TABLE scratch_sp (id int, pat int) ON COMMIT DELETE ROWS;
RELEASE s;
COMMIT;
SELECT regress_err($$SELECT bh_audit.tag_table('scratch_sp', 'Intake', 'id', 'pat')$$);
BEGIN;
SAVEPOINT s;
DROP TABLE scratch_sp;
RELEASE s;
ROLLBACK;
SELECT regress_err($$SELECT bh_audit.tag_table('scratch_sp', 'Intake', 'id', 'pat')$$);
BEGIN;
SAVEPOINT s;
SAVEPOINT t;
DROP TABLE scratch_sp;
RELEASE t;
ROLLBACK TO s;
COMMIT;
SELECT regress_err($$SELECT bh_audit.tag_table('scratch_sp', 'Intake', 'id', 'pat')$$);
CREATE TEMP TABLE scratch_reuse (id int, pat int) PARTITION BY RANGE (id);
SELECT bh_audit.tag_table('scratch_reuse', 'Intake', 'id', 'pat');
SELECT regress_err($$ALTER TABLE scratch_reuse ATTACH PARTITION scratch_sp FOR VALUES FROM (0) TO (10)$$);
DROP TABLE scratch_sp;
CREATE TEMP TABLE scratch_sp (id int, pat int);
ALTER TABLE scratch_reuse ATTACH PARTITION scratch_sp FOR VALUES FROM (0) TO (10);
BEGIN;
CREATE TEMP TABLE scratch_rb (id int, pat int) ON COMMIT DELETE ROWS;
ROLLBACK;
BEGIN;
SAVEPOINT s;
CREATE TEMP TABLE scratch_rb_sp (id int, pat int) ON COMMIT DELETE ROWS;
RELEASE s;
SAVEPOINT t;
DROP TABLE scratch_rb_sp;
CREATE TEMP TABLE scratch_rb_sp (id int, pat int);
RELEASE t;
COMMIT;
CREATE TEMP TABLE scratch_rb (id int, pat int);
ALTER TABLE scratch_reuse ATTACH PARTITION scratch_rb FOR VALUES FROM (10) TO (20);
ALTER TABLE scratch_reuse ATTACH PARTITION scratch_rb_sp FOR VALUES FROM (20) TO (30);
SELECT regress_err($$CREATE TEMP TABLE scratch_reuse_4 PARTITION OF scratch_reuse FOR VALUES FROM (40) TO (50) ON COMMIT DELETE ROWS$$);
SELECT bh_audit.untag_table('scratch_reuse');
DROP TABLE scratch_reuse;
-- ... and it keeps nothing else: creating and dropping them, committed or
-- rolled back, in a savepoint or not, grows the session's memory no more
-- than creating and dropping other temporary tables does.
CREATE PROCEDURE pg_temp.temp_churn(n int, how text) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        IF how = 'plain' THEN
            CREATE TEMP TABLE scratch_churn (id int);
            COMMIT;
            DROP TABLE scratch_churn;
        ELSIF how = 'emptied' THEN
            CREATE TEMP TABLE scratch_churn (id int) ON COMMIT DELETE ROWS;
            COMMIT;
            DROP TABLE scratch_churn;
        ELSIF how = 'emptied at once' THEN
            CREATE TEMP TABLE scratch_churn (id int) ON COMMIT DELETE ROWS;
            DROP TABLE scratch_churn;
        ELSIF how = 'rolled back' THEN
            CREATE TEMP TABLE scratch_churn (id int) ON COMMIT DELETE ROWS;
            ROLLBACK;
        ELSE
            BEGIN
                CREATE TEMP TABLE scratch_churn (id int) ON COMMIT DELETE ROWS;
                RAISE EXCEPTION 'undo';
            EXCEPTION WHEN raise_exception THEN NULL;
            END;
        END IF;
        COMMIT;
    END LOOP;
END $$;
CALL pg_temp.temp_churn(100, 'plain');
CALL pg_temp.temp_churn(100, 'emptied');
SELECT total_bytes AS top_start FROM pg_backend_memory_contexts WHERE name = 'TopMemoryContext' \gset
CALL pg_temp.temp_churn(2000, 'plain');
SELECT total_bytes AS top_plain FROM pg_backend_memory_contexts WHERE name = 'TopMemoryContext' \gset
CALL pg_temp.temp_churn(2000, 'emptied');
CALL pg_temp.temp_churn(1000, 'emptied at once');
CALL pg_temp.temp_churn(1000, 'rolled back');
CALL pg_temp.temp_churn(1000, 'in a savepoint rolled back');
SELECT total_bytes - :top_plain <= greatest(:top_plain - :top_start, 0) + 1024 AS no_growth
  FROM pg_backend_memory_contexts WHERE name = 'TopMemoryContext';
DROP TABLE scratch_rows, scratch_as, scratch_parts, scratch_parts_3, scratch_keep,
           scratch_explained, scratch_ine, scratch_tree;
-- A utility statement that fails before it runs (a name in another
-- database) leaves nothing of its state behind: later a column of a tagged
-- table dropped at COMMIT, outside any statement (its type is a table
-- dropped ON COMMIT DROP), finds no statement running, and the session and
-- the server go on.
SELECT regress_err($$CREATE TEMP TABLE nosuchdb.pg_temp.scratch_x (a int) ON COMMIT DELETE ROWS$$);
SELECT regress_err($$EXPLAIN CREATE TEMP TABLE nosuchdb.pg_temp.scratch_y ON COMMIT DELETE ROWS AS SELECT 1$$);
BEGIN;
CREATE TEMP TABLE scratch_type (a int) ON COMMIT DROP;
CREATE TEMP TABLE scratch_typed (id int, pat text, c scratch_type);
INSERT INTO scratch_typed VALUES (1, 'p1', NULL);
SELECT bh_audit.tag_table('scratch_typed', 'Intake', 'id', 'pat');
COMMIT;
SELECT string_agg(attname, ',' ORDER BY attnum) AS columns_left FROM pg_attribute
 WHERE attrelid = 'scratch_typed'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT bh_audit.untag_table('scratch_typed');
DROP TABLE scratch_typed;
-- Tagged temporary tables dropped ON COMMIT DROP: PostgreSQL drops them at
-- COMMIT, after its trigger manager has shut down, where no SQL may run;
-- each drop is recorded and its tag removed all the same, and the session
-- goes on (a query run there corrupted the next transactions' state).
BEGIN;
CREATE TEMP TABLE scratch_commit_drop (id int, pat int) ON COMMIT DROP;
SELECT bh_audit.tag_table('scratch_commit_drop', 'Intake', 'id', 'pat');
CREATE TEMP TABLE scratch_commit_drop2 (id int, pat int) ON COMMIT DROP;
SELECT bh_audit.tag_table('scratch_commit_drop2', 'Intake', 'id', 'pat');
INSERT INTO scratch_commit_drop VALUES (1, 1);
COMMIT;
SHOW bh_audit.enabled;
SELECT 'alive' AS session;
SELECT count(*) AS tags_left FROM bh_audit.tags WHERE tbl::text LIKE '%scratch_commit_drop%';
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, split_part(resource_id, '.', 2) AS tbl, event -> 'metadata' ->> 'change' AS change
  FROM bh_audit.events WHERE resource_id LIKE '%scratch_commit_drop%' ORDER BY seq;
CREATE TABLE clinic.other (id int, pat int);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', 'Patient', 'nosuch')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', 'Patient', 'id', 'nosuch')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', '', 'id')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', 'AuditLog', 'id')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', 'auditLOG', 'id')$$);
-- a read-only transaction cannot change tagging (nor leave an event)
BEGIN READ ONLY;
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', 'Patient', 'id')$$);
ROLLBACK;
BEGIN READ ONLY;
SELECT regress_err($$SELECT bh_audit.untag_table('clinic.other')$$);
ROLLBACK;
SELECT regress_err(format('SELECT bh_audit.tag_table(%L, %L, %L)', 'clinic.other', E'Audit\u200bConfiguration', 'id'));
SELECT regress_err($$SELECT bh_audit.tag_table('bh_audit.events', 'Ledger', 'seq')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('pg_catalog.pg_class', 'Catalog', 'oid')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', 'Patient', 'id', classification => 'SECRET')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', 'Patient', NULL)$$);
SELECT regress_err($$SELECT bh_audit.untag_table('clinic.other')$$);
SELECT regress_err($$SELECT bh_audit.untag_table('clinic.visits_1')$$);
-- A system column names neither the record nor the patient (ctid and xmin
-- change with every row version, tableoid is every row's); NULL, and a
-- number that names no relation, are refused as such.
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', 'Patient', 'ctid')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', 'Patient', 'id', 'xmin')$$);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', 'Patient', 'tableoid', 'pat')$$);
SELECT regress_err($$SELECT bh_audit.tag_table(4294967295::oid::regclass, 'Patient', 'id')$$);
SELECT regress_err($$SELECT bh_audit.untag_table(NULL)$$);
SELECT regress_err($$SELECT bh_audit.untag_table(4294967295::oid::regclass)$$);

-- Who may tag: superusers and members of bh_audit_admin only.
CREATE ROLE bh_regress_dba;
CREATE ROLE bh_regress_admin IN ROLE bh_audit_admin;
GRANT USAGE ON SCHEMA clinic TO bh_regress_dba, bh_regress_admin;
SET ROLE bh_regress_dba;
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', 'Patient', 'id')$$);
SELECT regress_err($$SELECT bh_audit.untag_table('clinic.patients')$$);
SELECT regress_err($$SELECT * FROM bh_audit.tagged_tables$$);
RESET ROLE;
-- EXECUTE granted more widely: the functions refuse the caller themselves,
-- and those refusals are denials too (with the role refused).
GRANT EXECUTE ON FUNCTION bh_audit.tag_table, bh_audit.untag_table TO bh_regress_dba;
SET ROLE bh_regress_dba;
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.other', 'Patient', 'id')$$);
SELECT regress_err($$SELECT bh_audit.untag_table('clinic.patients')$$);
RESET ROLE;
-- (with capture off, as the executor's refusals: not recorded)
SET bh_audit.enabled = off;
SET ROLE bh_regress_dba;
SELECT regress_err($$SELECT bh_audit.untag_table('clinic.patients')$$);
RESET ROLE;
RESET bh_audit.enabled;
REVOKE EXECUTE ON FUNCTION bh_audit.tag_table, bh_audit.untag_table FROM bh_regress_dba;
SET ROLE bh_regress_admin;
SELECT bh_audit.tag_table('clinic.other', 'Patient', 'id', 'pat');
SELECT count(*) AS admin_sees_tags FROM bh_audit.tagged_tables;
SELECT bh_audit.untag_table('clinic.other');
RESET ROLE;

-- Untagging removes the triggers and the row.
SELECT bh_audit.untag_table('clinic.lookup');
SELECT count(*) FROM bh_audit.tagged_tables WHERE table_name IN ('other', 'lookup');
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'clinic.other'::regclass AND tgname LIKE 'bh_audit%';

-- Every tagging change is an AuditConfiguration event.
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, regexp_replace(resource_id, '^pg_temp_[0-9]+', 'pg_temp') AS resource_id,
       event -> 'metadata' ->> 'change' AS change,
       event -> 'metadata' ->> 'tag_resource_type' AS tag_type,
       event -> 'action' ->> 'phi_touched' AS phi, event -> 'action' ->> 'data_classification' AS class
  FROM bh_audit.events WHERE resource_type = 'AuditConfiguration' AND resource_id NOT LIKE 'pinv.%' AND resource_id <> 'bh_audit.enabled'
   AND outcome = 'SUCCESS' ORDER BY seq;
-- The refused calls of tag_table() and untag_table() above (without
-- bh_audit_admin) are denials, recorded outside the transaction; so is the
-- refused read of tagged_tables (no resource id: metadata.table names it).
SELECT action, resource_id, outcome, error_type, event -> 'outcome' ->> 'error_message' AS message,
       event -> 'metadata' ->> 'db_role' AS db_role
  FROM bh_audit.events WHERE resource_type = 'AuditConfiguration' AND outcome = 'DENIED' ORDER BY resource_id, seq;

DROP OWNED BY bh_regress_admin, bh_regress_dba;
DROP ROLE bh_regress_admin;
DROP ROLE bh_regress_dba;

-- A composite key: one id column has to identify a row.  Tagged by a
-- stored generated column joining the key's parts, each row's events
-- carry their own resource.id (bh_audit records the value as it is and
-- does not check that it is unique).  Reads are recorded per patient, as
-- for any table.
CREATE TABLE clinic.appointments (
    clinic_id text NOT NULL,
    appt_no   int NOT NULL,
    patient_id text,
    note      text,
    row_key   text GENERATED ALWAYS AS (clinic_id || '/' || appt_no) STORED,
    PRIMARY KEY (clinic_id, appt_no));
SELECT bh_audit.tag_table('clinic.appointments', 'Appointment', 'row_key', 'patient_id');
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE appt_mark AS SELECT max(seq) AS seq FROM bh_audit.events;
INSERT INTO clinic.appointments (clinic_id, appt_no, patient_id) VALUES ('c1', 7, 'p1'), ('c2', 7, 'p2');
UPDATE clinic.appointments SET note = 'seen' WHERE appt_no = 7;
SELECT count(*) FROM (SELECT note FROM clinic.appointments WHERE appt_no = 7) s;
DELETE FROM clinic.appointments WHERE clinic_id = 'c2';
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_id, patient_id
  FROM bh_audit.events WHERE seq > (SELECT seq FROM appt_mark) AND resource_type = 'Appointment'
 ORDER BY seq;
SELECT bh_audit.untag_table('clinic.appointments');
DROP TABLE clinic.appointments;
