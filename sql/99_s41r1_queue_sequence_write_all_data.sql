-- The queue's identity sequence moved by a role that is no superuser:
-- pg_write_all_data (an ETL login; a CREATEROLE role can grant it to
-- itself) gives UPDATE on every sequence, so setval() of
-- bh_audit.queue_id_seq is allowed, though own_acl.c refuses the role any
-- write of the queue itself.  Moved to its maximum, every later write of
-- every tagged table fails ("nextval: reached maximum value of sequence
-- queue_id_seq"), the application's included, until a superuser puts it
-- back; moved back, later commits take lower ids than earlier ones, where
-- the sealer relies on ids increasing (queue_ids.c).  PostgreSQL checks
-- setval()'s and nextval()'s privilege itself, with no hook to refuse them
-- by: a known limit (docs/threat-model.md, "Availability": such a role is
-- a superuser's equal for availability).  This shows the behaviour
-- documented: both moves allowed, the application's write failing while
-- the sequence is at its maximum, and recorded once it is put back.
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
-- the application's write fails (its queue ids are taken at commit)
INSERT INTO s41r1_notes VALUES (1, 'pat_s41r1');
SELECT count(*) AS rows_written FROM s41r1_notes;
-- put back by a superuser: the write goes on, and is recorded
SELECT setval('bh_audit.queue_id_seq', :s41r1_last, :'s41r1_called') = :s41r1_last AS put_back;
INSERT INTO s41r1_notes VALUES (1, 'pat_s41r1');
SELECT count(*) AS rows_written FROM s41r1_notes;
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
-- (put back: a later test's writes must not take ids used before)
SELECT setval('bh_audit.queue_id_seq', :s41r1_last, :'s41r1_called') = :s41r1_last AS put_back;
SELECT bh_audit.untag_table('s41r1_notes');
DROP TABLE s41r1_notes;
DROP ROLE regress_s41r1_etl;
