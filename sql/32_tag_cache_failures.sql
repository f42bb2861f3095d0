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
-- Through views: a statement on a view over a tagged table (or a view over
-- such a view) that fails in parse analysis is a failure on the table; a
-- view over other tables is not.  Views created after the session loaded
-- its cache count (creating a view reloads it).
CREATE VIEW tc.notes_v AS SELECT note_id, patient_id FROM tc.notes;
CREATE VIEW tc.notes_vv AS SELECT * FROM tc.notes_v WHERE patient_id > 0;
CREATE VIEW tc.other_v AS SELECT 1 AS note_id;
SELECT * FROM tc.notes_v WHERE note_id = 'vw_tok_1';
SELECT * FROM tc.notes_vv WHERE note_id = 'vw_tok_2';
SELECT * FROM tc.other_v WHERE note_id = 'vw_tok_3';
UPDATE tc.notes_v SET patient_id = 11 WHERE note_id = 'vw_tok_4';
SET search_path = tc, public;
ANALYZE tc.notes;
SELECT nosuchcol FROM notes_vv;
RESET search_path;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, patient_id, error_type, event -> 'outcome' ->> 'error_message' AS message
       , event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events WHERE resource_type = 'CacheNote' ORDER BY seq;
SELECT count(*) AS values_in_events FROM bh_audit.events
 WHERE strpos(event::text, 'n_stale') > 0 OR strpos(event::text, 'n_retagged') > 0
    OR strpos(event::text, 'vw_tok') > 0;
SELECT bh_audit.untag_table('tc.notes');
DROP SCHEMA tc CASCADE;
