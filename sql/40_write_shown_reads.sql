-- Reads of the rows a write shows to a user's function.  The stored row
-- an INSERT ... ON CONFLICT DO UPDATE meets is given to its WHERE condition
-- and its SET list; the rows an UPDATE or a DELETE examines are given to
-- its filter and to its new values.  When one of those calls a function a
-- user defined (not leakproof), or a volatile built-in one, on values of
-- the stored row, every row it was given is a read of its patient, whether
-- it was then written or not: recorded through the ring, so also when the
-- statement is rolled back, and for a table whose writes are not captured.
-- Without such a function the rows written are writes only.
CREATE SCHEMA wr;
CREATE TABLE wr.notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO wr.notes SELECT g, 'p' || g, 'b' || g FROM generate_series(1, 5) g;
CREATE TABLE wr.labs (id int PRIMARY KEY, patient_id text, result text);
INSERT INTO wr.labs SELECT g, 'l' || g, 'r' || g FROM generate_series(1, 3) g;
-- A partitioned table: parts_a laid out as the root, parts_b in another
-- column order, parts_c with a dropped column.
CREATE TABLE wr.parts (id int, patient_id text, body text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE wr.parts_a PARTITION OF wr.parts FOR VALUES FROM (1) TO (4);
CREATE TABLE wr.parts_b (body text, patient_id text, id int NOT NULL);
ALTER TABLE wr.parts ATTACH PARTITION wr.parts_b FOR VALUES FROM (4) TO (10);
CREATE TABLE wr.parts_c (junk int, id int NOT NULL, patient_id text, body text);
ALTER TABLE wr.parts_c DROP COLUMN junk;
ALTER TABLE wr.parts ATTACH PARTITION wr.parts_c FOR VALUES FROM (10) TO (20);
INSERT INTO wr.parts SELECT g, 'q' || g, 'b' || g FROM generate_series(1, 12) g;
SELECT bh_audit.tag_table('wr.notes', 'WrNote', 'note_id', 'patient_id');
SELECT bh_audit.tag_table('wr.labs', 'WrLab', 'id', 'patient_id', capture_writes => false);
SELECT bh_audit.tag_table('wr.parts', 'WrPart', 'id', 'patient_id');
-- The table owner's own function (the application's, say).
CREATE FUNCTION wr.owner_leak(n int, p text, b text) RETURNS bool LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$BEGIN RAISE NOTICE 'OWNER % % %', n, p, b; RETURN false; END$$;
CREATE ROLE bh_wr_app;
GRANT USAGE ON SCHEMA wr TO bh_wr_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON wr.notes, wr.labs, wr.parts TO bh_wr_app;

SELECT regress_reads.mark_now();
SELECT count(*) FROM regress_reads.reads();

SET ROLE bh_wr_app;
CREATE FUNCTION pg_temp.leak(n int, p text, b text) RETURNS bool LANGUAGE plpgsql
AS $$BEGIN RAISE NOTICE 'LEAK % % %', n, p, b; RETURN false; END$$;
CREATE FUNCTION pg_temp.leak_true(n int, p text, b text) RETURNS bool LANGUAGE plpgsql
AS $$BEGIN RAISE NOTICE 'LEAK % % %', n, p, b; RETURN true; END$$;
CREATE FUNCTION pg_temp.leak_text(t text) RETURNS text LANGUAGE plpgsql
AS $$BEGIN RAISE NOTICE 'LEAK %', t; RETURN t; END$$;

-- 1. INSERT ... ON CONFLICT DO UPDATE.
-- The WHERE condition rejects every stored row it is given (notes 1 to
-- 3): nothing written, each of them read; note 100 is inserted, no read.
BEGIN;
INSERT INTO wr.notes SELECT g, 'zz', 'zz' FROM unnest(ARRAY[1, 2, 3, 100]) g
  ON CONFLICT (note_id) DO UPDATE SET body = excluded.body
  WHERE pg_temp.leak(notes.note_id, notes.patient_id, notes.body);
ROLLBACK;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- Accepted: the rows updated are read too (and written), committed.
INSERT INTO wr.notes VALUES (4, 'p4', 'b4'), (5, 'p5', 'b5')
  ON CONFLICT (note_id) DO UPDATE SET body = excluded.body
  WHERE pg_temp.leak_true(notes.note_id, notes.patient_id, notes.body);
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- A volatile built-in function given the stored row's values.
BEGIN;
INSERT INTO wr.notes VALUES (2, 'zz', 'zz')
  ON CONFLICT (note_id) DO UPDATE SET body = excluded.body
  WHERE pg_notify('leak', notes.patient_id || ':' || notes.body) IS NULL;
ROLLBACK;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- The function in the SET list, given the stored row's values.
BEGIN;
INSERT INTO wr.notes VALUES (1, 'zz', 'zz'), (3, 'zz', 'zz')
  ON CONFLICT (note_id) DO UPDATE SET body = pg_temp.leak_text(notes.patient_id || ':' || notes.body);
ROLLBACK;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- Both: each row counted once.
BEGIN;
INSERT INTO wr.notes VALUES (1, 'zz', 'zz'), (3, 'zz', 'zz')
  ON CONFLICT (note_id) DO UPDATE SET body = pg_temp.leak_text(notes.body)
  WHERE pg_temp.leak_true(notes.note_id, notes.patient_id, notes.body);
ROLLBACK;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- The function given the proposed row's values only (excluded): no stored
-- row shown to it, no read.
BEGIN;
INSERT INTO wr.notes VALUES (1, 'zz', 'zz'), (3, 'zz', 'zz')
  ON CONFLICT (note_id) DO UPDATE SET body = pg_temp.leak_text(excluded.body)
  WHERE pg_temp.leak_true(excluded.note_id, excluded.patient_id, excluded.body);
