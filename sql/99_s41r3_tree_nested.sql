-- A BEGIN ATOMIC function (tn.outer_t) whose body calls another one with a
-- constant argument (tn.inner_t(1)), itself called with volatile
-- arguments in a subquery planned apart, after the transaction read the
-- tagged table: bh_plan_tags_tree (1a8c93f) skips the call's tables and
-- takes outer_t off the list of functions walked, but not inner_t, walked
-- within its body; a later call of inner_t(1) in the same query, which the
-- planner inlines (locking tn.secrets) and whose planning fails (1 / 0),
-- is then never walked: no READ FAILURE of tn.secrets (2), where the same
-- query with the two subqueries the other way round (3), inner_t(1) alone
-- (1) and the query in a transaction that did not read the table first (4)
-- have one.  Before 1a8c93f, 2 had its FAILURE.
CREATE SCHEMA tn;
CREATE TABLE tn.secrets (id int PRIMARY KEY, patient text);
INSERT INTO tn.secrets VALUES (1, 'p1');
SELECT bh_audit.tag_table('tn.secrets', 'TnSecret', 'id', 'patient');
CREATE TABLE tn.plain (id int);
INSERT INTO tn.plain VALUES (1);
CREATE FUNCTION tn.inner_t(k int) RETURNS SETOF tn.secrets LANGUAGE sql STABLE
BEGIN ATOMIC SELECT * FROM tn.secrets WHERE id = k; END;
CREATE FUNCTION tn.outer_t(k int) RETURNS SETOF tn.secrets LANGUAGE sql STABLE
BEGIN ATOMIC SELECT * FROM tn.inner_t(1) t WHERE t.id = k; END;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT coalesce(max(seq), 0) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
-- 1. control: inner_t(1) inlined, read before: FAILURE?
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tn_1_inner_only');
SELECT count(*) FROM tn.secrets;
SELECT 1 FROM tn.plain p,
  (SELECT t.id FROM tn.inner_t(1) t WHERE t.id = 1 / 0 LIMIT 5) s;
ROLLBACK;
-- 2. outer_t(volatile) first, then inner_t(1) failing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tn_2_outer_first');
SELECT count(*) FROM tn.secrets;
SELECT 1 FROM tn.plain p,
  (SELECT t.id FROM tn.outer_t((random() * 3)::int) t LIMIT 5) a,
  (SELECT t.id FROM tn.inner_t(1) t WHERE t.id = 1 / 0 LIMIT 5) s;
ROLLBACK;
-- 3. inner first
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tn_3_inner_first');
SELECT count(*) FROM tn.secrets;
SELECT 1 FROM tn.plain p,
  (SELECT t.id FROM tn.inner_t(1) t WHERE t.id = 1 / 0 LIMIT 5) s,
  (SELECT t.id FROM tn.outer_t((random() * 3)::int) t LIMIT 5) a;
ROLLBACK;
-- 4. not read before, outer first
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tn_4_not_read');
SELECT 1 FROM tn.plain p,
  (SELECT t.id FROM tn.outer_t((random() * 3)::int) t LIMIT 5) a,
  (SELECT t.id FROM tn.inner_t(1) t WHERE t.id = 1 / 0 LIMIT 5) s;
ROLLBACK;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;
SELECT bh_audit.untag_table('tn.secrets');
DROP SCHEMA tn CASCADE;
