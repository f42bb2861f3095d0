-- A statement's text in an error's context that ends a line in a line
-- comment ending in '"' (-- say "), followed by a line of the statement
-- itself that begins "COPY " and holds ", line " (a CTE named copy, a
-- comment after it): dbc5d0d takes any such line for the context line of
-- a COPY ... FROM reading a row (bh_copy_contexts, bh_context_line_at:
-- the format's %s and %llu match anything), so the text is taken to end
-- at the comment and the statement names no table.  A function's
-- statement that fails after its parse analysis and before its executor
-- (a data-modifying CTE in a STABLE function), whose text is the only
-- place its table is named, then records no FAILURE of the tagged table
-- it updates (before dbc5d0d: its UPDATE FAILURE, as for the same text in
-- lower case, 1, or without the comment, 3).  And the rest of the text,
-- no longer read as SQL, is searched for statement lines: a literal of it
-- holding a line of its own SQL statement "SELECT 1 FROM ccf.notes" (the
-- transaction read notes) gives a query of the untagged scratch a false
-- READ FAILURE of notes (5; before dbc5d0d: the literal was read as one,
-- nothing, as in lower case, 4).
CREATE SCHEMA ccf;
CREATE TABLE ccf.notes (id int PRIMARY KEY, patient text);
INSERT INTO ccf.notes VALUES (1, 'p1');
SELECT bh_audit.tag_table('ccf.notes', 'CcfNote', 'id', 'patient');
-- WITH -- say "
-- <kw> /* x, line 1 */ AS (UPDATE ccf.notes ...) SELECT 1
CREATE FUNCTION ccf.stable_upd(kw text) RETURNS void LANGUAGE plpgsql STABLE AS $f$
BEGIN
  EXECUTE 'WITH -- say "' || E'\n' || kw ||
    ' /* x, line 1 */ AS (UPDATE ccf.notes SET patient = patient WHERE id = 1) SELECT 1';
END $f$;
-- WITH <kw> AS (UPDATE ccf.notes ...) SELECT 1
CREATE FUNCTION ccf.stable_upd_line(kw text) RETURNS void LANGUAGE plpgsql STABLE AS $f$
BEGIN
  EXECUTE 'WITH ' || kw ||
    ' AS (UPDATE ccf.notes SET patient = patient WHERE id = 1) SELECT 1';
END $f$;
CREATE TABLE ccf.scratch (x int);
INSERT INTO ccf.scratch VALUES (0);
CREATE FUNCTION ccf.raw_div(a int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN 10 / a;
END $$;
-- SELECT ccf.raw_div(x) AS -- say "
-- <kw> /* x, line 1 */, 'x
-- SQL statement "SELECT 1 FROM ccf.notes"
-- ' FROM ccf.scratch
CREATE FUNCTION ccf.run(kw text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE 'SELECT ccf.raw_div(x) AS -- say "' || E'\n' || kw ||
    E' /* x, line 1 */, ''x\nSQL statement "SELECT 1 FROM ccf.notes"\n'' FROM ccf.scratch';
END $f$;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT coalesce(max(seq), 0) AS m0 FROM bh_audit.events \gset
-- 1. control, the line begins "copy ": UPDATE FAILURE
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ccf_1_lower');
SELECT ccf.stable_upd('copy');
ROLLBACK;
-- 2. the line begins "COPY ": UPDATE FAILURE
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ccf_2_upper');
SELECT ccf.stable_upd('COPY');
ROLLBACK;
-- 3. control, one line: UPDATE FAILURE
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ccf_3_one_line');
SELECT ccf.stable_upd_line('COPY');
ROLLBACK;
-- 4. control, a literal holding a statement line, "copy ": nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ccf_4_literal_lower');
SELECT count(*) FROM ccf.notes;
SELECT ccf.run('copy');
ROLLBACK;
-- 5. the same, "COPY ": nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ccf_5_literal_upper');
SELECT count(*) FROM ccf.notes;
SELECT ccf.run('COPY');
ROLLBACK;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;

SELECT bh_audit.untag_table('ccf.notes');
DROP SCHEMA ccf CASCADE;
