-- Failing test (probe of 57cc222): events that the capture of errors raised as a SQL
-- function's body is prepared attributes to a tagged table that the failing body does
-- not read.  Expected: only the successful reads of fb.notes the client makes itself.
--  1. a stale "last analysed function statement" (bh_body, capture_failure.c): the
--     body of a SQL function analysed by CREATE FUNCTION's validator (or a statement of
--     a PL/pgSQL block that does not reach the executor) is still kept when a BEGIN
--     ATOMIC function (never analysed again) on an UNTAGGED table fails "during
--     startup": a FAILURE READ of fb.notes; also where an exception block catches it.
--  2. a refusal by row-level security of an UNTAGGED table that has the name of a
--     tagged one (another schema): a DENIED READ of the tagged fb.notes
--     (bh_pending_add_body: lookup by name, bh_tags_cached_named), body a string.
CREATE SCHEMA fb;
CREATE SCHEMA fb2;
CREATE ROLE fb_clerk;
GRANT USAGE, CREATE ON SCHEMA fb TO fb_clerk;
GRANT USAGE ON SCHEMA fb2 TO fb_clerk;
CREATE TABLE fb.notes (id int PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('fb.notes', 'FbNote', 'id', 'patient');
INSERT INTO fb.notes VALUES (1, 'fp1', 'b1');
ALTER TABLE fb.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY sel ON fb.notes FOR SELECT USING (true);
CREATE TABLE fb.plain (id int PRIMARY KEY);
INSERT INTO fb.plain VALUES (1);
CREATE TABLE fb2.notes (id int PRIMARY KEY, patient text, body text);
INSERT INTO fb2.notes VALUES (1, 'x', 'y');
ALTER TABLE fb2.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY sel ON fb2.notes FOR SELECT USING (true);
GRANT SELECT ON fb.notes, fb.plain, fb2.notes TO fb_clerk;
CREATE FUNCTION fb.atpl_i() RETURNS int LANGUAGE sql IMMUTABLE
  BEGIN ATOMIC SELECT count(*)::int FROM fb.plain WHERE id = 1/0; END;
CREATE FUNCTION fb.atpl_v() RETURNS int LANGUAGE sql VOLATILE
  BEGIN ATOMIC SELECT count(*)::int FROM fb.plain WHERE id = 1/0; END;
CREATE FUNCTION fb2.rows_s() RETURNS SETOF fb2.notes LANGUAGE sql STABLE
  AS 'SELECT * FROM fb2.notes';
CREATE FUNCTION fb2.rows_v() RETURNS SETOF fb2.notes LANGUAGE sql VOLATILE
  AS 'SELECT * FROM fb2.notes';
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA fb, fb2 TO fb_clerk;
SET ROLE fb_clerk;
BEGIN;
SELECT bh_audit.set_context('fb_1');
SELECT count(*) FROM fb.notes;
SAVEPOINT s;
-- 1a. CREATE FUNCTION analyses a body on fb.notes; then a folded function on fb.plain fails
CREATE FUNCTION fb.tmp() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM fb.notes';
SELECT fb.atpl_i();
ROLLBACK TO s;
-- 1b. a PL/pgSQL loop: PREPARE analyses a statement on fb.notes; the next iteration's
--     simple expression runs a function on fb.plain that fails, caught
DO $$ DECLARE x int; BEGIN
  FOR i IN 1..2 LOOP
    BEGIN
      x := CASE WHEN i = 1 THEN 0 ELSE fb.atpl_v() END;
    EXCEPTION WHEN division_by_zero THEN NULL;
    END;
    EXECUTE 'PREPARE fbp' || i || ' AS SELECT * FROM fb.notes';
  END LOOP;
END $$;
DEALLOCATE ALL;
-- 2. row-level security refuses fb2.notes (untagged), inlined and run
SAVEPOINT s2;
SET LOCAL row_security = off;
SELECT * FROM fb2.rows_s();
ROLLBACK TO s2;
SET LOCAL row_security = off;
SELECT * FROM fb2.rows_v();
ROLLBACK TO s2;
COMMIT;
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, outcome, error_type,
       event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events
 WHERE actor_id = 'fb_1'
 ORDER BY seq;
