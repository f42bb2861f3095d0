-- Read capture: per-patient attribution of every read of a tagged table.
CREATE SCHEMA rc;
CREATE TABLE rc.patients (id int PRIMARY KEY, name text);
CREATE TABLE rc.notes (note_id int PRIMARY KEY, patient_id int NOT NULL, body text);
CREATE INDEX notes_patient ON rc.notes (patient_id);
CREATE TABLE rc.programs (program_id int PRIMARY KEY, name text);
INSERT INTO rc.patients SELECT i, 'name ' || i FROM generate_series(1, 6) i;
INSERT INTO rc.notes SELECT i, 1 + i % 6, 'note ' || i FROM generate_series(1, 60) i;
INSERT INTO rc.programs VALUES (1, 'intake'), (2, 'detox'), (3, 'outpatient');
ANALYZE rc.patients, rc.notes, rc.programs;
SELECT bh_audit.tag_table('rc.patients', 'Patient', 'id', 'id', capture_writes => false);
SELECT bh_audit.tag_table('rc.notes', 'Note', 'note_id', 'patient_id', part2 => true, capture_writes => false);
SELECT bh_audit.tag_table('rc.programs', 'Program', 'program_id', capture_writes => false);

-- The events since the last mark: 29_read_events.
SELECT regress_reads.mark_now();
SELECT count(*) FROM regress_reads.reads();

