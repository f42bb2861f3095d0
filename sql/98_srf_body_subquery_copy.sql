-- A set-returning SQL function that the planner analyses and does not
-- inline (whole: the row as its one column, sql/83), called in a subquery
-- in FROM that the planner pulls up into the query: it inlines there in its
-- own copy of the subquery, whose range table it then adds to the query's,
-- so the failure of a planning after (WHERE p.id = 1/0) sees what it
-- inlined; the function, never inlined, gives no FAILURE on sq.secrets
-- that its body reads: in one subquery (1), in a subquery of a subquery
-- (2), also called in the query's own FROM (3).  Controls, FAILURE on
-- sq.secrets: the inlined inl in a subquery pulled up (4), in one planned
-- apart (OFFSET 0), its copy never shown, failing in it (5) or in another
-- planned after (6); one call of poly inlined in a WITH query, which the
-- planner plans apart before it pulls any subquery up, and one of the same
-- function in a subquery pulled up, not inlined (its result composite, the
-- row as one column): the body analysed first is the WITH query's (7).
-- whole called in the body of whole_outer, inlined in a subquery pulled up:
-- the call is seen only in the planner's copy (8), no FAILURE; control, the
-- inlined inl called in the body of inl_outer, the same way: FAILURE (9).
CREATE SCHEMA sq;
CREATE TABLE sq.secrets (id int PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('sq.secrets', 'SqSecret', 'id', 'patient');
CREATE TABLE sq.p (id int PRIMARY KEY);
INSERT INTO sq.p VALUES (1);
CREATE TYPE sq.pair AS (a int, b int);
CREATE FUNCTION sq.whole() RETURNS SETOF sq.secrets LANGUAGE sql STABLE
  AS 'SELECT s FROM sq.secrets s';
CREATE FUNCTION sq.inl() RETURNS SETOF sq.secrets LANGUAGE sql STABLE
  AS 'SELECT * FROM sq.secrets';
CREATE FUNCTION sq.whole_outer() RETURNS SETOF int LANGUAGE sql STABLE
  AS 'SELECT w.id FROM sq.whole() w';
CREATE FUNCTION sq.inl_outer() RETURNS SETOF int LANGUAGE sql STABLE
  AS 'SELECT i.id FROM sq.inl() i';
CREATE FUNCTION sq.poly(anyelement) RETURNS SETOF anyelement LANGUAGE sql STABLE
  AS 'SELECT $1 FROM sq.secrets';
-- which is inlined
EXPLAIN (COSTS OFF) SELECT s.id FROM (SELECT * FROM sq.whole()) s;
EXPLAIN (COSTS OFF) SELECT s.id FROM (SELECT * FROM sq.inl() OFFSET 0) s;
EXPLAIN (COSTS OFF) SELECT s.o FROM (SELECT o FROM sq.whole_outer() o) s;
EXPLAIN (COSTS OFF)
  WITH c AS MATERIALIZED (SELECT * FROM sq.poly(1))
  SELECT c.poly FROM c, (SELECT * FROM sq.poly(NULL::sq.pair)) s;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
BEGIN;
SELECT bh_audit.set_context(actor_id => 'sq_1_pulled_up');
SELECT s.id FROM (SELECT * FROM sq.whole()) s, sq.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'sq_2_two_levels');
SELECT s.id FROM (SELECT * FROM (SELECT * FROM sq.whole()) s1) s, sq.p p
 WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'sq_3_and_own_from');
SELECT x.id FROM sq.whole() x, (SELECT * FROM sq.whole()) s, sq.p p
 WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'sq_4_inlined_pulled_up');
SELECT s.id FROM (SELECT * FROM sq.inl()) s, sq.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'sq_5_inlined_apart');
SELECT s.id FROM (SELECT * FROM sq.inl() WHERE 1/0 = 1 OFFSET 0) s;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'sq_6_inlined_apart_other_fails');
SELECT s.id, z.z FROM (SELECT * FROM sq.inl() OFFSET 0) s, (SELECT 1/0 AS z OFFSET 0) z;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'sq_7_with_inlined');
WITH c AS MATERIALIZED (SELECT * FROM sq.poly(1))
SELECT c.poly FROM c, (SELECT * FROM sq.poly(NULL::sq.pair)) s, sq.p p
 WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'sq_8_in_inlined_body');
SELECT s.o FROM (SELECT o FROM sq.whole_outer() o) s, sq.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'sq_9_inlined_in_inlined_body');
SELECT s.o FROM (SELECT o FROM sq.inl_outer() o) s, sq.p p WHERE p.id = 1/0;
COMMIT;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;
