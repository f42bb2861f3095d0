-- A set-returning SQL function in FROM that the planner analyses to inline it
-- and then does not inline (STABLE, but its body returns the whole row as one
-- column, "SELECT n FROM t n"): its body is not the planned query's, as a scalar
-- function's analysed and not inlined is not (sql/79, case 4).  A planning that
-- fails for another reason (WHERE id = 1/0) records no FAILURE on the tables of
-- that body: the function has not run, the query read nothing, as for the same
-- function VOLATILE (never analysed by the planner).  Controls: the body inlined
-- (its table is the query's: FAILURE), the same function planned without error.
CREATE SCHEMA ni;
CREATE TABLE ni.notes (id int PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('ni.notes', 'NiNote', 'id', 'patient');
INSERT INTO ni.notes VALUES (1, 'np1', 'b1');
CREATE TABLE ni.plain (id int PRIMARY KEY);
INSERT INTO ni.plain VALUES (1);
-- analysed for inlining, not inlined: the whole row as its one column
CREATE FUNCTION ni.rows_whole() RETURNS SETOF ni.notes LANGUAGE sql STABLE
  AS 'SELECT n FROM ni.notes n';
-- never analysed by the planner
CREATE FUNCTION ni.rows_vol() RETURNS SETOF ni.notes LANGUAGE sql VOLATILE
  AS 'SELECT n FROM ni.notes n';
-- inlined
CREATE FUNCTION ni.rows_inl() RETURNS SETOF ni.notes LANGUAGE sql STABLE
  AS 'SELECT * FROM ni.notes';
-- which is inlined: a scan of notes for the last only
EXPLAIN (COSTS OFF) SELECT r.id FROM ni.rows_whole() r;
EXPLAIN (COSTS OFF) SELECT r.id FROM ni.rows_inl() r;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
-- 1. not inlined, the query's own condition fails: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ni_1_not_inlined');
SELECT r.id FROM ni.rows_whole() r, ni.plain p WHERE p.id = 1/0;
COMMIT;
-- 2. the same, prepared, failing as its custom plan is made: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ni_2_prepared');
PREPARE ni_q(int) AS SELECT r.id FROM ni.rows_whole() r, ni.plain p WHERE p.id = 1/$1;
EXECUTE ni_q(0);
COMMIT;
-- 3. control, VOLATILE: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ni_3_volatile');
SELECT r.id FROM ni.rows_vol() r, ni.plain p WHERE p.id = 1/0;
COMMIT;
-- 4. control, inlined: the query reads notes, which fails with it
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ni_4_inlined');
SELECT r.id FROM ni.rows_inl() r, ni.plain p WHERE p.id = 1/0;
COMMIT;
-- 5. control, not inlined and run: its READ
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ni_5_runs');
SELECT r.id FROM ni.rows_whole() r, ni.plain p WHERE p.id = 1;
COMMIT;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, resource_type, outcome, error_type,
       event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;
