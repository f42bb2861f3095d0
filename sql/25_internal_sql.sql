-- The extension's own SQL (the tag cache's load, tagging, the capture
-- triggers' creation; some of it as the bootstrap superuser) runs with
-- search_path pg_catalog, pg_temp: an operator or function that a role puts
-- in a schema ahead of pg_catalog (or in public) is never what it calls.
CREATE SCHEMA isq;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TABLE isq.mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE TABLE isq.notes (id int PRIMARY KEY, pid text, body text);
CREATE ROLE bh_isq_mallory LOGIN;
CREATE SCHEMA bh_isq_mallory AUTHORIZATION bh_isq_mallory;
GRANT CREATE ON SCHEMA public TO bh_isq_mallory;
SELECT bh_audit.tag_table('isq.notes', 'Note', 'id', 'pid');
CREATE TABLE isq.marks (what text);
GRANT INSERT ON isq.marks TO bh_isq_mallory;
GRANT USAGE ON SCHEMA isq TO bh_isq_mallory;
SET ROLE bh_isq_mallory;
-- an exact match for oid = regclass, oid = oid[] ..., as a role's own code
CREATE FUNCTION bh_isq_mallory.f(oid, regclass) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO isq.marks VALUES (current_user);
  IF current_user <> session_user THEN
    EXECUTE 'ALTER ROLE bh_isq_mallory SUPERUSER';
  END IF;
  RETURN $1 = $2::oid;
END $$;
CREATE OPERATOR bh_isq_mallory.= (LEFTARG = oid, RIGHTARG = regclass, FUNCTION = bh_isq_mallory.f);
CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = regclass, FUNCTION = bh_isq_mallory.f);
RESET ROLE;
-- a new session of the role, its own schema first: the tag cache loads
\c - bh_isq_mallory
SET search_path = bh_isq_mallory, pg_catalog;
SELECT count(*) FROM pg_catalog.pg_class WHERE false;
SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = 'bh_isq_mallory';
-- a superuser's session with the operator in public, tagging and untagging
\c - postgres
SET search_path = public, pg_catalog;
SELECT count(*) FROM pg_class WHERE false;
CREATE TABLE isq.more (id int, pid text);
SELECT bh_audit.tag_table('isq.more', 'More', 'id', 'pid');
INSERT INTO isq.more VALUES (1, 'p1');
SELECT bh_audit.untag_table('isq.more');
RESET search_path;
SELECT count(*) AS operator_calls FROM isq.marks;
SELECT rolsuper FROM pg_roles WHERE rolname = 'bh_isq_mallory';
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_type, resource_id, patient_id FROM bh_audit.events
 WHERE seq > (SELECT seq FROM isq.mark) AND resource_id <> 'isq.notes' ORDER BY seq;
SELECT bh_audit.untag_table('isq.notes');
DROP OPERATOR public.= (oid, regclass);
DROP SCHEMA bh_isq_mallory CASCADE;
REVOKE CREATE ON SCHEMA public FROM bh_isq_mallory;
DROP SCHEMA isq CASCADE;
DROP ROLE bh_isq_mallory;
