-- Ids of tagged columns do not depend on the session's settings: a value
-- whose output follows DateStyle, IntervalStyle, TimeZone,
-- extra_float_digits or bytea_output is printed under fixed ones (ISO,
-- postgres, UTC, 1, hex), so one row has one id in writes and reads,
-- whoever's session touched it.
CREATE SCHEMA ids;
CREATE TABLE ids.appts (at timestamptz PRIMARY KEY, born date, note text);
CREATE TABLE ids.scores (score float8 PRIMARY KEY, token bytea, note text);
CREATE DOMAIN ids.visit_day AS date;
CREATE TABLE ids.stays (span interval PRIMARY KEY, day ids.visit_day, note text);
CREATE TABLE ids.slots (slot timestamp[] PRIMARY KEY, pat int, note text);
CREATE TABLE ids.objects (obj regclass PRIMARY KEY, pat int, note text);
SELECT bh_audit.tag_table('ids.appts', 'Appointment', 'at', 'born');
SELECT bh_audit.tag_table('ids.scores', 'Observation', 'score', 'token');
SELECT bh_audit.tag_table('ids.stays', 'Encounter', 'span', 'day');
SELECT bh_audit.tag_table('ids.slots', 'Schedule', 'slot', 'pat');
SELECT bh_audit.tag_table('ids.objects', 'Object', 'obj', 'pat');

SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark24 AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE FUNCTION pg_temp.ids_since() RETURNS TABLE (resource_type text, action text, resource_id text, patient_id text)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM mark24;
    RETURN QUERY SELECT e.resource_type, e.action, e.resource_id, e.patient_id
                   FROM bh_audit.events e
                  WHERE e.seq > m AND e.resource_type <> 'AuditConfiguration'
                  ORDER BY e.resource_type, e.action, e.seq;
    UPDATE mark24 SET seq = (SELECT max(seq) FROM bh_audit.events);
END $$;

-- Writes under one session's settings...
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'sql_standard';
SET TimeZone = 'America/New_York';
SET extra_float_digits = 3;
SET bytea_output = 'escape';
INSERT INTO ids.appts VALUES ('2026-03-01 09:30:00+00', '1990-02-03', 'x');
INSERT INTO ids.scores VALUES (1::float8 / 3, '\x01ff'::bytea, 'x');
INSERT INTO ids.stays VALUES ('1 day 02:00:00', '2026-04-05', 'x');
INSERT INTO ids.slots VALUES (ARRAY['2026-05-06 07:08:09'::timestamp], 7, 'x');
INSERT INTO ids.objects VALUES ('ids.appts', 8, 'x');
UPDATE ids.appts SET note = 'y';
UPDATE ids.scores SET note = 'y';
-- ... and the values as this session sees them (the settings stay its own).
SELECT at, born FROM ids.appts;
SELECT score, token FROM ids.scores;
SELECT span, day FROM ids.stays;
SHOW DateStyle;
SHOW IntervalStyle;
SHOW TimeZone;
SHOW extra_float_digits;
SHOW bytea_output;
SELECT * FROM pg_temp.ids_since();

-- Reads and deletes under other settings name the same ids.
SET DateStyle = 'German';
SET IntervalStyle = 'iso_8601';
SET TimeZone = 'Asia/Kolkata';
SET extra_float_digits = 0;
SET bytea_output = 'hex';
SET search_path = ids, public;
SELECT count(*) FROM ids.appts;
SELECT count(*) FROM ids.scores;
SELECT count(*) FROM ids.stays WHERE day = '2026-04-05';
SELECT count(*) FROM ids.slots;
SELECT obj FROM ids.objects;
DELETE FROM ids.objects;
DELETE FROM ids.appts;
DELETE FROM ids.scores;
SELECT * FROM pg_temp.ids_since();

-- Within a transaction: SET LOCAL stays in effect after the capture.
RESET ALL;
BEGIN;
SET LOCAL DateStyle = 'Postgres, DMY';
SET LOCAL TimeZone = 'Pacific/Auckland';
INSERT INTO ids.appts VALUES ('2026-03-01 09:30:00+00', '1990-02-03', 'x');
SHOW DateStyle;
SHOW TimeZone;
SELECT at FROM ids.appts;
COMMIT;
SHOW DateStyle;
SELECT * FROM pg_temp.ids_since();

-- character(n): the id text without the blanks that pad the value, as its
-- cast to text gives it (access review asks for 'p1', not 'p1      '); a
-- domain over it too, and reads, writes and a move alike.
CREATE DOMAIN ids.mrn AS character(8);
CREATE TABLE ids.charred (id character(6) PRIMARY KEY, patient ids.mrn);
SELECT bh_audit.tag_table('ids.charred', 'Charred', 'id', 'patient');
INSERT INTO ids.charred VALUES ('a1', 'p1'), ('a 2 ', ' p 2');
SELECT count(*) FROM ids.charred WHERE patient = 'p1';
UPDATE ids.charred SET patient = 'p3' WHERE id = 'a1';
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT '[' || resource_id || ']' AS resource_id, '[' || patient_id || ']' AS patient_id, action
  FROM bh_audit.events
 WHERE resource_type = 'Charred' AND seq > (SELECT seq FROM mark24) ORDER BY action, seq;
SELECT bh_audit.untag_table('ids.charred');

SELECT bh_audit.untag_table('ids.appts');
SELECT bh_audit.untag_table('ids.scores');
SELECT bh_audit.untag_table('ids.stays');
SELECT bh_audit.untag_table('ids.slots');
SELECT bh_audit.untag_table('ids.objects');
DROP SCHEMA ids CASCADE;
