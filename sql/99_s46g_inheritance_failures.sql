-- A tagged inheritance child under an untagged parent: a statement on the
-- parent that fails as it executes is a FAILURE on the tagged child its
-- plan reaches (also when the error comes from the parent's own row), with
-- the rows its scans produced read, as for a partition tagged on its own
-- under an untagged partitioned table.  So is one that fails before it
-- executes (in the planner): the tag cache knows the untagged inheritance
-- parents of tagged tables (read-capture.md, Failed access); not one
-- whose plan does not reach the child (ONLY).
CREATE SCHEMA s46gf;
CREATE TABLE s46gf.parent (id int, pat text);
CREATE TABLE s46gf.child () INHERITS (s46gf.parent);
INSERT INTO s46gf.parent VALUES (5, 'x5');
INSERT INTO s46gf.child VALUES (1, 'c1'), (2, 'c2');
SELECT bh_audit.tag_table('s46gf.child', 'S46gfChild', 'id', 'pat');
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark_s46gf AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE FUNCTION pg_temp.events_s46gf() RETURNS TABLE (action text, patient_id text, outcome text,
                                                      error_type text, tbl text)
LANGUAGE sql AS $$
    SELECT bh_audit.seal();
    SELECT action, patient_id, outcome, error_type, event -> 'metadata' ->> 'table'
      FROM bh_audit.events
     WHERE seq > (SELECT seq FROM mark_s46gf) AND resource_type = 'S46gfChild'
     ORDER BY seq $$;
CREATE FUNCTION pg_temp.next_s46gf() RETURNS boolean LANGUAGE sql AS $$
    UPDATE mark_s46gf SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
    SELECT true $$;

\set VERBOSITY terse
-- the child's row c1 fails: it is read, and the statement's FAILURE
SELECT 1 / (id - 1) FROM s46gf.parent;
SELECT * FROM pg_temp.events_s46gf();
SELECT pg_temp.next_s46gf();
-- the parent's own row fails, before the child is scanned: a FAILURE of
-- the child all the same (the plan reaches it), no row of it read
SELECT 1 / (id - 5) FROM s46gf.parent;
SELECT * FROM pg_temp.events_s46gf();
SELECT pg_temp.next_s46gf();
-- an UPDATE through the parent: c1 changed (its write gone with the
-- rollback, its row read), c2 failing: the child's UPDATE FAILURE
UPDATE s46gf.parent SET id = id / (id - 2);
SELECT * FROM pg_temp.events_s46gf();
SELECT pg_temp.next_s46gf();
-- failing in the planner (1/0 folded): the child's FAILURE, read
SELECT * FROM s46gf.parent WHERE id = 1 / 0;
-- ONLY the parent: its plan does not reach the child
SELECT 1 / (id - 5) FROM ONLY s46gf.parent;
\set VERBOSITY default
SELECT * FROM pg_temp.events_s46gf();

SELECT bh_audit.untag_table('s46gf.child');
DROP SCHEMA s46gf CASCADE;
