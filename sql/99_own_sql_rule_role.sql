-- The extension's own SQL on its tag catalog (tag_table()'s INSERT,
-- untag_table()'s DELETE into bh_audit.tags, bh_spi_internal()) runs as
-- the bootstrap superuser with search_path pg_catalog, pg_temp.  A trigger
-- on bh_audit.tags is refused (config_guard.c), but a rule on it is not:
-- its action ran inside that SQL, as that superuser, on that path.  A
-- superuser's rule logging tagging changes through a function of its own
-- with an unqualified table name would then reach a table of the caller's
-- pg_temp, and a member of bh_audit_admin who is no superuser would run
-- anything as a superuser through a trigger on her temporary table.
-- Whatever the extension does about such a rule (refuse it, or run its SQL
-- so that no rule's action runs as that superuser), the admin must come
-- out of tag_table() and untag_table() as she went in.  The same for a
-- CHECK constraint of the superuser's on bh_audit.tags, and for a tagged
-- table's owner renaming its patient column under a rule ON UPDATE.
CREATE ROLE regress_osr_admin IN ROLE bh_audit_admin;
CREATE SCHEMA osr AUTHORIZATION regress_osr_admin;
CREATE TABLE public.osr_log (tbl text);
GRANT INSERT ON public.osr_log TO PUBLIC;
CREATE TABLE public.osr_seen (su boolean, path text);
GRANT INSERT ON public.osr_seen TO PUBLIC;
CREATE FUNCTION public.osr_note(t regclass) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.osr_seen
    SELECT rolsuper, current_setting('search_path')
      FROM pg_catalog.pg_roles WHERE rolname = current_user;
  INSERT INTO osr_log VALUES (t::text);
  RETURN t::text;
END $$;
-- the superuser's rules: created, or refused (silently here either way)
DO $$
BEGIN
  CREATE RULE osr_ins AS ON INSERT TO bh_audit.tags
    DO ALSO SELECT public.osr_note(new.tbl);
EXCEPTION WHEN OTHERS THEN NULL;
END $$;
DO $$
BEGIN
  CREATE RULE osr_del AS ON DELETE TO bh_audit.tags
    DO ALSO SELECT public.osr_note(old.tbl);
EXCEPTION WHEN OTHERS THEN NULL;
END $$;

SET SESSION AUTHORIZATION regress_osr_admin;
CREATE TABLE osr.mine (id int PRIMARY KEY, pat text);
CREATE TEMP TABLE osr_log (tbl text);
CREATE TRIGGER grab BEFORE INSERT ON pg_temp.osr_log
    FOR EACH ROW EXECUTE FUNCTION regress_own.grab_trigger();
\set VERBOSITY terse
SELECT bh_audit.tag_table('osr.mine', 'OsrPatient', 'id', 'pat');
RESET SESSION AUTHORIZATION;
-- still no superuser; no rule's action ran as a superuser
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_osr_admin';
SELECT count(*) FILTER (WHERE su) AS superuser_runs FROM public.osr_seen;
SET SESSION AUTHORIZATION regress_osr_admin;
SELECT bh_audit.untag_table('osr.mine');
RESET SESSION AUTHORIZATION;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_osr_admin';
SELECT count(*) FILTER (WHERE su) AS superuser_runs FROM public.osr_seen;
-- the same through a CHECK constraint of the superuser's on bh_audit.tags
-- calling that function (its writes evaluate it, as that superuser)
ALTER ROLE regress_osr_admin NOSUPERUSER;
SET client_min_messages = warning;
DROP RULE IF EXISTS osr_ins ON bh_audit.tags;
DROP RULE IF EXISTS osr_del ON bh_audit.tags;
RESET client_min_messages;
DO $$
BEGIN
  ALTER TABLE bh_audit.tags
    ADD CONSTRAINT osr_chk CHECK (public.osr_note(tbl) IS NOT NULL);
EXCEPTION WHEN OTHERS THEN NULL;
END $$;
-- (what the constraint's validation of the rows there ran, as the superuser
-- adding it, is not counted)
TRUNCATE public.osr_seen;
SET SESSION AUTHORIZATION regress_osr_admin;
SELECT bh_audit.tag_table('osr.mine', 'OsrPatient', 'id', 'pat');
RESET SESSION AUTHORIZATION;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_osr_admin';
SELECT count(*) FILTER (WHERE su) AS superuser_runs FROM public.osr_seen;
SET SESSION AUTHORIZATION regress_osr_admin;
SELECT bh_audit.untag_table('osr.mine');
RESET SESSION AUTHORIZATION;
-- the same for a tagged table's owner (no member of bh_audit_admin) whose
-- RENAME of the tagged patient column updates bh_audit.tags (tags.c,
-- bh_tag_column_renamed()) under a superuser's rule ON UPDATE
DO $$
BEGIN
  ALTER TABLE bh_audit.tags DROP CONSTRAINT IF EXISTS osr_chk;
EXCEPTION WHEN OTHERS THEN NULL;
END $$;
DO $$
BEGIN
  CREATE RULE osr_upd AS ON UPDATE TO bh_audit.tags
    DO ALSO SELECT public.osr_note(new.tbl);
EXCEPTION WHEN OTHERS THEN NULL;
END $$;
CREATE ROLE regress_osr_owner;
GRANT USAGE ON SCHEMA osr TO regress_osr_owner;
CREATE TABLE osr.owned (id int PRIMARY KEY, pat text);
ALTER TABLE osr.owned OWNER TO regress_osr_owner;
SELECT bh_audit.tag_table('osr.owned', 'OsrPatient', 'id', 'pat');
ALTER ROLE regress_osr_admin NOSUPERUSER;
SET SESSION AUTHORIZATION regress_osr_owner;
ALTER TABLE osr.owned RENAME COLUMN pat TO patient;
RESET SESSION AUTHORIZATION;
SELECT rolname, rolsuper FROM pg_roles
 WHERE rolname IN ('regress_osr_owner', 'regress_osr_admin') ORDER BY 1;
SELECT count(*) FILTER (WHERE su) AS superuser_runs FROM public.osr_seen;
SELECT bh_audit.untag_table('osr.owned');
\set VERBOSITY default

-- each statement that would attach code run on a write of bh_audit.tags
-- is refused, for a superuser too, with the same message
CREATE RULE osr_ins AS ON INSERT TO bh_audit.tags
    DO ALSO SELECT public.osr_note(new.tbl);
CREATE RULE osr_sel AS ON SELECT TO bh_audit.tags DO INSTEAD SELECT * FROM bh_audit.tags;
ALTER TABLE bh_audit.tags
    ADD CONSTRAINT osr_chk CHECK (public.osr_note(tbl) IS NOT NULL) NOT VALID;
ALTER TABLE bh_audit.tags ADD COLUMN osr_note text DEFAULT public.osr_note(NULL);
ALTER TABLE bh_audit.tags ALTER COLUMN tagged_by SET DEFAULT public.osr_note(NULL);
ALTER TABLE bh_audit.tags ALTER COLUMN resource_type TYPE varchar(128);
ALTER TABLE bh_audit.tags DROP CONSTRAINT tags_resource_type_check;
CREATE INDEX osr_idx ON bh_audit.tags ((public.osr_note(tbl)));
CREATE INDEX osr_idx ON bh_audit.tags (resource_type);
-- a statement with a refused subcommand is refused whole; one with only
-- subcommands attaching no code is not
ALTER TABLE bh_audit.tags SET (fillfactor = 90), ADD CONSTRAINT osr_chk CHECK (true);
ALTER TABLE bh_audit.tags SET (fillfactor = 90);
ALTER TABLE bh_audit.tags RESET (fillfactor),
    ALTER COLUMN resource_type SET STATISTICS 200;
ALTER TABLE bh_audit.tags ALTER COLUMN resource_type SET STATISTICS -1,
    ALTER COLUMN id_column DROP NOT NULL;
ALTER TABLE bh_audit.tags ALTER COLUMN id_column SET NOT NULL;
-- a role that does not own it: PostgreSQL's own refusal
SET SESSION AUTHORIZATION regress_osr_admin;
CREATE RULE osr_ins AS ON INSERT TO bh_audit.tags DO ALSO NOTHING;
ALTER TABLE bh_audit.tags ALTER COLUMN tagged_by SET DEFAULT 'x';
CREATE INDEX osr_idx ON bh_audit.tags (resource_type);
RESET SESSION AUTHORIZATION;
-- nothing was attached
SELECT count(*) AS rules FROM pg_rewrite WHERE ev_class = 'bh_audit.tags'::regclass;
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'bh_audit.tags'::regclass;
SELECT conname FROM pg_constraint WHERE conrelid = 'bh_audit.tags'::regclass ORDER BY 1;
SELECT count(*) AS defaults FROM pg_attrdef WHERE adrelid = 'bh_audit.tags'::regclass;
SELECT reloptions FROM pg_class WHERE oid = 'bh_audit.tags'::regclass;

SET client_min_messages = warning;
DROP RULE IF EXISTS osr_ins ON bh_audit.tags;
DROP RULE IF EXISTS osr_del ON bh_audit.tags;
DROP RULE IF EXISTS osr_upd ON bh_audit.tags;
RESET client_min_messages;
DO $$
BEGIN
  ALTER TABLE bh_audit.tags DROP CONSTRAINT IF EXISTS osr_chk;
EXCEPTION WHEN OTHERS THEN NULL;
END $$;
DROP FUNCTION public.osr_note(regclass);
DROP TABLE public.osr_log, public.osr_seen;
DROP TABLE pg_temp.osr_log;
DROP SCHEMA osr CASCADE;
DROP ROLE regress_osr_admin, regress_osr_owner;
