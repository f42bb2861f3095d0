-- COPY ... FROM through an UNTAGGED partitioned table, failing after a row
-- was routed to (written into) a partition tagged on its own: COPY FROM
-- into the tagged partition itself records CREATE FAILURE, an INSERT
-- through the parent does too (60_partition_parent_failures, 4bef31d);
-- the COPY through the parent records nothing.  Expected: CREATE FAILURE
-- on cp.p1, as for the INSERT.
CREATE SCHEMA cp;
CREATE TABLE cp.parent (id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE cp.p1 PARTITION OF cp.parent FOR VALUES FROM (0) TO (10);
CREATE TABLE cp.p2 PARTITION OF cp.parent FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('cp.p1', 'CpOne', 'id', 'patient');
BEGIN;
SELECT bh_audit.set_context('cp_insert');
INSERT INTO cp.parent SELECT 5 + 1/(x - 2), 'p' FROM generate_series(1, 2) x;
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('cp_copy');
COPY cp.parent FROM STDIN;
5	p
abc	p
\.
ROLLBACK;
-- A view over the untagged parent: failing in the planner, the partitions
-- tagged on their own are recorded (the planner sees the parent); failing
-- in parse analysis, nothing (the tag cache's views are those whose rules
-- name a tagged relation, bh_tag_views_load; the parent is untagged).
-- Expected: READ FAILURE on cp.p1 for both.
CREATE VIEW cp.v AS SELECT * FROM cp.parent;
BEGIN;
SELECT bh_audit.set_context('cp_view_plan');
SELECT * FROM cp.v WHERE id = 1/0;
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('cp_view_parse');
SELECT * FROM cp.v WHERE id = 'abc';
ROLLBACK;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE actor_id LIKE 'cp_%' AND outcome <> 'SUCCESS'
 ORDER BY seq;
