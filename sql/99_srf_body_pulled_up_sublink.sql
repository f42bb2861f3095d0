-- A set-returning SQL function that the planner inlines, whose body reads
-- a tagged table only in a subquery of an expression (a scalar subquery in
-- its WHERE, or in its select list): inlined in the query's own FROM, a
-- planning failing after records a FAILURE on that table (1, control);
-- inlined in the planner's copy of a subquery in FROM that it pulls up into
-- the query, so must it (2, 3), as in a LATERAL subquery (4), in an IN
-- subquery the planner turns into a join and pulls up (5), and in the body
-- of another function it inlined and pulled up (6), in a view (7), in an
-- INSERT's SELECT (9): the copy pulled up shows the body's entries in the
-- query's range table, but not the tables of its expressions' subqueries,
-- which only the body's analysis saw (bh_plan_body_judge must not drop
-- them).  A UNION ALL (8, control), whose subquery stays in place, records
-- it.
CREATE SCHEMA ps;
CREATE TABLE ps.secrets (id int PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('ps.secrets', 'PsSecret', 'id', 'patient');
CREATE TABLE ps.p (id int PRIMARY KEY);
INSERT INTO ps.p VALUES (1);
CREATE FUNCTION ps.inl_where() RETURNS SETOF ps.p LANGUAGE sql STABLE
  AS 'SELECT * FROM ps.p WHERE id <> (SELECT count(*) FROM ps.secrets)';
CREATE FUNCTION ps.inl_list() RETURNS TABLE (id int, n bigint) LANGUAGE sql STABLE
  AS 'SELECT id, (SELECT count(*) FROM ps.secrets) FROM ps.p';
CREATE FUNCTION ps.outer_f() RETURNS SETOF int LANGUAGE sql STABLE
  AS 'SELECT i.id FROM ps.inl_where() i';
CREATE VIEW ps.v AS SELECT * FROM ps.inl_where();
-- inlined: the table is read in an InitPlan
EXPLAIN (COSTS OFF) SELECT s.id FROM (SELECT * FROM ps.inl_where()) s;
EXPLAIN (COSTS OFF) SELECT s.o FROM (SELECT o FROM ps.outer_f() o) s;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ps_1_own_from');
SELECT s.id FROM ps.inl_where() s, ps.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ps_2_pulled_up');
SELECT s.id FROM (SELECT * FROM ps.inl_where()) s, ps.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ps_3_select_list');
SELECT s.id FROM (SELECT * FROM ps.inl_list()) s, ps.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ps_4_lateral');
SELECT s.id FROM ps.p p, LATERAL (SELECT * FROM ps.inl_where() i WHERE i.id = p.id) s
 WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ps_5_in_semijoin');
SELECT p.id FROM ps.p p WHERE p.id IN (SELECT id FROM ps.inl_where()) AND p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ps_6_in_inlined_body');
SELECT s.o FROM (SELECT o FROM ps.outer_f() o) s, ps.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ps_7_view');
SELECT v.id FROM ps.v v, ps.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ps_8_union_all');
SELECT s.id FROM (SELECT * FROM ps.inl_where() UNION ALL SELECT * FROM ps.p) s, ps.p p
 WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ps_9_insert_select');
INSERT INTO ps.p SELECT id FROM ps.inl_where() WHERE 1/0 = 1;
COMMIT;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;
