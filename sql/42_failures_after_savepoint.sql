-- Failures after a failed statement was rolled back to a savepoint (psql's
-- ON_ERROR_ROLLBACK, a driver's autosave): PostgreSQL's recovery from the
-- first error empties the error context stack, and the failures that only
-- the error watch sees — at COMMIT, in parse analysis, while waiting for a
-- lock — must still be recorded for the rest of the transaction.
CREATE SCHEMA fs;
CREATE TABLE fs.notes (note_id int PRIMARY KEY, patient_id text, body text);
CREATE TABLE fs.dn (id int, patient_id text, k int UNIQUE DEFERRABLE INITIALLY DEFERRED);
INSERT INTO fs.notes VALUES (1, 'p1', 'one');
INSERT INTO fs.dn VALUES (1, 'pa', 1);
SELECT bh_audit.tag_table('fs.notes', 'Note', 'note_id', 'patient_id');
SELECT bh_audit.tag_table('fs.dn', 'Dn', 'id', 'patient_id');
SELECT regress_reads.mark_now();

-- parse analysis, after an error on no tagged table
BEGIN;
SAVEPOINT s;
SELECT 1/0;
ROLLBACK TO s;
SELECT * FROM fs.notes WHERE note_id = 'abc';
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- ... and after an error on the same table, recorded as well: both
BEGIN;
SAVEPOINT s;
SELECT * FROM fs.notes WHERE note_id = 'abc';
ROLLBACK TO s;
SELECT * FROM fs.notes WHERE note_id = 'abd';
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- at COMMIT: a deferred unique constraint
BEGIN;
INSERT INTO fs.dn VALUES (2, 'pb', 1);
SAVEPOINT s;
SELECT 1/0;
ROLLBACK TO s;
COMMIT;
SELECT * FROM regress_reads.reads();
-- the same with two savepoints rolled back, and a RELEASE between
BEGIN;
INSERT INTO fs.dn VALUES (3, 'pc', 1);
SAVEPOINT a;
SELECT 1/0;
ROLLBACK TO a;
SAVEPOINT b;
SELECT * FROM fs.notes WHERE note_id = 'abe';
ROLLBACK TO b;
RELEASE a;
COMMIT;
SELECT * FROM regress_reads.reads();
-- an error in the aborted savepoint first ("current transaction is
-- aborted"), then the rollback to it
BEGIN;
INSERT INTO fs.dn VALUES (5, 'pe', 1);
SAVEPOINT s;
SELECT 1/0;
SELECT 2;
ROLLBACK TO s;
COMMIT;
SELECT * FROM regress_reads.reads();
-- (without a savepoint: as before)
BEGIN;
INSERT INTO fs.dn VALUES (4, 'pd', 1);
COMMIT;
SELECT * FROM regress_reads.reads();
SELECT bh_audit.untag_table('fs.notes');
SELECT bh_audit.untag_table('fs.dn');
DROP SCHEMA fs CASCADE;
