-- Installing the extension: schema, objects, roles.
CREATE EXTENSION bh_audit;

-- The head of a ledger with no event yet: one row of NULLs.
SELECT seq, event_hash, ts, (SELECT count(*) FROM bh_audit.events) AS events
  FROM bh_audit.chain_head();

SELECT extname, extversion, extrelocatable, n.nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'bh_audit';

-- Every object lives in schema bh_audit.  (ledger_home and its trigger
-- function _home_restored: the database that last sealed the ledger.)
SELECT c.relname, c.relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'bh_audit' AND c.relkind IN ('r', 'v')
 ORDER BY 1;

SELECT p.proname, p.pronargs, p.prosecdef, p.provolatile,
       pg_get_function_result(p.oid) ~ 'SETOF' AS returns_set
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'bh_audit'
 ORDER BY 1, 2;

-- The internal functions (a leading underscore) that every role may call:
-- only the capture triggers' (every role's writes run them).
SELECT p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'bh_audit' AND p.proname LIKE '\_%'
   AND (p.proacl IS NULL
        OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0))
 ORDER BY 1;

-- The five access-review indexes: four B-trees and the block-range index on
-- ts that serves time-bounded queries no B-tree does (Part 2 access).
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) ~ 'WHERE' AS partial
  FROM pg_index WHERE indrelid = 'bh_audit.events'::regclass AND NOT indisprimary
 ORDER BY 1;
-- ... with exactly these definitions.
SELECT indexname, indexdef FROM pg_indexes
 WHERE schemaname = 'bh_audit' AND tablename = 'events' ORDER BY indexname;

-- Roles exist and cannot log in.
SELECT rolname, rolcanlogin FROM pg_roles
 WHERE rolname IN ('bh_audit_admin', 'bh_audit_reader') ORDER BY 1;

-- Settings are defined with their defaults.
SELECT name, setting, context FROM pg_settings
 WHERE name LIKE 'bh_audit.%' ORDER BY 1;

-- The sealer runs in this database (it connects within a few seconds of
-- the database's creation).
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity
                           WHERE backend_type = 'bh_audit sealer'
                             AND datname = current_database());
        PERFORM pg_sleep(0.1);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
END $$;
SELECT count(*) AS sealers FROM pg_stat_activity
 WHERE backend_type = 'bh_audit sealer' AND datname = current_database();

-- For the later files: run a statement, return its SQLSTATE and message.
CREATE FUNCTION public.regress_err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
