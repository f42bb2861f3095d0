-- Reads of rows whose patient the reading transaction itself changed: the
-- row version read names the new patient, but the data read is the record
-- of the patient it had before (the committed owner), who must find the
-- read too — also when the change is rolled back and its write events go.
CREATE SCHEMA mv;
CREATE ROLE regress_mv_app;
GRANT USAGE ON SCHEMA mv TO regress_mv_app;
CREATE TABLE mv.sud (id int PRIMARY KEY, patient_id text, dx text);
CREATE TABLE mv.notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO mv.sud VALUES (1, 'p1', 'opioid'), (2, 'p2', 'alcohol'), (3, 'p3', 'none');
INSERT INTO mv.notes VALUES (3, 'p3', 'note three'), (4, 'p4', 'note four');
SELECT bh_audit.tag_table('mv.sud', 'Sud', 'id', 'patient_id', part2 => true);
SELECT bh_audit.tag_table('mv.notes', 'Note', 'note_id', 'patient_id');
GRANT SELECT, INSERT, UPDATE, DELETE ON mv.sud, mv.notes TO regress_mv_app;
SELECT regress_reads.mark_now();

-- The defect: p1's record read under a decoy's name, then rolled back.
BEGIN;
SET LOCAL ROLE regress_mv_app;
UPDATE mv.sud SET patient_id = 'p_decoy' WHERE id = 1;
SELECT * FROM mv.sud WHERE id = 1;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- Moved to no patient: still p3's record.
BEGIN;
SET LOCAL ROLE regress_mv_app;
UPDATE mv.notes SET patient_id = NULL WHERE note_id = 3;
SELECT * FROM mv.notes WHERE note_id = 3;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- A transaction that moved no patient: each row is its own patient's.
BEGIN;
SET LOCAL ROLE regress_mv_app;
UPDATE mv.sud SET dx = 'opioid use' WHERE id = 1;
SELECT * FROM mv.sud ORDER BY id;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- Moved, then another column updated (a newer version again); the other
-- rows of the table are read under their own patients only.
BEGIN;
SET LOCAL ROLE regress_mv_app;
UPDATE mv.sud SET patient_id = 'p_decoy' WHERE id = 1;
UPDATE mv.sud SET dx = 'x' WHERE id = 1;
SELECT * FROM mv.sud ORDER BY id;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- Two moves, p1 -> p2 -> p3: both earlier patients.
BEGIN;
SET LOCAL ROLE regress_mv_app;
UPDATE mv.sud SET patient_id = 'p2' WHERE id = 1;
UPDATE mv.sud SET patient_id = 'p3' WHERE id = 1;
SELECT dx FROM mv.sud WHERE id = 1;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- A move in a savepoint, read there, then rolled back to the savepoint:
-- the read stays, naming p1; after the rollback the row is p1's again.
BEGIN;
SET LOCAL ROLE regress_mv_app;
SAVEPOINT s;
UPDATE mv.sud SET patient_id = 'p_decoy' WHERE id = 1;
SELECT dx FROM mv.sud WHERE id = 1;
ROLLBACK TO SAVEPOINT s;
SELECT dx FROM mv.sud WHERE id = 1;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- A move in a savepoint released, then another move.
BEGIN;
SET LOCAL ROLE regress_mv_app;
SAVEPOINT s;
UPDATE mv.sud SET patient_id = 'p_decoy' WHERE id = 1;
RELEASE SAVEPOINT s;
UPDATE mv.sud SET patient_id = 'p_other' WHERE id = 1;
SELECT dx FROM mv.sud WHERE id = 1;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- SELECT ... FOR UPDATE and a cursor after the move.
BEGIN;
SET LOCAL ROLE regress_mv_app;
UPDATE mv.sud SET patient_id = 'p_decoy' WHERE id = 1;
SELECT dx FROM mv.sud WHERE id = 1 FOR UPDATE;
DECLARE c CURSOR FOR SELECT dx FROM mv.sud WHERE dx = 'opioid';
FETCH c;
CLOSE c;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- UPDATE ... RETURNING and DELETE ... RETURNING after the move.
BEGIN;
SET LOCAL ROLE regress_mv_app;
UPDATE mv.sud SET patient_id = 'p_decoy' WHERE id = 1;
UPDATE mv.sud SET dx = dx || '!' WHERE id = 1 RETURNING dx;
ROLLBACK;
BEGIN;
SET LOCAL ROLE regress_mv_app;
UPDATE mv.sud SET patient_id = 'p_decoy' WHERE id = 1;
DELETE FROM mv.sud WHERE id = 1 RETURNING dx;
ROLLBACK;
-- An INSERT ... ON CONFLICT DO UPDATE keeps no row before its update: the
-- rows it returns of a table with moved rows count as rows updated in the
-- transaction.
BEGIN;
SET LOCAL ROLE regress_mv_app;
UPDATE mv.sud SET patient_id = 'p_decoy' WHERE id = 1;
INSERT INTO mv.sud VALUES (1, 'p_new', 'y') ON CONFLICT (id) DO UPDATE SET dx = 'z' RETURNING dx;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- Index and bitmap scans after the move; an index-only scan with the
-- patient column in the index.
CREATE INDEX sud_id_patient ON mv.sud (id, patient_id);
VACUUM (ANALYZE) mv.sud;
BEGIN;
SET LOCAL ROLE regress_mv_app;
SET LOCAL enable_seqscan = off;
UPDATE mv.sud SET patient_id = 'p_decoy' WHERE id = 1;
SET LOCAL enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT dx FROM mv.sud WHERE id = 1;
SELECT dx FROM mv.sud WHERE id = 1;
EXPLAIN (COSTS OFF) SELECT id, patient_id FROM mv.sud WHERE id = 1 AND patient_id IS NOT NULL;
SELECT id, patient_id FROM mv.sud WHERE id = 1 AND patient_id IS NOT NULL;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = on;
EXPLAIN (COSTS OFF) SELECT dx FROM mv.sud WHERE id = 1;
SELECT dx FROM mv.sud WHERE id = 1;
ROLLBACK;
SELECT * FROM regress_reads.reads();
DROP INDEX mv.sud_id_patient;

