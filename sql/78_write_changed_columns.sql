-- The changed columns and the ids of updated rows, as UPDATE after UPDATE
-- sees them: the same column names row after row and table after table,
-- a column renamed, quote_all_identifiers switched (names are quoted as
-- with it off whatever it is: sql/99), two columns 32 apart in a wide
-- table, a table whose id is its patient column, ids and patients
-- changed, set to NULL and back.
CREATE SCHEMA wcc;
CREATE TABLE wcc.a (id int, pat int, "select" int, "Mixed" int, plain int);
CREATE TABLE wcc.b (id int, pat int, other int, "two words" int, plain int);
CREATE TABLE wcc.c (id int, v int);
DO $$ BEGIN
  EXECUTE (SELECT 'CREATE TABLE wcc.w (id int, pat int, '
                  || string_agg(format('c%s int', i), ', ' ORDER BY i) || ')'
             FROM generate_series(3, 40) i);
END $$;
INSERT INTO wcc.a VALUES (1, 1, 0, 0, 0);
INSERT INTO wcc.b VALUES (1, 1, 0, 0, 0);
INSERT INTO wcc.c VALUES (1, 0);
INSERT INTO wcc.w (id, pat) VALUES (1, 1);
SELECT bh_audit.tag_table('wcc.a', 'WccA', 'id', 'pat', capture_reads => false);
SELECT bh_audit.tag_table('wcc.b', 'WccB', 'id', 'pat', capture_reads => false);
SELECT bh_audit.tag_table('wcc.c', 'WccC', 'id', 'id', capture_reads => false);
SELECT bh_audit.tag_table('wcc.w', 'WccW', 'id', 'pat', capture_reads => false);
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
UPDATE wcc.a SET "select" = 1, "Mixed" = 1, plain = 1;
UPDATE wcc.b SET other = 1, "two words" = 1, plain = 1;
UPDATE wcc.a SET "select" = 2;
UPDATE wcc.a SET "select" = 3;
ALTER TABLE wcc.a RENAME COLUMN "select" TO sel;
UPDATE wcc.a SET sel = 4;
SET quote_all_identifiers = on;
UPDATE wcc.a SET sel = 5, plain = 5;
UPDATE wcc.b SET plain = 5;
RESET quote_all_identifiers;
UPDATE wcc.a SET sel = 6, plain = 6;
UPDATE wcc.w SET c3 = 1, c35 = 1;
UPDATE wcc.w SET c35 = 2;
UPDATE wcc.w SET c3 = 2;
UPDATE wcc.a SET "Mixed" = NULL;
UPDATE wcc.a SET "Mixed" = 7;
UPDATE wcc.a SET id = 2;
UPDATE wcc.a SET pat = 2;
UPDATE wcc.a SET id = NULL;
UPDATE wcc.a SET id = 3, pat = NULL;
UPDATE wcc.a SET pat = 4;
UPDATE wcc.a SET id = 3, pat = 4;
UPDATE wcc.c SET v = 1;
UPDATE wcc.c SET id = 2;
UPDATE wcc.c SET id = NULL;
UPDATE wcc.c SET id = 5;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_type, action, resource_id, patient_id,
       event -> 'metadata' ->> 'changed_columns' AS changed,
       event -> 'metadata' ->> 'previous_id' AS previous_id,
       event -> 'metadata' ->> 'patient_moved' AS moved
  FROM bh_audit.events WHERE seq > :m0 AND action <> 'READ'
   AND resource_type IN ('WccA', 'WccB', 'WccC', 'WccW')
 ORDER BY seq;
SELECT bh_audit.untag_table(t)
  FROM unnest('{wcc.a,wcc.b,wcc.c,wcc.w}'::regclass[]) t;
DROP SCHEMA wcc CASCADE;
