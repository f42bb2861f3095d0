-- Failing test (probe P35, bd5e35c): a function's statement failing in its
-- parse analysis on a tagged table (fj.w) records its FAILURE when the
-- error fails the calling statement on another tagged table (fj.t) in that
-- statement's executor (sql/76), and when a handler in the function
-- catches it, but not when the calling statement fails in its planning
-- (an IMMUTABLE function folded by the planner): the planning path
-- (bh_record_caught_failure) records fj.t only and drops the error watch's
-- note of fj.w.  docs/read-capture.md "Errors a function catches".
CREATE SCHEMA fk;
CREATE TABLE fk.t (id int PRIMARY KEY, patient text);
CREATE TABLE fk.w (id int PRIMARY KEY, patient text);
INSERT INTO fk.t VALUES (1, 'p1');
INSERT INTO fk.w VALUES (1, 'p1');
SELECT bh_audit.tag_table('fk.t', 'FkT', 'id', 'patient');
SELECT bh_audit.tag_table('fk.w', 'FkW', 'id', 'patient');
CREATE FUNCTION fk.pa_imm(i int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS
$$ BEGIN PERFORM 1 FROM fk.w WHERE id = 'abc'; RETURN true; END $$;
CREATE FUNCTION fk.pac_imm(i int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS
$$ BEGIN PERFORM 1 FROM fk.w WHERE id = 'abc'; RETURN true;
   EXCEPTION WHEN invalid_text_representation THEN RETURN 1/0 > 0; END $$;
CREATE FUNCTION fk.pa(i int) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM 1 FROM fk.w WHERE id = 'abc'; RETURN true; END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
BEGIN;
SELECT bh_audit.set_context(actor_id => 'executor_uncaught');
SELECT count(*) FROM fk.t WHERE fk.pa(id);
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'planning_caught');
SELECT count(*) FROM fk.t WHERE fk.pac_imm(1);
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'planning_uncaught');
SELECT count(*) FROM fk.t WHERE fk.pa_imm(1);
COMMIT;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0 AND outcome <> 'SUCCESS'
 ORDER BY actor_id, tbl;
