-- The extension's own DDL (tag_table()'s and untag_table()'s CREATE
-- TRIGGER, ALTER TABLE ... ENABLE ALWAYS TRIGGER and DROP TRIGGER, the
-- TRUNCATE trigger bh_tag_new_partition() gives a new partition) runs as
-- the bootstrap superuser with search_path pg_catalog, pg_temp.  It runs as
-- PostgreSQL runs its own subcommands (the triggers of a foreign key), so
-- no event trigger fires for it: a superuser's event trigger, whose
-- unqualified names would reach a table of the caller's pg_temp, never
-- runs as that superuser on that path (a member of bh_audit_admin who is
-- no superuser, or a partition's owner, would then run anything as a
-- superuser through a trigger on her temporary table), and an ordinary
-- DDL-logging event trigger does not make tag_table() fail.  The event
-- trigger still fires, as the role, for the role's own DDL.
SELECT regress_reads.mark_now();
CREATE ROLE regress_odr_admin IN ROLE bh_audit_admin;
CREATE SCHEMA odr AUTHORIZATION regress_odr_admin;
CREATE TABLE odr.seen (ev text, tag text, su boolean, path text);
GRANT INSERT ON odr.seen TO PUBLIC;
CREATE TABLE odr.pat (id int PRIMARY KEY, pat text);
INSERT INTO odr.pat VALUES (1, 'p1');
SELECT bh_audit.tag_table('odr.pat', 'OdrPatient', 'id', 'pat');
GRANT SELECT ON odr.pat TO regress_odr_admin;
CREATE TABLE public.odr_log (tag text);
GRANT INSERT ON public.odr_log TO PUBLIC;
CREATE FUNCTION public.odr_et() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
  IF current_setting('odr.fire', true) IS DISTINCT FROM 'yes' THEN
    RETURN;
  END IF;
  INSERT INTO odr.seen
    SELECT tg_event, tg_tag, rolsuper, current_setting('search_path')
      FROM pg_catalog.pg_roles WHERE rolname = current_user;
  IF current_setting('odr.read', true) = 'yes' THEN
    SELECT count(*) INTO n FROM odr.pat WHERE id = 1;
  END IF;
  INSERT INTO odr_log VALUES (tg_tag);
END $$;
CREATE EVENT TRIGGER odr_et ON ddl_command_end EXECUTE FUNCTION public.odr_et();
CREATE EVENT TRIGGER odr_et_start ON ddl_command_start EXECUTE FUNCTION public.odr_et();
CREATE EVENT TRIGGER odr_et_drop ON sql_drop EXECUTE FUNCTION public.odr_et();

SET SESSION AUTHORIZATION regress_odr_admin;
SET search_path = odr, public;
CREATE TABLE odr.mine (id int PRIMARY KEY, pat text);
CREATE TABLE odr.other (id int);
CREATE TEMP TABLE odr_log (tag text);
CREATE TRIGGER grab BEFORE INSERT ON pg_temp.odr_log
    FOR EACH ROW EXECUTE FUNCTION regress_own.grab_trigger();
-- the admin's own DDL: the event trigger runs as the admin
SET odr.fire = 'yes';
SET odr.read = 'yes';
CREATE INDEX other_id ON odr.other (id);
-- tag_table()'s own CREATE TRIGGER and ALTER TABLE, untag_table()'s
-- DROP TRIGGER: no firing
SELECT bh_audit.tag_table('odr.mine', 'OdrMine', 'id', 'pat');
SELECT bh_audit.untag_table('odr.mine');
RESET odr.fire;
RESET odr.read;
DROP TABLE pg_temp.odr_log;
RESET search_path;
RESET SESSION AUTHORIZATION;

