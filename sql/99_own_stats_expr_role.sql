-- The extension reads bh_audit.tags (the tag cache's load, tag_table()'s
-- look-up) and writes it (untag_table(), a rename) through SQL run as the
-- bootstrap superuser on search_path pg_catalog, pg_temp.  Planning such a
-- statement folds the constant parts of the expressions of the table's
-- extended statistics (get_relation_statistics(): eval_const_expressions),
-- so an immutable function there runs as that superuser, on that path.
-- CREATE STATISTICS on bh_audit.tags must be refused like CREATE INDEX
-- (sql/99_own_sql_rule_role): a superuser's statistics calling a function
-- of its own with an unqualified table name would reach the caller's
-- pg_temp, and a role that is no superuser would come out superuser.
CREATE ROLE regress_ost_user;
CREATE SCHEMA ost AUTHORIZATION regress_ost_user;
CREATE TABLE public.ost_cfg (k int);
INSERT INTO public.ost_cfg VALUES (0);
GRANT SELECT ON public.ost_cfg TO PUBLIC;
CREATE TABLE public.ost_seen (su boolean);
GRANT INSERT ON public.ost_seen TO PUBLIC;
\set VERBOSITY terse
DO $$
BEGIN
  CREATE STATISTICS public.ost_s ON (length(resource_type) + regress_own.cfg_k('ost_cfg')) FROM bh_audit.tags;
  RAISE NOTICE 'CREATE STATISTICS on bh_audit.tags: created';
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'CREATE STATISTICS on bh_audit.tags: refused';
END $$;
SELECT count(*) AS statistics FROM pg_statistic_ext
 WHERE stxrelid = 'bh_audit.tags'::regclass;

SET SESSION AUTHORIZATION regress_ost_user;
CREATE TEMP VIEW ost_cfg AS SELECT regress_own.grab('regress_ost_user', 'public.ost_seen') AS k;
CREATE TABLE ost.mine (id int PRIMARY KEY, pat text);
RESET SESSION AUTHORIZATION;
-- the superuser tags the role's table: the tag cache is loaded again
SELECT bh_audit.tag_table('ost.mine', 'OstPatient', 'id', 'pat');
SET SESSION AUTHORIZATION regress_ost_user;
-- a read of its own table, after the tag cache changed
SELECT count(*) FROM ost.mine;
RESET SESSION AUTHORIZATION;
-- still no superuser; the function reached no pg_temp as a superuser
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_ost_user';
SELECT count(*) FILTER (WHERE su) AS superuser_runs FROM public.ost_seen;

SET client_min_messages = warning;
DROP STATISTICS IF EXISTS public.ost_s;
RESET client_min_messages;
SELECT bh_audit.untag_table('ost.mine');
DROP VIEW pg_temp.ost_cfg;
DROP TABLE public.ost_cfg, public.ost_seen;
DROP SCHEMA ost CASCADE;
ALTER ROLE regress_ost_user NOSUPERUSER;
DROP ROLE regress_ost_user;
