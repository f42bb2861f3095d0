-- Reads through a filter's function.  A function a user defined (not
-- leakproof) in a scan's own filter sees every row the scan examines, also
-- the rows the filter then rejects: each row examined is attributed to its
-- patient, not only the rows produced.  Built-in functions and operators,
-- and leakproof functions, leave attribution to the rows produced.
CREATE SCHEMA qr;
CREATE TABLE qr.notes (id int PRIMARY KEY, pid text NOT NULL, body text, x int);
INSERT INTO qr.notes SELECT g, 'p' || g, 'b' || g, CASE WHEN g = 3 THEN 0 ELSE g END
  FROM generate_series(1, 6) g;
CREATE INDEX notes_body_pid ON qr.notes (body, pid);
CREATE TABLE qr.codes (code int PRIMARY KEY, label text);
INSERT INTO qr.codes VALUES (1, 'one'), (2, 'two'), (3, 'three');
CREATE TABLE qr.k (k int);
INSERT INTO qr.k VALUES (1), (2);
VACUUM ANALYZE qr.notes, qr.codes, qr.k;
SELECT bh_audit.tag_table('qr.notes', 'QualNote', 'id', 'pid', capture_writes => false);
SELECT bh_audit.tag_table('qr.codes', 'QualCode', 'code', capture_writes => false);

-- The events since the last mark: 29_read_events.
SELECT regress_reads.mark_now();
SELECT count(*) FROM regress_reads.reads();

