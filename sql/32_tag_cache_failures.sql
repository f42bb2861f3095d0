-- A failure in parse analysis is matched against the tag cache as last
-- loaded.  An ANALYZE of a tagged table invalidates the tag cache of every
-- session, and a table named without its schema is looked up without a
-- namespace search: the next statement can fail before any hook has
-- reloaded the cache.  (A session of its own: one with temporary objects
-- searches its temporary schema, which reloads the cache.)
CREATE SCHEMA tc;
CREATE TABLE tc.notes (note_id int PRIMARY KEY, patient_id int);
INSERT INTO tc.notes VALUES (1, 10);
SELECT bh_audit.tag_table('tc.notes', 'CacheNote', 'note_id', 'patient_id');
SET search_path = tc, public;
SELECT count(*) FROM notes WHERE note_id = 1;
ANALYZE tc.notes;
SELECT * FROM notes WHERE note_id = 'n_stale';
-- and after a tagging change committed by this session
SELECT bh_audit.untag_table('tc.notes');
SELECT bh_audit.tag_table('tc.notes', 'CacheNote', 'note_id', 'patient_id');
SELECT * FROM notes WHERE note_id = 'n_retagged';
RESET search_path;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, patient_id, error_type, event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events WHERE resource_type = 'CacheNote' ORDER BY seq;
SELECT count(*) AS values_in_events FROM bh_audit.events
 WHERE strpos(event::text, 'n_stale') > 0 OR strpos(event::text, 'n_retagged') > 0;
SELECT bh_audit.untag_table('tc.notes');
DROP SCHEMA tc CASCADE;
