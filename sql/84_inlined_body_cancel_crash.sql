-- A cancel (statement_timeout) of the wait for a tagged table's lock that the
-- planner's inlining of a SQL function (or its check whether it can) makes outside the parser:
-- in the rewriter, for a body that reads the table through a view, or for a
-- BEGIN ATOMIC body (AcquireRewriteLocks), or in the type cache, for a scalar
-- body naming the table's row type.  The innermost error context frame is
-- then PostgreSQL's "SQL function ... during inlining" one, not a parser's
-- ParseCallbackState: the error is the statement's timeout, the session goes
-- on (docs/read-capture.md, "Not covered": no event for these waits).
-- (PostgreSQL names the function in that frame's argument: names longer than 8
-- bytes, whose bytes 8 to 15 are not zero.)
-- Another session holds the lock (a psql started from here, in the background).
CREATE SCHEMA ic;
CREATE TABLE ic.notes (id int PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('ic.notes', 'IcNote', 'id', 'patient');
INSERT INTO ic.notes VALUES (1, 'ip1', 'b1');
CREATE VIEW ic.notes_v AS SELECT id FROM ic.notes;
-- inlined (STABLE, in FROM): the view's table locked as the body is rewritten
CREATE FUNCTION ic.ids_through_view() RETURNS SETOF int LANGUAGE sql STABLE
  AS 'SELECT id FROM ic.notes_v';
-- inlined: a BEGIN ATOMIC body's tables locked before it is rewritten
CREATE FUNCTION ic.ids_atomic_body() RETURNS SETOF int LANGUAGE sql STABLE
BEGIN ATOMIC SELECT id FROM ic.notes; END;
-- a scalar body PostgreSQL analyses to inline it: the row type's columns are
-- looked up in the type cache, which opens the table (no parser's frame); not
-- analysed here before (the session's type cache would keep the columns)
SET check_function_bodies = off;
CREATE FUNCTION ic.null_row_id() RETURNS int LANGUAGE sql STABLE
  AS 'SELECT (NULL::ic.notes).id';
RESET check_function_bodies;
-- both inlined
EXPLAIN (COSTS OFF) SELECT * FROM ic.ids_through_view();
EXPLAIN (COSTS OFF) SELECT * FROM ic.ids_atomic_body();
\! PGAPPNAME=ic_holder psql -X -q -d contrib_regression -c 'BEGIN' -c 'LOCK TABLE ic.notes IN ACCESS EXCLUSIVE MODE' -c 'SELECT pg_sleep(60)' >/dev/null 2>&1 &
DO $$
BEGIN
  FOR i IN 1 .. 600 LOOP
    -- pg_locks, not pg_stat_activity, whose snapshot a transaction keeps
    EXIT WHEN EXISTS (SELECT FROM pg_locks
                       WHERE relation = 'ic.notes'::regclass AND granted
                         AND mode = 'AccessExclusiveLock' AND pid <> pg_backend_pid());
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT count(*) AS holder_has_lock FROM pg_locks l JOIN pg_stat_activity a USING (pid)
 WHERE a.application_name = 'ic_holder' AND l.granted AND l.relation = 'ic.notes'::regclass;
SET statement_timeout = '200ms';
SELECT * FROM ic.ids_through_view();
SELECT * FROM ic.ids_atomic_body();
SELECT ic.null_row_id();
RESET statement_timeout;
SELECT 'the session goes on' AS after;
SELECT pg_terminate_backend(pid) AS holder_ended FROM pg_stat_activity
 WHERE application_name = 'ic_holder';