-- A partitioned table: a move within a partition, and across partitions
-- (PostgreSQL deletes the row from one and inserts it into the other).
CREATE TABLE mv.visits (id int, region int, patient_id text, dx text) PARTITION BY LIST (region);
CREATE TABLE mv.visits_1 PARTITION OF mv.visits FOR VALUES IN (1);
CREATE TABLE mv.visits_2 PARTITION OF mv.visits FOR VALUES IN (2);
INSERT INTO mv.visits VALUES (1, 1, 'p1', 'opioid'), (2, 2, 'p2', 'alcohol');
SELECT bh_audit.tag_table('mv.visits', 'Visit', 'id', 'patient_id', part2 => true);
GRANT SELECT, UPDATE ON mv.visits, mv.visits_2 TO regress_mv_app;
SELECT regress_reads.mark_now();
BEGIN;
SET LOCAL ROLE regress_mv_app;
UPDATE mv.visits SET patient_id = 'p_decoy' WHERE id = 1;
SELECT dx FROM mv.visits WHERE id = 1;
ROLLBACK;
SELECT * FROM regress_reads.reads();
BEGIN;
SET LOCAL ROLE regress_mv_app;
UPDATE mv.visits SET patient_id = 'p_decoy', region = 2 WHERE id = 1;
SELECT dx FROM mv.visits WHERE id = 1;
SELECT dx FROM mv.visits_2 WHERE id = 1;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- Moved within its partition, then to another partition, then back.
BEGIN;
SET LOCAL ROLE regress_mv_app;
UPDATE mv.visits SET patient_id = 'p_decoy' WHERE id = 1;
UPDATE mv.visits SET region = 2 WHERE id = 1;
UPDATE mv.visits SET region = 1 WHERE id = 1;
SELECT dx FROM mv.visits WHERE id = 1;
ROLLBACK;
SELECT * FROM regress_reads.reads();

-- More moved rows than a transaction keeps the earlier patients of: the
-- reads of the rows it changed that it no longer follows count as one
-- READ event without a patient, marked (rows_updated_in_transaction).
CREATE TABLE mv.bulk (id int PRIMARY KEY, patient_id text, dx text);
INSERT INTO mv.bulk SELECT i, 'b' || i, 'dx' FROM generate_series(1, 10010) i;
SELECT bh_audit.tag_table('mv.bulk', 'Bulk', 'id', 'patient_id');
SELECT regress_reads.mark_now();
BEGIN;
UPDATE mv.bulk SET patient_id = 'p_decoy';
SELECT count(*) FROM mv.bulk WHERE id IN (1, 10010);
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- The next transaction starts afresh.
BEGIN;
UPDATE mv.bulk SET patient_id = 'p_decoy' WHERE id = 10010;
SELECT count(*) FROM mv.bulk WHERE id IN (1, 10010);
ROLLBACK;
SELECT * FROM regress_reads.reads();

-- A table tagged without write capture has no trigger to see a move: the
-- rows of it the transaction updated are read as the same marked event.
CREATE TABLE mv.ro (id int PRIMARY KEY, patient_id text, dx text);
INSERT INTO mv.ro VALUES (1, 'p1', 'opioid'), (2, 'p2', 'alcohol');
SELECT bh_audit.tag_table('mv.ro', 'Ro', 'id', 'patient_id', capture_writes => false);
SELECT regress_reads.mark_now();
BEGIN;
UPDATE mv.ro SET patient_id = 'p_decoy' WHERE id = 1;
SELECT dx FROM mv.ro ORDER BY id;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- Without an UPDATE of it, its reads are as always.
SELECT dx FROM mv.ro ORDER BY id;
SELECT * FROM regress_reads.reads();

DROP SCHEMA mv CASCADE;
DROP ROLE regress_mv_app;
