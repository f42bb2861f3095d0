-- A function's statement on a tagged table (fj.w) that fails before its
-- executor (in parse analysis: WHERE id = 'abc') records its FAILURE on
-- fj.w, whether a handler in the function catches the error or the error
-- leaves the function and fails the calling statement on another tagged
-- table (fj.t), which records its own on fj.t: the error watch notes fj.w
-- (from the error's internal query), and the calling statement's executor
-- records that note with its own failure, each table once
-- (bh_record_statement_failure, capture_failure.c).  An inner failure in
-- the planner (WHERE id = 1/0) is recorded by the planning hook first.
-- docs/read-capture.md "Errors a function catches".
CREATE SCHEMA fj;
CREATE TABLE fj.t (id int PRIMARY KEY, patient text);
CREATE TABLE fj.w (id int PRIMARY KEY, patient text);
INSERT INTO fj.t VALUES (1, 'p1');
INSERT INTO fj.w VALUES (1, 'p1');
SELECT bh_audit.tag_table('fj.t', 'FjT', 'id', 'patient');
SELECT bh_audit.tag_table('fj.w', 'FjW', 'id', 'patient');
CREATE FUNCTION fj.pa(i int) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM 1 FROM fj.w WHERE id = 'abc'; RETURN true; END $$;
CREATE FUNCTION fj.pac(i int) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM 1 FROM fj.w WHERE id = 'abc'; RETURN true;
   EXCEPTION WHEN invalid_text_representation THEN RETURN false; END $$;
CREATE FUNCTION fj.pl(i int) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM 1 FROM fj.w WHERE id = 1/0; RETURN true; END $$;
CREATE FUNCTION fj.outer_pa() RETURNS bigint LANGUAGE plpgsql AS
$$ DECLARE n bigint; BEGIN SELECT count(*) INTO n FROM fj.t WHERE fj.pa(id); RETURN n; END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
BEGIN;
SELECT bh_audit.set_context(actor_id => 'parse_caught');
SELECT count(*) FROM fj.t WHERE fj.pac(id);
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'parse_uncaught');
SELECT count(*) FROM fj.t WHERE fj.pa(id);
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'func_parse_uncaught');
SELECT fj.outer_pa();
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'plan_uncaught');
SELECT count(*) FROM fj.t WHERE fj.pl(id);
COMMIT;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0 AND outcome <> 'SUCCESS'
 ORDER BY actor_id, tbl;
