-- The cost of noting a SQL function's body analysed under a planning
-- (bh_plan_body_begin) must not grow with the size of the query planned:
-- an IMMUTABLE SQL function that the planner folds runs, its body analysed
-- once per call, and each analysis must not walk the whole query again
-- (quadratic).  A multi-row INSERT into an UNTAGGED table calling such a
-- function in each of its 60000 rows, and a SELECT of an array of 60000
-- such calls, plan in about a second without the extension's hooks and
-- with the walk of the range tables only; under a timeout of 20 s each
-- must finish (with a walk of the whole query: ~15 s each for 25000, and
-- quadratic).
-- Part 2: the walk recurses through the whole query from within the
-- folding of a call deep in it (the planner's own recursion to that call,
-- then the function's startup, then the walk from the top again): a sum of
-- 3800 such calls, which plans without the extension and did with the
-- walk of the range table only, must not fail with "stack depth limit
-- exceeded" (max_stack_depth 2MB, as the test instance has it).
-- Part 3: a set-returning SQL function that the planner analyses and does
-- not inline (secrets_whole: the row as its one column, sql/83), called in
-- the body of one it inlines (whole_outer, pulled up into the query, where
-- the planner analyses the inner call in its copy): never inlined (the plan
-- scans the function), so a planning failing after records no FAILURE on
-- wc.secrets that it reads, alone (a) or with the same function in the
-- query's own FROM (b: "one inlined and another not give the first's
-- tables only", docs/read-capture.md), as when it is called alone (c);
-- the inlined inner body of tagged_outer gives its FAILURE (d, control).
CREATE SCHEMA wc;
CREATE TABLE wc.tagged (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('wc.tagged', 'WcRow', 'id', 'patient');
CREATE TABLE wc.plain (v int);
CREATE FUNCTION wc.k(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 1';
\set VERBOSITY terse
SET statement_timeout = '20s';
DO $$
BEGIN
  EXECUTE (SELECT format('INSERT INTO wc.plain VALUES %s',
                         string_agg(format('(wc.k(%s))', i), ','))
             FROM generate_series(1, 60000) i);
END $$;
DO $$
DECLARE
  n int;
BEGIN
  EXECUTE (SELECT format('SELECT array_length(ARRAY[%s], 1)',
                         string_agg(format('wc.k(%s)', i), ','))
             FROM generate_series(1, 60000) i) INTO n;
  RAISE NOTICE 'array of %', n;
END $$;
RESET statement_timeout;
\set VERBOSITY default
SELECT count(*), min(v), max(v) FROM wc.plain;
-- 2. a sum of 3800 folded calls (not echoed)
\set ECHO none
SELECT format('SELECT %s AS s', string_agg(format('wc.k(%s)', i), '+'))
  FROM generate_series(1, 3800) i \gexec
\set ECHO all
-- 3. an inlined body calling a function not inlined
CREATE TABLE wc.secrets (id int PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('wc.secrets', 'WcSecret', 'id', 'patient');
CREATE TABLE wc.p (id int PRIMARY KEY);
INSERT INTO wc.p VALUES (1);
CREATE FUNCTION wc.secrets_whole() RETURNS SETOF wc.secrets LANGUAGE sql STABLE
  AS 'SELECT s FROM wc.secrets s';
CREATE FUNCTION wc.whole_outer() RETURNS SETOF int LANGUAGE sql STABLE
  AS 'SELECT w.id FROM wc.secrets_whole() w';
CREATE FUNCTION wc.tagged_inl() RETURNS SETOF wc.tagged LANGUAGE sql STABLE
  AS 'SELECT * FROM wc.tagged';
CREATE FUNCTION wc.tagged_outer() RETURNS SETOF wc.tagged LANGUAGE sql STABLE
  AS 'SELECT * FROM wc.tagged_inl()';
EXPLAIN (COSTS OFF) SELECT o FROM wc.whole_outer() o;
EXPLAIN (COSTS OFF) SELECT o.id FROM wc.tagged_outer() o;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
BEGIN;
SELECT bh_audit.set_context(actor_id => 'wc_3a_outer');
SELECT o FROM wc.whole_outer() o, wc.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'wc_3b_outer_and_whole');
SELECT o FROM wc.whole_outer() o, wc.secrets_whole() x, wc.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'wc_3c_whole_alone');
SELECT x.id FROM wc.secrets_whole() x, wc.p p WHERE p.id = 1/0;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'wc_3d_tagged_outer');
SELECT o.id FROM wc.tagged_outer() o, wc.p p WHERE p.id = 1/0;
COMMIT;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;
