-- Cached plans are made with the tags as they are.  Read capture's planner
-- rules (no parallel workers reading a tagged table) must hold for a plan
-- cached before a table was tagged, also one that does not name the table
-- (a parallel query calling a function that reads it), and for a plan
-- cached while capture was switched off: tagging invalidates every cached
-- plan, and so does switching capture on.  (Run before any other test tags
-- a table: while any table is tagged, a query calling such a function is
-- planned without workers anyway.)
SELECT count(*) AS tagged FROM bh_audit.tagged_tables;
CREATE SCHEMA pinv;
CREATE TABLE pinv.big AS SELECT g AS x FROM generate_series(1, 2000) g;
ANALYZE pinv.big;
CREATE TABLE pinv.cases (id int PRIMARY KEY, pid text);
INSERT INTO pinv.cases SELECT g, 'p' || g FROM generate_series(1, 4) g;
ANALYZE pinv.cases;
CREATE FUNCTION pinv.pid_of(i int) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
  AS $$ BEGIN RETURN (SELECT pid FROM pinv.cases WHERE id = i); END $$;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE FUNCTION pg_temp.reads() RETURNS TABLE (action text, resource_type text, patient_id text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bh_audit.seal();
    RETURN QUERY SELECT e.action, e.resource_type, e.patient_id FROM bh_audit.events e, mark
                  WHERE e.seq > mark.seq AND e.resource_type <> 'AuditConfiguration'
                  ORDER BY 1, 2, 3;
    UPDATE mark SET seq = (SELECT max(seq) FROM bh_audit.events);
END $$;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
PREPARE calls AS SELECT x, pinv.pid_of(x) FROM pinv.big WHERE x <= 4 ORDER BY x;
EXPLAIN (COSTS OFF) EXECUTE calls;
SELECT bh_audit.tag_table('pinv.cases', 'Case', 'id', 'pid', capture_writes => false);
EXPLAIN (COSTS OFF) EXECUTE calls;
EXECUTE calls;
SELECT * FROM pg_temp.reads();
-- planned while capture is off, run after it is on again
INSERT INTO pinv.cases SELECT g, 'p' || g FROM generate_series(5, 5000) g;
ANALYZE pinv.cases;
SET bh_audit.enabled = off;
PREPARE direct AS SELECT count(*) FROM pinv.cases WHERE id + 0 <= 2;
EXPLAIN (COSTS OFF) EXECUTE direct;
SET bh_audit.enabled = on;
EXPLAIN (COSTS OFF) EXECUTE direct;
EXECUTE direct;
SELECT * FROM pg_temp.reads();
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
DEALLOCATE calls;
DEALLOCATE direct;
SELECT bh_audit.untag_table('pinv.cases');
DROP SCHEMA pinv CASCADE;
