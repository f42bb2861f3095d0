-- An error raised while PostgreSQL prepares the body of a SQL function that reads a
-- tagged table the client's statement does not name (docs/read-capture.md, Failed
-- access): the same events whether the planner inlines the function (a set-returning
-- LANGUAGE sql function that is not VOLATILE, called in FROM; "during inlining") or
-- runs it (VOLATILE: analysed, rewritten and planned as it starts; "during startup"),
-- its body a string or a tree (BEGIN ATOMIC).  A refusal by row-level security
-- (row_security = off) is a DENIED READ of the table, a constant of the body folded to
-- an error or its parse analysis failing a FAILURE READ; a statement that also names
-- another tagged table fails on both; an EXPLAIN that only plans records nothing; a
-- refusal an exception block catches is recorded all the same.
CREATE SCHEMA il;
CREATE ROLE il_clerk;
GRANT USAGE ON SCHEMA il TO il_clerk;
CREATE TABLE il.notes (id int PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('il.notes', 'IlNote', 'id', 'patient');
INSERT INTO il.notes VALUES (1, 'ip1', 'b1');
ALTER TABLE il.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY sel ON il.notes FOR SELECT USING (true);
CREATE TABLE il.rooms (id int PRIMARY KEY, label text);
SELECT bh_audit.tag_table('il.rooms', 'IlRoom', 'id');
INSERT INTO il.rooms VALUES (1, 'r1');
GRANT SELECT ON il.notes, il.rooms TO il_clerk;
-- each body twice: STABLE (inlined, _s) and VOLATILE (run, _v)
CREATE FUNCTION il.rows_s() RETURNS SETOF il.notes LANGUAGE sql STABLE
  AS 'SELECT * FROM il.notes';
CREATE FUNCTION il.rows_v() RETURNS SETOF il.notes LANGUAGE sql VOLATILE
  AS 'SELECT * FROM il.notes';
CREATE FUNCTION il.dz_s() RETURNS SETOF il.notes LANGUAGE sql STABLE
  AS 'SELECT * FROM il.notes WHERE id = 1/0';
CREATE FUNCTION il.dz_v() RETURNS SETOF il.notes LANGUAGE sql VOLATILE
  AS 'SELECT * FROM il.notes WHERE id = 1/0';
CREATE FUNCTION il.at_s() RETURNS SETOF il.notes LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM il.notes; END;
CREATE FUNCTION il.at_v() RETURNS SETOF il.notes LANGUAGE sql VOLATILE
  BEGIN ATOMIC SELECT * FROM il.notes; END;
CREATE FUNCTION il.atdz_s() RETURNS SETOF il.notes LANGUAGE sql STABLE
  BEGIN ATOMIC SELECT * FROM il.notes WHERE id = 1/0; END;
CREATE FUNCTION il.atdz_v() RETURNS SETOF il.notes LANGUAGE sql VOLATILE
  BEGIN ATOMIC SELECT * FROM il.notes WHERE id = 1/0; END;
SET check_function_bodies = off;
CREATE FUNCTION il.pa_s() RETURNS SETOF int LANGUAGE sql STABLE
  AS 'SELECT id FROM il.notes WHERE id = ''abc''';
CREATE FUNCTION il.pa_v() RETURNS SETOF int LANGUAGE sql VOLATILE
  AS 'SELECT id FROM il.notes WHERE id = ''abc''';
-- a scalar SQL function: PostgreSQL analyses its body to inline it
CREATE FUNCTION il.one_s() RETURNS int LANGUAGE sql STABLE
  AS 'SELECT id FROM il.notes WHERE id = ''abc''';
RESET check_function_bodies;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA il TO il_clerk;
SET ROLE il_clerk;
BEGIN;
SELECT bh_audit.set_context('il_1');
SAVEPOINT s;
-- 1. row-level security refusing the body's table: inlined, run; BEGIN ATOMIC
SET LOCAL row_security = off;
SELECT * FROM il.rows_s();
ROLLBACK TO s;
SET LOCAL row_security = off;
SELECT * FROM il.rows_v();
ROLLBACK TO s;
SET LOCAL row_security = off;
SELECT * FROM il.at_s();
ROLLBACK TO s;
SET LOCAL row_security = off;
SELECT * FROM il.at_v();
ROLLBACK TO s;
-- 2. a constant of the body folded to an error: inlined, run; BEGIN ATOMIC
SELECT * FROM il.dz_s();
ROLLBACK TO s;
SELECT * FROM il.dz_v();
ROLLBACK TO s;
SELECT * FROM il.atdz_s();
ROLLBACK TO s;
SELECT * FROM il.atdz_v();
ROLLBACK TO s;
-- 3. parse analysis of the body failing: inlined, run, scalar
SELECT * FROM il.pa_s();
ROLLBACK TO s;
SELECT * FROM il.pa_v();
ROLLBACK TO s;
SELECT il.one_s();
ROLLBACK TO s;
-- 4. with a tagged table the statement names: a failure on each
SELECT r.label FROM il.rooms r, il.dz_s() n;
ROLLBACK TO s;
SELECT r.label FROM il.rooms r, il.dz_v() n;
ROLLBACK TO s;
-- 5. an EXPLAIN that only plans: nothing
EXPLAIN (COSTS OFF) SELECT * FROM il.dz_s();
ROLLBACK TO s;
-- 6. a refusal caught by an exception block of a function: recorded all the same
DO $$
BEGIN
  SET LOCAL row_security = off;
  BEGIN PERFORM * FROM il.rows_s(); EXCEPTION WHEN insufficient_privilege THEN NULL; END;
  BEGIN PERFORM * FROM il.rows_v(); EXCEPTION WHEN insufficient_privilege THEN NULL; END;
END $$;
ROLLBACK TO s;
-- 7. success: the reads, no failure
SELECT id FROM il.rows_s();
SELECT id FROM il.rows_v();
COMMIT;
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, outcome, error_type,
       event -> 'outcome' ->> 'error_message' AS message, event -> 'metadata' ->> 'db_role' AS role
  FROM bh_audit.events
 WHERE actor_id = 'il_1'
 ORDER BY seq;
