-- ALTER EXTENSION bh_audit ADD of an object outside the extension's
-- scripts: refused for everyone, superusers included, as DROP is.  Let
-- through, a function added would be taken for one of the extension's own
-- (capture_status() reported "function public.bump() was replaced"), a
-- table added would be left out of dumps, and both would be dropped with
-- the extension.  ALTER FUNCTION ... DEPENDS ON EXTENSION of one of the
-- extension's functions is refused in every spelling (NO DEPENDS, which
-- only undoes one, is let through); another extension's ADD is not checked.
\set VERBOSITY terse
CREATE FUNCTION public.bump() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TABLE public.s41h2b_added (id int);
SELECT regress_err($$ALTER EXTENSION bh_audit ADD FUNCTION public.bump()$$) AS add_function;
SELECT regress_err($$ALTER EXTENSION bh_audit ADD TABLE public.s41h2b_added$$) AS add_table;
SELECT regress_err($$ALTER EXTENSION bh_audit DROP FUNCTION bh_audit._capture_row()$$) AS drop_function;
-- neither joined the extension; capture_status() reports nothing of them
SELECT count(*) AS members_added FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'bh_audit')
   AND ((classid = 'pg_proc'::regclass AND objid = 'public.bump()'::regprocedure)
     OR (classid = 'pg_class'::regclass AND objid = 'public.s41h2b_added'::regclass));
SELECT count(*) AS problems_named FROM bh_audit.capture_status()
 WHERE problem LIKE '%bump%' OR problem LIKE '%s41h2b_added%';
-- the other spellings of DEPENDS ON EXTENSION of the extension's functions
SELECT regress_err($$ALTER ROUTINE bh_audit._capture_row() DEPENDS ON EXTENSION plpgsql$$) AS routine_depends;
SELECT regress_err($$ALTER FUNCTION bh_audit.chain_head DEPENDS ON EXTENSION plpgsql$$) AS function_depends;
SELECT regress_err($$ALTER FUNCTION bh_audit._capture_row() NO DEPENDS ON EXTENSION plpgsql$$) AS no_depends;
SELECT count(*) AS extension_dependencies FROM pg_depend d
  JOIN pg_extension x ON x.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
 WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'x'
   AND d.objid IN ('bh_audit._capture_row()'::regprocedure, 'bh_audit.chain_head()'::regprocedure);
-- a function of the application's, and another extension's ADD: unchecked
SELECT regress_err($$ALTER FUNCTION public.bump() DEPENDS ON EXTENSION plpgsql$$) AS own_function_depends;
ALTER FUNCTION public.bump() NO DEPENDS ON EXTENSION plpgsql;
SELECT regress_err($$ALTER EXTENSION plpgsql ADD FUNCTION public.bump()$$) AS other_extension_add;
ALTER EXTENSION plpgsql DROP FUNCTION public.bump();
DROP FUNCTION public.bump();
DROP TABLE public.s41h2b_added;