-- Any role that can read the table may define a function in pg_temp (no
-- CREATE privilege needed) that copies each row it is given elsewhere and
-- rejects it: nothing produced, every patient read.
CREATE ROLE bh_qr_reader;
GRANT USAGE ON SCHEMA qr TO bh_qr_reader;
GRANT SELECT ON qr.notes, qr.codes TO bh_qr_reader;
SET ROLE bh_qr_reader;
CREATE FUNCTION pg_temp.peek(text, text) RETURNS bool LANGUAGE plpgsql
AS $$BEGIN RAISE NOTICE 'peek % %', $1, $2; RETURN false; END$$;
CREATE FUNCTION pg_temp.pick(text) RETURNS bool LANGUAGE plpgsql
AS $$BEGIN RETURN $1 IN ('p2', 'p5'); END$$;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET enable_indexonlyscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM qr.notes WHERE pg_temp.peek(pid, body);
SELECT * FROM qr.notes WHERE pg_temp.peek(pid, body);
RESET ROLE;
SELECT * FROM regress_reads.reads();
-- Some rows pass: still every patient examined.
SELECT id, pid FROM qr.notes WHERE pg_temp.pick(pid);
SELECT * FROM regress_reads.reads();
-- Built-in filters: only the rows produced.
SELECT id, pid FROM qr.notes WHERE body LIKE '%3';
SELECT * FROM regress_reads.reads();
SELECT id, pid FROM qr.notes WHERE pid = 'p4';
SELECT * FROM regress_reads.reads();
-- A user's operator: its function is one.
CREATE FUNCTION qr.peek_eq(text, text) RETURNS bool LANGUAGE plpgsql
AS $$BEGIN RAISE NOTICE 'peek_eq %', $1; RETURN $1 = $2; END$$;
CREATE OPERATOR qr.=== (LEFTARG = text, RIGHTARG = text, FUNCTION = qr.peek_eq);
SELECT id, pid FROM qr.notes WHERE pid OPERATOR(qr.===) 'p5';
SELECT * FROM regress_reads.reads();
-- A leakproof function (only a superuser may mark one) that sets its
-- search_path: rows produced only.
CREATE FUNCTION qr.lp_first(text) RETURNS bool LANGUAGE plpgsql LEAKPROOF
SET search_path = pg_catalog, pg_temp
AS $$BEGIN RETURN $1 = 'p1'; END$$;
SELECT id, pid FROM qr.notes WHERE qr.lp_first(pid);
SELECT * FROM regress_reads.reads();
-- ... without it, its "=" is whichever the reader's search_path finds first:
-- every row it is given is read.
ALTER FUNCTION qr.lp_first(text) RESET search_path;
SELECT id, pid FROM qr.notes WHERE qr.lp_first(pid);
SELECT patient_id FROM regress_reads.reads();
-- The projection is not computed for a rejected row (x is 0 in p3's row).
SELECT pid, 60 / x AS q FROM qr.notes WHERE pg_temp.pick(pid);
SELECT patient_id FROM regress_reads.reads();
-- The filter's conditions are checked in the plan's order (a row-level
-- security policy's first, then the cheaper ones first): a row an earlier
-- condition rejected before the function saw it (p3's) is not read.
SELECT pid, 60 / x AS q FROM qr.notes WHERE x <> 0 AND pg_temp.pick(pid);
SELECT patient_id FROM regress_reads.reads();
-- ... also when the earlier condition is a correlated subquery (x is 1 in
-- p1's row, 0 in p3's: no code below it); EXPLAIN ANALYZE shows it once,
-- run for each row examined, and the rows it and the function removed.
SET ROLE bh_qr_reader;
CREATE FUNCTION pg_temp.pick_dear(text) RETURNS bool LANGUAGE plpgsql COST 100000
AS $$BEGIN RAISE NOTICE 'pick_dear %', $1; RETURN $1 IN ('p2', 'p5'); END$$;
RESET ROLE;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM qr.notes n WHERE (SELECT count(*) FROM qr.k WHERE k < n.x) > 0 AND pg_temp.pick_dear(pid);
SELECT patient_id FROM regress_reads.reads();
SELECT id FROM qr.notes n WHERE (SELECT count(*) FROM qr.k WHERE k < n.x) > 0 AND pg_temp.pick_dear(pid);
SELECT patient_id FROM regress_reads.reads();
-- EXPLAIN ANALYZE: the rows removed by the filter are counted as before.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM qr.notes WHERE pg_temp.pick(pid);
SELECT patient_id FROM regress_reads.reads();
-- LIMIT: the scan stops at the first row produced; the rows examined so far.
SELECT id, pid FROM qr.notes WHERE pg_temp.pick(pid) LIMIT 1;
SELECT patient_id FROM regress_reads.reads();
-- A cursor fetched in steps, forward and back.
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT id, pid FROM qr.notes WHERE pg_temp.pick(pid);
FETCH 1 FROM c;
FETCH 1 FROM c;
FETCH BACKWARD 1 FROM c;
COMMIT;
SELECT patient_id FROM regress_reads.reads();
-- A correlated subquery in the filter calling a user's function with a
-- column of the row; one comparing it with a built-in operator does not count.
SELECT id FROM qr.notes n WHERE (SELECT pg_temp.peek(n.pid, k::text) FROM qr.k LIMIT 1);
SELECT patient_id FROM regress_reads.reads();
SELECT id FROM qr.notes n WHERE (SELECT n.pid = 'p3' FROM qr.k LIMIT 1);
SELECT patient_id FROM regress_reads.reads();
-- ... also where the subquery gives the row's values to the function in a
-- LIMIT, a sample method's argument or an XMLTABLE (none produces a row).
SELECT id FROM qr.notes n
 WHERE EXISTS (SELECT 1 FROM qr.k WHERE k < 0
                LIMIT CASE WHEN pg_temp.peek(n.pid, 'limit') THEN 1 ELSE 2 END);
SELECT patient_id FROM regress_reads.reads();
SELECT id FROM qr.notes n
 WHERE EXISTS (SELECT 1 FROM qr.k TABLESAMPLE BERNOULLI
                      (CASE WHEN pg_temp.peek(n.pid, 'sample') THEN 50 ELSE 100 END)
                WHERE k < 0);
SELECT patient_id FROM regress_reads.reads();
SELECT id FROM qr.notes n
 WHERE EXISTS (SELECT 1 FROM XMLTABLE('/r' PASSING xmlparse(document '<r>'
                      || CASE WHEN pg_temp.peek(n.pid, 'xml') THEN '1' ELSE '2' END || '</r>')
                      COLUMNS a int PATH '.') x
                WHERE x.a = 3);
SELECT patient_id FROM regress_reads.reads();
-- A table without a patient column: the rows examined.
SELECT * FROM qr.codes WHERE pg_temp.peek(label, '');
SELECT * FROM qr.codes WHERE label LIKE 't%';
SELECT * FROM regress_reads.reads();
RESET enable_indexscan;
RESET enable_bitmapscan;
RESET enable_indexonlyscan;

-- Index scan with a filter.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_indexonlyscan = off;
EXPLAIN (COSTS OFF) SELECT id, pid FROM qr.notes WHERE id >= 4 AND pg_temp.pick(pid);
SELECT id, pid FROM qr.notes WHERE id >= 4 AND pg_temp.pick(pid);
SELECT patient_id FROM regress_reads.reads();
-- Nested loop, the tagged table's index scan inside, scanned again per row.
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
EXPLAIN (COSTS OFF)
SELECT k, id, pid FROM qr.k, LATERAL (SELECT * FROM qr.notes n WHERE n.id >= k + 3 AND pg_temp.pick(n.pid) OFFSET 0) s;
SELECT k, id, pid FROM qr.k, LATERAL (SELECT * FROM qr.notes n WHERE n.id >= k + 3 AND pg_temp.pick(n.pid) OFFSET 0) s;
SELECT patient_id FROM regress_reads.reads();
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT k, id, pid FROM qr.k, LATERAL (SELECT * FROM qr.notes n WHERE n.id >= k + 3 AND pg_temp.pick(n.pid) OFFSET 0) s;
SELECT patient_id FROM regress_reads.reads();
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
RESET enable_indexonlyscan;
-- Index-only scan with a filter on an index column, the patient in the index.
EXPLAIN (COSTS OFF) SELECT body, pid FROM qr.notes WHERE body >= 'b5' AND pg_temp.peek(pid, body);
SELECT body, pid FROM qr.notes WHERE body >= 'b5' AND pg_temp.peek(pid, body);
SELECT patient_id FROM regress_reads.reads();
-- Index-only scan of an index without the patient (the primary key), for
-- a query that needs no column: a filter function given nothing of the row
-- sees no value of it, and does not count (what it reads itself, its own
-- statements record).
DROP INDEX qr.notes_body_pid;
CREATE FUNCTION pg_temp.never() RETURNS bool LANGUAGE plpgsql VOLATILE
AS $$BEGIN RETURN false; END$$;
EXPLAIN (COSTS OFF) SELECT count(*) FROM qr.notes WHERE pg_temp.never();
SELECT count(*) FROM qr.notes WHERE pg_temp.never();
SELECT patient_id FROM regress_reads.reads();
-- The same with a built-in filter given no column: the rows produced.
EXPLAIN (COSTS OFF) SELECT count(*) FROM qr.notes WHERE random() < 0;
SELECT count(*) FROM qr.notes WHERE random() < 0;
SELECT count(*) FROM regress_reads.reads();
SET enable_indexonlyscan = off;
-- Bitmap heap scan with a filter.
SET enable_indexscan = off;
SET enable_bitmapscan = on;
EXPLAIN (COSTS OFF) SELECT id, pid FROM qr.notes WHERE id <= 2 AND pg_temp.pick(pid);
SELECT id, pid FROM qr.notes WHERE id <= 2 AND pg_temp.pick(pid);
SELECT patient_id FROM regress_reads.reads();
RESET enable_indexscan;
RESET enable_bitmapscan;
RESET enable_indexonlyscan;
RESET enable_seqscan;

-- A built-in function that keeps or sends what it is given elsewhere
-- (volatile: set_config, pg_notify, large objects, query_to_xml running a
-- statement) counts; a stable or immutable one (LIKE above) does not.
SELECT id FROM qr.notes WHERE set_config('bh_qr.seen', body, false) IS NULL;
SELECT current_setting('bh_qr.seen') AS last_seen;
SELECT patient_id FROM regress_reads.reads();
-- A domain whose CHECK calls a user's function, the row's value cast to it.
CREATE FUNCTION qr.seen(text) RETURNS bool LANGUAGE plpgsql
AS $$BEGIN RETURN true; END$$;
CREATE DOMAIN qr.checked AS text CHECK (qr.seen(VALUE));
CREATE DOMAIN qr.rechecked AS qr.checked;
SELECT id FROM qr.notes WHERE body::qr.rechecked IS NULL;
SELECT patient_id FROM regress_reads.reads();
SELECT id FROM qr.notes WHERE body::text IS NULL;
SELECT patient_id FROM regress_reads.reads();
-- An UPDATE or a DELETE of the table: the rows it changes are writes; the
-- rows its filter shows a user's function are reads, rejected or changed
-- (p2's too: a rollback would take its write away).  A built-in filter:
-- the write alone.
SET ROLE bh_qr_reader;
CREATE FUNCTION pg_temp.pick_p2(text) RETURNS bool LANGUAGE plpgsql
AS $$BEGIN RETURN $1 = 'p2'; END$$;
RESET ROLE;
GRANT UPDATE ON qr.notes TO bh_qr_reader;
SET ROLE bh_qr_reader;
UPDATE qr.notes SET body = body WHERE pg_temp.pick_p2(pid);
UPDATE qr.notes SET body = body WHERE pid = 'p2';
RESET ROLE;
REVOKE UPDATE ON qr.notes FROM bh_qr_reader;
SELECT patient_id FROM regress_reads.reads();

-- Row-level security.  A policy calling the owner's function (which sets
-- its search_path): the owner's code, not the reader's (the owner's powers
-- are the owner's): the reader reads the rows produced.
CREATE FUNCTION qr.own_patient(text) RETURNS bool LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$BEGIN RETURN $1 = 'p1'; END$$;
ALTER TABLE qr.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON qr.notes FOR SELECT TO bh_qr_reader USING (qr.own_patient(pid));
SET ROLE bh_qr_reader;
SELECT id, pid FROM qr.notes;
RESET ROLE;
SELECT patient_id FROM regress_reads.reads();
-- A built-in policy: only its rows; the reader's own function in the
-- filter makes every row it is given count, not those the policy hid from
-- it (a policy's conditions are checked first).
DROP POLICY own ON qr.notes;
CREATE POLICY own ON qr.notes FOR SELECT TO bh_qr_reader USING (pid = 'p1');
SET ROLE bh_qr_reader;
SELECT id, pid FROM qr.notes;
RESET ROLE;
SELECT patient_id FROM regress_reads.reads();
SET ROLE bh_qr_reader;
SELECT id, pid FROM qr.notes WHERE pg_temp.peek(pid, body);
RESET ROLE;
SELECT patient_id FROM regress_reads.reads();
ALTER TABLE qr.notes DISABLE ROW LEVEL SECURITY;

-- The owner's own function in the owner's query counts; an extension's
-- function (installed by a superuser: pg_trgm's similarity) does not.
SELECT id, pid FROM qr.notes WHERE qr.own_patient(pid);
SELECT patient_id FROM regress_reads.reads();
CREATE EXTENSION pg_trgm;
SELECT id, pid FROM qr.notes WHERE similarity(body, 'b1') > 0.9;
SELECT patient_id FROM regress_reads.reads();
DROP EXTENSION pg_trgm;

SELECT bh_audit.untag_table('qr.notes');
SELECT bh_audit.untag_table('qr.codes');
DROP SCHEMA qr CASCADE;
DROP FUNCTION pg_temp.peek(text, text), pg_temp.pick(text), pg_temp.pick_p2(text), pg_temp.pick_dear(text);
DROP ROLE bh_qr_reader;
SELECT count(*) FROM regress_reads.reads();
