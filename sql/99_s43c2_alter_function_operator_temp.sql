-- ALTER FUNCTION ... SUPPORT and ALTER OPERATOR ... SET (RESTRICT | JOIN)
-- record a dependency of the function or operator on the support function
-- or estimator named.  One of the session's temporary schema, of a
-- function or operator a tagged table's generated column uses: at the
-- session's end PostgreSQL drops it with CASCADE, the function or
-- operator with it, and the generated column with its values.  PostgreSQL
-- names the object altered to the post-alter hook (AlterFunction(),
-- AlterOperator()); the guard checks each object so named after the
-- statement (config_guard.c, bh_check_replaced()).  Right: refused
-- (0A000), as CREATE OR REPLACE FUNCTION of the function is.
\set VERBOSITY terse
CREATE SCHEMA s43c2_fo;
CREATE FUNCTION s43c2_fo.norm(text) RETURNS text LANGUAGE sql IMMUTABLE
  AS 'SELECT lower($1)';
CREATE OPERATOR s43c2_fo.=== (LEFTARG = text, RIGHTARG = text, FUNCTION = texteq);
CREATE TABLE s43c2_fo.notes (id int PRIMARY KEY, patient_id text, body text,
  norm text GENERATED ALWAYS AS (s43c2_fo.norm(body)) STORED,
  hit boolean GENERATED ALWAYS AS (body OPERATOR(s43c2_fo.===) 'x') STORED);
INSERT INTO s43c2_fo.notes (id, patient_id, body) VALUES (1, 'pat_1', 'X');
SELECT bh_audit.tag_table('s43c2_fo.notes', 'S43c2FoNote', 'id', 'patient_id');
-- the same function and operator, used by an untagged table only
CREATE FUNCTION s43c2_fo.other(text) RETURNS text LANGUAGE sql IMMUTABLE
  AS 'SELECT upper($1)';
CREATE OPERATOR s43c2_fo.==== (LEFTARG = text, RIGHTARG = text, FUNCTION = texteq);
CREATE TABLE s43c2_fo.untagged (id int, body text,
  o text GENERATED ALWAYS AS (s43c2_fo.other(body)) STORED,
  h boolean GENERATED ALWAYS AS (body OPERATOR(s43c2_fo.====) 'x') STORED);
CREATE FUNCTION pg_temp.sup(internal) RETURNS internal LANGUAGE internal STRICT
  AS 'textlike_support';
CREATE FUNCTION pg_temp.sel(internal, oid, internal, integer) RETURNS float8
  LANGUAGE internal STABLE STRICT AS 'eqsel';
CREATE FUNCTION pg_temp.joinsel(internal, oid, internal, smallint, internal)
  RETURNS float8 LANGUAGE internal STABLE STRICT AS 'eqjoinsel';
CREATE FUNCTION pg_temp.try(what text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN what || ': allowed';
EXCEPTION WHEN feature_not_supported THEN
  RETURN what || ': refused (0A000)';
END$$;

-- 1. ALTER FUNCTION ... SUPPORT of a function a generated column calls: refused
SELECT pg_temp.try('ALTER FUNCTION SUPPORT pg_temp.sup',
  'ALTER FUNCTION s43c2_fo.norm(text) SUPPORT pg_temp.sup');
-- 2. ALTER OPERATOR ... SET (RESTRICT) of an operator a generated column uses: refused
SELECT pg_temp.try('ALTER OPERATOR SET (RESTRICT = pg_temp.sel)',
  'ALTER OPERATOR s43c2_fo.=== (text, text) SET (RESTRICT = pg_temp.sel)');
-- 3. ALTER OPERATOR ... SET (JOIN): refused
SELECT pg_temp.try('ALTER OPERATOR SET (JOIN = pg_temp.joinsel)',
  'ALTER OPERATOR s43c2_fo.=== (text, text) SET (JOIN = pg_temp.joinsel)');
-- neither depends on a temporary function
SELECT count(*) AS temp_deps FROM pg_depend
  WHERE classid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
    AND objid IN ('s43c2_fo.norm(text)'::regprocedure, 's43c2_fo.===(text,text)'::regoperator)
    AND refclassid = 'pg_proc'::regclass
    AND refobjid IN (SELECT oid FROM pg_proc WHERE pronamespace = pg_my_temp_schema());
-- controls: the same of a function and operator no tagged column uses,
-- and of the tagged table's with permanent ones: allowed
SELECT pg_temp.try('ALTER FUNCTION SUPPORT pg_temp.sup, untagged use only',
  'ALTER FUNCTION s43c2_fo.other(text) SUPPORT pg_temp.sup');
SELECT pg_temp.try('ALTER OPERATOR SET (RESTRICT = pg_temp.sel), untagged use only',
  'ALTER OPERATOR s43c2_fo.==== (text, text) SET (RESTRICT = pg_temp.sel)');
SELECT pg_temp.try('ALTER FUNCTION SUPPORT textlike_support',
  'ALTER FUNCTION s43c2_fo.norm(text) SUPPORT textlike_support');
SELECT pg_temp.try('ALTER OPERATOR SET (RESTRICT = eqsel)',
  'ALTER OPERATOR s43c2_fo.=== (text, text) SET (RESTRICT = eqsel)');

SELECT bh_audit.untag_table('s43c2_fo.notes');
DROP SCHEMA s43c2_fo CASCADE;
\set VERBOSITY default
