-- Index-only scans that return no patient column.  A query that needs no
-- column of a tagged table (count(*), SELECT 1, a partial index's own
-- predicate) may be planned as an index-only scan of an index without the
-- patient column: each row it returns is still attributed to its patient.
CREATE SCHEMA ior;
CREATE TABLE ior.notes (id int PRIMARY KEY, pid text NOT NULL, body text);
INSERT INTO ior.notes SELECT g, 'p' || g, 'secret' || g FROM generate_series(1, 4) g;
SELECT bh_audit.tag_table('ior.notes', 'IosNote', 'id', 'pid');

-- The events since the last mark: 29_read_events.
SELECT regress_reads.mark_now();
SELECT count(*) FROM regress_reads.reads();

-- count(*): an index-only scan of the primary key, which has no patient column.
VACUUM ior.notes;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ior.notes;
SELECT count(*) FROM ior.notes;
SELECT * FROM regress_reads.reads();
-- A partial index whose predicate is the only condition.
CREATE INDEX notes_p3 ON ior.notes (id) WHERE pid = 'p3';
VACUUM ior.notes;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ior.notes WHERE pid = 'p3';
SELECT count(*) FROM ior.notes WHERE pid = 'p3';
SELECT * FROM regress_reads.reads();
DROP INDEX ior.notes_p3;
-- Rows changed since the table was vacuumed (a HOT chain whose newest
-- version holds another patient): the scan visits the heap itself, and the
-- version it returns is the one attributed; after a VACUUM the index entry
-- leads to it through the chain's redirect.
UPDATE ior.notes SET pid = 'p2-new' WHERE id = 2;
EXPLAIN (COSTS OFF) SELECT 1 FROM ior.notes;
SELECT 1 FROM ior.notes;
SELECT * FROM regress_reads.reads() WHERE action = 'READ';
VACUUM ior.notes;
SELECT 1 FROM ior.notes;
SELECT * FROM regress_reads.reads();
-- Moved by the reading transaction itself: the version read holds p2-new's
-- record, who is read too (41_moved_patient_reads).
BEGIN;
UPDATE ior.notes SET pid = 'p2-uncommitted' WHERE id = 2;
SELECT count(*) FROM ior.notes;
ROLLBACK;
SELECT * FROM regress_reads.reads() WHERE action = 'READ';
-- A prepared statement with a generic plan.
SET plan_cache_mode = force_generic_plan;
PREPARE ior_q (bool) AS SELECT count(*) FROM ior.notes WHERE $1;
EXPLAIN (COSTS OFF) EXECUTE ior_q (true);
EXECUTE ior_q (true);
SELECT * FROM regress_reads.reads();
DEALLOCATE ior_q;
RESET plan_cache_mode;
-- A cursor fetched in two steps: its reads are recorded when it closes;
-- one closed before its end releases what it holds (no buffer left pinned
-- at COMMIT).
BEGIN;
EXPLAIN (COSTS OFF) DECLARE c CURSOR FOR SELECT 1 FROM ior.notes;
DECLARE c CURSOR FOR SELECT 1 FROM ior.notes;
FETCH 2 FROM c;
FETCH 1 FROM c;
CLOSE c;
COMMIT;
SELECT * FROM regress_reads.reads();
-- left open at COMMIT, or at ROLLBACK
BEGIN;
DECLARE c CURSOR FOR SELECT 1 FROM ior.notes;
FETCH 1 FROM c;
COMMIT;
SELECT * FROM regress_reads.reads();
BEGIN;
DECLARE c CURSOR FOR SELECT 1 FROM ior.notes;
FETCH 2 FROM c;
ROLLBACK;
SELECT * FROM regress_reads.reads();
-- An error midway: the rows returned before it are read.
CREATE SEQUENCE ior.s;
SELECT 1 / (3 - nextval('ior.s')::int) FROM ior.notes;
SELECT * FROM regress_reads.reads();
-- ... also in an exception block that goes on.
DO $$
BEGIN
    PERFORM setval('ior.s', 1, false);
    BEGIN
        PERFORM 1 / (2 - nextval('ior.s')::int) FROM ior.notes;
    EXCEPTION WHEN division_by_zero THEN
        RAISE NOTICE 'caught';
    END;
    PERFORM count(*) FROM ior.notes WHERE id = 4;
