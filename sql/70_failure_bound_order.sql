-- The FAILUREs of a statement through an untagged partitioned table, one on
-- each partition tagged on its own under it, come in the order of the
-- partitions' bounds (depth first, as PostgreSQL's partition descriptor
-- lists them and its planner expands them), whichever phase failed: parse
-- analysis, the planner or the executor.  The partitions are created (their
-- OIDs given) in another order than their bounds.
CREATE SCHEMA pb;
CREATE TABLE pb.parent (id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE pb.p30 PARTITION OF pb.parent FOR VALUES FROM (30) TO (40);
CREATE TABLE pb.p20 PARTITION OF pb.parent FOR VALUES FROM (20) TO (30) PARTITION BY LIST (id);
CREATE TABLE pb.p25 PARTITION OF pb.p20 FOR VALUES IN (25, 26, 27, 28, 29);
CREATE TABLE pb.p00 PARTITION OF pb.parent FOR VALUES FROM (0) TO (10);
CREATE TABLE pb.p22 PARTITION OF pb.p20 FOR VALUES IN (20, 21, 22, 23, 24);
CREATE TABLE pb.p10 PARTITION OF pb.parent FOR VALUES FROM (10) TO (20);
SELECT count(*) AS tagged
  FROM unnest(ARRAY['pb.p30', 'pb.p25', 'pb.p00', 'pb.p22', 'pb.p10']) t,
       LATERAL bh_audit.tag_table(t::regclass, 'Pb', 'id', 'patient');
INSERT INTO pb.parent VALUES (1, 'a'), (11, 'b'), (21, 'c'), (26, 'd'), (31, 'e');
CREATE FUNCTION pg_temp.failures(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  head bigint;
  tables text;
BEGIN
  PERFORM bh_audit.seal();
  SELECT max(seq) INTO head FROM bh_audit.events;
  BEGIN
    EXECUTE sql;
  EXCEPTION WHEN OTHERS THEN
    NULL;
  END;
  PERFORM bh_audit.seal();
  SELECT string_agg(event -> 'metadata' ->> 'table', ' ' ORDER BY seq) INTO tables
    FROM bh_audit.events WHERE seq > head AND outcome = 'FAILURE';
  RETURN tables;
END $$;
SELECT phase, pg_temp.failures(sql) AS failures
  FROM (VALUES
    ('parse analysis', 'SELECT * FROM pb.parent WHERE id = ''abc'''),
    ('planner', 'SELECT * FROM pb.parent WHERE id = 1/0'),
    ('executor', 'SELECT * FROM pb.parent WHERE 1/(id - id) = 0'),
    ('parse analysis (DELETE)', 'DELETE FROM pb.parent WHERE id = ''abc'''),
    ('executor (DELETE)', 'DELETE FROM pb.parent WHERE 1/(id - id) = 0'),
    ('parse analysis (INSERT)', 'INSERT INTO pb.parent VALUES (''abc'', ''x'')'),
    ('executor (INSERT)', 'INSERT INTO pb.parent SELECT 1/(x - 1), ''x'' FROM generate_series(1, 1) x'),
    ('sub-partitioned, parse analysis', 'SELECT * FROM pb.p20 WHERE id = ''abc'''),
    ('sub-partitioned, executor', 'SELECT * FROM pb.p20 WHERE 1/(id - id) = 0')
  ) AS v(phase, sql);
