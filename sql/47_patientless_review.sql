-- The compliance officer's second query for a patient (docs/compliance-
-- mapping.md): the events that name no patient but may concern them, found
-- by resource type.  A patient whose read was folded into a statement's
-- further_patients event must be shown that event: when their own events
-- are of a partition (reads name the tagged parent), when the table was
-- renamed since, and when their records were stored before the table was
-- tagged (no event of their own at all).
CREATE SCHEMA pr;
CREATE TABLE pr.visits (id int, patient_id text, vdate date) PARTITION BY RANGE (vdate);
CREATE TABLE pr.visits_a PARTITION OF pr.visits FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT bh_audit.tag_table('pr.visits', 'PrVisit', 'id', 'patient_id');
INSERT INTO pr.visits VALUES (1, 'vp1', '2026-03-01'), (2, 'vp2', '2026-03-01'), (3, 'vp3', '2026-03-02');
CREATE TABLE pr.rn (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('pr.rn', 'PrRn', 'id', 'patient_id');
INSERT INTO pr.rn VALUES (1, 'rp1'), (2, 'rp2');
ALTER TABLE pr.rn RENAME TO rn2;
CREATE TABLE pr.pre (id int PRIMARY KEY, patient_id text);
INSERT INTO pr.pre VALUES (1, 'old1'), (2, 'old2'), (3, 'old3');
SELECT bh_audit.tag_table('pr.pre', 'PrPre', 'id', 'patient_id');

SET bh_audit.max_patients_per_statement = 1;
SELECT count(*) FROM pr.visits;
SELECT count(*) FROM pr.rn2;
SELECT count(*) FROM pr.pre;
RESET bh_audit.max_patients_per_statement;
SELECT bh_audit.seal() >= 0 AS sealed;

-- The documented query, for every patient: each finds the further_patients
-- event of its table (and, for the others, whatever else names no patient
-- on the tagged tables).
CREATE FUNCTION pg_temp.may_concern(pat text)
RETURNS TABLE (action text, resource_type text, further text) LANGUAGE sql AS $$
SELECT action, resource_type, event -> 'metadata' ->> 'further_patients'
  FROM bh_audit.events
 WHERE patient_id IS NULL
   AND resource_type = ANY (ARRAY(SELECT resource_type FROM bh_audit.events
                                   WHERE patient_id = pat
                                  UNION
                                  SELECT resource_type FROM bh_audit.tagged_tables
                                   WHERE patient_column IS NOT NULL))
   AND ts >= now() - interval '90 days'
   AND resource_type IN ('PrVisit', 'PrRn', 'PrPre')
 ORDER BY seq
$$;
SELECT p AS patient, c.*
  FROM unnest(ARRAY['vp1', 'vp2', 'vp3', 'rp1', 'rp2', 'old1', 'old2', 'old3']) AS p,
       pg_temp.may_concern(p) AS c
 WHERE c.further IS NOT NULL
 ORDER BY p, c.resource_type;
-- (the patients named in a READ of their own: one per statement)
SELECT resource_type, count(*) AS named_reads
  FROM bh_audit.events
 WHERE action = 'READ' AND resource_type IN ('PrVisit', 'PrRn', 'PrPre') AND patient_id IS NOT NULL
 GROUP BY 1 ORDER BY 1;

DROP SCHEMA pr CASCADE;
