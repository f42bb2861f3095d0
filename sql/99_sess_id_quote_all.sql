-- An id whose type prints names (regclass, regrole, regtype... and a
-- composite holding one) is the same whatever the session's
-- quote_all_identifiers, which any role may SET: with it on, regclass's
-- output quotes every name ("public"."t"), and the row, or the patient,
-- would get a second id that access review by patient never finds.
CREATE SCHEMA qa;
CREATE TABLE qa.objects (obj regclass PRIMARY KEY, owner_role regrole, note text);
CREATE TYPE qa.pair AS (kind regtype, n int);
CREATE TABLE qa.pairs (p qa.pair PRIMARY KEY, pat text, note text);
SELECT bh_audit.tag_table('qa.objects', 'Object', 'obj', 'owner_role');
SELECT bh_audit.tag_table('qa.pairs', 'Pair', 'p', 'pat');
CREATE ROLE qa_patient;

SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark99q AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- under the default...
INSERT INTO qa.objects VALUES ('qa.objects', 'qa_patient', 'x');
INSERT INTO qa.pairs VALUES (ROW('qa.pair', 1), 'p1', 'x');
-- ... and with every identifier quoted
SET quote_all_identifiers = on;
SELECT obj, owner_role FROM qa.objects;
UPDATE qa.objects SET note = 'y';
UPDATE qa.pairs SET note = 'y';
RESET quote_all_identifiers;

-- one id and one patient per row, as under the default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT e.resource_type, e.action, e.resource_id, e.patient_id
  FROM bh_audit.events e, mark99q m
 WHERE e.seq > m.seq AND e.resource_type IN ('Object', 'Pair')
 ORDER BY e.resource_type, e.seq;

SELECT bh_audit.untag_table('qa.objects');
SELECT bh_audit.untag_table('qa.pairs');
DROP SCHEMA qa CASCADE;
DROP ROLE qa_patient;
