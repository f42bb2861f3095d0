-- ALTER TABLE ... SET LOGGED of a table that is logged already, and SET
-- ACCESS METHOD to the method it has, rewrite nothing (PostgreSQL skips
-- them): no index is built again, no expression runs over the rows, no
-- READ.  A tagged table is always logged (it cannot be made unlogged) and,
-- in PostgreSQL 15's own methods, heap: so for a tagged table both are
-- no-ops.  Where they do rewrite it — SET LOGGED of a table tagged while
-- unlogged (without the preload; a catalog row here), SET ACCESS METHOD to
-- another method — its expression indexes are built again: a READ.
CREATE SCHEMA s46gr;
CREATE FUNCTION s46gr.norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower(t)';
CREATE TABLE s46gr.notes (id int, pat text);
INSERT INTO s46gr.notes VALUES (1, 'P1');
CREATE INDEX notes_norm ON s46gr.notes (s46gr.norm(pat));
SELECT bh_audit.tag_table('s46gr.notes', 'S46grNote', 'id', 'pat');
CREATE UNLOGGED TABLE s46gr.scratch (id int, pat text);
INSERT INTO s46gr.scratch VALUES (2, 'P2');
CREATE INDEX scratch_norm ON s46gr.scratch (s46gr.norm(pat));
-- an unlogged table tagged as if while the library was not preloaded
INSERT INTO bh_audit.tags (tbl, resource_type, id_column, patient_column, classification,
                           part2, capture_reads, capture_writes)
VALUES ('s46gr.scratch', 'S46grScratch', 'id', 'pat', 'PHI', false, true, false);
CREATE ACCESS METHOD s46gr_heap2 TYPE TABLE HANDLER heap_tableam_handler;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark_s46gr AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE FUNCTION pg_temp.reads_s46gr() RETURNS TABLE (type text, tbl text, statement text, evaluated text)
LANGUAGE sql AS $$
    SELECT bh_audit.seal();
    SELECT resource_type, event -> 'metadata' ->> 'table', event -> 'metadata' ->> 'statement',
           event -> 'metadata' ->> 'evaluated'
      FROM bh_audit.events
     WHERE seq > (SELECT seq FROM mark_s46gr) AND resource_type IN ('S46grNote', 'S46grScratch')
     ORDER BY seq $$;
CREATE FUNCTION pg_temp.next_s46gr() RETURNS boolean LANGUAGE sql AS $$
    UPDATE mark_s46gr SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
    SELECT true $$;

-- no-ops: no READ
SELECT relfilenode AS notes_file FROM pg_class WHERE oid = 's46gr.notes'::regclass \gset
ALTER TABLE s46gr.notes SET LOGGED;
ALTER TABLE s46gr.notes SET ACCESS METHOD heap;
ALTER TABLE s46gr.notes SET LOGGED, SET ACCESS METHOD heap;
SELECT relfilenode = :notes_file AS notes_not_rewritten FROM pg_class WHERE oid = 's46gr.notes'::regclass;
SELECT * FROM pg_temp.reads_s46gr();
SELECT pg_temp.next_s46gr();

-- rewrites: a READ each (the expression index built again)
ALTER TABLE s46gr.notes SET ACCESS METHOD s46gr_heap2;
ALTER TABLE s46gr.notes SET ACCESS METHOD heap;
ALTER TABLE s46gr.scratch SET LOGGED;
SELECT relname, relpersistence, amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relnamespace = 's46gr'::regnamespace AND c.relkind = 'r' ORDER BY 1;
SELECT relfilenode <> :notes_file AS notes_rewritten FROM pg_class WHERE oid = 's46gr.notes'::regclass;
SELECT * FROM pg_temp.reads_s46gr();

SELECT bh_audit.untag_table('s46gr.notes');
SELECT bh_audit.untag_table('s46gr.scratch');
DROP SCHEMA s46gr CASCADE;
DROP ACCESS METHOD s46gr_heap2;
