-- A full-text column of clinical notes: GENERATED ALWAYS AS
-- (to_tsvector('cfg'::regconfig, body)) STORED.  Its expression depends
-- on the text search configuration (a regconfig constant), and the
-- configuration on the dictionaries its mappings use.  ALTER TEXT SEARCH
-- CONFIGURATION ... ALTER MAPPING ... WITH a dictionary of the session's
-- temporary schema (the configuration's owner may; no superuser needed):
-- at the session's end PostgreSQL drops the dictionary with CASCADE, the
-- configuration with it, and the tagged table's generated column with its
-- values (test/t/341).  No check runs after AlterTSConfigurationStmt
-- (config_guard.c, bh_config_guard_after()).  Right: refused (0A000), as
-- CREATE OR REPLACE FUNCTION of a function the expression calls is.
\set VERBOSITY terse
CREATE SCHEMA s43ra_ts;
CREATE TEXT SEARCH CONFIGURATION s43ra_ts.cfg (COPY = simple);
CREATE TABLE s43ra_ts.notes (id int PRIMARY KEY, patient_id text, body text,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('s43ra_ts.cfg'::regconfig, body)) STORED);
INSERT INTO s43ra_ts.notes (id, patient_id, body) VALUES (1, 'pat_1', 'chest pain');
SELECT bh_audit.tag_table('s43ra_ts.notes', 'S43raTsNote', 'id', 'patient_id');
CREATE TEXT SEARCH DICTIONARY pg_temp.dict (TEMPLATE = simple);
CREATE FUNCTION pg_temp.try(what text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN what || ': allowed';
EXCEPTION WHEN feature_not_supported THEN
  RETURN what || ': refused (0A000)';
END$$;

-- 1. ALTER MAPPING FOR a token type WITH the temporary dictionary: refused
SELECT pg_temp.try('ALTER MAPPING FOR asciiword WITH pg_temp.dict',
  'ALTER TEXT SEARCH CONFIGURATION s43ra_ts.cfg ALTER MAPPING FOR asciiword WITH pg_temp.dict');
-- 2. ALTER MAPPING REPLACE ... WITH it: refused
SELECT pg_temp.try('ALTER MAPPING REPLACE simple WITH pg_temp.dict',
  'ALTER TEXT SEARCH CONFIGURATION s43ra_ts.cfg ALTER MAPPING REPLACE simple WITH pg_temp.dict');
-- the configuration maps to no temporary dictionary
SELECT count(*) AS temp_mappings FROM pg_ts_config_map m
  JOIN pg_ts_dict d ON d.oid = m.mapdict
  WHERE m.mapcfg = 's43ra_ts.cfg'::regconfig AND d.dictnamespace = pg_my_temp_schema();
-- 3. control: a permanent dictionary, allowed
SELECT pg_temp.try('ALTER MAPPING FOR asciiword WITH simple',
  'ALTER TEXT SEARCH CONFIGURATION s43ra_ts.cfg ALTER MAPPING FOR asciiword WITH simple');

SELECT bh_audit.untag_table('s43ra_ts.notes');
DROP SCHEMA s43ra_ts CASCADE;
\set VERBOSITY default
