-- Write capture: an UPDATE's previous id and a patient id changed between
-- NULL and empty.
CREATE SCHEMA wedge;
CREATE TABLE wedge.t (id text, pat text, v int);
SELECT bh_audit.tag_table('wedge.t', 'WEdge', 'id', 'pat', capture_reads => false);
INSERT INTO wedge.t VALUES (repeat('k', 300), 'p1', 1), ('2', NULL, 2), ('3', '', 3);
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark AS SELECT max(seq) AS seq FROM bh_audit.events;

-- 1. An UPDATE of a long id: resource.id is cut to 253 characters and "...",
--    as docs/compliance-mapping.md says of every id; metadata.previous_id,
--    which names the same record's id before the change, is cut the same
--    way (so that it matches that record's earlier events).
UPDATE wedge.t SET id = 'short' WHERE v = 1;
-- 2. An empty patient id names nobody and events leave it out: a change
--    between NULL and '' moves the row to no other patient: no move
--    (patient_moved), no event naming no patient.
UPDATE wedge.t SET pat = '' WHERE v = 2;
UPDATE wedge.t SET pat = NULL WHERE v = 3;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_id, patient_id,
       length(event -> 'metadata' ->> 'previous_id') AS previous_id_length,
       event -> 'metadata' ->> 'previous_id' = (SELECT resource_id FROM bh_audit.events e2
                                                  WHERE e2.action = 'CREATE' AND e2.resource_type = 'WEdge'
                                                    AND e2.patient_id = 'p1') AS previous_id_matches_create,
       event -> 'metadata' ->> 'patient_moved' AS moved
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'WEdge'
 ORDER BY seq;
DROP TABLE mark;
SELECT bh_audit.untag_table('wedge.t');
DROP SCHEMA wedge CASCADE;
