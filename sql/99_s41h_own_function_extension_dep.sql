-- ALTER FUNCTION ... DEPENDS ON EXTENSION of one of the extension's own
-- functions (the capture trigger function): the docs refuse every ALTER
-- FUNCTION of them but OWNER TO, for superusers too ("the extension's
-- functions change only through its scripts"), as they refuse ALTER
-- EXTENSION bh_audit DROP, which would let one be dropped.  Let through,
-- it makes DROP EXTENSION pg_surgery CASCADE drop bh_audit, its ledger and
-- every capture trigger (a drop that, committed, leaves no event).
\set VERBOSITY terse
CREATE EXTENSION pg_surgery;
SELECT regress_err($$ALTER FUNCTION bh_audit._capture_row() DEPENDS ON EXTENSION pg_surgery$$)
       LIKE '55000: %' AS refused;
SELECT count(*) AS extension_dependencies FROM pg_depend
 WHERE classid = 'pg_proc'::regclass AND objid = 'bh_audit._capture_row()'::regprocedure
   AND deptype = 'x';
-- (clean up whatever happened, before pg_surgery goes)
DO $$ BEGIN
  ALTER FUNCTION bh_audit._capture_row() NO DEPENDS ON EXTENSION pg_surgery;
EXCEPTION WHEN OTHERS THEN NULL;
END $$;
DROP EXTENSION pg_surgery;
SELECT count(*) AS bh_audit_installed FROM pg_extension WHERE extname = 'bh_audit';
