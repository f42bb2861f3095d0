-- A statement through an untagged inheritance parent that fails in the
-- planner (a constant folded to an error) is a FAILURE of each tagged
-- table among the parent's children, at any depth, in the order the
-- planner expands them (level by level, each parent's children in OID
-- order), with the statement's action when the parent is its target,
-- READ otherwise; none through ONLY, none for an INSERT into the parent
-- (its rows stay there), none in parse analysis (known by OID, not by
-- name), at most 64; and the tag cache learns of changes
-- of the tree (ALTER TABLE ... INHERIT, NO INHERIT, a DROP of a child,
-- CREATE TABLE ... INHERITS under a table tagged on its own's parent)
-- after it loaded (read-capture.md, Failed access).
CREATE SCHEMA s46hi;
CREATE TABLE s46hi.top (id int, pat text);
CREATE TABLE s46hi.mid () INHERITS (s46hi.top);
CREATE TABLE s46hi.a () INHERITS (s46hi.mid);
CREATE TABLE s46hi.b () INHERITS (s46hi.top);
CREATE TABLE s46hi.c () INHERITS (s46hi.top);
CREATE TABLE s46hi.sink (id int, pat text);
INSERT INTO s46hi.a VALUES (1, 'a1');
INSERT INTO s46hi.b VALUES (2, 'b2');
SELECT bh_audit.tag_table('s46hi.a', 'S46hA', 'id', 'pat');
SELECT bh_audit.tag_table('s46hi.b', 'S46hB', 'id', 'pat');
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark_s46hi AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE FUNCTION pg_temp.events_s46hi() RETURNS TABLE (ctx text, action text, outcome text,
                                                      error_type text, tbl text)
LANGUAGE sql AS $$
    SELECT bh_audit.seal();
    SELECT actor_id, action, outcome, error_type,
           event -> 'metadata' ->> 'table'
      FROM bh_audit.events
     WHERE seq > (SELECT seq FROM mark_s46hi) AND resource_type LIKE 'S46h%'
     ORDER BY seq $$;
CREATE FUNCTION pg_temp.next_s46hi() RETURNS boolean LANGUAGE sql AS $$
    UPDATE mark_s46hi SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
    SELECT true $$;

\set VERBOSITY terse
BEGIN;
SAVEPOINT s;
-- 1. a read through the top: b (a child of the top), then a (under mid)
SELECT bh_audit.set_context('s46hi_1');
SELECT * FROM s46hi.top WHERE id = 1 / 0;
ROLLBACK TO s;
-- 2. through mid: a only
SELECT bh_audit.set_context('s46hi_2');
SELECT * FROM s46hi.mid WHERE id = 1 / 0;
ROLLBACK TO s;
-- 3. 4. the parent the target: UPDATE, DELETE on both
SELECT bh_audit.set_context('s46hi_3');
UPDATE s46hi.top SET pat = 'x' WHERE id = 1 / 0;
ROLLBACK TO s;
SELECT bh_audit.set_context('s46hi_4');
DELETE FROM s46hi.top WHERE id = 1 / 0;
ROLLBACK TO s;
-- 5. read by an INSERT into another table: READ
SELECT bh_audit.set_context('s46hi_5');
INSERT INTO s46hi.sink SELECT * FROM s46hi.top WHERE id = 1 / 0;
ROLLBACK TO s;
-- 6. 7. 8. ONLY, and an INSERT into the parent: no event
SELECT bh_audit.set_context('s46hi_6');
SELECT * FROM ONLY s46hi.top WHERE id = 1 / 0;
ROLLBACK TO s;
SELECT bh_audit.set_context('s46hi_7');
UPDATE ONLY s46hi.top SET pat = 'x' WHERE id = 1 / 0;
ROLLBACK TO s;
SELECT bh_audit.set_context('s46hi_8');
INSERT INTO s46hi.top VALUES (1 / 0, 'x');
ROLLBACK TO s;
-- 8b. failing in parse analysis, before the planner: no event either (the
-- cache knows the parent by OID, not by name)
SELECT bh_audit.set_context('s46hi_8b');
SELECT * FROM s46hi.top WHERE id = 'abc';
ROLLBACK TO s;
COMMIT;
\set VERBOSITY default
SELECT * FROM pg_temp.events_s46hi();
SELECT pg_temp.next_s46hi();

-- The tree changed after the cache loaded (it did above).
\set VERBOSITY terse
-- 9. b no longer a child of the top: a only
ALTER TABLE s46hi.b NO INHERIT s46hi.top;
BEGIN;
SELECT bh_audit.set_context('s46hi_9');
SELECT * FROM s46hi.top WHERE id = 1 / 0;
ROLLBACK;
-- 10. b a child of mid: a, b through mid and the top
ALTER TABLE s46hi.b INHERIT s46hi.mid;
BEGIN;
SELECT bh_audit.set_context('s46hi_10');
SELECT * FROM s46hi.mid WHERE id = 1 / 0;
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('s46hi_10b');
SELECT * FROM s46hi.top WHERE id = 1 / 0;
ROLLBACK;
-- 11. mid, parent of both, a child of a new table: through it too
CREATE TABLE s46hi.up (id int, pat text);
ALTER TABLE s46hi.mid INHERIT s46hi.up;
BEGIN;
SELECT bh_audit.set_context('s46hi_11');
SELECT * FROM s46hi.up WHERE id = 1 / 0;
ROLLBACK;
-- 12. a table tagged on its own created under c (untagged, no tagged child
-- before): through c and the top
CREATE TABLE s46hi.d () INHERITS (s46hi.c);
SELECT bh_audit.tag_table('s46hi.d', 'S46hD', 'id', 'pat');
BEGIN;
SELECT bh_audit.set_context('s46hi_12');
SELECT * FROM s46hi.c WHERE id = 1 / 0;
ROLLBACK;
-- 13. d dropped (its tag goes with it): none through c
DROP TABLE s46hi.d;
BEGIN;
SELECT bh_audit.set_context('s46hi_13');
SELECT * FROM s46hi.c WHERE id = 1 / 0;
ROLLBACK;
-- 14. a child of two parents (mid and e): through e too
CREATE TABLE s46hi.e (id int, pat text);
ALTER TABLE s46hi.a INHERIT s46hi.e;
BEGIN;
SELECT bh_audit.set_context('s46hi_14');
SELECT * FROM s46hi.e WHERE id = 1 / 0;
ROLLBACK;
\set VERBOSITY default
SELECT * FROM pg_temp.events_s46hi();
SELECT pg_temp.next_s46hi();

-- 15. 66 tagged children: 64 FAILURE events
CREATE TABLE s46hi.many (id int, pat text);
DO $$
BEGIN
    FOR i IN 1..66 LOOP
        EXECUTE format('CREATE TABLE s46hi.m%s () INHERITS (s46hi.many)', i);
        PERFORM bh_audit.tag_table(format('s46hi.m%s', i)::regclass, 'S46hM', 'id', 'pat');
    END LOOP;
END $$;
\set VERBOSITY terse
BEGIN;
SELECT bh_audit.set_context('s46hi_15');
SELECT * FROM s46hi.many WHERE id = 1 / 0;
ROLLBACK;
\set VERBOSITY default
-- the first 64 in the planner's order (OID order: m1 .. m64)
SELECT ctx, action, outcome, count(*),
       count(*) FILTER (WHERE tbl IN ('s46hi.m65', 's46hi.m66')) AS last_two
  FROM pg_temp.events_s46hi() GROUP BY ctx, action, outcome;

SELECT count(bh_audit.untag_table(tbl)) FROM bh_audit.tagged_tables
 WHERE tbl::text LIKE 's46hi.%';
SET client_min_messages = warning;
DROP SCHEMA s46hi CASCADE;
RESET client_min_messages;
