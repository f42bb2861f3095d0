-- EXECUTE of a prepared SELECT whose data-modifying WITH query updates
-- (or deletes from) a tagged table, failing before its plan runs (a
-- parameter that does not convert), records UPDATE (DELETE) FAILURE on
-- that table and READ on the table it reads, also once the search_path
-- changed since its analysis (the names qualified: the same tables): each
-- name gets the action of the command whose target it is (the WITH
-- query's), not the statement's (SELECT).  The same in both rounds.
CREATE SCHEMA ew;
CREATE TABLE ew.a (id int PRIMARY KEY, patient text);
CREATE TABLE ew.b (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('ew.a', 'EwA', 'id', 'patient');
SELECT bh_audit.tag_table('ew.b', 'EwB', 'id', 'patient');
PREPARE ew_upd(int) AS
  WITH w AS (UPDATE ew.b SET patient = patient WHERE id = $1 RETURNING id)
  SELECT * FROM ew.a JOIN w USING (id);
PREPARE ew_del(int) AS
  WITH d AS (DELETE FROM ew.b WHERE id = $1 RETURNING id)
  SELECT * FROM ew.a WHERE id IN (SELECT id FROM d);
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
BEGIN;
SELECT bh_audit.set_context(actor_id => 'upd_same_path');
EXECUTE ew_upd('x');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'del_same_path');
EXECUTE ew_del('x');
ROLLBACK;
SET search_path = ew, public;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'upd_path_changed');
EXECUTE ew_upd('x');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'del_path_changed');
EXECUTE ew_del('x');
ROLLBACK;
RESET search_path;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0 AND outcome <> 'SUCCESS'
 ORDER BY actor_id, tbl;
