-- A MERGE's target is a write (docs/read-capture.md), but a matched row the
-- MERGE leaves as it is (WHEN MATCHED THEN DO NOTHING, or no WHEN MATCHED
-- action at all) gets no write event: nothing changed it.  The target's
-- scan produced it, and the statement shows it (the rows inserted, the
-- row count: "is patient X in this table?"), so committed it must be a
-- READ of its patient: otherwise nothing records that the row was read.
-- (Other target rows the scan produced may count too: only the matched
-- patient is asserted.)  Control: a matched row the MERGE updates is a write.
CREATE SCHEMA mm;
CREATE TABLE mm.notes (id int PRIMARY KEY, pid text, body text);
INSERT INTO mm.notes VALUES (1, 'm1', 'a'), (2, 'm2', 'b'), (3, 'm3', 'c');
SELECT bh_audit.tag_table('mm.notes', 'MmNote', 'id', 'pid');
SELECT regress_reads.mark_now();
-- only WHEN NOT MATCHED: m2 matched (not inserted), m9 inserted
MERGE INTO mm.notes t USING (VALUES ('m2'), ('m9')) s(pid) ON t.pid = s.pid
  WHEN NOT MATCHED THEN INSERT VALUES (9, s.pid, 'new');
SELECT count(*) FILTER (WHERE action = 'READ' AND patient_id = 'm2') AS m2_read,
       count(*) FILTER (WHERE action = 'CREATE' AND patient_id = 'm9') AS m9_created
  FROM regress_reads.reads();
-- WHEN MATCHED THEN DO NOTHING: m3 matched, left as it is
MERGE INTO mm.notes t USING (VALUES ('m3')) s(pid) ON t.pid = s.pid
  WHEN MATCHED THEN DO NOTHING;
SELECT count(*) FILTER (WHERE action = 'READ' AND patient_id = 'm3') AS m3_read
  FROM regress_reads.reads();
-- control: m1 matched and updated: its write
MERGE INTO mm.notes t USING (VALUES ('m1')) s(pid) ON t.pid = s.pid
  WHEN MATCHED THEN UPDATE SET body = 'z';
SELECT count(*) FILTER (WHERE action = 'UPDATE' AND patient_id = 'm1') AS m1_updated
  FROM regress_reads.reads();
-- Every kind of row at once (the table holds m1 to m3 and m9): m1 updated
-- and m2 deleted are writes only, m3 matched but passing no WHEN MATCHED
-- AND condition is read, m4 inserted; m9, a target row no source row
-- matched, is not attributed.
MERGE INTO mm.notes t
  USING (VALUES ('m1', 'u'), ('m2', 'd'), ('m3', 'k'), ('m4', 'i')) s(pid, op) ON t.pid = s.pid
  WHEN MATCHED AND s.op = 'u' THEN UPDATE SET body = 'zz'
  WHEN MATCHED AND s.op = 'd' THEN DELETE
  WHEN NOT MATCHED THEN INSERT VALUES (4, s.pid, 'new');
SELECT action, patient_id FROM regress_reads.reads();
-- A BEFORE ROW trigger that returns NULL leaves the row as it is: read.
CREATE FUNCTION mm.keep() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TRIGGER keep BEFORE UPDATE ON mm.notes FOR EACH ROW WHEN (OLD.pid = 'm3')
  EXECUTE FUNCTION mm.keep();
MERGE INTO mm.notes t USING (VALUES ('m1'), ('m3')) s(pid) ON t.pid = s.pid
  WHEN MATCHED THEN UPDATE SET body = 'y';
SELECT action, patient_id FROM regress_reads.reads();
DROP TRIGGER keep ON mm.notes;
-- A partitioned target: each partition's rows; a row moved to another
-- partition (q2: deleted from one, created in the other) is a write only.
CREATE TABLE mm.parts (id int, pid text, body text) PARTITION BY RANGE (id);
CREATE TABLE mm.parts_a PARTITION OF mm.parts FOR VALUES FROM (0) TO (10);
CREATE TABLE mm.parts_b PARTITION OF mm.parts FOR VALUES FROM (10) TO (20);
INSERT INTO mm.parts VALUES (1, 'q1', 'a'), (2, 'q2', 'b'), (3, 'q3', 'c'),
  (11, 'q11', 'd'), (12, 'q12', 'e'), (13, 'q13', 'f');
SELECT bh_audit.tag_table('mm.parts', 'MmPart', 'id', 'pid');
SELECT regress_reads.mark_now();
MERGE INTO mm.parts t USING (VALUES (1, 'n'), (2, 'm'), (11, 'n'), (12, 'k')) s(id, op)
  ON t.id = s.id
  WHEN MATCHED AND s.op = 'm' THEN UPDATE SET id = t.id + 15
  WHEN MATCHED AND s.op = 'n' THEN DO NOTHING;
SELECT action, patient_id FROM regress_reads.reads();
-- A table without a patient column: the rows left as they are, counted.
-- When the target's scan shows its rows to a user's function (a WHEN
-- MATCHED AND condition calling one), every row the scan produced is read
-- there (all three: a sequential scan), and the rows left as they are are
-- not counted twice.
CREATE TABLE mm.codes (id int PRIMARY KEY, body text);
INSERT INTO mm.codes VALUES (1, 'a'), (2, 'b'), (3, 'c');
SELECT bh_audit.tag_table('mm.codes', 'MmCode', 'id');
SELECT regress_reads.mark_now();
MERGE INTO mm.codes t USING (VALUES (1), (2)) s(id) ON t.id = s.id
  WHEN MATCHED THEN DO NOTHING;
SELECT action, resource_type, patient_id, meta FROM regress_reads.reads();
CREATE FUNCTION mm.is_x(text) RETURNS bool LANGUAGE plpgsql AS $$BEGIN RETURN $1 = 'x'; END$$;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
MERGE INTO mm.codes t USING (VALUES (1), (2)) s(id) ON t.id = s.id
  WHEN MATCHED AND mm.is_x(t.body) THEN DELETE;
RESET enable_indexscan;
RESET enable_bitmapscan;
SELECT action, resource_type, patient_id, meta FROM regress_reads.reads();
DROP SCHEMA mm CASCADE;
