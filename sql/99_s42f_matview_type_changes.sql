-- A tagged materialized view's rows "change only by REFRESH MATERIALIZED
-- VIEW, which is one UPDATE event" (tagging.md).  But an enum label renamed
-- (ALTER TYPE ... RENAME VALUE) changes every row holding it in every column
-- of the type, a composite type's attribute dropped or added (ALTER TYPE
-- ... DROP / ADD ATTRIBUTE) every value of its columns, in a materialized
-- view's stored rows as in a table's: for a tagged table each is one UPDATE
-- event naming the columns (statement ALTER TYPE); for a tagged
-- materialized view nothing is recorded (the write is only queued for
-- RELKIND_RELATION, column_guard.c).  The type's owner need own neither the
-- view nor the table.  Right: the view's change recorded as the table's is.
\set VERBOSITY terse
CREATE SCHEMA s42f;
CREATE TYPE s42f.mood AS ENUM ('calm', 'tense');
CREATE TYPE s42f.addr AS (street text, secret text);
CREATE TABLE s42f.src (id int, patient_id text, mood s42f.mood, address s42f.addr);
INSERT INTO s42f.src VALUES (1, 'pat_1', 'tense', ROW('Main St', 'x'));
CREATE MATERIALIZED VIEW s42f.mv AS SELECT * FROM s42f.src;
CREATE TABLE s42f.tbl AS SELECT * FROM s42f.src;
SELECT bh_audit.tag_table('s42f.mv', 'MoodView', 'id', 'patient_id');
SELECT bh_audit.tag_table('s42f.tbl', 'MoodTable', 'id', 'patient_id');
-- control: a REFRESH is one UPDATE event of the view
BEGIN;
REFRESH MATERIALIZED VIEW s42f.mv;
SELECT e -> 'resource' ->> 'type' AS resource, e -> 'action' ->> 'type' AS action,
       e -> 'metadata' ->> 'statement' AS statement
  FROM bh_audit.pending_events() e WHERE e -> 'resource' ->> 'type' LIKE 'Mood%';
ROLLBACK;
-- the enum label renamed: the view's stored row reads 'anxious' now too
BEGIN;
ALTER TYPE s42f.mood RENAME VALUE 'tense' TO 'anxious';
SELECT mood FROM s42f.mv;
SELECT e -> 'resource' ->> 'type' AS resource, e -> 'action' ->> 'type' AS action,
       e -> 'metadata' ->> 'statement' AS statement,
       e -> 'metadata' ->> 'changed_columns' AS changed
  FROM bh_audit.pending_events() e WHERE e -> 'resource' ->> 'type' LIKE 'Mood%'
 ORDER BY 1;
ROLLBACK;
-- an attribute dropped from the composite type of a column
BEGIN;
ALTER TYPE s42f.addr DROP ATTRIBUTE secret;
SELECT address FROM s42f.mv;
SELECT e -> 'resource' ->> 'type' AS resource, e -> 'action' ->> 'type' AS action,
       e -> 'metadata' ->> 'statement' AS statement,
       e -> 'metadata' ->> 'changed_columns' AS changed
  FROM bh_audit.pending_events() e WHERE e -> 'resource' ->> 'type' LIKE 'Mood%'
 ORDER BY 1;
ROLLBACK;
SELECT bh_audit.untag_table('s42f.mv');
SELECT bh_audit.untag_table('s42f.tbl');
DROP SCHEMA s42f CASCADE;
\set VERBOSITY default
