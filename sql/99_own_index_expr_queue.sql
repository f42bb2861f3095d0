-- bh_audit.stats() (SECURITY DEFINER, its owner a superuser, search_path
-- pg_catalog, pg_temp; granted to bh_audit_reader) reads bh_audit.queue
-- through SQL.  Planning that read loads the expressions of the queue's
-- indexes, folding their constant parts (RelationGetIndexExpressions():
-- eval_const_expressions), so an immutable function there runs as that
-- superuser on that path: a superuser's expression index calling a
-- function of its own with an unqualified table name would reach the
-- caller's pg_temp, and a bh_audit_reader member would come out superuser.
-- CREATE INDEX on the extension's tables read by its SQL as a superuser
-- must be refused (31d4249 refuses it on bh_audit.tags only).
CREATE ROLE regress_osi_reader IN ROLE bh_audit_reader;
CREATE SCHEMA osi AUTHORIZATION regress_osi_reader;
CREATE TABLE public.osi_cfg (k int);
INSERT INTO public.osi_cfg VALUES (0);
GRANT SELECT ON public.osi_cfg TO PUBLIC;
CREATE TABLE public.osi_seen (su boolean);
GRANT INSERT ON public.osi_seen TO PUBLIC;
\set VERBOSITY terse
DO $$
BEGIN
  CREATE INDEX osi_i ON bh_audit.queue ((cardinality(events) + regress_own.cfg_k('osi_cfg')));
  RAISE NOTICE 'CREATE INDEX on bh_audit.queue: created';
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'CREATE INDEX on bh_audit.queue: refused';
END $$;
SELECT count(*) AS indexes FROM pg_index
 WHERE indrelid = 'bh_audit.queue'::regclass AND indexprs IS NOT NULL;

SET SESSION AUTHORIZATION regress_osi_reader;
CREATE TEMP VIEW osi_cfg AS SELECT regress_own.grab('regress_osi_reader', 'public.osi_seen') AS k;
-- the counters, as a reader asks for them
SELECT events_emitted_total >= 0 AS stats FROM bh_audit.stats();
RESET SESSION AUTHORIZATION;
-- still no superuser; the function reached no pg_temp as a superuser
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_osi_reader';
SELECT count(*) FILTER (WHERE su) AS superuser_runs FROM public.osi_seen;

SET client_min_messages = warning;
DROP INDEX IF EXISTS bh_audit.osi_i;
RESET client_min_messages;
DROP VIEW pg_temp.osi_cfg;
DROP TABLE public.osi_cfg, public.osi_seen;
DROP SCHEMA osi CASCADE;
ALTER ROLE regress_osi_reader NOSUPERUSER;
DROP ROLE regress_osi_reader;
