-- The queue's identity sequence moved by a role that is no superuser:
-- pg_write_all_data (an ETL login; a CREATEROLE role can grant it to
-- itself) gives UPDATE on every sequence, so setval() of
-- bh_audit.queue_id_seq is allowed, though own_acl.c refuses the role any
-- write of the queue itself: PostgreSQL checks setval()'s and nextval()'s
-- privilege itself, with no hook to refuse them by.  The moves are made
-- harmless instead (queue_ids.c, bh_seq_floor()): moved to its maximum,
-- the next write's queue ids go on after those given (before: every later
-- write of every tagged table failed, "nextval: reached maximum value of
-- sequence queue_id_seq", until a superuser put it back), and the
-- sequence is taken back; moved back, the ids go on after those given and
-- queued (test/t/313 shows the duplicate keys and the order).  This shows
-- both moves allowed, and the application's writes after them recorded.
\set VERBOSITY terse
CREATE ROLE regress_s41r1_etl;
GRANT pg_write_all_data TO regress_s41r1_etl;
CREATE TABLE s41r1_notes (id int, patient_id text);
SELECT bh_audit.tag_table('s41r1_notes', 'Note', 'id', 'patient_id');
SELECT last_value AS s41r1_last, is_called AS s41r1_called FROM bh_audit.queue_id_seq \gset
SET ROLE regress_s41r1_etl;
DO $$
BEGIN
  PERFORM setval('bh_audit.queue_id_seq', 9223372036854775807);
  RAISE NOTICE 'moved to its maximum';
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'refused';
END $$;
RESET ROLE;
SELECT last_value = :s41r1_last AS sequence_where_it_was FROM bh_audit.queue_id_seq;
-- the application's write goes on (its queue ids are taken at commit),
-- and the sequence is taken back from its maximum
INSERT INTO s41r1_notes VALUES (1, 'pat_s41r1');
SELECT count(*) AS rows_written FROM s41r1_notes;
SELECT last_value > :s41r1_last AND last_value < :s41r1_last + 100000 AS taken_back
  FROM bh_audit.queue_id_seq;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS insert_recorded FROM bh_audit.events
 WHERE event -> 'resource' ->> 'type' = 'Note' AND event -> 'resource' ->> 'patient_id' = 'pat_s41r1'
   AND event -> 'action' ->> 'type' = 'CREATE';
SELECT last_value AS s41r1_last, is_called AS s41r1_called FROM bh_audit.queue_id_seq \gset
-- moved back
SET ROLE regress_s41r1_etl;
DO $$
BEGIN
  PERFORM setval('bh_audit.queue_id_seq', 1);
  RAISE NOTICE 'moved back';
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'refused';
END $$;
RESET ROLE;
SELECT last_value = :s41r1_last AS sequence_where_it_was FROM bh_audit.queue_id_seq;
-- the application's write goes on, with an id after those given
INSERT INTO s41r1_notes VALUES (2, 'pat_s41r1');
SELECT count(*) AS rows_written FROM s41r1_notes;
SELECT last_value > :s41r1_last AS after_those_given FROM bh_audit.queue_id_seq;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS inserts_recorded FROM bh_audit.events
 WHERE event -> 'resource' ->> 'type' = 'Note' AND event -> 'resource' ->> 'patient_id' = 'pat_s41r1'
   AND event -> 'action' ->> 'type' = 'CREATE';
SELECT bh_audit.untag_table('s41r1_notes');
DROP TABLE s41r1_notes;
DROP ROLE regress_s41r1_etl;
