-- The statements that evaluate expressions over stored rows (DDL reads)
-- reach the tables under an untagged parent as PostgreSQL reaches them.
-- ANALYZE of an inheritance parent or of a partitioned table builds the
-- parent's extended statistics from a sample of all the tables under it:
-- a statistics expression of the parent runs on the rows of a tagged child
-- or partition, a READ of it.  VACUUM FULL and ANALYZE of an inheritance
-- parent, ALTER TABLE ... SET LOGGED and SET ACCESS METHOD of one, and a
-- CHECK constraint added NO INHERIT touch the parent alone: no READ of its
-- tagged children (their own expression indexes are not built or
-- evaluated).
CREATE ROLE regress_s46g_owner;
CREATE SCHEMA s46g AUTHORIZATION regress_s46g_owner;
SET ROLE regress_s46g_owner;
CREATE FUNCTION s46g.norm(t text) RETURNS text LANGUAGE sql IMMUTABLE
    AS 'SELECT lower(t)';
-- a plain-inheritance tree: the parent untagged, the child tagged
CREATE TABLE s46g.visits (id int, pat text);
CREATE TABLE s46g.visits_2026 () INHERITS (s46g.visits);
INSERT INTO s46g.visits VALUES (1, 'P0');
INSERT INTO s46g.visits_2026 SELECT g, 'P' || g FROM generate_series(1, 40) g;
CREATE INDEX visits_2026_norm ON s46g.visits_2026 (s46g.norm(pat));
-- a partitioned table, untagged, with a tagged partition
CREATE TABLE s46g.stays (id int, pat text) PARTITION BY RANGE (id);
CREATE TABLE s46g.stays_low PARTITION OF s46g.stays FOR VALUES FROM (0) TO (100);
CREATE TABLE s46g.stays_high PARTITION OF s46g.stays FOR VALUES FROM (100) TO (200);
INSERT INTO s46g.stays SELECT g, 'S' || g FROM generate_series(0, 199) g;
RESET ROLE;
SELECT bh_audit.tag_table('s46g.visits_2026', 'S46gVisit', 'id', 'pat');
SELECT bh_audit.tag_table('s46g.stays_high', 'S46gStay', 'id', 'pat');
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark_s46g AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE FUNCTION pg_temp.ddl_reads_s46g() RETURNS TABLE (type text, tbl text, statement text, evaluated text)
LANGUAGE sql AS $$
    SELECT bh_audit.seal();
    SELECT resource_type, event -> 'metadata' ->> 'table', event -> 'metadata' ->> 'statement',
           event -> 'metadata' ->> 'evaluated'
      FROM bh_audit.events
     WHERE seq > (SELECT seq FROM mark_s46g) AND resource_type IN ('S46gVisit', 'S46gStay')
     ORDER BY seq $$;
CREATE FUNCTION pg_temp.next_s46g() RETURNS boolean LANGUAGE sql AS $$
    UPDATE mark_s46g SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
    SELECT true $$;

SET ROLE regress_s46g_owner;
-- 1. The parent alone: its own pass reads no child (the child's expression
-- index is neither evaluated nor built), none of these is a READ.
ANALYZE s46g.visits;
VACUUM (ANALYZE) s46g.visits;
VACUUM FULL s46g.visits;
ALTER TABLE s46g.visits SET UNLOGGED;
ALTER TABLE s46g.visits SET LOGGED;
ALTER TABLE s46g.visits SET ACCESS METHOD heap;
ALTER TABLE s46g.visits ADD CONSTRAINT visits_norm_only CHECK (s46g.norm(pat) <> '') NO INHERIT;
RESET ROLE;
SELECT * FROM pg_temp.ddl_reads_s46g();
SELECT pg_temp.next_s46g();
-- ... while a CHECK constraint the child inherits is checked on its rows,
-- and the child's own ANALYZE evaluates its expression index
SET ROLE regress_s46g_owner;
ALTER TABLE s46g.visits ADD CONSTRAINT visits_norm CHECK (s46g.norm(pat) <> '');
ANALYZE s46g.visits_2026;
RESET ROLE;
SELECT * FROM pg_temp.ddl_reads_s46g();
SELECT pg_temp.next_s46g();

-- 2. Statistics on an expression of the parent: ANALYZE of the parent
-- runs it on the sampled rows of every table under it, the tagged child's
-- and the tagged partition's among them (PostgreSQL keeps them as the
-- parent's inherited statistics).
SET ROLE regress_s46g_owner;
CREATE STATISTICS s46g.visits_norm_st ON (s46g.norm(pat)) FROM s46g.visits;
CREATE STATISTICS s46g.stays_norm_st ON (s46g.norm(pat)) FROM s46g.stays;
DROP INDEX s46g.visits_2026_norm;
ANALYZE s46g.visits;
ANALYZE s46g.stays;
RESET ROLE;
SELECT s.stxname, d.stxdinherit, d.stxdexpr IS NOT NULL AS expression_stats
  FROM pg_statistic_ext s JOIN pg_statistic_ext_data d ON d.stxoid = s.oid
 WHERE s.stxnamespace = 's46g'::regnamespace ORDER BY 1, 2;
SELECT * FROM pg_temp.ddl_reads_s46g();
SELECT pg_temp.next_s46g();
-- the same by VACUUM (ANALYZE) of the parent, and of every table the role
-- owns (no table named)
SET ROLE regress_s46g_owner;
VACUUM (ANALYZE) s46g.visits;
SET client_min_messages = error;	-- (a warning for each table skipped)
VACUUM (ANALYZE);
RESET client_min_messages;
RESET ROLE;
SELECT * FROM pg_temp.ddl_reads_s46g();
SELECT pg_temp.next_s46g();
-- with a column list naming the expression's column, built as well
SET ROLE regress_s46g_owner;
ANALYZE s46g.stays (pat);
RESET ROLE;
-- a role that owns neither parent (nor the database) does not analyze
-- them: PostgreSQL skips them, no READ
CREATE ROLE regress_s46g_other;
SET ROLE regress_s46g_other;
SET client_min_messages = error;	-- (a warning for each table skipped)
VACUUM (ANALYZE);
RESET client_min_messages;
RESET ROLE;
SELECT * FROM pg_temp.ddl_reads_s46g();

SELECT bh_audit.untag_table('s46g.visits_2026');
SELECT bh_audit.untag_table('s46g.stays_high');
DROP SCHEMA s46g CASCADE;
DROP ROLE regress_s46g_owner;
DROP ROLE regress_s46g_other;
