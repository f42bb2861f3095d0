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
CREATE SCHEMA wc;
CREATE TABLE wc.tagged (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('wc.tagged', 'WcRow', 'id', 'patient');
CREATE TABLE wc.plain (v int);
CREATE FUNCTION wc.k(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 1';
\set VERBOSITY terse
SET statement_timeout = '20s';
-- What is measured is planning, not compiling: a server whose JIT
-- thresholds are lowered would compile the 60000-row expressions.
SET jit = off;
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
