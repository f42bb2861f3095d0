-- An UPDATE's changed_columns leaves out a float column whose NaN was
-- replaced by another NaN (docs/tagging.md: "a float's (or a domain over a
-- float's) NaN -> NaN does not [count] whatever its bits": PostgreSQL
-- compares and prints them alike).  capture_write.c's bh_same_value()
-- looked at the column's type OID only, FLOAT8OID / FLOAT4OID, so a column
-- of a domain over float8 or float4 whose NaN got other bits ('Infinity' -
-- 'Infinity' leaves a negative NaN on x86, 'NaN' a positive one) was named
-- as changed, where the same update of a plain float8 is not.  Inside an
-- array the stored bytes count (documented): f8a is named.  A real change
-- is still named.
\set VERBOSITY terse
CREATE SCHEMA s42j;
CREATE DOMAIN s42j.f8d AS float8;
CREATE DOMAIN s42j.f4d AS float4;
CREATE TABLE s42j.t (id int PRIMARY KEY, pat text, f8 float8, f8d s42j.f8d,
                     f4d s42j.f4d, f8a float8[]);
SELECT bh_audit.tag_table('s42j.t', 'S42J', 'id', 'pat');
INSERT INTO s42j.t VALUES (1, 'p1', 'NaN', 'NaN', 'NaN', '{NaN}');
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark AS SELECT max(seq) AS seq FROM bh_audit.events;
-- control: the plain float8 is not named
UPDATE s42j.t SET f8 = 'Infinity'::float8 - 'Infinity'::float8;
-- the domains: not named either
UPDATE s42j.t SET f8d = 'Infinity'::float8 - 'Infinity'::float8;
UPDATE s42j.t SET f4d = 'Infinity'::float4 - 'Infinity'::float4;
-- the array: its bytes changed, named (documented)
UPDATE s42j.t SET f8a = ARRAY['Infinity'::float8 - 'Infinity'::float8];
-- control: a number is a change
UPDATE s42j.t SET f8d = 1, f4d = 1, f8a = '{1}';
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_id, patient_id,
       event -> 'metadata' ->> 'changed_columns' AS changed
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'S42J'
 ORDER BY seq;
SELECT bh_audit.untag_table('s42j.t');
DROP SCHEMA s42j CASCADE;
\set VERBOSITY default
