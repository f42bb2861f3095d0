-- lastval() after a write of a tagged table is the application's own
-- sequence's value, as without bh_audit: the queue row that holds the
-- write's events (written at the commit, or before it for a write of many
-- rows) takes its id from bh_audit.queue_id_seq, and that must not become
-- the session's "last sequence used" (PHP's PDO::lastInsertId() without a
-- name, and other drivers, run SELECT lastval() after an INSERT).  A role
-- that may not read the queue's sequence gets its own value too, and no
-- DENIED event of bh_audit.queue_id_seq: it never asked for that sequence.
CREATE ROLE regress_lv99_app;
CREATE SCHEMA lv99;
GRANT USAGE ON SCHEMA lv99 TO regress_lv99_app;
CREATE TABLE lv99.pat (id serial PRIMARY KEY, name text);
GRANT INSERT, SELECT ON lv99.pat TO regress_lv99_app;
GRANT USAGE ON SEQUENCE lv99.pat_id_seq TO regress_lv99_app;
SELECT bh_audit.tag_table('lv99.pat', 'Lv99Patient', 'id', 'id');
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE lv99_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- a superuser: one row, its events queued at the commit
INSERT INTO lv99.pat (name) VALUES ('a');
SELECT lastval() = currval('lv99.pat_id_seq') AS lastval_is_own;
-- many rows in a transaction: a queue row written before the commit
BEGIN;
INSERT INTO lv99.pat (name) SELECT 'n' FROM generate_series(1, 300);
SELECT lastval() = currval('lv99.pat_id_seq') AS lastval_is_own;
COMMIT;
SELECT lastval() = currval('lv99.pat_id_seq') AS lastval_is_own;

-- a role that may not read the queue's sequence
SET ROLE regress_lv99_app;
INSERT INTO lv99.pat (name) VALUES ('b');
SELECT lastval() = currval('lv99.pat_id_seq') AS lastval_is_own;
BEGIN;
INSERT INTO lv99.pat (name) SELECT 'n' FROM generate_series(1, 300);
SELECT lastval() = currval('lv99.pat_id_seq') AS lastval_is_own;
COMMIT;
RESET ROLE;

-- no DENIED event: nobody asked for the queue's sequence
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS denials
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM lv99_mark) AND outcome = 'DENIED';

SELECT bh_audit.untag_table('lv99.pat');
DROP SCHEMA lv99 CASCADE;
DROP ROLE regress_lv99_app;
