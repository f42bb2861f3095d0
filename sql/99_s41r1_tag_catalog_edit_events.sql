-- A superuser's direct edit of the tag catalog is recorded "once per
-- statement" (threat-model.md), by the catalog's statement trigger
-- (tag_cache.c).  A MERGE whose WHEN clauses name UPDATE and DELETE fires
-- both statement triggers, and queues two events for one statement (the
-- second naming a DELETE no row had); a DELETE or UPDATE that changed no
-- row queues one, for an edit that took no capture away (rows added are
-- not recorded for that reason).  Right: one event for the MERGE, none
-- for a statement that changed no row.  (In transactions rolled back: the
-- held events are read with pending_events().)
\set VERBOSITY terse
CREATE TABLE s41r1_cat (id int, patient_id text);
SELECT bh_audit.tag_table('s41r1_cat', 'Note', 'id', 'patient_id');
BEGIN;
MERGE INTO bh_audit.tags t USING (SELECT 's41r1_cat'::regclass AS tbl) s ON t.tbl = s.tbl
  WHEN MATCHED AND t.part2 THEN DELETE
  WHEN MATCHED THEN UPDATE SET capture_reads = false;
SELECT count(*) AS merge_events FROM bh_audit.pending_events() e
 WHERE e -> 'metadata' ->> 'change' = 'edit the tag catalog directly';
ROLLBACK;
BEGIN;
DELETE FROM bh_audit.tags WHERE tbl = 's41r1_cat'::regclass AND false;
UPDATE bh_audit.tags SET capture_reads = false WHERE false;
SELECT count(*) AS no_row_events FROM bh_audit.pending_events() e
 WHERE e -> 'metadata' ->> 'change' = 'edit the tag catalog directly';
ROLLBACK;
SELECT bh_audit.untag_table('s41r1_cat');
DROP TABLE s41r1_cat;
