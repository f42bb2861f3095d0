-- ALTER TABLE ... ADD COLUMN IF NOT EXISTS of a column the tagged table
-- already has is no change at all (PostgreSQL skips it with a NOTICE), so
-- the column it names cannot come to depend on the session's temporary
-- schema: it is refused all the same when its type or collation is
-- temporary (column_guard.c's bh_check_temp_column() reads the ColumnDef,
-- not whether the column exists), which breaks an idempotent migration
-- script run in a session that made a temporary collation or type.
-- Right: skipped as PostgreSQL skips it; a new column is still refused.
\set VERBOSITY terse
CREATE SCHEMA s42rf;
CREATE TABLE s42rf.notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO s42rf.notes VALUES (1, 'pat_1', 'a');
SELECT bh_audit.tag_table('s42rf.notes', 'RfNote', 'id', 'patient_id');
CREATE COLLATION pg_temp.c_tmp (provider = libc, locale = 'C');
CREATE TYPE pg_temp.sev_tmp AS ENUM ('low', 'high');
-- the column exists: skipped, nothing refused
ALTER TABLE s42rf.notes ADD COLUMN IF NOT EXISTS body text COLLATE pg_temp.c_tmp;
ALTER TABLE s42rf.notes ADD COLUMN IF NOT EXISTS body pg_temp.sev_tmp;
SELECT attname, collname FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation
 WHERE attrelid = 's42rf.notes'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
-- control: a new column of the temporary collation or type is refused
ALTER TABLE s42rf.notes ADD COLUMN IF NOT EXISTS summary text COLLATE pg_temp.c_tmp;
ALTER TABLE s42rf.notes ADD COLUMN IF NOT EXISTS severity pg_temp.sev_tmp;
SELECT bh_audit.untag_table('s42rf.notes');
DROP SCHEMA s42rf CASCADE;
\set VERBOSITY default
