-- untag_table()'s DELETE on bh_audit.tags runs as the bootstrap superuser
-- with search_path pg_catalog, pg_temp (bh_spi_internal()).  A foreign key
-- of another table referencing bh_audit.tags attaches PostgreSQL's own
-- triggers to bh_audit.tags (its ON DELETE action), which sql/99_own_sql_rule_role's
-- guard does not see: the referencing table's CASCADE runs inside that
-- DELETE, as the referencing table's owner (here a superuser), on that
-- path, so that table's trigger reaching an unqualified name reaches the
-- caller's pg_temp.  A foreign key referencing bh_audit.tags must be
-- refused (like a rule or a CHECK on it), and a bh_audit_admin member must
-- come out of untag_table() as she went in.
CREATE ROLE regress_ofk_admin IN ROLE bh_audit_admin;
CREATE SCHEMA ofk AUTHORIZATION regress_ofk_admin;
CREATE TABLE public.ofk_log (tbl text);
GRANT INSERT ON public.ofk_log TO PUBLIC;
CREATE TABLE public.ofk_seen (su boolean);
GRANT INSERT ON public.ofk_seen TO PUBLIC;
CREATE FUNCTION public.ofk_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.ofk_seen
    SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user;
  INSERT INTO ofk_log VALUES (old.tbl::text);
  RETURN OLD;
END $$;
\set VERBOSITY terse
-- the superuser's notes on tags: a foreign key to bh_audit.tags, refused
DO $$
BEGIN
  CREATE TABLE public.ofk_notes (tbl regclass REFERENCES bh_audit.tags ON DELETE CASCADE, note text);
  RAISE NOTICE 'CREATE TABLE ... REFERENCES bh_audit.tags: created';
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'CREATE TABLE ... REFERENCES bh_audit.tags: refused';
END $$;
CREATE TABLE public.ofk_notes2 (tbl regclass, note text);
DO $$
BEGIN
  ALTER TABLE public.ofk_notes2 ADD FOREIGN KEY (tbl) REFERENCES bh_audit.tags ON DELETE CASCADE;
  RAISE NOTICE 'ALTER TABLE ... ADD FOREIGN KEY ... REFERENCES bh_audit.tags: created';
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'ALTER TABLE ... ADD FOREIGN KEY ... REFERENCES bh_audit.tags: refused';
END $$;
-- no trigger on bh_audit.tags but the extension's own
SELECT count(*) AS foreign_triggers FROM pg_trigger
 WHERE tgrelid = 'bh_audit.tags'::regclass AND tgconstraint <> 0;
CREATE TRIGGER ofk_note BEFORE DELETE ON public.ofk_notes2
    FOR EACH ROW EXECUTE FUNCTION public.ofk_note();

SET SESSION AUTHORIZATION regress_ofk_admin;
CREATE TABLE ofk.mine (id int PRIMARY KEY, pat text);
CREATE TEMP TABLE ofk_log (tbl text);
CREATE TRIGGER grab BEFORE INSERT ON pg_temp.ofk_log
    FOR EACH ROW EXECUTE FUNCTION regress_own.grab_trigger();
SELECT bh_audit.tag_table('ofk.mine', 'OfkPatient', 'id', 'pat');
RESET SESSION AUTHORIZATION;
INSERT INTO public.ofk_notes2 VALUES ('ofk.mine', 'reviewed');
SET SESSION AUTHORIZATION regress_ofk_admin;
SELECT bh_audit.untag_table('ofk.mine');
RESET SESSION AUTHORIZATION;
-- still no superuser; the superuser's trigger did not reach her pg_temp
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_ofk_admin';
SELECT count(*) FILTER (WHERE su) AS superuser_runs FROM public.ofk_seen;

SET client_min_messages = warning;
DROP TABLE IF EXISTS public.ofk_notes, public.ofk_notes2;
RESET client_min_messages;
DROP TABLE public.ofk_log, public.ofk_seen;
DROP TABLE pg_temp.ofk_log;
DROP FUNCTION public.ofk_note();
DROP SCHEMA ofk CASCADE;
ALTER ROLE regress_ofk_admin NOSUPERUSER;
DROP ROLE regress_ofk_admin;
