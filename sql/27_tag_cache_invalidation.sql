-- The tag cache after invalidations of single relations (an ANALYZE, an
-- ALTER TABLE SET, an ATTACH or DETACH, a rename): only the entries they
-- can change are resolved again, and capture stays exact.  (Needs only
-- 01_install.)
CREATE TEMP TABLE mark (seq bigint);
CREATE TEMP VIEW new_events AS
SELECT seq, action, resource_type, resource_id, patient_id,
       event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events WHERE seq > (SELECT coalesce(max(seq), 0) FROM mark);
CREATE FUNCTION pg_temp.next() RETURNS void LANGUAGE sql AS $$
    SELECT bh_audit.seal();
    DELETE FROM mark;
    INSERT INTO mark SELECT max(seq) FROM bh_audit.events;
$$;
CREATE SCHEMA tc27;
SET search_path = tc27, public;
CREATE TABLE plain (id int PRIMARY KEY, v text);
INSERT INTO plain VALUES (1, 'a');
CREATE TABLE recs (id int, pid text, region int) PARTITION BY LIST (region);
CREATE TABLE recs_1 PARTITION OF recs FOR VALUES IN (1);
INSERT INTO recs VALUES (1, 'P1', 1);
CREATE TABLE solo (id int, pid text);
INSERT INTO solo VALUES (7, 'P7');
SELECT bh_audit.tag_table('recs', 'Rec', 'id', 'pid');
SELECT bh_audit.tag_table('solo', 'Solo', 'id', 'pid');
-- looked up: plain (not tagged), recs_1 and solo (tagged)
SELECT v FROM plain WHERE id = 1;
SELECT pid FROM recs_1;
SELECT pid FROM solo;
SELECT pg_temp.next();

-- ANALYZE and ALTER TABLE SET of the untagged table and of tagged ones:
-- the untagged one stays untagged, the tagged ones tagged, by their names.
INSERT INTO plain VALUES (2, 'b');
ANALYZE plain;
SELECT v FROM plain WHERE id = 1;
ALTER TABLE plain SET (fillfactor = 70);
SELECT v FROM plain WHERE id = 2;
ANALYZE recs_1;
SELECT pid FROM recs_1;
ALTER TABLE recs_1 SET (fillfactor = 70);
ANALYZE solo;
SELECT pid FROM solo;
ALTER TABLE solo SET (fillfactor = 70);
INSERT INTO solo VALUES (8, 'P8');
INSERT INTO recs VALUES (2, 'P2', 1);
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, tbl FROM new_events ORDER BY action = 'READ', seq;

-- A table looked up untagged, then attached under the tagged table; a
-- partitioned table whose partition was looked up untagged, attached (the
-- partition itself is not invalidated): both captured.  Detached: neither.
CREATE TABLE loose (id int, pid text, region int);
INSERT INTO loose VALUES (3, 'P3', 2);
CREATE TABLE mid (id int, pid text, region int) PARTITION BY LIST (region);
CREATE TABLE mid_3 PARTITION OF mid FOR VALUES IN (3);
INSERT INTO mid VALUES (4, 'P4', 3);
SELECT pid FROM loose;
SELECT pid FROM mid_3;
SELECT pg_temp.next();
ALTER TABLE recs ATTACH PARTITION loose FOR VALUES IN (2);
ALTER TABLE recs ATTACH PARTITION mid FOR VALUES IN (3);
SELECT pid FROM loose;
SELECT pid FROM mid_3;
UPDATE mid_3 SET pid = 'P44';
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, tbl FROM new_events ORDER BY action = 'READ', seq;
ALTER TABLE recs DETACH PARTITION loose;
ALTER TABLE recs DETACH PARTITION mid;
SELECT pg_temp.next();
SELECT pid FROM loose;
SELECT pid FROM mid_3;
UPDATE mid_3 SET pid = 'P4';
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS events FROM bh_audit.events WHERE seq > (SELECT max(seq) FROM mark);

-- A tagged table and its partition renamed, its id column renamed: events
-- name them by their new names and read the renamed column.
ALTER TABLE recs RENAME TO records;
ALTER TABLE recs_1 RENAME TO records_1;
ALTER TABLE records RENAME COLUMN id TO rec_id;
SELECT pg_temp.next();
SELECT pid FROM records_1;
INSERT INTO records VALUES (5, 'P5', 1);
SELECT pid FROM records WHERE rec_id = 5;
ALTER TABLE solo RENAME TO single;
DELETE FROM single WHERE id = 8;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id, tbl FROM new_events
 WHERE resource_type <> 'AuditConfiguration' ORDER BY action = 'READ', seq;

SELECT bh_audit.untag_table('records');
SELECT bh_audit.untag_table('single');
RESET search_path;
DROP SCHEMA tc27 CASCADE;
