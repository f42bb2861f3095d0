-- A statement's text in an error's context that ends in a line comment
-- ending in '"' (-- say ") ends there where a context line follows
-- (error_context.c, bh_statement_end_lexed; t/249): also where that line is
-- a COPY ... FROM's, for the row it was reading ("COPY c, line 1: ...",
-- "COPY c, line 1, column t: ..."), as when a column's DEFAULT or a
-- domain's CHECK runs a query through SPI from C (query_to_xml).  Before,
-- the COPY line was read on as more of the statement, and a row holding
-- '"' then " FROM cu.notes" gave the statement of the untagged scratch a
-- text naming the tagged cu.notes, which the transaction had read: a
-- false READ FAILURE of cu.notes.  Controls: the same rows without the
-- quote, nothing; the same query on cu.notes, one READ FAILURE of it.
CREATE SCHEMA cu;
CREATE TABLE cu.notes (id int PRIMARY KEY, patient text);
INSERT INTO cu.notes VALUES (1, 'p1');
SELECT bh_audit.tag_table('cu.notes', 'CuNote', 'id', 'patient');
CREATE TABLE cu.scratch (x int);
INSERT INTO cu.scratch VALUES (1);
CREATE FUNCTION cu.raw_div(a int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN 10 / a;
END $$;
-- a DEFAULT running a query of scratch through SPI
CREATE TABLE cu.c (t text, x xml DEFAULT query_to_xml(
  'SELECT cu.raw_div(0) FROM cu.scratch -- say "', false, false, ''));
-- a domain's CHECK doing so
CREATE DOMAIN cu.checked AS text CHECK (query_to_xml(
  'SELECT cu.raw_div(0) FROM cu.scratch -- say "', false, false, '') IS NOT NULL);
CREATE TABLE cu.d (t cu.checked);
-- the same on notes
CREATE TABLE cu.n (t text, x xml DEFAULT query_to_xml(
  'SELECT cu.raw_div(0) FROM cu.notes -- say "', false, false, ''));
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT coalesce(max(seq), 0) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
-- 1. the DEFAULT, a row holding '"': nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'cu_1_default_quote');
SELECT count(*) FROM cu.notes;
COPY cu.c (t) FROM stdin;
" FROM cu.notes
\.
ROLLBACK;
-- 2. the domain's CHECK, a value holding '"': nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'cu_2_domain_quote');
SELECT count(*) FROM cu.notes;
COPY cu.d (t) FROM stdin;
" FROM cu.notes
\.
ROLLBACK;
-- 3. control, the DEFAULT, no quote: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'cu_3_default_plain');
SELECT count(*) FROM cu.notes;
COPY cu.c (t) FROM stdin;
FROM cu.notes
\.
ROLLBACK;
-- 4. control, the query on notes: its READ FAILURE
BEGIN;
SELECT bh_audit.set_context(actor_id => 'cu_4_notes');
COPY cu.n (t) FROM stdin;
" FROM cu.scratch
\.
ROLLBACK;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;

SELECT bh_audit.untag_table('cu.notes');
DROP SCHEMA cu CASCADE;
