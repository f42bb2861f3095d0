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
-- it.  (Part 2 below.)
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
-- Part 2: a set-returning SQL function inlined in a subquery the planner
-- plans apart (OFFSET 0, a scalar subquery), in its own copy that the query
-- never shows, whose body's analysis does not show the tagged table it
-- reads: read through a view the body names (the analysis comes before the
-- rewriter expands the view), or a BEGIN ATOMIC body (never analysed
-- again).  A planning failing after the inlining must record a FAILURE on
-- that table (ua_3 to ua_6), as it does for the same functions in the
-- query's own FROM (ua_1, ua_2) and for a body naming the table itself
-- (ua_7, ua_8: controls).  Also so before 0a80307.
CREATE SCHEMA ua;
CREATE TABLE ua.secrets (id int PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('ua.secrets', 'UaSecret', 'id', 'patient');
CREATE VIEW ua.v AS SELECT * FROM ua.secrets;
CREATE FUNCTION ua.named() RETURNS SETOF ua.secrets LANGUAGE sql STABLE
  AS 'SELECT * FROM ua.secrets';
CREATE FUNCTION ua.via_view() RETURNS SETOF ua.secrets LANGUAGE sql STABLE
  AS 'SELECT * FROM ua.v';
CREATE FUNCTION ua.atomic() RETURNS SETOF ua.secrets LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM ua.secrets; END;
-- inlined in a scalar subquery: the table is read in its plan
EXPLAIN (COSTS OFF) SELECT (SELECT count(*) FROM ua.via_view());
EXPLAIN (COSTS OFF) SELECT (SELECT count(*) FROM ua.atomic());
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_1_view_own_from');
SELECT s.id FROM ua.via_view() s, ps.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_2_atomic_own_from');
SELECT s.id FROM ua.atomic() s, ps.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_3_view_apart');
SELECT s.id FROM (SELECT * FROM ua.via_view() WHERE 1/0 = 1 OFFSET 0) s;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_4_view_scalar');
SELECT (SELECT count(*) FROM ua.via_view() WHERE 1/0 = 1);
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_5_atomic_apart');
SELECT s.id FROM (SELECT * FROM ua.atomic() WHERE 1/0 = 1 OFFSET 0) s;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_6_atomic_scalar');
SELECT (SELECT count(*) FROM ua.atomic() WHERE 1/0 = 1);
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_7_named_apart');
SELECT s.id FROM (SELECT * FROM ua.named() WHERE 1/0 = 1 OFFSET 0) s;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_8_named_scalar');
SELECT (SELECT count(*) FROM ua.named() WHERE 1/0 = 1);
COMMIT;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;
-- Part 3: the same, further.  A planning failing before the planner
-- inlines the body (the query's own WHERE is folded before its subquery
-- apart is planned) records nothing on the body's table (ua_9, ua_10: the
-- planner took no lock on it); a BEGIN ATOMIC body called in a body of
-- either kind that the planner inlines apart (ua_11, ua_12, through a
-- view), and one reading the table in a subquery of its WHERE (ua_13),
-- record it.
CREATE FUNCTION ua.named_calls_atomic() RETURNS SETOF ua.secrets LANGUAGE sql STABLE
  AS 'SELECT * FROM ua.atomic()';
CREATE FUNCTION ua.atomic_view() RETURNS SETOF ua.secrets LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM ua.v; END;
CREATE FUNCTION ua.atomic_calls_atomic() RETURNS SETOF ua.secrets LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM ua.atomic_view(); END;
CREATE FUNCTION ua.atomic_where() RETURNS SETOF ps.p LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM ps.p WHERE id <> (SELECT count(*) FROM ua.secrets); END;
-- inlined twice over: the table is read in the scalar subquery's plan
EXPLAIN (COSTS OFF) SELECT (SELECT count(*) FROM ua.atomic_calls_atomic());
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_9_atomic_not_yet');
SELECT s.id FROM (SELECT * FROM ua.atomic() OFFSET 0) s WHERE 1/0 = 1;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_10_view_not_yet');
SELECT s.id FROM (SELECT * FROM ua.via_view() OFFSET 0) s WHERE 1/0 = 1;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_11_named_calls_atomic');
SELECT s.id FROM (SELECT * FROM ua.named_calls_atomic() WHERE 1/0 = 1 OFFSET 0) s;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_12_atomic_calls_atomic');
SELECT (SELECT count(*) FROM ua.atomic_calls_atomic() WHERE 1/0 = 1);
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ua_13_atomic_where');
SELECT (SELECT count(*) FROM ua.atomic_where() WHERE 1/0 = 1);
COMMIT;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;