-- the admin is no superuser now either
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_odr_admin';
-- the event trigger fired for the admin's CREATE INDEX only, as the admin,
-- with the admin's search_path
SELECT ev, tag, su, path, count(*) FROM odr.seen GROUP BY 1, 2, 3, 4 ORDER BY 1, 2;
-- its reads name the admin, the role the session was switched to (db_role;
-- db_user is the superuser who logged in)
SELECT action, resource_type, patient_id, outcome, meta ->> 'db_role' AS db_role
  FROM regress_reads.reads();

-- A partition created by the owner of a tagged partitioned table (no
-- bh_audit role) gets its TRUNCATE capture trigger by the extension's own
-- CREATE TRIGGER (bh_tag_new_partition()): the event trigger fires for the
-- owner's CREATE TABLE, as that owner, and not for the trigger.  And a
-- superuser's tag_table() is not refused because the event trigger's
-- unqualified table is not on pg_catalog, pg_temp.
CREATE ROLE regress_odr_owner;
GRANT CREATE, USAGE ON SCHEMA odr TO regress_odr_owner;
SET SESSION AUTHORIZATION regress_odr_owner;
CREATE TABLE odr.parts (id int, pat text) PARTITION BY RANGE (id);
CREATE TABLE odr.parts1 PARTITION OF odr.parts FOR VALUES FROM (0) TO (10);
RESET SESSION AUTHORIZATION;
\set VERBOSITY terse
BEGIN;
SET LOCAL odr.fire = 'yes';
SELECT count(*) AS tagged FROM bh_audit.tag_table('odr.parts', 'OdrParts', 'id', 'pat');
ROLLBACK;
\set VERBOSITY default
SELECT bh_audit.tag_table('odr.parts', 'OdrParts', 'id', 'pat');
SET SESSION AUTHORIZATION regress_odr_owner;
CREATE TEMP TABLE odr_log (tag text);
CREATE TRIGGER grab BEFORE INSERT ON pg_temp.odr_log
    FOR EACH ROW EXECUTE FUNCTION regress_own.grab_trigger();
SET odr.fire = 'yes';
CREATE TABLE odr.parts2 PARTITION OF odr.parts FOR VALUES FROM (10) TO (20);
RESET odr.fire;
DROP TABLE pg_temp.odr_log;
RESET SESSION AUTHORIZATION;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_odr_owner';
SELECT ev, tag, su, path, count(*) FROM odr.seen GROUP BY 1, 2, 3, 4 ORDER BY 1, 2;
-- the new partition has its TRUNCATE trigger, enabled ALWAYS
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'odr.parts2'::regclass
   AND NOT tgisinternal ORDER BY tgname;

-- Inside CREATE SCHEMA, whose elements run as subcommands collected for
-- its ddl_command_end, the new partition's capture trigger is collected
-- with them: the user's event trigger sees it as a command of the user's
-- statement.
CREATE FUNCTION public.odr_cmds() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT command_tag, object_type, object_identity
             FROM pg_event_trigger_ddl_commands() LOOP
    RAISE NOTICE '% % %', r.command_tag, r.object_type, r.object_identity;
  END LOOP;
END $$;
CREATE EVENT TRIGGER odr_cmds ON ddl_command_end EXECUTE FUNCTION public.odr_cmds();
CREATE SCHEMA odr2 CREATE TABLE parts3 PARTITION OF odr.parts FOR VALUES FROM (20) TO (30);
DROP EVENT TRIGGER odr_cmds;
DROP FUNCTION public.odr_cmds();
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'odr2.parts3'::regclass
   AND NOT tgisinternal ORDER BY tgname;

DROP EVENT TRIGGER odr_et;
DROP EVENT TRIGGER odr_et_start;
DROP EVENT TRIGGER odr_et_drop;
DROP FUNCTION public.odr_et();
DROP TABLE public.odr_log;
SELECT bh_audit.untag_table(tbl) FROM bh_audit.tagged_tables
 WHERE schema_name = 'odr' ORDER BY table_name;
\set VERBOSITY terse
DROP SCHEMA odr2 CASCADE;
DROP SCHEMA odr CASCADE;
DROP ROLE regress_odr_admin, regress_odr_owner;
