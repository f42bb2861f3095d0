-- A PL/pgSQL SELECT ... INTO (EXECUTE ... INTO) on a tagged table whose
-- target's domain CHECK calls a function that raises is that statement's
-- READ FAILURE (0f12960, capture_failure.c bh_taking).  Its rows were
-- returned: its executor checked its privileges as it started, so a
-- "permission denied for table ..." raised in the check function is the
-- refusal of another object (read-capture.md: "one of another object
-- (... another table, also one of the same name in another schema) is a
-- failure of the statement"), as the client's cast to the same domain
-- records it (capture_failure.c bh_record_statement_failure: the
-- executor's refusal is another object's).  Found: bh_record_taking told
-- the refusal by its name only (BH_REFUSAL_BY_NAME), so a refusal of
-- s42rg_other.rec, or of s42rg.rec to a SECURITY DEFINER check function's
-- owner, made the statement's event a DENIED of s42rg.rec, which the
-- session's role may read (a second DENIED beside the owner's own).
\set VERBOSITY terse
CREATE SCHEMA s42rg;
CREATE SCHEMA s42rg_other;
CREATE ROLE s42rg_clerk;
CREATE ROLE s42rg_owner;
GRANT USAGE ON SCHEMA s42rg, s42rg_other TO s42rg_clerk, s42rg_owner;
CREATE TABLE s42rg.rec (id int PRIMARY KEY, patient_id text NOT NULL, v text);
SELECT bh_audit.tag_table('s42rg.rec', 'S42rgRecord', 'id', 'patient_id');
INSERT INTO s42rg.rec VALUES (1, 'pat_1', 'PHI_TOKEN_7QX4');
GRANT SELECT ON s42rg.rec TO s42rg_clerk;
CREATE TABLE s42rg_other.rec (id int);
-- the check function reads a table of the same name the reader may not read
CREATE FUNCTION s42rg.reads_other(x text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF x IS NULL THEN RETURN true; END IF;
    PERFORM 1 FROM s42rg_other.rec;
    RETURN true;
END $$;
CREATE DOMAIN s42rg.d_other AS text CHECK (s42rg.reads_other(VALUE));
-- a SECURITY DEFINER check function whose owner may not read s42rg.rec
CREATE FUNCTION s42rg.owner_reads_rec(x text) RETURNS boolean LANGUAGE plpgsql
SECURITY DEFINER AS $$
BEGIN
    IF x IS NULL THEN RETURN true; END IF;
    PERFORM 1 FROM s42rg.rec;
    RETURN true;
END $$;
ALTER FUNCTION s42rg.owner_reads_rec(text) OWNER TO s42rg_owner;
CREATE DOMAIN s42rg.d_owner AS text CHECK (s42rg.owner_reads_rec(VALUE));
SET ROLE s42rg_clerk;
BEGIN;
SELECT bh_audit.set_context('s42rg_clerk_1');
SAVEPOINT s;
-- 1. control: the client's cast, s42rg_other.rec refused: FAILURE
SELECT v::s42rg.d_other FROM s42rg.rec;
ROLLBACK TO s;
-- 2. SELECT ... INTO, s42rg_other.rec refused: FAILURE
DO $$DECLARE x s42rg.d_other; BEGIN SELECT v INTO x FROM s42rg.rec WHERE id = 1; END $$;
ROLLBACK TO s;
-- 3. EXECUTE ... INTO likewise
DO $$DECLARE x s42rg.d_other; BEGIN EXECUTE 'SELECT v FROM s42rg.rec WHERE id = 1' INTO x; END $$;
ROLLBACK TO s;
-- 4. control: the client's cast, s42rg.rec refused to the check function's
-- owner: the owner's DENIED, the statement's FAILURE
SELECT v::s42rg.d_owner FROM s42rg.rec;
ROLLBACK TO s;
-- 5. SELECT ... INTO likewise: the owner's DENIED, the statement's FAILURE
DO $$DECLARE x s42rg.d_owner; BEGIN SELECT v INTO x FROM s42rg.rec WHERE id = 1; END $$;
ROLLBACK;
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type, event -> 'metadata' ->> 'table' AS tbl,
       event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events
 WHERE actor_id = 's42rg_clerk_1' AND outcome <> 'SUCCESS'
 ORDER BY seq;
SELECT bh_audit.untag_table('s42rg.rec');
DROP SCHEMA s42rg, s42rg_other CASCADE;
DROP ROLE s42rg_clerk, s42rg_owner;
