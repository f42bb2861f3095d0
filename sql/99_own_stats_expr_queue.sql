-- bh_audit.stats() (SECURITY DEFINER, its owner a superuser, search_path
-- pg_catalog, pg_temp; granted to bh_audit_reader) reads bh_audit.queue
-- through SQL.  Planning that read folds the constant parts of the
-- expressions of the queue's extended statistics
-- (get_relation_statistics(): eval_const_expressions), so an immutable
-- function there runs as that superuser on that path: a superuser's
-- statistics calling a function of its own with an unqualified table name
-- would reach the caller's pg_temp, and a bh_audit_reader member would
-- come out superuser.  CREATE STATISTICS on the extension's tables read by
-- its SQL as a superuser must be refused (sql/99_own_stats_expr_role for
-- bh_audit.tags).
CREATE ROLE regress_osq_reader IN ROLE bh_audit_reader;
CREATE SCHEMA osq AUTHORIZATION regress_osq_reader;
CREATE TABLE public.osq_cfg (k int);
INSERT INTO public.osq_cfg VALUES (0);
GRANT SELECT ON public.osq_cfg TO PUBLIC;
CREATE TABLE public.osq_seen (su boolean);
GRANT INSERT ON public.osq_seen TO PUBLIC;
\set VERBOSITY terse
DO $$
BEGIN
  CREATE STATISTICS public.osq_s ON (cardinality(events) + regress_own.cfg_k('osq_cfg')) FROM bh_audit.queue;
  RAISE NOTICE 'CREATE STATISTICS on bh_audit.queue: created';
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'CREATE STATISTICS on bh_audit.queue: refused';
END $$;
SELECT count(*) AS statistics FROM pg_statistic_ext
 WHERE stxrelid = 'bh_audit.queue'::regclass;

SET SESSION AUTHORIZATION regress_osq_reader;
CREATE TEMP VIEW osq_cfg AS SELECT regress_own.grab('regress_osq_reader', 'public.osq_seen') AS k;
-- the counters, as a reader asks for them
SELECT events_emitted_total >= 0 AS stats FROM bh_audit.stats();
RESET SESSION AUTHORIZATION;
-- still no superuser; the function reached no pg_temp as a superuser
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_osq_reader';
SELECT count(*) FILTER (WHERE su) AS superuser_runs FROM public.osq_seen;

SET client_min_messages = warning;
DROP STATISTICS IF EXISTS public.osq_s;
RESET client_min_messages;
DROP VIEW pg_temp.osq_cfg;
DROP TABLE public.osq_cfg, public.osq_seen;
DROP SCHEMA osq CASCADE;
ALTER ROLE regress_osq_reader NOSUPERUSER;
DROP ROLE regress_osq_reader;
