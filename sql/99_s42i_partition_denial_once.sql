-- A statement refused a tagged partitioned table is one DENIED event of
-- it, however it names the table: the partitioned table and one of its
-- partitions, or two of its partitions (each a partition's denial of its
-- tagged table, docs/read-capture.md "once per table and statement"), as a
-- self-join of one partition is.  PostgreSQL refuses the first relation
-- it checks and raises: that refusal, once, with its message.
CREATE SCHEMA spd;
CREATE TABLE spd.parts (id int, patient_id text, body text) PARTITION BY RANGE (id);
CREATE TABLE spd.parts_1 PARTITION OF spd.parts FOR VALUES FROM (0) TO (10);
CREATE TABLE spd.parts_2 PARTITION OF spd.parts FOR VALUES FROM (10) TO (20);
INSERT INTO spd.parts VALUES (1, 'p1', 'a'), (11, 'p2', 'b');
SELECT bh_audit.tag_table('spd.parts', 'SpdPart', 'id', 'patient_id');
CREATE ROLE regress_spd_user;
GRANT USAGE ON SCHEMA spd TO regress_spd_user;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE spd_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

SET ROLE regress_spd_user;
-- the partitioned table and a partition: one denial (parts)
SELECT count(*) FROM spd.parts, spd.parts_1;
-- two partitions: one denial (parts_1)
SELECT count(*) FROM spd.parts_1, spd.parts_2;
-- a partition twice: one denial (parts_2)
SELECT count(*) FROM spd.parts_2 a, spd.parts_2 b;
-- a write naming the partitioned table, reading a partition: one denial
UPDATE spd.parts SET body = 'x' FROM spd.parts_2 p WHERE parts.id = p.id;
RESET ROLE;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type, resource_type,
       event -> 'metadata' ->> 'table' AS tbl,
       event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM spd_mark) AND resource_type = 'SpdPart'
 ORDER BY seq;

SELECT bh_audit.untag_table('spd.parts');
DROP TABLE spd.parts;
DROP SCHEMA spd;
DROP TABLE spd_mark;
DROP ROLE regress_spd_user;
