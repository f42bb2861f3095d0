-- The events name a table as quote_qualified_identifier() spells it, and
-- that follows quote_all_identifiers, a setting every role may change in
-- its own session: a member of bh_audit_admin who switches it on before
-- untag_table() leaves an AuditConfiguration event for "sqa"."rec" where
-- tag_table() recorded sqa.rec, and a reader's READ event names the table
-- "sqa"."rec" too.  A review of the table's configuration or reads by its
-- name (resource_id = 'sqa.rec', metadata ->> 'table') misses them.  The
-- names in events must not depend on the session's settings, as ids do not
-- (id_text.c).
CREATE ROLE regress_sqa_admin IN ROLE bh_audit_admin;
CREATE ROLE regress_sqa_reader;
CREATE SCHEMA sqa;
CREATE TABLE sqa.rec (id int PRIMARY KEY, pat text, plain int, "Mixed Case" int);
INSERT INTO sqa.rec VALUES (1, 'p1');
GRANT USAGE ON SCHEMA sqa TO regress_sqa_admin, regress_sqa_reader;
GRANT SELECT ON sqa.rec TO regress_sqa_reader;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT coalesce(max(seq), 0) AS m0 FROM bh_audit.events \gset

SET SESSION AUTHORIZATION regress_sqa_admin;
SELECT bh_audit.tag_table('sqa.rec', 'SqaRec', 'id', 'pat');
SET quote_all_identifiers = on;
SELECT bh_audit.untag_table('sqa.rec');
RESET quote_all_identifiers;
SELECT bh_audit.tag_table('sqa.rec', 'SqaRec', 'id', 'pat');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_sqa_reader;
SET quote_all_identifiers = on;
SELECT count(*) FROM sqa.rec;
RESET quote_all_identifiers;
RESET SESSION AUTHORIZATION;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_type, action, event -> 'metadata' ->> 'change' AS change,
       resource_id, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0 AND (resource_type = 'SqaRec'
       OR (resource_type = 'AuditConfiguration' AND event -> 'metadata' ->> 'change' IN ('tag_table', 'untag_table')))
 ORDER BY seq;

-- The same for every name an event holds: an UPDATE's changed columns, a
-- TRUNCATE's table, a tagged column's rename, a function's signature in a
-- setting's event, and an id of type regclass.  Each is done with the
-- setting on, then off, and names the same text (the rename empties the
-- tag cache, which the TRUNCATE after it fills; the first UPDATE fills
-- the changed columns' slots).
CREATE TYPE sqa.pair AS (a int, b int);
CREATE FUNCTION sqa.f(p sqa.pair) RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TABLE sqa.obj (obj regclass PRIMARY KEY, pat int);
SELECT bh_audit.tag_table('sqa.obj', 'SqaObj', 'obj', 'pat');
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT coalesce(max(seq), 0) AS m1 FROM bh_audit.events \gset
SET quote_all_identifiers = on;
ALTER TABLE sqa.rec RENAME COLUMN pat TO "Patient Ref";
TRUNCATE sqa.rec;
INSERT INTO sqa.rec VALUES (1, 'p1');
UPDATE sqa.rec SET plain = 1, "Mixed Case" = 1;
ALTER FUNCTION sqa.f(sqa.pair) SET bh_audit.actor_id = 'sqa_fn';
INSERT INTO sqa.obj VALUES ('sqa.rec', 1);
RESET quote_all_identifiers;
ALTER TABLE sqa.rec RENAME COLUMN "Patient Ref" TO pat;
TRUNCATE sqa.rec;
INSERT INTO sqa.rec VALUES (1, 'p1');
UPDATE sqa.rec SET plain = 2, "Mixed Case" = 2;
ALTER FUNCTION sqa.f(sqa.pair) RESET bh_audit.actor_id;
DELETE FROM sqa.obj;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_type, action, resource_id, event -> 'metadata' ->> 'table' AS tbl,
       concat_ws(' ', event -> 'metadata' ->> 'change',
                 event -> 'metadata' ->> 'statement',
                 event -> 'metadata' ->> 'changed_columns',
                 event -> 'metadata' ->> 'column',
                 event -> 'metadata' ->> 'new_column',
                 event -> 'metadata' ->> 'setting_function') AS names
  FROM bh_audit.events
 WHERE seq > :m1 AND action <> 'READ'
 ORDER BY seq;

SELECT bh_audit.untag_table('sqa.obj');
SELECT bh_audit.untag_table('sqa.rec');
DROP SCHEMA sqa CASCADE;
DROP ROLE regress_sqa_admin;
DROP ROLE regress_sqa_reader;
