-- EXECUTE of a prepared statement through an untagged partitioned table
-- whose partitions are tagged on their own, failing before its plan runs
-- (a parameter that does not convert), records a FAILURE on each tagged
-- partition (READ for the SELECT, CREATE for the INSERT routing its rows),
-- also once the search_path changed since its analysis (the names
-- qualified: the same tables; a pooled session serving another tenant):
-- the partitions under the partitioned table its name stands for now.
-- The same in both rounds.
CREATE SCHEMA ep;
CREATE TABLE ep.parent (id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE ep.p1 PARTITION OF ep.parent FOR VALUES FROM (0) TO (10);
CREATE TABLE ep.p2 PARTITION OF ep.parent FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('ep.p1', 'EpP1', 'id', 'patient');
SELECT bh_audit.tag_table('ep.p2', 'EpP2', 'id', 'patient');
PREPARE ep_sel(int) AS SELECT patient FROM ep.parent WHERE id = $1;
PREPARE ep_ins(int) AS INSERT INTO ep.parent VALUES ($1, 'p');
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
BEGIN;
SELECT bh_audit.set_context(actor_id => 'sel_same_path');
EXECUTE ep_sel('x');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ins_same_path');
EXECUTE ep_ins('x');
ROLLBACK;
SET search_path = ep, public;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'sel_path_changed');
EXECUTE ep_sel('x');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ins_path_changed');
EXECUTE ep_ins('x');
ROLLBACK;
RESET search_path;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0 AND outcome <> 'SUCCESS'
 ORDER BY actor_id, tbl;
