-- capture_status() judges the extension's functions by a list of their
-- signatures, so that one taken out of the extension (ALTER EXTENSION
-- bh_audit DROP FUNCTION, possible without the preload) is still checked,
-- and one dropped is reported missing instead of making capture_status()
-- fail.  Each member function (but capture_status() itself) must be on
-- that list: a function added to the install script and not to the list
-- would be judged only while a member.  The list is read from its
-- declaration alone (listed CONSTANT text[] := ARRAY[...]): the trigger
-- functions' signatures appear elsewhere in the body too.
CREATE TEMP VIEW listed AS
SELECT substring(prosrc FROM 'listed CONSTANT text\[\] := ARRAY\[(.*?)\];') AS list
  FROM pg_proc WHERE oid = 'bh_audit.capture_status()'::regprocedure;
SELECT list IS NOT NULL AS list_found FROM listed;
-- Expected: no row.
SELECT p.oid::regprocedure AS member_not_listed
  FROM pg_depend d
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'bh_audit'
  JOIN pg_proc p ON p.oid = d.objid
 WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
   AND d.deptype = 'e' AND p.oid <> 'bh_audit.capture_status()'::regprocedure
   AND strpos((SELECT list FROM listed), quote_literal(p.oid::regprocedure::text)) = 0
 ORDER BY 1;
-- and every function listed is a member, the library's own: capture_status()
-- says nothing of the extension's functions as installed
SELECT count(*) AS function_problems FROM bh_audit.capture_status() WHERE problem LIKE 'function %';
