-- A BEGIN ATOMIC function called in the query's own FROM, whose tree calls
-- another BEGIN ATOMIC function that reads a tagged table, where the
-- planner inlines that inner tree in a subquery it plans apart, in its own
-- copy (an OFFSET 0 subquery of the outer tree, or the outer tree's body
-- itself when it cannot be pulled up: LIMIT): a planning failing after the
-- inner inlining must record a FAILURE on the table, as it does when the
-- outer body is text (tf_1, control) or the outer tree is called in a
-- scalar subquery (tf_2, control).  tf_3 and tf_4 recorded nothing while
-- the walk that reads the trees of a planning (bh_plan_tags_tree) started
-- at subqueries only, so that the outer tree, in the query's own FROM, was
-- never read, nor the inner tree it calls.
CREATE SCHEMA tf;
CREATE TABLE tf.secrets (id int PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('tf.secrets', 'TfSecret', 'id', 'patient');
CREATE FUNCTION tf.atomic() RETURNS SETOF tf.secrets LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM tf.secrets; END;
CREATE FUNCTION tf.text_apart() RETURNS SETOF tf.secrets LANGUAGE sql STABLE
  AS 'SELECT * FROM (SELECT * FROM tf.atomic() WHERE 1/0 = 1 OFFSET 0) s';
CREATE FUNCTION tf.tree_apart() RETURNS SETOF tf.secrets LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM (SELECT * FROM tf.atomic() WHERE 1/0 = 1 OFFSET 0) s; END;
CREATE FUNCTION tf.tree_limit() RETURNS SETOF tf.secrets LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM tf.atomic() WHERE 1/0 = 1 LIMIT 5; END;
-- the same without the error: both trees inlined, the table read in the
-- plan of the query's own FROM
CREATE FUNCTION tf.tree_apart_ok() RETURNS SETOF tf.secrets LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM (SELECT * FROM tf.atomic() WHERE id > 1 OFFSET 0) s; END;
CREATE FUNCTION tf.tree_limit_ok() RETURNS SETOF tf.secrets LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM tf.atomic() WHERE id > 1 LIMIT 5; END;
-- a tree the user may not EXECUTE, which the planner does not inline (it
-- checks the privilege before it reads the body: the call fails later):
-- its tables are no failure's, also where the transaction locked them
-- before (tf_5: the READ of its own statement only); with the privilege,
-- the failure's (tf_6)
CREATE FUNCTION tf.atomic_x() RETURNS SETOF tf.secrets LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM tf.secrets; END;
REVOKE EXECUTE ON FUNCTION tf.atomic_x() FROM PUBLIC;
CREATE FUNCTION tf.tree_apart_x() RETURNS SETOF tf.secrets LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM (SELECT * FROM tf.atomic_x() WHERE 1/0 = 1 OFFSET 0) s; END;
CREATE ROLE regress_tf_app;
GRANT USAGE ON SCHEMA tf TO regress_tf_app;
GRANT SELECT ON tf.secrets TO regress_tf_app;
INSERT INTO tf.secrets VALUES (1, 'P01', 'x');
-- a tree in the query's own FROM reading the table only in a scalar
-- subquery of its WHERE (an IN would become a join), which the query's
-- range tables do not show once the planner inlined it in place: read
-- from the catalog too (tf_7), also in a subquery pulled up (tf_8)
CREATE TABLE tf.plain (id int);
CREATE FUNCTION tf.tree_sublink() RETURNS SETOF tf.plain LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM tf.plain p WHERE p.id = (SELECT max(id) FROM tf.secrets); END;
EXPLAIN (COSTS OFF) SELECT * FROM tf.tree_apart_ok();
EXPLAIN (COSTS OFF) SELECT * FROM tf.tree_limit_ok();
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tf_1_text_apart');
SELECT * FROM tf.text_apart();
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tf_2_scalar_tree_apart');
SELECT (SELECT count(*) FROM tf.tree_apart());
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tf_3_tree_apart');
SELECT * FROM tf.tree_apart();
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tf_4_tree_limit');
SELECT * FROM tf.tree_limit();
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tf_5_no_execute');
SET LOCAL ROLE regress_tf_app;
SELECT count(*) FROM tf.secrets;
SELECT * FROM tf.tree_apart_x();
COMMIT;
GRANT EXECUTE ON FUNCTION tf.atomic_x() TO regress_tf_app;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tf_6_execute');
SET LOCAL ROLE regress_tf_app;
SELECT * FROM tf.tree_apart_x();
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tf_7_tree_sublink');
SELECT * FROM tf.tree_sublink() WHERE 1/0 = 1;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tf_8_tree_sublink_pulled_up');
SELECT * FROM (SELECT * FROM tf.tree_sublink()) s WHERE 1/0 = 1;
COMMIT;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;
DROP OWNED BY regress_tf_app;
DROP ROLE regress_tf_app;
