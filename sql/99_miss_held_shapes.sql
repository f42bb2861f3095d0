-- Query shapes whose reads held under an adversarial read (each READ of
-- the patients whose rows the scans produced, once per statement): GROUPING
-- SETS, DISTINCT ON, a security_barrier view, a TID range scan, an
-- index-only scan of a covering index holding the patient column (INCLUDE),
-- a partition-wise join, JIT (when the server has it), and COPY of a
-- DELETE's RETURNING (an EXPORT of the row returned).
CREATE SCHEMA hs;
CREATE TABLE hs.notes (id int PRIMARY KEY, pid text, body text);
INSERT INTO hs.notes SELECT i, 'h' || i, 'b' || i FROM generate_series(1, 6) i;
CREATE INDEX notes_cov ON hs.notes (body) INCLUDE (pid);
CREATE TABLE hs.pt (id int, pid text) PARTITION BY RANGE (id);
CREATE TABLE hs.pt1 PARTITION OF hs.pt FOR VALUES FROM (1) TO (4);
CREATE TABLE hs.pt2 PARTITION OF hs.pt FOR VALUES FROM (4) TO (100);
INSERT INTO hs.pt SELECT i, 'q' || i FROM generate_series(1, 6) i;
VACUUM ANALYZE hs.notes, hs.pt;
SELECT bh_audit.tag_table('hs.notes', 'HsNote', 'id', 'pid');
SELECT bh_audit.tag_table('hs.pt', 'HsPt', 'id', 'pid');
CREATE VIEW hs.sbv WITH (security_barrier) AS SELECT * FROM hs.notes WHERE id > 4;
SELECT regress_reads.mark_now();
SELECT pid, count(*) FROM hs.notes WHERE id IN (3, 4) GROUP BY GROUPING SETS ((pid), ()) ORDER BY 1;
SELECT action, patient_id FROM regress_reads.reads();
SELECT DISTINCT ON (pid) pid FROM hs.notes WHERE id > 4 ORDER BY pid;
SELECT action, patient_id FROM regress_reads.reads();
SELECT id FROM hs.sbv WHERE body <> '' ORDER BY id;
SELECT action, patient_id FROM regress_reads.reads();
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT body FROM hs.notes WHERE ctid >= '(0,5)' AND ctid < '(1,0)';
SELECT body FROM hs.notes WHERE ctid >= '(0,5)' AND ctid < '(1,0)' ORDER BY body;
SELECT action, patient_id FROM regress_reads.reads();
EXPLAIN (COSTS OFF) SELECT body, pid FROM hs.notes WHERE body > 'b4';
SELECT body, pid FROM hs.notes WHERE body > 'b4' ORDER BY body;
SELECT action, patient_id FROM regress_reads.reads();
RESET enable_seqscan;
RESET enable_bitmapscan;
SET enable_partitionwise_join = on;
SET enable_partitionwise_aggregate = on;
EXPLAIN (COSTS OFF) SELECT a.pid, count(*) FROM hs.pt a JOIN hs.pt b USING (id) GROUP BY a.pid;
SELECT a.pid, count(*) FROM hs.pt a JOIN hs.pt b USING (id) GROUP BY a.pid ORDER BY a.pid;
SELECT action, patient_id FROM regress_reads.reads();
RESET enable_partitionwise_join;
RESET enable_partitionwise_aggregate;
SET jit = on;
SET jit_above_cost = 0;
SET jit_inline_above_cost = 0;
SET jit_optimize_above_cost = 0;
SELECT pid, count(*) FROM hs.notes WHERE id IN (1, 2) GROUP BY pid ORDER BY pid;
SELECT action, patient_id FROM regress_reads.reads();
RESET jit;
RESET jit_above_cost;
RESET jit_inline_above_cost;
RESET jit_optimize_above_cost;
BEGIN;
COPY (DELETE FROM hs.notes WHERE id = 2 RETURNING id, pid) TO STDOUT;
ROLLBACK;
SELECT action, patient_id FROM regress_reads.reads();
DROP SCHEMA hs CASCADE;
