-- A set-returning SQL function given as a tree (BEGIN ATOMIC), called in a
-- subquery the planner plans apart (LIMIT) with arguments that stay
-- volatile: PostgreSQL does not inline it (inline_set_returning_function
-- declines volatile arguments before it looks at the body), so the
-- planning of the query does not read the body's table.  A planning that
-- fails (1 / 0, folded) records no FAILURE of the body's tagged table
-- (docs/read-capture.md: "a BEGIN ATOMIC body there counts where the
-- planner locked its tables as it inlined it, so not for arguments that
-- stay volatile"; sql/99_s41e_inline_folded_args ia_11), also when the
-- transaction holds a lock on that table already because it read it
-- before (before d7cb96d: nothing; since, a false READ FAILURE: the
-- tree is noted for such a call, and the lock taken as the planner's).
-- Controls: the same call with a constant argument is inlined, a FAILURE;
-- a function of text with the volatile argument, nothing.
-- A tree function whose body calls tvl.tree with a constant argument
-- (tvl.outer_t: tvl.tree(1)), itself called with volatile arguments in a
-- subquery planned apart, after the transaction read the tagged table:
-- bh_plan_tags_tree (1a8c93f) skips the call's tables and takes outer_t
-- off the list of functions walked, but not tree, walked within its body;
-- a later call of tree(1) in the same query, which the planner inlines
-- (locking tvl.secrets) and whose planning fails (1 / 0), was then never
-- walked: no READ FAILURE of tvl.secrets (7), where the same query with
-- the two subqueries the other way round (8), tree(1) alone (6) and the
-- query in a transaction that did not read the table first (9) have one.
-- Before 1a8c93f, 7 had its FAILURE.
CREATE SCHEMA tvl;
CREATE TABLE tvl.secrets (id int PRIMARY KEY, patient text);
INSERT INTO tvl.secrets VALUES (1, 'p1');
SELECT bh_audit.tag_table('tvl.secrets', 'TvlSecret', 'id', 'patient');
CREATE TABLE tvl.plain (id int);
INSERT INTO tvl.plain VALUES (1);
CREATE FUNCTION tvl.tree(k int) RETURNS SETOF tvl.secrets LANGUAGE sql STABLE
BEGIN ATOMIC SELECT * FROM tvl.secrets WHERE id = k; END;
CREATE FUNCTION tvl.text_fn(k int) RETURNS SETOF tvl.secrets LANGUAGE sql STABLE
AS 'SELECT * FROM tvl.secrets WHERE id = k';
CREATE FUNCTION tvl.outer_t(k int) RETURNS SETOF tvl.secrets LANGUAGE sql STABLE
BEGIN ATOMIC SELECT * FROM tvl.tree(1) t WHERE t.id = k; END;
-- not inlined with a volatile argument, inlined with a constant one
EXPLAIN (COSTS OFF)
SELECT t.id FROM tvl.tree((random() * 3)::int) t LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT t.id FROM tvl.tree(1) t LIMIT 5;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT coalesce(max(seq), 0) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
-- 1. the table read before, the failure in the outer query: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tvl_1_outer');
SELECT count(*) FROM tvl.secrets;
SELECT 1 FROM tvl.plain p,
  (SELECT t.id FROM tvl.tree((random() * 3)::int) t LIMIT 5) s WHERE p.id = 1 / 0;
ROLLBACK;
-- 2. ... the failure in the subquery: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tvl_2_subquery');
SELECT count(*) FROM tvl.secrets;
SELECT 1 FROM tvl.plain p,
  (SELECT t.id FROM tvl.tree((random() * 3)::int) t WHERE t.id = 1 / 0 LIMIT 5) s;
ROLLBACK;
-- 3. control, not read before: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tvl_3_not_locked');
SELECT 1 FROM tvl.plain p,
  (SELECT t.id FROM tvl.tree((random() * 3)::int) t LIMIT 5) s WHERE p.id = 1 / 0;
ROLLBACK;
-- 4. control, a function of text so called, read before: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tvl_4_text_fn');
SELECT count(*) FROM tvl.secrets;
SELECT 1 FROM tvl.plain p,
  (SELECT t.id FROM tvl.text_fn((random() * 3)::int) t LIMIT 5) s WHERE p.id = 1 / 0;
ROLLBACK;
-- 5. control, the tree with a constant argument, inlined: FAILURE
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tvl_5_constant');
SELECT 1 FROM tvl.plain p,
  (SELECT t.id FROM tvl.tree(1) t WHERE t.id = 1 / 0 LIMIT 5) s;
ROLLBACK;
-- 6. control, the tree with a constant argument, read before: FAILURE
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tvl_6_constant_read');
SELECT count(*) FROM tvl.secrets;
SELECT 1 FROM tvl.plain p,
  (SELECT t.id FROM tvl.tree(1) t WHERE t.id = 1 / 0 LIMIT 5) s;
ROLLBACK;
-- 7. outer_t(volatile) first, then tree(1) failing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tvl_7_outer_first');
SELECT count(*) FROM tvl.secrets;
SELECT 1 FROM tvl.plain p,
  (SELECT t.id FROM tvl.outer_t((random() * 3)::int) t LIMIT 5) a,
  (SELECT t.id FROM tvl.tree(1) t WHERE t.id = 1 / 0 LIMIT 5) s;
ROLLBACK;
-- 8. tree(1) first
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tvl_8_tree_first');
SELECT count(*) FROM tvl.secrets;
SELECT 1 FROM tvl.plain p,
  (SELECT t.id FROM tvl.tree(1) t WHERE t.id = 1 / 0 LIMIT 5) s,
  (SELECT t.id FROM tvl.outer_t((random() * 3)::int) t LIMIT 5) a;
ROLLBACK;
-- 9. not read before, outer first
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tvl_9_not_read');
SELECT 1 FROM tvl.plain p,
  (SELECT t.id FROM tvl.outer_t((random() * 3)::int) t LIMIT 5) a,
  (SELECT t.id FROM tvl.tree(1) t WHERE t.id = 1 / 0 LIMIT 5) s;
ROLLBACK;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;

SELECT bh_audit.untag_table('tvl.secrets');
DROP SCHEMA tvl CASCADE;
