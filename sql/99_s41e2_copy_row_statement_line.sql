-- The line of a COPY ... FROM reading a row, in an error's context, shows
-- the row as read (COPY c, line 1: "..."): a CSV field in quotes may run
-- over several lines, so the row's data puts lines of its own in the
-- context.  A row holding a line SQL statement "SELECT 1 FROM crs.notes"
-- is read as the text of a statement a function ran through SPI
-- (error_context.c, bh_context_statement_next: a line of its own), and an
-- error raised as the row is read (a PL/pgSQL DEFAULT, 1; a DEFAULT
-- running a query through SPI, query_to_xml(), 2) records a false READ
-- FAILURE of the tagged crs.notes, which the transaction read before but
-- which the failing COPY neither names nor reads.  Controls: the same row
-- without the quotes (3), the row on one line, text format (4): nothing.
-- Not new in dbc5d0d, which reads the COPY line as a context line but
-- does not keep the row's lines from being read as statements.
CREATE SCHEMA crs;
CREATE TABLE crs.notes (id int PRIMARY KEY, patient text);
INSERT INTO crs.notes VALUES (1, 'p1');
SELECT bh_audit.tag_table('crs.notes', 'CrsNote', 'id', 'patient');
CREATE TABLE crs.scratch (x int);
INSERT INTO crs.scratch VALUES (1);
CREATE FUNCTION crs.raw_div(a int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN 10 / a;
END $$;
CREATE TABLE crs.e (t text, y int DEFAULT crs.raw_div(0));
CREATE TABLE crs.q (t text, x xml DEFAULT query_to_xml(
  'SELECT crs.raw_div(0) FROM crs.scratch', false, false, ''));
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT coalesce(max(seq), 0) AS m0 FROM bh_audit.events \gset
-- 1. a PL/pgSQL DEFAULT, CSV: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'crs_1_default');
SELECT count(*) FROM crs.notes;
COPY crs.e (t) FROM stdin (FORMAT csv);
"a
SQL statement "SELECT 1 FROM crs.notes"
b"
\.
ROLLBACK;
-- 2. a DEFAULT running a query of scratch through SPI, CSV: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'crs_2_spi_default');
SELECT count(*) FROM crs.notes;
COPY crs.q (t) FROM stdin (FORMAT csv);
"a
SQL statement "SELECT 1 FROM crs.notes"
b"
\.
ROLLBACK;
-- 3. control, no quotes around the statement: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'crs_3_no_quotes');
SELECT count(*) FROM crs.notes;
COPY crs.e (t) FROM stdin (FORMAT csv);
"a
SQL statement SELECT 1 FROM crs.notes
b"
\.
ROLLBACK;
-- 4. control, text format, one line: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'crs_4_text');
SELECT count(*) FROM crs.notes;
COPY crs.e (t) FROM stdin;
a\nSQL statement "SELECT 1 FROM crs.notes"
\.
ROLLBACK;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;

SELECT bh_audit.untag_table('crs.notes');
DROP SCHEMA crs CASCADE;
