-- A column of a tagged table cannot depend on the session's temporary
-- schema: at the session's end PostgreSQL drops the object with CASCADE,
-- outside any statement, and what depends on it.  A GENERATED ALWAYS AS
-- (...) STORED column depends on the functions of its expression itself
-- (not through its type): one calling a pg_temp function is dropped at the
-- session's end with its values, and a tagged id or patient column that is
-- one cannot be dropped at all (the session's exit fails, its temporary
-- schema stays behind).  Right: refused (0A000) at ADD COLUMN, at ALTER
-- COLUMN ... TYPE (its expression re-cooked with a cast function of
-- pg_temp), at tagging, and at CREATE OR REPLACE FUNCTION of the function
-- a generated column calls.  Likewise an object a tagged column's type
-- reaches given a temporary dependency by CREATE OR REPLACE AGGREGATE (an
-- aggregate a view calls, a column being of the view's row type) or ALTER
-- TYPE ... SET (RECEIVE = ...) of a base type a column is of.  Not
-- refused: a plain DEFAULT, a CHECK constraint, an expression or partial
-- index calling one (PostgreSQL drops the default, the constraint or the
-- index, never the column nor its values: test/t/303), nor CREATE OR
-- REPLACE TRIGGER (nothing a column depends on depends on a trigger).
\set VERBOSITY terse
CREATE SCHEMA s43a;
CREATE TABLE s43a.notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO s43a.notes VALUES (1, 'pat_1', 'a');
SELECT bh_audit.tag_table('s43a.notes', 'S43aNote', 'id', 'patient_id');
CREATE FUNCTION pg_temp.up(text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$SELECT upper($1)$$;
-- helper: runs a statement, says whether it was refused (0A000)
CREATE FUNCTION pg_temp.try(what text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN what || ': allowed';
EXCEPTION WHEN feature_not_supported THEN
  RETURN what || ': refused (0A000)';
END$$;

-- 1. ADD COLUMN ... GENERATED calling a pg_temp function: refused
SELECT pg_temp.try('ADD COLUMN GENERATED',
  'ALTER TABLE s43a.notes ADD COLUMN shout text GENERATED ALWAYS AS (pg_temp.up(body)) STORED');
-- control: a generated column calling a permanent function is allowed
ALTER TABLE s43a.notes ADD COLUMN shout text GENERATED ALWAYS AS (upper(body)) STORED;
-- through an untagged partitioned parent, reaching a tagged partition: refused
CREATE TABLE s43a.parts (id int, patient_id text, body text) PARTITION BY RANGE (id);
CREATE TABLE s43a.part1 PARTITION OF s43a.parts FOR VALUES FROM (0) TO (100);
SELECT bh_audit.tag_table('s43a.part1', 'S43aPart', 'id', 'patient_id');
SELECT pg_temp.try('ADD COLUMN GENERATED through the parent',
  'ALTER TABLE s43a.parts ADD COLUMN shout text GENERATED ALWAYS AS (pg_temp.up(body)) STORED');
-- a temporary table's own generated column: allowed (dropped with the table)
CREATE TEMP TABLE s43a_tmp (id int PRIMARY KEY, patient_id text, body text);
SELECT bh_audit.tag_table('pg_temp.s43a_tmp', 'S43aTmp', 'id', 'patient_id');
SELECT pg_temp.try('ADD COLUMN GENERATED to a temporary table',
  'ALTER TABLE pg_temp.s43a_tmp ADD COLUMN shout text GENERATED ALWAYS AS (pg_temp.up(body)) STORED');
SELECT bh_audit.untag_table('pg_temp.s43a_tmp');
DROP TABLE pg_temp.s43a_tmp;

-- 2. ALTER COLUMN ... TYPE of a generated column whose expression is cast
-- with a pg_temp function (an assignment cast): refused
CREATE TYPE s43a.level AS ENUM ('A', 'B');
CREATE FUNCTION pg_temp.to_level(text) RETURNS s43a.level LANGUAGE sql IMMUTABLE
  AS $$SELECT 'A'::s43a.level$$;
CREATE CAST (text AS s43a.level) WITH FUNCTION pg_temp.to_level(text) AS ASSIGNMENT;
SELECT pg_temp.try('ALTER COLUMN TYPE of a generated column',
  'ALTER TABLE s43a.notes ALTER COLUMN shout TYPE s43a.level');
DROP CAST (text AS s43a.level);

-- 3. tagging a table that has one, or whose tagged patient column is one
CREATE TABLE s43a.gen (id int PRIMARY KEY, body text,
  patient_id text GENERATED ALWAYS AS (pg_temp.up(body)) STORED);
INSERT INTO s43a.gen (id, body) VALUES (1, 'pat_g');
SELECT pg_temp.try('tag_table, patient column generated',
  $$SELECT bh_audit.tag_table('s43a.gen', 'S43aGen', 'id', 'patient_id')$$);
-- a partition whose (untagged) parent's generated column calls one
CREATE TABLE s43a.gparts (id int, patient_id text, body text,
  shout text GENERATED ALWAYS AS (pg_temp.up(body)) STORED) PARTITION BY RANGE (id);
CREATE TABLE s43a.gpart1 PARTITION OF s43a.gparts FOR VALUES FROM (0) TO (100);
SELECT pg_temp.try('tag_table of a partition',
  $$SELECT bh_audit.tag_table('s43a.gpart1', 'S43aGPart', 'id', 'patient_id')$$);
-- attaching it under a tagged table (PostgreSQL: same expression or none)
CREATE TABLE s43a.tparts (id int, patient_id text, body text,
  shout text GENERATED ALWAYS AS (upper(body)) STORED) PARTITION BY RANGE (id);
SELECT bh_audit.tag_table('s43a.tparts', 'S43aTParts', 'id', 'patient_id');
CREATE TABLE s43a.tpart1 (id int, patient_id text, body text,
  shout text GENERATED ALWAYS AS (upper(body)) STORED);
SELECT pg_temp.try('ATTACH PARTITION, permanent expression',
  $$ALTER TABLE s43a.tparts ATTACH PARTITION s43a.tpart1 FOR VALUES FROM (0) TO (100)$$);

-- 4. CREATE OR REPLACE FUNCTION of the function a generated column calls,
-- now calling a pg_temp function (BEGIN ATOMIC: a dependency): refused
CREATE FUNCTION s43a.norm(text) RETURNS text LANGUAGE sql IMMUTABLE
  BEGIN ATOMIC SELECT lower($1); END;
ALTER TABLE s43a.notes ADD COLUMN quiet text GENERATED ALWAYS AS (s43a.norm(body)) STORED;
SELECT pg_temp.try('CREATE OR REPLACE FUNCTION a generated column calls',
  $$CREATE OR REPLACE FUNCTION s43a.norm(text) RETURNS text LANGUAGE sql IMMUTABLE
    BEGIN ATOMIC SELECT pg_temp.up($1); END$$);

-- 5. what is not refused: PostgreSQL drops these, not the column
SELECT pg_temp.try('ADD COLUMN DEFAULT',
  'ALTER TABLE s43a.notes ADD COLUMN note text DEFAULT pg_temp.up(''n'')');
SELECT pg_temp.try('ALTER COLUMN SET DEFAULT',
  'ALTER TABLE s43a.notes ALTER COLUMN body SET DEFAULT pg_temp.up(''b'')');
SELECT pg_temp.try('ADD CONSTRAINT CHECK',
  'ALTER TABLE s43a.notes ADD CONSTRAINT loud CHECK (pg_temp.up(body) <> ''Z'')');
SELECT pg_temp.try('CREATE INDEX on an expression',
  'CREATE INDEX notes_up ON s43a.notes (pg_temp.up(body))');
SELECT pg_temp.try('CREATE INDEX partial',
  'CREATE INDEX notes_part ON s43a.notes (id) WHERE pg_temp.up(body) <> ''Q''');

-- 6. CREATE OR REPLACE AGGREGATE of an aggregate a view calls, a column
-- being of the view's row type: refused
CREATE AGGREGATE s43a.total(int) (sfunc = int4pl, stype = int);
CREATE VIEW s43a.tally AS SELECT s43a.total(x) AS n FROM generate_series(1, 2) x;
ALTER TABLE s43a.notes ADD COLUMN tally s43a.tally;
CREATE FUNCTION pg_temp.plus(int, int) RETURNS int LANGUAGE sql AS $$SELECT $1 + $2$$;
SELECT pg_temp.try('CREATE OR REPLACE AGGREGATE',
  'CREATE OR REPLACE AGGREGATE s43a.total(int) (sfunc = pg_temp.plus, stype = int)');
-- control: replaced with a permanent function, allowed
SELECT pg_temp.try('CREATE OR REPLACE AGGREGATE, permanent',
  'CREATE OR REPLACE AGGREGATE s43a.total(int) (sfunc = int4larger, stype = int)');

-- 7. ALTER TYPE ... SET (RECEIVE = pg_temp...) of a base type a column is of
CREATE TYPE s43a.code;
CREATE FUNCTION s43a.code_in(cstring) RETURNS s43a.code LANGUAGE internal
  IMMUTABLE STRICT AS 'int4in';
CREATE FUNCTION s43a.code_out(s43a.code) RETURNS cstring LANGUAGE internal
  IMMUTABLE STRICT AS 'int4out';
CREATE TYPE s43a.code (INPUT = s43a.code_in, OUTPUT = s43a.code_out, LIKE = int4);
ALTER TABLE s43a.notes ADD COLUMN code s43a.code;
CREATE FUNCTION pg_temp.code_recv(internal) RETURNS s43a.code LANGUAGE internal
  IMMUTABLE STRICT AS 'int4recv';
SELECT pg_temp.try('ALTER TYPE SET (RECEIVE)',
  'ALTER TYPE s43a.code SET (RECEIVE = pg_temp.code_recv)');

-- 8. CREATE OR REPLACE TRIGGER calling a pg_temp function: not refused
CREATE FUNCTION pg_temp.trg() RETURNS trigger LANGUAGE plpgsql
  AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER tally_ins INSTEAD OF INSERT ON s43a.tally
  FOR EACH ROW EXECUTE FUNCTION pg_temp.trg();
SELECT pg_temp.try('CREATE OR REPLACE TRIGGER',
  'CREATE OR REPLACE TRIGGER tally_ins INSTEAD OF INSERT ON s43a.tally
     FOR EACH ROW EXECUTE FUNCTION pg_temp.trg()');

-- the generated columns' functions: only the untagged tables' call pg_temp's
SELECT c.relname, a.attname, f.proname,
       f.pronamespace = pg_my_temp_schema() AS temp,
       EXISTS (SELECT 1 FROM bh_audit.tagged_tables t
               WHERE t.tbl = c.oid::regclass) AS tagged
  FROM pg_attrdef ad
  JOIN pg_class c ON c.oid = ad.adrelid
  JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
  JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
   AND d.refclassid = 'pg_proc'::regclass
  JOIN pg_proc f ON f.oid = d.refobjid
  WHERE a.attgenerated = 's' AND c.relnamespace = 's43a'::regnamespace
  ORDER BY 1, 2, 3;
DROP TRIGGER tally_ins ON s43a.tally;
ALTER TABLE s43a.notes DROP CONSTRAINT IF EXISTS loud;
DROP INDEX IF EXISTS s43a.notes_up, s43a.notes_part;
SELECT bh_audit.untag_table(tbl) FROM bh_audit.tagged_tables
  WHERE schema_name = 's43a' ORDER BY table_name;
DROP SCHEMA s43a CASCADE;
\set VERBOSITY default
