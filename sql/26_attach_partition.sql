-- ATTACH PARTITION under a tagged table: every table with storage that
-- arrives (attached itself, or under an attached partitioned table, at any
-- depth, or created later under one) gets its TRUNCATE trigger, and the
-- rows it brings are recorded as joining the tagged table, the counterpart
-- of a detach.  (Needs only 01_install.)
CREATE TEMP TABLE mark (seq bigint);
CREATE TEMP VIEW new_events AS
SELECT seq, action, resource_type, resource_id, patient_id,
       (event -> 'metadata') - 'db_user' AS meta
  FROM bh_audit.events WHERE seq > (SELECT coalesce(max(seq), 0) FROM mark);
CREATE FUNCTION pg_temp.next() RETURNS void LANGUAGE sql AS $$
    SELECT bh_audit.seal();
    DELETE FROM mark;
    INSERT INTO mark SELECT max(seq) FROM bh_audit.events;
$$;
CREATE SCHEMA att26;
CREATE TEMP VIEW capture_triggers AS
SELECT c.relname AS tbl, t.tgname, t.tgfoid::regprocedure AS fn, t.tgenabled
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname LIKE 'bh_audit%' AND c.relnamespace = 'att26'::regnamespace
 ORDER BY c.relname, t.tgname;

SET search_path = att26, public;
CREATE TABLE recs (id int, pid text, region int) PARTITION BY LIST (region);
CREATE TABLE recs_1 PARTITION OF recs FOR VALUES IN (1);
SELECT bh_audit.tag_table('recs', 'Rec', 'id', 'pid');
SELECT pg_temp.next();

-- A partitioned table attached: its leaf gets the TRUNCATE trigger (the row
-- trigger PostgreSQL clones), and the leaf's rows joining are recorded.
CREATE TABLE sub5 (id int, pid text, region int) PARTITION BY RANGE (id);
CREATE TABLE leaf5 PARTITION OF sub5 FOR VALUES FROM (0) TO (1000);
INSERT INTO sub5 VALUES (400, 'p400', 5), (401, 'p401', 5);
ANALYZE leaf5;
ALTER TABLE recs ATTACH PARTITION sub5 FOR VALUES IN (5);
SELECT * FROM capture_triggers WHERE tbl IN ('sub5', 'leaf5');
SELECT * FROM bh_audit.capture_status();
-- TRUNCATE of the leaf, then of the sub-partition: one DELETE per table
-- truncated (the partitioned one's without a row estimate).
INSERT INTO recs VALUES (500, 'p500', 5);
TRUNCATE leaf5;
INSERT INTO recs VALUES (501, 'p501', 5);
TRUNCATE sub5;
-- A partition created later under the attached sub-partition: its own
-- trigger; created empty, it needs no attach event.
CREATE TABLE leaf5b PARTITION OF sub5 FOR VALUES FROM (1000) TO (2000);
INSERT INTO recs VALUES (1500, 'p1500', 5);
TRUNCATE leaf5b;
SELECT * FROM bh_audit.capture_status();
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, meta FROM new_events ORDER BY seq;
SELECT pg_temp.next();

-- A plain table attached with rows: recorded after it succeeded, with the
-- row estimate where it was analyzed; rolled back, nothing.
CREATE TABLE recs_3 (id int, pid text, region int);
INSERT INTO recs_3 VALUES (30, 'p30', 3);
ANALYZE recs_3;
ALTER TABLE recs ATTACH PARTITION recs_3 FOR VALUES IN (3);
CREATE TABLE recs_4 (id int, pid text, region int);
INSERT INTO recs_4 VALUES (40, 'p40', 4);
BEGIN;
ALTER TABLE recs ATTACH PARTITION recs_4 FOR VALUES IN (4);
ROLLBACK;
BEGIN;
SAVEPOINT s;
ALTER TABLE recs ATTACH PARTITION recs_4 FOR VALUES IN (4);
ROLLBACK TO SAVEPOINT s;
COMMIT;
-- A failed attach (a row outside the bound): nothing.
INSERT INTO recs_4 VALUES (41, 'p41', 9);
ALTER TABLE recs ATTACH PARTITION recs_4 FOR VALUES IN (4);
SELECT * FROM capture_triggers WHERE tbl IN ('recs_3', 'recs_4');
-- Nested: under the untagged sub-partition of the tagged table, a plain
-- table and a partitioned one with its own partitioned table and leaf.
CREATE TABLE leaf5c (id int, pid text, region int);
INSERT INTO leaf5c VALUES (2500, 'p2500', 5);
ALTER TABLE sub5 ATTACH PARTITION leaf5c FOR VALUES FROM (2000) TO (3000);
CREATE TABLE sub5d (id int, pid text, region int) PARTITION BY RANGE (id);
CREATE TABLE sub5dd PARTITION OF sub5d FOR VALUES FROM (3000) TO (3500) PARTITION BY RANGE (id);
CREATE TABLE leaf5dd PARTITION OF sub5dd FOR VALUES FROM (3000) TO (3500);
CREATE TABLE leaf5d PARTITION OF sub5d FOR VALUES FROM (3500) TO (4000);
INSERT INTO sub5d VALUES (3100, 'p3100', 5), (3600, 'p3600', 5);
ALTER TABLE sub5 ATTACH PARTITION sub5d FOR VALUES FROM (3000) TO (4000);
-- and a partition created under that deeper one
CREATE TABLE leaf5de PARTITION OF sub5dd FOR VALUES FROM (3500) TO (3600);
SELECT * FROM capture_triggers
 WHERE tbl IN ('leaf5c', 'sub5d', 'sub5dd', 'leaf5dd',
               'leaf5d', 'leaf5de');
SELECT * FROM bh_audit.capture_status();
TRUNCATE leaf5dd;
TRUNCATE sub5d;
-- CREATE TABLE ... PARTITION OF (new, empty): no attach event.  An attach
-- under an untagged table: no event.
CREATE TABLE recs_6 PARTITION OF recs FOR VALUES IN (6);
CREATE TABLE other (id int, pid text, region int) PARTITION BY LIST (region);
CREATE TABLE other_1 (id int, pid text, region int);
INSERT INTO other_1 VALUES (1, 'o1', 1);
ALTER TABLE other ATTACH PARTITION other_1 FOR VALUES IN (1);
SELECT count(*) AS other_triggers FROM capture_triggers WHERE tbl LIKE 'other%';
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, meta FROM new_events ORDER BY seq;
SELECT pg_temp.next();

-- Detached again: the counterpart, and no capture trigger left.  TRUNCATE
-- of the whole tagged table reaches every table that arrived.
ALTER TABLE recs DETACH PARTITION recs_3;
SELECT count(*) AS recs_3_triggers FROM capture_triggers WHERE tbl = 'recs_3';
TRUNCATE recs;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, meta FROM new_events ORDER BY seq;

SELECT bh_audit.untag_table('recs');
DROP TABLE recs, recs_3, recs_4, other;
DROP VIEW capture_triggers;
RESET search_path;
DROP SCHEMA att26;
SELECT pg_temp.next();
