-- An event keeps an id's first 256 characters; a text, varchar or bytea id
-- or patient value longer than 4 kB is printed from its first bytes only.
-- A bytea over 512 MB, printed whole as hex, passed PostgreSQL's 1 GB
-- limit: every read, UPDATE and DELETE of the tagged table failed with
-- XX000 "invalid memory alloc request size".
CREATE SCHEMA hugeb;
CREATE TABLE hugeb.t (id int, pb bytea);
INSERT INTO hugeb.t VALUES (1, convert_to(repeat('a', 600000000), 'UTF8'));
SELECT bh_audit.tag_table('hugeb.t', 'HugeB', 'id', 'pb');
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark AS SELECT max(seq) AS seq FROM bh_audit.events;
SELECT count(*) FROM hugeb.t;
UPDATE hugeb.t SET id = 2;
DELETE FROM hugeb.t;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, char_length(patient_id) AS patient_id_length,
       left(patient_id, 6) = '\x6161' AND right(patient_id, 3) = '...' AS cut
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'HugeB'
 ORDER BY seq;
-- A text id of 5,000 two-byte characters (10 kB, printed from its first
-- 4 kB) is stored as its first 300 characters are: the same cut.
CREATE TABLE hugeb.n (id text PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('hugeb.n', 'HugeN', 'id', 'patient');
INSERT INTO hugeb.n VALUES (repeat('é', 5000), repeat('ü', 5000)),
                           (repeat('é', 300) || 'x', repeat('ü', 300) || 'x');
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS events, count(DISTINCT resource_id) AS ids, count(DISTINCT patient_id) AS patients,
       min(char_length(resource_id)) AS id_length
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'HugeN' AND action = 'CREATE';
DROP TABLE mark;
DROP SCHEMA hugeb CASCADE;
