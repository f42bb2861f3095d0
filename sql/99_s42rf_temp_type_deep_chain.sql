-- A column of a tagged table cannot be of a type built on a temporary type
-- or collation (column_guard.c, bh_column_is_temp()): PostgreSQL drops
-- it, and the column with its values, when the session ends.  But the walk
-- down the types stopped at depth 32 and then answered "not temporary": a
-- domain 34 levels over a temporary enum, or a composite type 34 levels
-- over one with an attribute of a temporary collation, is allowed, and the
-- column goes at the session's end with no event (the owner can build
-- the chain in its own schema).  Right: refused as the shallow chain is
-- (a walk that gives up must not allow).
\set VERBOSITY terse
CREATE SCHEMA s42rf;
CREATE TABLE s42rf.notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO s42rf.notes VALUES (1, 'pat_1', 'a');
SELECT bh_audit.tag_table('s42rf.notes', 'RfNote', 'id', 'patient_id');
CREATE TYPE pg_temp.sev_tmp AS ENUM ('low', 'high');
CREATE COLLATION pg_temp.c_tmp (provider = libc, locale = 'C');
CREATE DOMAIN s42rf.de0 AS pg_temp.sev_tmp;
CREATE TYPE s42rf.ct0 AS (secret text COLLATE pg_temp.c_tmp);
DO $$
BEGIN
	FOR i IN 1..34 LOOP
		EXECUTE format('CREATE DOMAIN s42rf.de%s AS s42rf.de%s', i, i - 1);
		EXECUTE format('CREATE TYPE s42rf.ct%s AS (inner_v s42rf.ct%s)', i, i - 1);
	END LOOP;
END
$$;
-- control: a short chain is refused
ALTER TABLE s42rf.notes ADD COLUMN shallow s42rf.de30;
ALTER TABLE s42rf.notes ADD COLUMN shallow_c s42rf.ct30;
-- the long chains
ALTER TABLE s42rf.notes ADD COLUMN deep s42rf.de34;
ALTER TABLE s42rf.notes ADD COLUMN deep_c s42rf.ct34;
SELECT attname FROM pg_attribute
 WHERE attrelid = 's42rf.notes'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT bh_audit.untag_table('s42rf.notes');
DROP SCHEMA s42rf CASCADE;
\set VERBOSITY default
