-- A set-returning SQL function inlined in a subquery the planner plans apart
-- (LIMIT), whose call has arguments that call a volatile function or have
-- a subquery only until the planner simplifies them (a CASE of a constant
-- condition, a VOLATILE SQL function it inlines as a constant, a
-- parameter's value in a custom plan), while the query's own FROM calls a
-- function of the same body text that the planner analyses and does not
-- inline (ia.whole: the row as its one column).  The planning then fails
-- in the subquery: a FAILURE of the body's table, as with a constant
-- argument (before: none; the call was judged by its arguments as the
-- query has them, which the planner simplifies only in its own copy of the
-- subquery: not the one inlined, and the body analysed taken for the one
-- in FROM, not inlined).  A call whose arguments stay volatile is not
-- inlined; it is taken as possibly inlined all the same, as the planner's
-- simplification cannot be seen: a FAILURE (docs/read-capture.md).  The
-- same for a function given as a tree (BEGIN ATOMIC), whose tables count
-- where the planner locked them as it inlined it: arguments that stay
-- volatile, nothing.
CREATE SCHEMA ia;
CREATE TABLE ia.secrets (id int PRIMARY KEY, patient text);
INSERT INTO ia.secrets VALUES (1, 'p1');
SELECT bh_audit.tag_table('ia.secrets', 'IaSecret', 'id', 'patient');
CREATE TABLE ia.plain (id int);
INSERT INTO ia.plain VALUES (1);
CREATE TYPE ia.wrap AS (s ia.secrets);
-- inlined: a row of one column, the secret's row
CREATE FUNCTION ia.rec(k int) RETURNS SETOF ia.wrap LANGUAGE sql STABLE
  AS 'SELECT s FROM ia.secrets s WHERE s.id = k';
-- the same text, analysed and not inlined: the whole row as one column
CREATE FUNCTION ia.whole(k int) RETURNS SETOF ia.secrets LANGUAGE sql STABLE
  AS 'SELECT s FROM ia.secrets s WHERE s.id = k';
-- inlined, a tree (BEGIN ATOMIC)
CREATE FUNCTION ia.tree(k int) RETURNS SETOF ia.secrets LANGUAGE sql STABLE
BEGIN ATOMIC SELECT * FROM ia.secrets WHERE id = k; END;
-- VOLATILE (the default), inlined as its constant
CREATE FUNCTION ia.one() RETURNS int LANGUAGE sql AS 'SELECT 1';
EXPLAIN (COSTS OFF) SELECT * FROM ia.rec(1);
EXPLAIN (COSTS OFF) SELECT * FROM ia.whole(1);
EXPLAIN (COSTS OFF)
SELECT * FROM ia.rec(CASE WHEN false THEN (random() * 3)::int ELSE 1 END);
EXPLAIN (COSTS OFF) SELECT * FROM ia.rec(ia.one());
EXPLAIN (COSTS OFF) SELECT * FROM ia.rec((random() * 3)::int);
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT coalesce(max(seq), 0) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
-- 1. control, a constant argument: FAILURE
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ia_1_constant');
SELECT 1 FROM ia.whole(1) e,
  (SELECT l.s FROM ia.rec(1) l WHERE (l.s).id = 1 / 0 LIMIT 5) s;
ROLLBACK;
-- 2. a CASE of a constant condition: FAILURE
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ia_2_case');
SELECT 1 FROM ia.whole(1) e,
  (SELECT l.s FROM ia.rec(CASE WHEN false THEN (random() * 3)::int ELSE 1 END) l
    WHERE (l.s).id = 1 / 0 LIMIT 5) s;
ROLLBACK;
-- 3. ... a subquery in a branch never taken: FAILURE
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ia_3_case_sublink');
SELECT 1 FROM ia.whole(1) e,
  (SELECT l.s FROM ia.rec(CASE WHEN true THEN 1 ELSE (SELECT 2) END) l
    WHERE (l.s).id = 1 / 0 LIMIT 5) s;
ROLLBACK;
-- 4. a VOLATILE SQL function inlined as a constant: FAILURE
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ia_4_volatile_sql_const');
SELECT 1 FROM ia.whole(1) e,
  (SELECT l.s FROM ia.rec(ia.one()) l WHERE (l.s).id = 1 / 0 LIMIT 5) s;
ROLLBACK;
-- 5. a parameter in a custom plan: FAILURE
PREPARE ia_q(bool) AS
SELECT 1 FROM ia.whole(1) e,
  (SELECT l.s FROM ia.rec(CASE WHEN $1 THEN 1 ELSE (random() * 3)::int END) l
    WHERE (l.s).id = 1 / 0 LIMIT 5) s;
SET plan_cache_mode = force_custom_plan;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ia_5_custom_plan');
EXECUTE ia_q(true);
ROLLBACK;
RESET plan_cache_mode;
DEALLOCATE ia_q;
-- 6. control, the function not inlined in FROM alone: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ia_6_whole_alone');
SELECT 1 FROM ia.whole(1) e WHERE e.id = 1 / 0;
ROLLBACK;
-- 7. the call in the query's own FROM with such arguments, inlined there
-- (the planner simplifies them in place): FAILURE, before and after
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ia_7_from_case');
SELECT 1 FROM ia.whole(1) e,
  ia.rec(CASE WHEN false THEN (random() * 3)::int ELSE 1 END) l WHERE (l.s).id = 1 / 0;
ROLLBACK;
-- 8. arguments that stay volatile, in the subquery: not inlined, taken
-- as possibly inlined: FAILURE
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ia_8_volatile');
SELECT 1 FROM ia.whole(1) e,
  (SELECT l.s FROM ia.rec((random() * 3)::int) l WHERE (l.s).id = 1 / 0 LIMIT 5) s;
ROLLBACK;
-- 9. a tree inlined in a subquery apart, a CASE of a constant condition:
-- FAILURE, as with a constant (10)
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ia_9_tree_case');
SELECT 1 FROM ia.plain p,
  (SELECT t.id FROM ia.tree(CASE WHEN false THEN (random() * 3)::int ELSE 1 END) t
    WHERE t.id = 1 / 0 LIMIT 5) s;
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ia_10_tree_constant');
SELECT 1 FROM ia.plain p,
  (SELECT t.id FROM ia.tree(1) t WHERE t.id = 1 / 0 LIMIT 5) s;
ROLLBACK;
-- 11. the tree with arguments that stay volatile: not inlined, nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ia_11_tree_volatile');
SELECT 1 FROM ia.plain p,
  (SELECT t.id FROM ia.tree((random() * 3)::int) t WHERE t.id = 1 / 0 LIMIT 5) s;
ROLLBACK;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;

SELECT bh_audit.untag_table('ia.secrets');
DROP SCHEMA ia CASCADE;