ROLLBACK;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- No such function: the rows updated are writes only.
INSERT INTO wr.notes VALUES (2, 'p2', 'b2'), (3, 'p3', 'b3')
  ON CONFLICT (note_id) DO UPDATE SET body = upper(excluded.body)
  WHERE notes.body LIKE 'b%';
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- The table owner's own function, in another user's statement: exempt,
-- as in a scan's filter.
INSERT INTO wr.notes VALUES (2, 'zz', 'zz')
  ON CONFLICT (note_id) DO UPDATE SET body = excluded.body
  WHERE wr.owner_leak(notes.note_id, notes.patient_id, notes.body);
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
-- ... counted in the owner's own statement.
INSERT INTO wr.notes VALUES (2, 'zz', 'zz')
  ON CONFLICT (note_id) DO UPDATE SET body = excluded.body
  WHERE wr.owner_leak(notes.note_id, notes.patient_id, notes.body);
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- A partitioned table: the rows of each partition, whatever its layout
-- (parts_a shares the root's ON CONFLICT expressions, parts_b and parts_c
-- get their own); the first row routed to a partition too.
BEGIN;
INSERT INTO wr.parts VALUES (11, 'zz', 'zz'), (2, 'zz', 'zz'), (5, 'zz', 'zz'), (12, 'zz', 'zz'), (15, 'zz', 'zz')
  ON CONFLICT (id) DO UPDATE SET body = excluded.body
  WHERE pg_temp.leak(parts.id, parts.patient_id, parts.body);
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
BEGIN;
INSERT INTO wr.parts VALUES (6, 'zz', 'zz'), (1, 'zz', 'zz'), (10, 'zz', 'zz')
  ON CONFLICT (id) DO UPDATE SET body = pg_temp.leak_text(parts.patient_id || ':' || parts.body);
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- ... under EXPLAIN ANALYZE (the subplan instrumented).
BEGIN;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
INSERT INTO wr.parts VALUES (4, 'zz', 'zz'), (9, 'zz', 'zz'), (14, 'zz', 'zz')
  ON CONFLICT (id) DO UPDATE SET body = excluded.body
  WHERE pg_temp.leak(parts.id, parts.patient_id, parts.body);
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- ... written, committed: the reads and the writes.
INSERT INTO wr.parts VALUES (7, 'q7', 'b7'), (3, 'q3', 'b3')
  ON CONFLICT (id) DO UPDATE SET body = excluded.body
  WHERE pg_temp.leak_true(parts.id, parts.patient_id, parts.body);
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- ... and without such a function, the writes only.
INSERT INTO wr.parts VALUES (8, 'q8', 'b8'), (13, 'q13', 'b13')
  ON CONFLICT (id) DO UPDATE SET body = excluded.body;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;

-- 2. UPDATE and DELETE: the rows their filter accepts after showing them
-- to the function are read too, not only those it rejects.
BEGIN;
DELETE FROM wr.notes WHERE note_id < 4 AND pg_temp.leak_true(note_id, patient_id, body);
ROLLBACK;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- Rolled back to a savepoint, committed: the reads stay, the writes go.
BEGIN;
SAVEPOINT s;
UPDATE wr.notes SET body = body WHERE note_id IN (4, 5) AND pg_temp.leak_true(note_id, patient_id, body);
ROLLBACK TO SAVEPOINT s;
COMMIT;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- A table whose writes are not captured: the reads alone.
UPDATE wr.labs SET result = result WHERE pg_temp.leak_true(id, patient_id, result);
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- Some rows accepted, some rejected: all read.
DELETE FROM wr.labs WHERE pg_temp.leak(id, patient_id, result) OR id = 2;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
INSERT INTO wr.labs VALUES (2, 'l2', 'r2');
SELECT regress_reads.mark_now();
SET ROLE bh_wr_app;
-- The function in the new values: each row it is given is read.
BEGIN;
UPDATE wr.notes SET body = pg_temp.leak_text(patient_id || ':' || body) WHERE note_id <= 2;
ROLLBACK;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
UPDATE wr.labs SET result = pg_temp.leak_text(result) WHERE id >= 2;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- A partitioned target (its new values computed for each partition's rows).
EXPLAIN (COSTS OFF)
UPDATE wr.parts SET body = pg_temp.leak_text(patient_id || ':' || body) WHERE id IN (2, 5, 11);
BEGIN;
UPDATE wr.parts SET body = pg_temp.leak_text(patient_id || ':' || body) WHERE id IN (2, 5, 11);
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
BEGIN;
DELETE FROM wr.parts WHERE id IN (3, 6, 12) AND pg_temp.leak_true(id, patient_id, body);
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE bh_wr_app;
-- No such function: the writes only (none once rolled back).
BEGIN;
UPDATE wr.notes SET body = upper(body) WHERE note_id <= 2;
DELETE FROM wr.notes WHERE note_id = 3 AND body LIKE 'b%';
ROLLBACK;
UPDATE wr.notes SET body = body WHERE note_id <= 2 AND body LIKE 'b%';
UPDATE wr.labs SET result = upper(result) WHERE id = 1;
RESET ROLE;
SELECT action, patient_id FROM regress_reads.reads();

SELECT bh_audit.untag_table('wr.notes');
SELECT bh_audit.untag_table('wr.labs');
SELECT bh_audit.untag_table('wr.parts');
DROP SCHEMA wr CASCADE;
DROP FUNCTION pg_temp.leak(int, text, text), pg_temp.leak_true(int, text, text), pg_temp.leak_text(text);
DROP ROLE bh_wr_app;
SELECT count(*) FROM regress_reads.reads();