END $$;
SELECT action, patient_id, outcome FROM regress_reads.reads() ORDER BY 3, 2;
DROP SEQUENCE ior.s;

-- A tagged table without a patient column: one event with the rows read.
CREATE TABLE ior.codes (id int PRIMARY KEY, label text);
INSERT INTO ior.codes SELECT g, 'code ' || g FROM generate_series(1, 5) g;
SELECT bh_audit.tag_table('ior.codes', 'IosCode', 'id', NULL);
VACUUM ior.codes;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ior.codes;
SELECT count(*) FROM ior.codes;
SELECT * FROM regress_reads.reads();

-- A tagged partitioned table (one partition with a dropped column, so that
-- its patient column has another number than the parent's).
CREATE TABLE ior.visits (id int, pid text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE ior.visits_1 PARTITION OF ior.visits FOR VALUES FROM (0) TO (10);
CREATE TABLE ior.visits_2 (junk int, id int NOT NULL, pid text);
ALTER TABLE ior.visits_2 DROP COLUMN junk;
ALTER TABLE ior.visits ATTACH PARTITION ior.visits_2 FOR VALUES FROM (10) TO (20);
INSERT INTO ior.visits VALUES (1, 'v1'), (2, 'v2'), (11, 'v11'), (12, 'v12');
SELECT bh_audit.tag_table('ior.visits', 'IosVisit', 'id', 'pid');
VACUUM ior.visits_1, ior.visits_2;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ior.visits;
SELECT count(*) FROM ior.visits;
SELECT * FROM regress_reads.reads();
-- A tagged partition of an untagged parent, an inheritance child tagged
-- under an untagged parent.
CREATE TABLE ior.stays (id int, pid text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE ior.stays_1 PARTITION OF ior.stays FOR VALUES FROM (0) TO (10);
CREATE TABLE ior.stays_2 PARTITION OF ior.stays FOR VALUES FROM (10) TO (20);
INSERT INTO ior.stays VALUES (1, 's1'), (11, 's11');
SELECT bh_audit.tag_table('ior.stays_2', 'IosStay', 'id', 'pid');
CREATE TABLE ior.base (id int PRIMARY KEY, pid text);
CREATE TABLE ior.kid () INHERITS (ior.base);
ALTER TABLE ior.kid ADD PRIMARY KEY (id);
INSERT INTO ior.base VALUES (1, 'b1');
INSERT INTO ior.kid VALUES (2, 'k2'), (3, 'k3');
SELECT bh_audit.tag_table('ior.kid', 'IosKid', 'id', 'pid');
VACUUM ior.stays_1, ior.stays_2, ior.base, ior.kid;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ior.stays;
SELECT count(*) FROM ior.stays;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ior.base;
SELECT count(*) FROM ior.base;
SELECT * FROM regress_reads.reads();

-- Bitmap heap scans read the heap, also when no column is needed.
SET enable_indexscan = off;
CREATE INDEX notes_p3 ON ior.notes (id) WHERE pid = 'p3';
VACUUM ior.notes;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ior.notes WHERE pid = 'p3';
SELECT count(*) FROM ior.notes WHERE pid = 'p3';
SELECT * FROM regress_reads.reads();
EXPLAIN (COSTS OFF) SELECT count(*) FROM ior.notes WHERE id IN (1, 3);
SELECT count(*) FROM ior.notes WHERE id IN (1, 3);
SELECT * FROM regress_reads.reads();
RESET enable_indexscan;
RESET enable_seqscan;

SELECT bh_audit.untag_table('ior.notes');
SELECT bh_audit.untag_table('ior.codes');
SELECT bh_audit.untag_table('ior.visits');
SELECT bh_audit.untag_table('ior.stays_2');
SELECT bh_audit.untag_table('ior.kid');
DROP SCHEMA ior CASCADE;
SELECT count(*) FROM regress_reads.reads();
