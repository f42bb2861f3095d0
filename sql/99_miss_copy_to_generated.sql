-- COPY tagged_table TO is run as COPY (SELECT ...) TO so that read capture
-- sees its rows (capture_read.c, bh_rewrite_copy_to).  PostgreSQL's COPY of
-- a table without a column list leaves out its generated columns (COPY FROM
-- takes none either, so the file can be loaded back); SELECT * does not.
-- A tagged table's COPY must give what the same table's COPY gives
-- untagged: the generated column left out, and the patient still exported.
CREATE SCHEMA cg;
CREATE TABLE cg.t (id int, pid text, g text GENERATED ALWAYS AS (pid || '!') STORED, body text);
INSERT INTO cg.t (id, pid, body) VALUES (1, 'g1', 'a');
-- untagged: three columns
COPY cg.t TO STDOUT;
COPY cg.t TO STDOUT (FORMAT csv, HEADER);
COPY cg.t (id, id) TO STDOUT;
SELECT bh_audit.tag_table('cg.t', 'CgT', 'id', 'pid');
SELECT regress_reads.mark_now();
-- tagged: the same three columns, and g1 exported
COPY cg.t TO STDOUT;
COPY cg.t TO STDOUT (FORMAT csv, HEADER);
SELECT action, resource_type, patient_id FROM regress_reads.reads();
-- a column named twice is refused, as PostgreSQL's COPY refuses it
-- untagged (column "id" specified more than once)
COPY cg.t (id, id) TO STDOUT;
-- A dropped column and an odd name: the same as the untagged twin's COPY;
-- a table of generated columns only: empty rows; a FORCE_QUOTE of a
-- generated column: PostgreSQL's own refusal.
CREATE TABLE cg.u2 (id int, "Odd ""c"", x" text, gone int, pid text, g int GENERATED ALWAYS AS (id + 1) STORED);
ALTER TABLE cg.u2 DROP COLUMN gone;
INSERT INTO cg.u2 (id, "Odd ""c"", x", pid) VALUES (2, 'o', 'g2');
CREATE TABLE cg.t2 (id int, "Odd ""c"", x" text, gone int, pid text, g int GENERATED ALWAYS AS (id + 1) STORED);
ALTER TABLE cg.t2 DROP COLUMN gone;
INSERT INTO cg.t2 (id, "Odd ""c"", x", pid) VALUES (2, 'o', 'g2');
CREATE TABLE cg.t3 (a int GENERATED ALWAYS AS (1) STORED);
INSERT INTO cg.t3 DEFAULT VALUES;
SELECT bh_audit.tag_table('cg.t2', 'CgT2', 'id', 'pid');
SELECT bh_audit.tag_table('cg.t3', 'CgT3', 'a');
-- the refusal of the column named twice: a FAILURE of the EXPORT
SELECT action, resource_type, patient_id, outcome, error_type FROM regress_reads.reads();
COPY cg.u2 TO STDOUT (FORMAT csv, HEADER);
COPY cg.t2 TO STDOUT (FORMAT csv, HEADER);
COPY cg.t2 ("Odd ""c"", x", pid) TO STDOUT (FORMAT csv, HEADER);
COPY cg.t3 TO STDOUT (FORMAT csv, HEADER);
COPY cg.u2 TO STDOUT (FORMAT csv, FORCE_QUOTE (g));
COPY cg.t2 TO STDOUT (FORMAT csv, FORCE_QUOTE (g));
COPY cg.t2 (id) TO STDOUT (FORMAT csv, FORCE_QUOTE (pid));
COPY cg.t2 (g) TO STDOUT;
COPY cg.t2 (gone) TO STDOUT;
SELECT action, resource_type, patient_id, outcome, error_type FROM regress_reads.reads();
-- Where row-level security applies, PostgreSQL's COPY without a column
-- list selects every column, the generated one too: so does the tagged one.
CREATE ROLE regress_bh_cg_reader;
GRANT USAGE ON SCHEMA cg TO regress_bh_cg_reader;
GRANT SELECT ON cg.u2, cg.t2 TO regress_bh_cg_reader;
ALTER TABLE cg.u2 ENABLE ROW LEVEL SECURITY;
ALTER TABLE cg.t2 ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON cg.u2 USING (true);
CREATE POLICY p ON cg.t2 USING (true);
SET ROLE regress_bh_cg_reader;
COPY cg.u2 TO STDOUT (FORMAT csv, HEADER);
COPY cg.t2 TO STDOUT (FORMAT csv, HEADER);
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
DROP SCHEMA cg CASCADE;
DROP ROLE regress_bh_cg_reader;