-- A function's cursor loop over a tagged table: each READ event is freed
-- once pushed (the loop's cursor ends in the call's context, which lasts
-- as long as the call): 3,000 reads, 3,000 events, no growth.
CREATE FUNCTION pg_temp.loop_growth(n int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE r record; before bigint;
BEGIN
    SELECT sum(total_bytes) INTO before FROM pg_backend_memory_contexts;
    FOR i IN 1..n LOOP
        FOR r IN SELECT * FROM rc.notes WHERE note_id = 1 LOOP END LOOP;
    END LOOP;
    RETURN (SELECT sum(total_bytes) FROM pg_backend_memory_contexts) - before;
END $$;
SELECT pg_temp.loop_growth(3000) < 1000000 AS no_growth;
SELECT count(*) FROM regress_reads.reads();

-- Plain SELECT: one READ per patient whose rows were returned.
SELECT count(*) FROM (SELECT * FROM rc.notes WHERE patient_id IN (1, 2)) s;
SELECT * FROM regress_reads.reads();
-- Nothing returned, nothing read.
SELECT * FROM rc.notes WHERE patient_id = 99;
SELECT * FROM regress_reads.reads();
-- Joins.
SELECT count(*) FROM rc.notes n JOIN rc.patients p ON p.id = n.patient_id WHERE p.id = 3;
SELECT * FROM regress_reads.reads();
-- Subqueries, EXISTS, CTEs.
SELECT count(*) FROM rc.patients p WHERE EXISTS (SELECT 1 FROM rc.notes n WHERE n.patient_id = p.id AND n.note_id = 4);
SELECT * FROM regress_reads.reads();
WITH n AS (SELECT patient_id FROM rc.notes WHERE note_id IN (5, 6)) SELECT count(*) FROM n;
SELECT * FROM regress_reads.reads();
-- Views.
CREATE VIEW rc.recent_notes AS SELECT note_id, patient_id FROM rc.notes WHERE note_id > 57;
SELECT count(*) FROM rc.recent_notes;
SELECT * FROM regress_reads.reads();
-- A materialized view over a tagged table: making and refreshing it read
-- the table.  Tagged itself, reads of it are captured per patient, and a
-- REFRESH is a write: one UPDATE event (unless tagged for reads only).
CREATE MATERIALIZED VIEW rc.note_digest AS SELECT note_id, patient_id FROM rc.notes WHERE note_id <= 6;
SELECT * FROM regress_reads.reads();
SELECT bh_audit.tag_table('rc.note_digest', 'NoteDigest', 'note_id', 'patient_id');
SELECT count(*) FROM rc.note_digest WHERE patient_id IN (2, 3);
REFRESH MATERIALIZED VIEW rc.note_digest;
SELECT * FROM regress_reads.reads();
CREATE UNIQUE INDEX ON rc.note_digest (note_id);
REFRESH MATERIALIZED VIEW CONCURRENTLY rc.note_digest;
SELECT * FROM regress_reads.reads();
SELECT * FROM bh_audit.capture_status();
-- Tagged for reads only, its REFRESH writes nothing; dropping it is recorded.
SELECT bh_audit.untag_table('rc.note_digest');
SELECT bh_audit.tag_table('rc.note_digest', 'NoteDigest', 'note_id', 'patient_id', capture_writes => false);
REFRESH MATERIALIZED VIEW rc.note_digest;
SELECT * FROM regress_reads.reads() WHERE resource_type = 'NoteDigest';
DROP MATERIALIZED VIEW rc.note_digest;
-- A REFRESH that fails is a failure on the table its definition reads (the
-- view is not read); its UPDATE event goes with the rollback.
CREATE MATERIALIZED VIEW rc.note_ratio AS
    SELECT note_id, patient_id, 1 / (note_id - 3) AS r FROM rc.notes WHERE note_id <= 6 WITH NO DATA;
SELECT bh_audit.tag_table('rc.note_ratio', 'NoteRatio', 'note_id', 'patient_id');
REFRESH MATERIALIZED VIEW rc.note_ratio;
SELECT * FROM regress_reads.reads() WHERE outcome <> 'SUCCESS' OR resource_type = 'NoteRatio';
DROP MATERIALIZED VIEW rc.note_ratio;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, event -> 'metadata' ->> 'change' AS change FROM bh_audit.events
 WHERE resource_type = 'AuditConfiguration' AND resource_id = 'rc.note_digest' ORDER BY seq;
-- SQL and PL/pgSQL functions run their own statements.
CREATE FUNCTION rc.note_count(p int) RETURNS bigint LANGUAGE sql AS
    'SELECT count(*) FROM rc.notes WHERE patient_id = p';
CREATE FUNCTION rc.note_count_pl(p int) RETURNS bigint LANGUAGE plpgsql AS
    'BEGIN RETURN (SELECT count(*) FROM rc.notes WHERE patient_id = p); END';
SELECT rc.note_count(5), rc.note_count_pl(6);
SELECT * FROM regress_reads.reads();
-- Prepared statements.
PREPARE by_patient(int) AS SELECT count(*) FROM rc.notes WHERE patient_id = $1;
EXECUTE by_patient(1);
EXECUTE by_patient(2);
SELECT * FROM regress_reads.reads();
DEALLOCATE by_patient;
-- A cursor fetched in several steps: recorded when it closes.
BEGIN;
DECLARE c CURSOR FOR SELECT patient_id FROM rc.notes WHERE note_id <= 4 ORDER BY note_id;
FETCH 2 FROM c;
FETCH 2 FROM c;
CLOSE c;
COMMIT;
SELECT * FROM regress_reads.reads();
-- A cursor opened in a savepoint that is released belongs to the enclosing
-- one: rolling that back closes it, and records it, once; nothing of it is
-- left to look at when capture is switched off or a table untagged (which
-- look for statements still running; test/t/063 runs this with freed
-- memory overwritten).  Likewise a cursor of PL/pgSQL blocks with exception
-- handlers, and one whose FETCH failed, closed afterwards.
BEGIN;
SAVEPOINT p;
SAVEPOINT a;
DECLARE c CURSOR FOR SELECT patient_id FROM rc.notes WHERE note_id IN (11, 12) ORDER BY note_id;
FETCH 1 FROM c;
RELEASE a;
ROLLBACK TO p;
SET bh_audit.enabled = off;
RESET bh_audit.enabled;
SELECT bh_audit.untag_table('rc.programs');
SELECT bh_audit.tag_table('rc.programs', 'Program', 'program_id', capture_writes => false);
COMMIT;
SELECT * FROM regress_reads.reads();
DO $$
DECLARE c refcursor := 'plc'; r record;
BEGIN
    BEGIN
        BEGIN
            OPEN c FOR SELECT * FROM rc.notes WHERE note_id = 13;
            FETCH c INTO r;
        EXCEPTION WHEN division_by_zero THEN NULL;
        END;
        RAISE EXCEPTION 'undo';
    EXCEPTION WHEN raise_exception THEN
        PERFORM set_config('bh_audit.enabled', 'off', false);
        PERFORM set_config('bh_audit.enabled', 'on', false);
    END;
END $$;
SELECT * FROM regress_reads.reads();
BEGIN;
DECLARE f CURSOR FOR SELECT note_id, 1 / (note_id - 16) FROM rc.notes WHERE note_id BETWEEN 14 AND 17 ORDER BY note_id;
DO $$
DECLARE c refcursor := 'f'; r record;
BEGIN
    LOOP
        FETCH c INTO r;
    END LOOP;
EXCEPTION WHEN division_by_zero THEN NULL;
END $$;
CLOSE f;
SET bh_audit.enabled = off;
RESET bh_audit.enabled;
COMMIT;
SELECT * FROM regress_reads.reads();
-- count(*) reads every row.
SELECT count(*) FROM rc.notes;
SELECT * FROM regress_reads.reads();
-- LIMIT: only what was produced.
SELECT patient_id FROM rc.notes ORDER BY note_id LIMIT 1;
SELECT * FROM regress_reads.reads();
-- SELECT ... FOR UPDATE is a read.
SELECT count(*) FROM (SELECT * FROM rc.notes WHERE note_id = 7 FOR UPDATE) s;
SELECT * FROM regress_reads.reads();
-- UPDATE ... FROM: the other tagged table is read; the target is a write.
UPDATE rc.notes SET body = body FROM rc.patients p WHERE p.id = rc.notes.patient_id AND rc.notes.note_id = 8;
SELECT * FROM regress_reads.reads();
-- The same inside a WITH of a SELECT or an INSERT: the rows the UPDATE or
-- DELETE changes are writes, not reads (what it returns with RETURNING
-- aside, below); what it reads elsewhere is read.
BEGIN;
WITH u AS (UPDATE rc.notes SET body = body FROM rc.patients p
            WHERE p.id = rc.notes.patient_id AND rc.notes.note_id = 9)
SELECT 1 AS one;
WITH d AS (DELETE FROM rc.notes WHERE note_id = 10)
INSERT INTO rc.programs SELECT 1000, 'x';
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- RETURNING of an UPDATE or a DELETE (or of INSERT ... ON CONFLICT DO
-- UPDATE) sends stored values to the client: each row it returns is a read
-- of its patient, also when the change is rolled back; an INSERT's
-- RETURNING returns what the client sent: no read.  The table is tagged
-- without write capture: the row an ON CONFLICT DO UPDATE returns is one the
-- transaction updated, its patient before unknown (rows_updated_in_transaction;
-- so is a failed RETURNING's row below, 41_moved_patient_reads).
BEGIN;
DELETE FROM rc.notes WHERE note_id IN (1, 2) RETURNING body;
UPDATE rc.notes SET body = body WHERE note_id = 5 RETURNING note_id;
INSERT INTO rc.notes VALUES (6, 1, 'x') ON CONFLICT (note_id) DO UPDATE SET body = rc.notes.body
  RETURNING rc.notes.body;
INSERT INTO rc.notes VALUES (990, 1, 'new') RETURNING note_id;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- An UPDATE moving the row to another patient returns the first one's
-- data too: both patients.
BEGIN;
UPDATE rc.notes SET patient_id = 99 WHERE note_id = 7 RETURNING body;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- A value error in a write's expressions (its RETURNING list, its new
-- values) shows the row: its patient is read, next to the FAILURE.  A
-- cancel while a filter evaluates a row shows none: no read.
UPDATE rc.notes SET body = body WHERE note_id = 8 RETURNING body::int;
UPDATE rc.notes SET body = body::int::text WHERE note_id = 9;
WITH u AS (UPDATE rc.notes SET body = body WHERE note_id = 11 RETURNING body::int) SELECT 1;
SET statement_timeout = '1s';
SELECT count(*) FROM rc.notes WHERE note_id = 10 AND pg_sleep(30) IS NOT NULL;
RESET statement_timeout;
SELECT * FROM regress_reads.reads();
-- MERGE: the source's patients are read; the target is a write where a row
-- is changed or inserted; a matched row left as it is (DO NOTHING) is read
-- (note 4, patient 5's, and patients 5 and 6: the join produced them, the
-- statement shows them; sql/99_miss_merge_matched_untouched.sql).
BEGIN;
MERGE INTO rc.notes n USING (SELECT * FROM rc.patients WHERE id IN (3, 4)) p ON n.note_id = p.id
  WHEN MATCHED AND p.id = 3 THEN UPDATE SET body = n.body
  WHEN MATCHED THEN DO NOTHING;
MERGE INTO rc.patients p USING (SELECT * FROM rc.notes WHERE note_id IN (5, 6, 11)) n
  ON n.note_id = p.id
  WHEN MATCHED THEN DO NOTHING
  WHEN NOT MATCHED THEN INSERT VALUES (n.note_id + 100, 'merged');
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- A table without a patient column: one event with the rows read.
SELECT count(*) FROM rc.programs;
SELECT * FROM regress_reads.reads();
-- Rows whose patient column is NULL are read all the same: one event
-- counts them.
CREATE TABLE rc.intake (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO rc.intake VALUES (1, NULL, 'unassigned'), (2, 'p_b', 'x'), (3, NULL, 'y');
SELECT bh_audit.tag_table('rc.intake', 'Intake', 'id', 'patient_id', capture_writes => false);
SELECT body FROM rc.intake WHERE id = 1;
SELECT * FROM regress_reads.reads();
SELECT count(*) FROM rc.intake;
SELECT * FROM regress_reads.reads();
-- An empty patient id names nobody (events leave it out): such rows are
-- counted with those of NULL.
INSERT INTO rc.intake VALUES (4, '', 'blank');
SELECT count(*) FROM rc.intake;
SELECT * FROM regress_reads.reads();
-- ... once, also where a row lock or a failure looks at the row again.
SELECT id FROM rc.intake WHERE id = 4 FOR UPDATE;
SELECT * FROM regress_reads.reads();
-- A patient id longer than the schema's 256 characters is cut as write
-- capture cuts it (whole characters, then "..."): reads and writes of one
-- patient carry the same id.
CREATE TABLE rc.longid (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('rc.longid', 'LongId', 'id', 'patient_id');
INSERT INTO rc.longid VALUES (1, repeat('a', 255) || 'é'), (2, repeat('b', 300));
SELECT count(*) FROM rc.longid;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, length(patient_id) AS chars, octet_length(patient_id) AS bytes,
       right(patient_id, 4) AS ending
  FROM bh_audit.events WHERE resource_type = 'LongId' AND action <> 'CREATE' OR
       resource_type = 'LongId' AND outcome = 'SUCCESS' AND patient_id IS NOT NULL
 ORDER BY action, patient_id;
SELECT bh_audit.untag_table('rc.longid');
SELECT bh_audit.untag_table('rc.intake');
DROP TABLE rc.longid, rc.intake;
SELECT count(*) FROM regress_reads.reads();
-- A function's statement that fails after its parse analysis, before the
-- executor runs it (a write in a read-only transaction, a write in a
-- STABLE function): the client's statement names no table.
CREATE FUNCTION rc.touch_note(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rc.notes SET body = body WHERE note_id = n;
END $$;
CREATE FUNCTION rc.touch_note_stable(n int) RETURNS void LANGUAGE plpgsql STABLE AS $$
BEGIN
    UPDATE rc.notes SET body = body WHERE note_id = n;
END $$;
BEGIN READ ONLY;
SELECT rc.touch_note(1);
ROLLBACK;
SELECT rc.touch_note_stable(1);
SELECT * FROM regress_reads.reads();
DROP FUNCTION rc.touch_note(int), rc.touch_note_stable(int);
-- A foreign key's lookups in a tagged table are no reads; what a user's
-- trigger reads while a cascade runs is.
CREATE TABLE rc.parent (id int PRIMARY KEY);
CREATE TABLE rc.child (pid int REFERENCES rc.parent ON DELETE CASCADE);
CREATE TABLE rc.note_refs (note_id int REFERENCES rc.notes);
INSERT INTO rc.parent VALUES (1);
INSERT INTO rc.child VALUES (1);
CREATE FUNCTION rc.child_bd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM count(*) FROM rc.notes WHERE note_id = OLD.pid;
    RETURN OLD;
END $$;
CREATE TRIGGER child_bd BEFORE DELETE ON rc.child FOR EACH ROW EXECUTE FUNCTION rc.child_bd();
INSERT INTO rc.note_refs VALUES (5);
SELECT count(*) FROM regress_reads.reads();
DELETE FROM rc.parent WHERE id = 1;
SELECT * FROM regress_reads.reads();
DROP TABLE rc.child, rc.parent, rc.note_refs;
DROP FUNCTION rc.child_bd();
-- A plan cached on a partition before its parent is tagged without write
-- capture (so no trigger invalidates it) is made again: an index-only scan
-- without the patient column would read unattributed.
CREATE TABLE rc.visits (id int, patient_id int) PARTITION BY RANGE (id);
CREATE TABLE rc.visits_1 PARTITION OF rc.visits FOR VALUES FROM (0) TO (100);
INSERT INTO rc.visits SELECT i, i FROM generate_series(1, 50) i;
CREATE INDEX ON rc.visits_1 (id);
VACUUM ANALYZE rc.visits_1;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
PREPARE visits_q AS SELECT id FROM rc.visits_1 WHERE id < 3;
EXECUTE visits_q;
SELECT bh_audit.tag_table('rc.visits', 'Visit', 'id', 'patient_id', capture_writes => false);
EXECUTE visits_q;
SELECT * FROM regress_reads.reads();
DEALLOCATE visits_q;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT bh_audit.untag_table('rc.visits');
DROP TABLE rc.visits;
SELECT count(*) FROM regress_reads.reads();

-- Scan kinds: index, index-only, bitmap.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT patient_id FROM rc.notes WHERE patient_id = 3;
SELECT count(*) FROM (SELECT patient_id FROM rc.notes WHERE patient_id = 3) s;
SELECT * FROM regress_reads.reads();
EXPLAIN (COSTS OFF) SELECT body FROM rc.notes WHERE note_id = 9;
SELECT count(*) FROM (SELECT body FROM rc.notes WHERE note_id = 9) s;
SELECT * FROM regress_reads.reads();
-- The primary key index does not hold the patient column: no index-only scan.
EXPLAIN (COSTS OFF) SELECT note_id FROM rc.notes WHERE note_id < 3;
SELECT count(*) FROM (SELECT note_id FROM rc.notes WHERE note_id < 3) s;
SELECT * FROM regress_reads.reads();
RESET enable_bitmapscan;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT body FROM rc.notes WHERE patient_id = 4;
SELECT count(*) FROM (SELECT body FROM rc.notes WHERE patient_id = 4) s;
SELECT * FROM regress_reads.reads();
RESET enable_indexscan;
RESET enable_seqscan;
-- EXPLAIN without ANALYZE reads nothing; EXPLAIN ANALYZE does.
EXPLAIN (COSTS OFF) SELECT * FROM rc.notes WHERE patient_id = 5;
SELECT * FROM regress_reads.reads();
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM rc.notes WHERE patient_id = 5;
SELECT * FROM regress_reads.reads();
-- Parallel plans: the same patients as the serial plan (reads of tagged
-- tables are planned without workers).
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*) FROM rc.notes WHERE patient_id IN (1, 6);
SELECT count(*) FROM rc.notes WHERE patient_id IN (1, 6);
SELECT * FROM regress_reads.reads();
-- A set-returning SQL function is inlined by the planner: the query names
-- no tagged table, the plan reads one; it is planned again without workers.
CREATE FUNCTION rc.notes_of(p int) RETURNS SETOF rc.notes
    LANGUAGE sql STABLE AS $$ SELECT * FROM rc.notes WHERE patient_id = p $$;
EXPLAIN (COSTS OFF) SELECT count(*) FROM rc.notes_of(6);
SELECT count(*) FROM rc.notes_of(6);
SELECT * FROM regress_reads.reads();
DROP FUNCTION rc.notes_of(int);
-- A function that is not inlined but may run in a worker (PARALLEL SAFE)
-- can read a tagged table there: a query that calls a user's function is
-- planned without workers while reads are captured.
CREATE TABLE rc.big AS SELECT g AS k FROM generate_series(1, 20000) g;
ANALYZE rc.big;
CREATE FUNCTION rc.patient_of(n int) RETURNS int
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT patient_id FROM rc.notes WHERE note_id = n);
END $$;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT rc.patient_of(k) FROM rc.big WHERE k = 9;
SELECT rc.patient_of(k) FROM rc.big WHERE k = 9;
EXPLAIN (COSTS OFF) SELECT count(*) FROM rc.big WHERE k > 10;
RESET parallel_leader_participation;
SELECT * FROM regress_reads.reads();
DROP FUNCTION rc.patient_of(int);
DROP TABLE rc.big;
-- The planner also brings in the partitions and inheritance children of a
-- table the query names: a tagged child of an untagged parent, and a tagged
-- partition of an untagged partitioned table, read through the parent.
CREATE TABLE rc.visits (visit_id int, patient_id int);
CREATE TABLE rc.visits_child () INHERITS (rc.visits);
CREATE TABLE rc.stays (stay_id int, patient_id int) PARTITION BY RANGE (stay_id);
CREATE TABLE rc.stays_low PARTITION OF rc.stays FOR VALUES FROM (0) TO (1000);
CREATE TABLE rc.stays_high PARTITION OF rc.stays FOR VALUES FROM (1000) TO (2000);
INSERT INTO rc.visits SELECT g, 100 + g FROM generate_series(1, 500) g;
INSERT INTO rc.visits_child SELECT g, g % 3 FROM generate_series(1, 3000) g;
INSERT INTO rc.stays SELECT g, g % 4 FROM generate_series(0, 1999) g;
ANALYZE rc.visits, rc.visits_child, rc.stays;
SELECT bh_audit.tag_table('rc.visits_child', 'Encounter', 'visit_id', 'patient_id', capture_writes => false);
SELECT bh_audit.tag_table('rc.stays_high', 'EpisodeOfCare', 'stay_id', 'patient_id', capture_writes => false);
SET parallel_leader_participation = off;	-- workers alone would scan them
EXPLAIN (COSTS OFF) SELECT count(*) FROM rc.visits WHERE patient_id < 3;
SELECT count(*) FROM rc.visits WHERE patient_id < 3;
SELECT count(*) FROM rc.stays WHERE patient_id < 2;
RESET parallel_leader_participation;
SELECT * FROM regress_reads.reads();
SELECT bh_audit.untag_table('rc.visits_child');
SELECT bh_audit.untag_table('rc.stays_high');
DROP TABLE rc.visits, rc.stays CASCADE;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
-- COPY ... TO is an EXPORT, per patient.
COPY (SELECT note_id FROM rc.notes WHERE note_id IN (10, 11)) TO STDOUT;
SELECT * FROM regress_reads.reads();
COPY rc.patients TO STDOUT;
SELECT * FROM regress_reads.reads();
COPY rc.patients (id) TO STDOUT;
SELECT * FROM regress_reads.reads();
-- The cap: at most bh_audit.max_patients_per_statement events, then a count.
SET bh_audit.max_patients_per_statement = 2;
SELECT count(*) FROM rc.notes;
SELECT action, resource_type, patient_id IS NOT NULL AS has_patient, meta FROM regress_reads.reads();
-- the same cap when the statement read fewer patients than a hash table is
-- made for (three patients, cap two)
SELECT count(*) FROM rc.notes WHERE patient_id IN (1, 2, 3);
SELECT action, resource_type, patient_id IS NOT NULL AS has_patient, meta FROM regress_reads.reads();
RESET bh_audit.max_patients_per_statement;
-- Each patient once per statement and table, however many of their rows
-- were read: four patients (kept in a small array), five and six (a hash
-- table), rows read twice by a self-join.
SELECT count(*) FROM rc.notes WHERE patient_id <= 4;
SELECT patient_id, count(*) FROM regress_reads.reads() GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM rc.notes WHERE patient_id <= 5;
SELECT patient_id, count(*) FROM regress_reads.reads() GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM rc.notes a JOIN rc.notes b USING (patient_id);
SELECT patient_id, count(*) FROM regress_reads.reads() GROUP BY 1 ORDER BY 1;
-- Row-level security: rows hidden from the reader are not attributed.
CREATE ROLE bh_rc_clinician;
GRANT USAGE ON SCHEMA rc TO bh_rc_clinician;
GRANT SELECT ON rc.notes TO bh_rc_clinician;
ALTER TABLE rc.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_patient ON rc.notes FOR SELECT TO bh_rc_clinician USING (patient_id = 2);
SET ROLE bh_rc_clinician;
SELECT count(*) FROM rc.notes;
RESET ROLE;
SELECT * FROM regress_reads.reads();
ALTER TABLE rc.notes DISABLE ROW LEVEL SECURITY;

-- Reads survive the rollback of the reader's transaction.
BEGIN;
SELECT count(*) FROM rc.notes WHERE note_id = 12;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- A read followed by an error in the same transaction.
BEGIN;
SELECT count(*) FROM rc.notes WHERE note_id = 13;
SELECT 1 / 0;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- A message of several statements (one implicit transaction): an error is
-- the failure of the statement that raises it, not of a tagged table read
-- by a statement before it.  A read, then a later statement failing in
-- planning or in parse analysis on an untagged table: the read only; a
-- later statement failing on a tagged table: its failure; the first
-- statement failing: its failure.
CREATE TABLE rc.plain (id int);
SELECT count(*) FROM rc.notes WHERE note_id = 14 \; SELECT 1 / 0;
SELECT * FROM regress_reads.reads();
SELECT count(*) FROM rc.notes WHERE note_id = 15 \; SELECT * FROM rc.plain WHERE id = 'x';
SELECT * FROM regress_reads.reads();
SELECT 1 AS one \; SELECT * FROM rc.notes WHERE note_id = 'x' \; SELECT 2 AS two;
SELECT * FROM regress_reads.reads();
SELECT * FROM rc.notes WHERE note_id = 'x' \; SELECT count(*) FROM rc.plain;
SELECT * FROM regress_reads.reads();
PREPARE by_id(int) AS SELECT * FROM rc.patients WHERE id = $1 \; SELECT * FROM rc.plain WHERE id = 'x';
DEALLOCATE by_id;
SELECT * FROM regress_reads.reads();
DROP TABLE rc.plain;

-- Denied: recorded before PostgreSQL raises its error.
SET ROLE bh_rc_clinician;
SELECT * FROM rc.patients;
UPDATE rc.notes SET body = 'x' WHERE note_id = 1;
SELECT count(*) FROM bh_audit.events;
RESET ROLE;
SELECT * FROM regress_reads.reads();
-- One denial per table, however often the statement names it.
SET ROLE bh_rc_clinician;
SELECT 1 FROM rc.patients a JOIN rc.patients b USING (id);
SELECT 1 FROM rc.patients a WHERE EXISTS (SELECT 1 FROM rc.patients b);
RESET ROLE;
SELECT * FROM regress_reads.reads();
-- The audit trail's own functions: a call refused for want of EXECUTE
-- privilege is a denial of the trail (or of its configuration), once per
-- function per statement, from a client, a function or a prepared
-- statement (each time it runs); a caller's own function of the same name
-- is not bh_audit's; EXPLAIN runs nothing.  A SECURITY DEFINER function of
-- a reader calls them with its owner's privileges: no denial.
CREATE FUNCTION pg_temp.fn_denials() RETURNS TABLE (action text, resource_type text, resource_id text,
                                                    outcome text, error_type text, error_message text,
                                                    classification text, phi_touched boolean)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM regress_reads.mark;
    RETURN QUERY SELECT e.action, e.resource_type, e.resource_id, e.outcome, e.error_type,
                        e.event -> 'outcome' ->> 'error_message',
                        e.event -> 'action' ->> 'data_classification',
                        (e.event -> 'action' ->> 'phi_touched')::boolean
                   FROM bh_audit.events e WHERE e.seq > m ORDER BY e.seq;
    UPDATE regress_reads.mark SET seq = (SELECT max(seq) FROM bh_audit.events);
END $$;
CREATE SCHEMA rc_fn;
CREATE FUNCTION rc_fn.verify_chain() RETURNS int LANGUAGE sql AS 'SELECT 1';
REVOKE ALL ON FUNCTION rc_fn.verify_chain() FROM PUBLIC;
GRANT USAGE ON SCHEMA rc_fn TO bh_rc_clinician;
CREATE FUNCTION rc_fn.head_as_owner() RETURNS boolean LANGUAGE sql SECURITY DEFINER
    AS 'SELECT bh_audit.chain_head() IS NOT NULL';
CREATE FUNCTION rc_fn.stats_as_caller() RETURNS bigint LANGUAGE plpgsql
    AS 'BEGIN RETURN (SELECT events_sealed_total FROM bh_audit.stats()); END';
SET ROLE bh_rc_clinician;
SELECT bh_audit.verify_chain();
SELECT count(*) FROM bh_audit.export_jsonl();
SELECT bh_audit.chain_head(), bh_audit.chain_head();
SELECT bh_audit.tag_table('rc.notes', 'Note', 'note_id');
SELECT bh_audit.untag_table('rc.notes');
SELECT rc_fn.stats_as_caller();
PREPARE failures AS SELECT * FROM bh_audit.chain_failures();
EXECUTE failures;
EXECUTE failures;
DEALLOCATE failures;
SELECT rc_fn.verify_chain();
EXPLAIN (COSTS OFF) SELECT bh_audit.verify_chain();
SELECT rc_fn.head_as_owner();
RESET ROLE;
SELECT * FROM pg_temp.fn_denials();
-- EXECUTE granted more widely than the reader role: the trail's functions
-- refuse a caller without SELECT on the ledger themselves, and those
-- refusals are denials of the trail too (recorded before the error).
GRANT EXECUTE ON FUNCTION bh_audit.verify_chain, bh_audit.chain_failures,
    bh_audit.chain_head, bh_audit.export_jsonl TO bh_rc_clinician;
SET ROLE bh_rc_clinician;
SELECT bh_audit.verify_chain();
SELECT count(*) FROM bh_audit.chain_failures();
SELECT bh_audit.chain_head();
SELECT count(*) FROM bh_audit.export_jsonl(1, 5);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION bh_audit.verify_chain, bh_audit.chain_failures,
    bh_audit.chain_head, bh_audit.export_jsonl FROM bh_rc_clinician;
SELECT * FROM pg_temp.fn_denials();
-- Only a refusal PostgreSQL makes is one: a call in a partition pruned as
-- the plan starts is never checked (no denial, and the failure after it in
-- the same transaction is recorded); a statement refused a table first
-- never gets to the function (the table's denial only).
CREATE TABLE rc_fn.pt (k int, v int) PARTITION BY LIST (k);
CREATE TABLE rc_fn.pt1 PARTITION OF rc_fn.pt FOR VALUES IN (1);
CREATE TABLE rc_fn.pt2 PARTITION OF rc_fn.pt FOR VALUES IN (2);
GRANT SELECT ON rc_fn.pt TO bh_rc_clinician;
SET ROLE bh_rc_clinician;
SET plan_cache_mode = force_generic_plan;
PREPARE pruned(int) AS SELECT * FROM rc_fn.pt WHERE k = $1 AND (bh_audit.stats()).sealer_pid > 0;
BEGIN;
EXECUTE pruned(5);
SELECT * FROM rc.notes WHERE note_id = 1/0;
ROLLBACK;
DEALLOCATE pruned;
RESET plan_cache_mode;
SELECT (bh_audit.chain_head()).seq, * FROM rc.patients;
RESET ROLE;
SELECT * FROM pg_temp.fn_denials();
DROP SCHEMA rc_fn CASCADE;
-- A refused TRUNCATE: from a client, from an SQL function or procedure
-- (whose context names no statement), of a tagged table it cascades to
-- (and a failure of the table it names), of the ledger; a tagged partition
-- goes with its table's privilege.  A materialized view is no table: a
-- failure, whatever the privileges.
CREATE TABLE rc.tr_parent (id int PRIMARY KEY);
CREATE TABLE rc.tr_child (id int PRIMARY KEY, patient_id int, parent int REFERENCES rc.tr_parent);
CREATE TABLE rc.tr_parts (id int, patient_id int) PARTITION BY RANGE (id);
CREATE TABLE rc.tr_parts_1 PARTITION OF rc.tr_parts FOR VALUES FROM (0) TO (10);
SELECT bh_audit.tag_table('rc.tr_child', 'Referral', 'id', 'patient_id', capture_writes => false);
SELECT bh_audit.tag_table('rc.tr_parts', 'Session', 'id', 'patient_id', capture_writes => false);
CREATE MATERIALIZED VIEW rc.tr_mv AS SELECT id, patient_id FROM rc.tr_child;
SELECT bh_audit.tag_table('rc.tr_mv', 'ReferralView', 'id', 'patient_id');
GRANT TRUNCATE ON rc.tr_parent, rc.tr_parts TO bh_rc_clinician;
CREATE FUNCTION rc.purge_patients() RETURNS void LANGUAGE sql AS 'TRUNCATE rc.patients';
CREATE PROCEDURE rc.purge_patients_proc() LANGUAGE sql AS 'TRUNCATE rc.patients';
SET ROLE bh_rc_clinician;
SELECT rc.purge_patients();
CALL rc.purge_patients_proc();
TRUNCATE rc.tr_parent CASCADE;
TRUNCATE bh_audit.events;
TRUNCATE rc.tr_parts;
TRUNCATE rc.tr_mv;
-- (PostgreSQL stops at a name that does not resolve: a failure, no denial)
TRUNCATE rc.no_such_table, rc.patients;
RESET ROLE;
SELECT * FROM regress_reads.reads();
SELECT bh_audit.untag_table('rc.tr_mv');
DROP MATERIALIZED VIEW rc.tr_mv;
SELECT bh_audit.untag_table('rc.tr_child');
SELECT bh_audit.untag_table('rc.tr_parts');
DROP TABLE rc.tr_child, rc.tr_parent, rc.tr_parts;
DROP FUNCTION rc.purge_patients();
DROP PROCEDURE rc.purge_patients_proc();

-- Failed: the SQLSTATE's name, the message with quoted values blanked.
SELECT count(*) FROM rc.notes WHERE 1 / (patient_id - patient_id) = 1;
SELECT * FROM regress_reads.reads();
SELECT count(*) FROM rc.notes WHERE body::int = 1;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT event -> 'outcome' ->> 'error_message' AS message FROM bh_audit.events
 WHERE outcome = 'FAILURE' ORDER BY seq DESC LIMIT 1;
SELECT count(*) FROM regress_reads.reads();
-- A statement that only reads the tagged table fails as a read, whatever
-- it writes (an untagged table's trigger refuses the INSERT).
CREATE TABLE rc.copies (patient_id int);
CREATE FUNCTION rc.no_copies() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'no copies'; END $$;
CREATE TRIGGER no_copies BEFORE INSERT ON rc.copies FOR EACH ROW EXECUTE FUNCTION rc.no_copies();
INSERT INTO rc.copies SELECT patient_id FROM rc.notes WHERE note_id = 2;
SELECT * FROM regress_reads.reads();
DROP TABLE rc.copies;
DROP FUNCTION rc.no_copies();
-- A function's RAISE may print the row's values: the row is read.  A
-- code PostgreSQL does not name is never recorded itself (it may come from
-- a value): the name of its class, or user_defined_error.
CREATE FUNCTION rc.show_fail(t text, code text DEFAULT 'P0001') RETURNS text LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'value was %', t USING ERRCODE = code; END $$;
SELECT rc.show_fail(body) FROM rc.notes WHERE note_id = 3;
SELECT * FROM regress_reads.reads();
SELECT rc.show_fail(body, 'P0X42') FROM rc.notes WHERE note_id = 4;
SELECT rc.show_fail(body, '9Z210') FROM rc.notes WHERE note_id = 4;
SELECT * FROM regress_reads.reads();
-- Failures in parse analysis are seen as the error is raised: also while
-- errors are kept out of the server log, and when an exception block
-- catches them (a static statement, a dynamic one).  An executor failure
-- caught there is recorded once; an error outside tagged tables, caught,
-- is nothing.  Settings of the server log are no configuration events.
SELECT count(*) FROM regress_reads.reads();
SET log_min_messages = fatal;
SELECT * FROM rc.notes WHERE note_id = 'n_unlogged';
RESET log_min_messages;
DO $$ BEGIN
    PERFORM * FROM rc.notes WHERE note_id = 'n_caught';
EXCEPTION WHEN invalid_text_representation THEN RAISE NOTICE 'caught';
END $$;
DO $$ BEGIN
    EXECUTE 'SELECT * FROM rc.patients WHERE id = ''p_caught''';
EXCEPTION WHEN others THEN RAISE NOTICE 'caught';
END $$;
DO $$ BEGIN
    PERFORM count(*) FROM rc.notes WHERE 1 / (patient_id - patient_id) = 1;
EXCEPTION WHEN division_by_zero THEN RAISE NOTICE 'caught';
END $$;
DO $$ BEGIN
    PERFORM 'x'::int;
EXCEPTION WHEN others THEN RAISE NOTICE 'caught';
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, error_type, event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events WHERE seq > (SELECT seq FROM regress_reads.mark) ORDER BY seq;
SELECT count(*) AS log_settings_recorded FROM bh_audit.events
 WHERE resource_type = 'AuditConfiguration' AND resource_id = 'log_min_messages';
SELECT * FROM regress_reads.reads();
SELECT * FROM regress_reads.reads();
SET statement_timeout = '1s';
SELECT count(*) FROM rc.notes, pg_sleep(30) WHERE note_id = 1;
RESET statement_timeout;
SELECT * FROM regress_reads.reads();

-- Failures before the executor: in parse analysis (a literal of the wrong
-- type, an unknown column) and in the planner (a constant folded to an
-- error); the action follows the statement.
SELECT * FROM rc.notes WHERE note_id = 'n_abc';
SELECT nosuchcol FROM rc.notes;
SELECT * FROM rc.notes WHERE note_id = 1 / 0;
SELECT * FROM regress_reads.reads();
-- Two tagged tables of one name in two schemas: the one the failed
-- statement named and locked.
CREATE SCHEMA rc2;
CREATE TABLE rc2.notes (note_id int, patient_id int);
SELECT bh_audit.tag_table('rc2.notes', 'OtherNote', 'note_id', 'patient_id');
SELECT * FROM rc2."notes" WHERE note_id = 'n_other';
SELECT * FROM regress_reads.reads();
SELECT bh_audit.untag_table('rc2.notes');
DROP SCHEMA rc2 CASCADE;
INSERT INTO rc.notes VALUES ('x', 1, 'b');
DELETE FROM "rc"."notes" WHERE note_id = 'x';
UPDATE rc.programs SET name = 'x' WHERE program_id = 'p';
WITH d AS (DELETE FROM rc.notes WHERE note_id = 'w' RETURNING *) SELECT count(*) FROM d;
COPY (SELECT * FROM rc.notes WHERE note_id = 'c') TO STDOUT;
-- one query string of several statements: the first that reads or writes decides
BEGIN \; SET LOCAL work_mem = '4MB' \; INSERT INTO rc.notes VALUES ('m', 1, 'b');
ROLLBACK;
-- A statement of a function that fails in parse analysis (the error names it
-- as its internal query).
DO $$ BEGIN PERFORM * FROM rc.notes WHERE note_id = 'in_do'; END $$;
SELECT * FROM regress_reads.reads();
-- A statement of a function that fails while being planned (no internal
-- query; the client's statement names no tagged table): PL/pgSQL, a SQL
-- function, and an UPDATE whose action the failure carries.  One event per
-- statement, for its first tagged table, as when the executor fails.
DO $$ BEGIN PERFORM * FROM rc.notes WHERE note_id = 1 / 0; END $$;
CREATE FUNCTION rc.plan_fails() RETURNS bigint LANGUAGE sql
  AS 'SELECT count(*) FROM rc.notes WHERE note_id = 1 / 0';
SELECT rc.plan_fails();
DO $$ BEGIN UPDATE rc.programs SET name = 'p' WHERE program_id = 1 / 0; END $$;
-- EXPLAIN alone only plans: no failed access; EXPLAIN ANALYZE would execute.
EXPLAIN SELECT count(*) FROM rc.notes WHERE note_id = 1 / 0;
EXPLAIN (ANALYZE false) SELECT count(*) FROM rc.programs WHERE program_id = 1 / 0;
EXPLAIN (ANALYZE, COSTS off) SELECT count(*) FROM rc.programs WHERE program_id = 1 / 0;
SELECT * FROM regress_reads.reads();
DROP FUNCTION rc.plan_fails();
-- EXECUTE of a prepared statement on a tagged table whose parameter does
-- not convert: it fails before planning; the action is the statement's.
PREPARE note_by_id(int) AS SELECT count(*) FROM rc.notes WHERE note_id = $1;
EXECUTE note_by_id('n_exec');
PREPARE program_rename(text, int) AS UPDATE rc.programs SET name = $1 WHERE program_id = $2;
EXECUTE program_rename('x', 'p_exec');
-- a statement on untagged tables only is nobody's PHI
PREPARE no_phi(int) AS SELECT $1 + 1;
EXECUTE no_phi('q_exec');
DEALLOCATE note_by_id;
DEALLOCATE program_rename;
DEALLOCATE no_phi;
SELECT * FROM regress_reads.reads();
SELECT event -> 'outcome' ->> 'error_message' AS message FROM bh_audit.events
 WHERE outcome = 'FAILURE' ORDER BY seq DESC LIMIT 1;
-- In a savepoint; then, with rc.notes locked by a read earlier in the
-- transaction, failures whose text names it only in a constant or a
-- comment, or that are no data access at all, are not failures on it.
BEGIN;
SAVEPOINT s;
SELECT * FROM rc.notes n WHERE n.note_id = 'y';
ROLLBACK TO s;
SELECT count(*) FROM rc.notes WHERE note_id = 20;
SAVEPOINT t;
SELECT 'rc.notes' AS t, 1 / 0 AS z /* rc.notes */;
ROLLBACK TO t;
SAVEPOINT u;
SELECT $q$ notes $q$, E'notes\'', note_id = 'z' FROM rc.patients;
ROLLBACK TO u;
EXPLAIN SELECT * FROM rc.notes WHERE note_id = 'e';
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- A failure on an untagged table, or in a statement that names a tagged
-- table it never opened, is nobody's PHI.
CREATE TABLE rc.untagged (id int);
SELECT * FROM rc.untagged WHERE id = 'u';
SELECT * FROM rc.missing_table, rc.notes;
SELECT * FROM regress_reads.reads();
DROP TABLE rc.untagged;

-- A partitioned table tagged at the top: reads, failures and denials all
-- name the tagged table in metadata.table, whichever partition was named.
CREATE TABLE rc.sessions (id int, patient_id int) PARTITION BY RANGE (id);
CREATE TABLE rc.sessions_1 PARTITION OF rc.sessions FOR VALUES FROM (0) TO (100);
INSERT INTO rc.sessions VALUES (1, 1), (2, 2);
SELECT bh_audit.tag_table('rc.sessions', 'Session', 'id', 'patient_id', capture_writes => false);
SELECT count(*) FROM rc.sessions_1 WHERE id = 1;
SELECT * FROM rc.sessions_1 WHERE id = 's';
SELECT * FROM rc.sessions_1 WHERE 1 / (id - 2) = 0;
SET ROLE bh_rc_clinician;
SELECT * FROM rc.sessions_1;
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type, patient_id, event -> 'metadata' ->> 'table' AS "table"
  FROM bh_audit.events WHERE resource_type = 'Session' ORDER BY seq;
SELECT count(*) FROM regress_reads.reads();
-- RETURNING through the partitioned table: each row's patient, read in its
-- partition (a DELETE's and an UPDATE's).
BEGIN;
DELETE FROM rc.sessions WHERE id = 1 RETURNING id;
UPDATE rc.sessions SET id = id WHERE id = 2 RETURNING id;
ROLLBACK;
SELECT * FROM regress_reads.reads();

-- A refusal is a denial wherever PostgreSQL raises it: TRUNCATE checks its
-- privilege before it locks the table.  SELECT ... FOR UPDATE asks for the
-- UPDATE privilege but reads.
SET ROLE bh_rc_clinician;
SELECT * FROM rc.patients WHERE id = 1 FOR UPDATE;
TRUNCATE rc.patients;
TRUNCATE rc.notes;
RESET ROLE;
SELECT * FROM regress_reads.reads();
-- A failing TRUNCATE (a trigger refuses it) is a failed deletion; a failing
-- MERGE a failed update.
CREATE FUNCTION rc.no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'not now';
END $$;
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON rc.programs
    FOR EACH STATEMENT EXECUTE FUNCTION rc.no_truncate();
TRUNCATE rc.programs;
DROP TRIGGER no_truncate ON rc.programs;
DROP FUNCTION rc.no_truncate();
MERGE INTO rc.notes n USING (VALUES (1)) v (k) ON n.note_id = v.k
  WHEN MATCHED THEN UPDATE SET patient_id = n.patient_id / (n.note_id - 1);
SELECT * FROM regress_reads.reads();

-- An error at COMMIT (a deferred constraint), explicit or after a statement
-- outside a transaction block, undoes the transaction's writes and names
-- no table: a failure on each tagged table the transaction wrote, with the
-- action of its first write; a write undone by ROLLBACK TO is not one of
-- them; a procedure's own COMMIT likewise.  SET CONSTRAINTS undoes nothing
-- by itself (the transaction may go on after a ROLLBACK TO): no failure of
-- the writes.
CREATE TABLE rc.refs (id int PRIMARY KEY, patient_id int,
                      note_id int REFERENCES rc.notes DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE rc.refs_b (id int PRIMARY KEY, patient_id int);
SELECT bh_audit.tag_table('rc.refs', 'Ref', 'id', 'patient_id');
SELECT bh_audit.tag_table('rc.refs_b', 'RefB', 'id', 'patient_id');
BEGIN;
INSERT INTO rc.refs VALUES (1, 3, 999);
COMMIT;
BEGIN;
INSERT INTO rc.refs VALUES (2, 4, 999);
SET CONSTRAINTS ALL IMMEDIATE;
ROLLBACK;
BEGIN;
SAVEPOINT s;
INSERT INTO rc.refs_b VALUES (1, 5);
ROLLBACK TO s;
INSERT INTO rc.refs_b VALUES (2, 5);
RELEASE s;
INSERT INTO rc.refs VALUES (3, 5, 999);
COMMIT;
BEGIN;
SAVEPOINT s;
INSERT INTO rc.refs_b VALUES (3, 6);
ROLLBACK TO s;
INSERT INTO rc.refs VALUES (4, 6, 999);
COMMIT;
CREATE FUNCTION rc.add_ref(i int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO rc.refs VALUES (i, 7, 999)
$$;
SELECT rc.add_ref(5);
-- A procedure's own COMMIT is one too; its writes committed before stay.
CREATE PROCEDURE rc.add_refs(i int) LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rc.refs_b VALUES (i, 8);
    COMMIT;
    INSERT INTO rc.refs VALUES (i, 8, 999);
    COMMIT;
END $$;
CALL rc.add_refs(6);
-- (a CALL's text naming a tagged table, here as a parameter, changes nothing)
CREATE PROCEDURE rc.add_named(refs int) LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rc.refs VALUES (refs, 12, 999);
    COMMIT;
END $$;
CALL rc.add_named(refs => 11);
-- ... also when a deferred trigger raises the error there; a COMMIT refused
-- (in a block with an exception handler, or in a CALL inside a transaction
-- block) undoes nothing: no failure.
CREATE FUNCTION rc.refs_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.patient_id = 9 THEN RAISE EXCEPTION 'patient not allowed'; END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER refs_check AFTER INSERT ON rc.refs_b
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rc.refs_check();
CREATE PROCEDURE rc.add_b(i int, p int) LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rc.refs_b VALUES (i, p);
    COMMIT;
END $$;
CALL rc.add_b(7, 9);
-- (also when an exception block in the trigger does not match the error: the
-- block rolls back before it looks, then throws the error on)
CREATE OR REPLACE FUNCTION rc.refs_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        IF NEW.patient_id = 9 THEN RAISE EXCEPTION 'patient not allowed'; END IF;
    EXCEPTION WHEN division_by_zero THEN NULL;
    END;
    RETURN NULL;
END $$;
CALL rc.add_b(12, 9);
-- (also when the error carries a warning or no-data code: raised as an
-- ERROR, it is one)
CREATE OR REPLACE FUNCTION rc.refs_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.patient_id = 9 THEN RAISE EXCEPTION 'patient not allowed' USING ERRCODE = '01X01'; END IF;
    IF NEW.patient_id = 19 THEN RAISE EXCEPTION 'patient not allowed' USING ERRCODE = '02000'; END IF;
    RETURN NULL;
END $$;
BEGIN;
INSERT INTO rc.refs_b VALUES (17, 9);
COMMIT;
BEGIN;
INSERT INTO rc.refs_b VALUES (18, 19);
COMMIT;
-- (an error the deferred trigger catches itself is no failure at COMMIT, nor
-- at the commit that ends a statement outside a transaction block)
CREATE OR REPLACE FUNCTION rc.refs_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM 1 / (NEW.patient_id - NEW.patient_id);
    EXCEPTION WHEN division_by_zero THEN NULL;
    END;
    RETURN NULL;
END $$;
BEGIN;
INSERT INTO rc.refs_b VALUES (13, 14);
COMMIT;
INSERT INTO rc.refs_b VALUES (15, 16);
CREATE PROCEDURE rc.add_b_caught(i int) LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rc.refs_b VALUES (i, 10);
    BEGIN
        COMMIT;
    EXCEPTION WHEN others THEN NULL;
    END;
END $$;
CALL rc.add_b_caught(8);
BEGIN;
INSERT INTO rc.refs_b VALUES (9, 11);
SAVEPOINT s;
CALL rc.add_b(10, 11);
ROLLBACK TO s;
COMMIT;
SELECT * FROM regress_reads.reads();
-- At a commit, each table written fails with the action of its first write
-- there, not with the transaction's first.
INSERT INTO rc.refs_b VALUES (20, 5);
BEGIN;
UPDATE rc.refs_b SET patient_id = 6 WHERE id = 20;
INSERT INTO rc.refs VALUES (20, 6, 999);
COMMIT;
SELECT * FROM regress_reads.reads();
DROP FUNCTION rc.add_ref(int);
DROP PROCEDURE rc.add_refs(int);
DROP PROCEDURE rc.add_named(int);
DROP PROCEDURE rc.add_b(int, int);
DROP PROCEDURE rc.add_b_caught(int);
DROP TRIGGER refs_check ON rc.refs_b;
DROP FUNCTION rc.refs_check();
SELECT bh_audit.untag_table('rc.refs');
SELECT bh_audit.untag_table('rc.refs_b');
DROP TABLE rc.refs, rc.refs_b;

-- Not failures on a tagged table: an error that a function catches while
-- the statement goes on; a table of the same name in another schema; a
-- string of statements that starts with TRUNCATE; a refusal of another
-- object (a sequence) in a statement on a tagged table is a failure, not a
-- denial.  A refused TRUNCATE in a function is a denial.
CREATE FUNCTION rc.safe_int(t text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN t::int;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;
SELECT count(rc.safe_int(body)) FROM rc.notes WHERE note_id < 4;
SELECT * FROM regress_reads.reads();
DROP FUNCTION rc.safe_int(text);
CREATE SCHEMA rc_other;
CREATE TABLE rc_other.notes (note_id int, patient_id int);
INSERT INTO rc_other.notes VALUES (1, 1);
CREATE SEQUENCE rc.seq;
CREATE FUNCTION rc.clear_notes() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE rc.notes;
END $$;
GRANT USAGE ON SCHEMA rc_other TO bh_rc_clinician;
BEGIN;
SELECT count(*) FROM rc.notes WHERE false;
SELECT note_id / 0 FROM rc_other.notes;
ROLLBACK;
CREATE TABLE rc.scratch (i int);
TRUNCATE rc.scratch \; SELECT 1 / 0 AS notes;
DROP TABLE rc.scratch;
SET ROLE bh_rc_clinician;
TRUNCATE rc_other.notes;
SELECT nextval('rc.seq'), note_id FROM rc.notes WHERE note_id = 2;
SELECT rc.clear_notes();
RESET ROLE;
SELECT * FROM regress_reads.reads();
DROP FUNCTION rc.clear_notes();
DROP SEQUENCE rc.seq;
DROP SCHEMA rc_other CASCADE;

REVOKE ALL ON rc.notes FROM bh_rc_clinician;
REVOKE ALL ON SCHEMA rc FROM bh_rc_clinician;
DROP POLICY own_patient ON rc.notes;
DROP ROLE bh_rc_clinician;

-- A cursor WITH HOLD: PostgreSQL runs its query to the end as its
-- transaction commits and keeps the rows; its reads are recorded then, with
-- that transaction's context.  A FETCH after the commit, in another
-- transaction with another context (a pooler's next client on the same
-- server connection), reads the kept rows: nothing more is recorded.
SELECT count(*) FROM regress_reads.reads();
BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr_hold');
DECLARE held CURSOR WITH HOLD FOR
  SELECT note_id FROM rc.notes WHERE patient_id IN (3, 4) ORDER BY note_id;
FETCH 1 FROM held;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr_other');
FETCH 3 FROM held;
CLOSE held;
COMMIT;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, resource_type, patient_id
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM regress_reads.mark) AND resource_type = 'Note'
 ORDER BY patient_id, seq;
SELECT count(*) FROM regress_reads.reads();

-- The first statement of a new session fails in parse analysis: no hook
-- of the executor or the planner ran, the tags are loaded by its first
-- name lookup.
\c
SELECT * FROM rc.notes WHERE note_id = 'fresh';
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, outcome, error_type, event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events ORDER BY seq DESC LIMIT 1;

-- Every read event validates and the chain still verifies.
SELECT result FROM bh_audit.verify_chain();
