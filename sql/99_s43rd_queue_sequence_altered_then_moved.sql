-- The queue's identity sequence moved to its maximum by a role that is no
-- superuser (pg_write_all_data gives UPDATE on it) after a superuser's
-- ALTER SEQUENCE of it that changed nothing that matters (CACHE 1, its
-- default: PostgreSQL 15 still rewrites the sequence into a new
-- relfilenode).  bh_seq_floor() returns at once when the sequence is no
-- longer in the relfilenode this database's block left it in ("followed
-- as it was"), before its taking back from the maximum: the reservation
-- fails, installs no block, and so does every later one -- every tagged
-- write fails "nextval: reached maximum value", until a superuser moves
-- the sequence back, as before the change.  The docs say a sequence moved
-- out of reach by setval() is taken back.  Right: the writes go on, and
-- the sequence is taken back.
\set VERBOSITY terse
CREATE ROLE regress_s43rd_etl;
GRANT pg_write_all_data TO regress_s43rd_etl;
CREATE TABLE s43rd_notes (id int, patient_id text);
SELECT bh_audit.tag_table('s43rd_notes', 'Note', 'id', 'patient_id');
INSERT INTO s43rd_notes VALUES (1, 'pat_s43rd');
SELECT last_value AS s43rd_last FROM bh_audit.queue_id_seq \gset
ALTER SEQUENCE bh_audit.queue_id_seq CACHE 1;
SET ROLE regress_s43rd_etl;
SELECT setval('bh_audit.queue_id_seq', 9223372036854775807) IS NOT NULL AS moved;
RESET ROLE;
INSERT INTO s43rd_notes VALUES (2, 'pat_s43rd');
INSERT INTO s43rd_notes VALUES (3, 'pat_s43rd');
SELECT count(*) AS rows_written FROM s43rd_notes;
SELECT last_value < 9223372036854775807 AS taken_back FROM bh_audit.queue_id_seq;
-- (put back for the tests that follow, whatever happened above)
SELECT setval('bh_audit.queue_id_seq', :s43rd_last + 100000) IS NOT NULL AS put_back;
INSERT INTO s43rd_notes VALUES (4, 'pat_s43rd');
SELECT bh_audit.untag_table('s43rd_notes');
DROP TABLE s43rd_notes;
DROP ROLE regress_s43rd_etl;
