-- A statement's read set knows exactly the patients it names
-- (bh_audit.max_patients_per_statement) and 10,000 more: the further
-- patients beyond those are estimated, so that its memory does not grow
-- with the patients it reads (an open cursor keeps its set until it
-- closes).  Up to the bound further_patients is exact; beyond it, it is
-- the 10,000 plus the estimate of the rest (rounded, at least one), and
-- metadata.further_patients_estimated is true.
CREATE SCHEMA pb;
CREATE TABLE pb.visits (id int PRIMARY KEY, pid text NOT NULL);
INSERT INTO pb.visits SELECT g, 'p' || g FROM generate_series(1, 60000) g;
-- the same patients again
INSERT INTO pb.visits SELECT 100000 + g, 'p' || g FROM generate_series(1, 60000) g;
ANALYZE pb.visits;
SELECT bh_audit.tag_table('pb.visits', 'Encounter', 'id', 'pid', capture_writes => false);
SET bh_audit.max_patients_per_statement = 100;

-- The READ events of the statements since the mark: named patients, then
-- the counting event's metadata.
CREATE FUNCTION pg_temp.reads() RETURNS TABLE (named bigint, further bigint, estimated text, other jsonb)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM regress_reads.mark;
    RETURN QUERY
    SELECT count(*) FILTER (WHERE e.patient_id IS NOT NULL),
           max((e.event -> 'metadata' ->> 'further_patients')::bigint),
           max(e.event -> 'metadata' ->> 'further_patients_estimated'),
           jsonb_agg((e.event -> 'metadata') - ARRAY['db_user', 'table'])
               FILTER (WHERE e.patient_id IS NULL AND NOT e.event -> 'metadata' ? 'further_patients')
      FROM bh_audit.events e
     WHERE e.seq > m AND e.resource_type = 'Encounter';
    UPDATE regress_reads.mark SET seq = (SELECT max(seq) FROM bh_audit.events);
END $$;
SELECT regress_reads.mark_now();

-- Exactly at the bound: 100 named, 10,000 further, exact.
SELECT count(*) FROM pb.visits WHERE id <= 10100;
SELECT * FROM pg_temp.reads();
-- Each patient twice: the same.
SELECT count(*) FROM pb.visits WHERE id <= 10100 OR id BETWEEN 100001 AND 110100;
SELECT * FROM pg_temp.reads();
-- One more: 10,000 exact and one estimated.
SELECT count(*) FROM pb.visits WHERE id <= 10101;
SELECT * FROM pg_temp.reads();

-- A cursor over 60,000 patients, each read twice: its set's memory is the
-- same after 20,000 patients and after all of them.
CREATE FUNCTION pg_temp.set_memory() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts
     WHERE name = 'bh_audit statement' OR ident = 'bh_audit patients';
$$;
CREATE TEMP TABLE mem (at text, bytes bigint);
BEGIN;
DECLARE c CURSOR FOR SELECT pid FROM pb.visits ORDER BY id;
MOVE 20000 IN c;
INSERT INTO mem SELECT 'after 20000', pg_temp.set_memory();
MOVE ALL IN c;
INSERT INTO mem SELECT 'after all', pg_temp.set_memory();
CLOSE c;
COMMIT;
SELECT (SELECT bytes FROM mem WHERE at = 'after all') - (SELECT bytes FROM mem WHERE at = 'after 20000')
           < 20000 AS no_growth,
       (SELECT bytes FROM mem WHERE at = 'after all') < 2000000 AS under_2mb;
SELECT named, further BETWEEN 59900 * 0.97 AND 59900 * 1.03 AS further_within_3_percent,
       estimated, other FROM pg_temp.reads();

-- Rows without a patient and the number of rows are still exact.
ALTER TABLE pb.visits ALTER pid DROP NOT NULL;
INSERT INTO pb.visits SELECT 200000 + g, NULL FROM generate_series(1, 7) g;
SELECT regress_reads.mark_now();
SELECT count(*) FROM pb.visits;
SELECT named, further BETWEEN 59900 * 0.97 AND 59900 * 1.03 AS further_within_3_percent,
       estimated, other FROM pg_temp.reads();

RESET bh_audit.max_patients_per_statement;
SELECT bh_audit.untag_table('pb.visits');
DROP SCHEMA pb CASCADE;
