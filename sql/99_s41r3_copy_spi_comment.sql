-- A COPY ... FROM of a tagged table run through SPI (EXECUTE) whose row is
-- bad: its CREATE FAILURE is known only from the text of the statement
-- line that follows the COPY line in the error's context (sql/66).  Since
-- 10ed049 (error_context.c, bh_in_copy_data) a statement line that the
-- COPY line's row data can reach (a short row: the line's closing quote
-- can be read at the end of the statement line) is read as one only when
-- its text begins with COPY: a statement beginning with a comment
-- (/* load */ COPY ..., 2; -- load<newline>COPY ..., 3) loses its FAILURE.
-- Controls: no comment (1), a row too long to reach (4).  Before 10ed049
-- all four had it.
CREATE SCHEMA cs;
CREATE TABLE cs.notes (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('cs.notes', 'CsNote', 'id', 'patient');
CREATE FUNCTION cs.run(q text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT coalesce(max(seq), 0) AS m0 FROM bh_audit.events \gset
-- 1. control: COPY through SPI, a bad row
BEGIN;
SELECT bh_audit.set_context(actor_id => 'cs_1_plain');
SELECT cs.run($q$COPY cs.notes FROM PROGRAM 'echo x,p' (FORMAT csv)$q$);
ROLLBACK;
-- 2. the same with a comment first
BEGIN;
SELECT bh_audit.set_context(actor_id => 'cs_2_comment');
SELECT cs.run($q$/* load */ COPY cs.notes FROM PROGRAM 'echo x,p' (FORMAT csv)$q$);
ROLLBACK;
-- 3. a line comment first
BEGIN;
SELECT bh_audit.set_context(actor_id => 'cs_3_line_comment');
SELECT cs.run($q$-- load
COPY cs.notes FROM PROGRAM 'echo x,p' (FORMAT csv)$q$);
ROLLBACK;
-- 4. comment, long row (control: COPY line can't reach)
BEGIN;
SELECT bh_audit.set_context(actor_id => 'cs_4_comment_long');
SELECT cs.run($q$/* load */ COPY cs.notes FROM PROGRAM 'echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,p' (FORMAT csv)$q$);
ROLLBACK;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;
SELECT bh_audit.untag_table('cs.notes');
DROP SCHEMA cs CASCADE;
