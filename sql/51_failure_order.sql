-- A statement that fails after reading: its READ (or EXPORT) events come
-- in the chain before its FAILURE, by seq and by ts alike — the rows were
-- read before the error.  So do those of the statements the error ends
-- with it (a function's cursor), and of a cursor fetched then failing,
-- also when a savepoint rolled back leaves its transaction going.  A
-- function's statement that a privilege refuses has its DENIED before it
-- reads anything: the reads of the function's earlier statement come
-- first; those of a loop's cursor still open come when it ends, after the
-- events of the statements run in the loop.
CREATE SCHEMA fo;
CREATE TABLE fo.notes (id int PRIMARY KEY, pid text, body text);
CREATE TABLE fo.visits (id int PRIMARY KEY, pid text);
INSERT INTO fo.notes VALUES (1, 'p1', 'a'), (2, 'p2', 'b'), (3, 'p3', 'c'), (4, 'p4', 'd');
INSERT INTO fo.visits VALUES (1, 'v1');
SELECT bh_audit.tag_table('fo.notes', 'FoNote', 'id', 'pid', capture_writes => false);
SELECT bh_audit.tag_table('fo.visits', 'FoVisit', 'id', 'pid', capture_writes => false);
-- the function's statement fails, after reading rows 1..3
CREATE FUNCTION fo.inner_fails() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM id, 1 / (id - 3) FROM fo.notes ORDER BY id;
  RETURN 0;
END $$;
-- the function's loop over a cursor fails in its body
CREATE FUNCTION fo.loop_fails() RETURNS int LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT id FROM fo.notes ORDER BY id LOOP
    PERFORM 1 / (r.id - 3);
  END LOOP;
  RETURN 0;
END $$;
-- reads, then is refused another tagged table
CREATE FUNCTION fo.reads_then_refused() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT count(pid) INTO n FROM fo.notes;
  SELECT count(pid) INTO n FROM fo.visits;
  RETURN n;
END $$;
-- the same in a loop over a cursor
CREATE FUNCTION fo.loop_refused() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE r record; n bigint;
BEGIN
  FOR r IN SELECT id FROM fo.notes ORDER BY id LOOP
    SELECT count(pid) INTO n FROM fo.visits;
  END LOOP;
  RETURN n;
END $$;
CREATE ROLE bh_fo_user;
GRANT USAGE ON SCHEMA fo TO bh_fo_user;
GRANT SELECT ON fo.notes TO bh_fo_user;
-- The events since the mark in chain order; ts_in_order: no earlier
-- timestamp than the event before it.
CREATE FUNCTION pg_temp.fo_events() RETURNS TABLE (action text, patient_id text, outcome text,
                                                   error_type text, tbl text, ts_in_order boolean)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM regress_reads.mark;
    RETURN QUERY SELECT e.action, e.patient_id, e.outcome, e.error_type,
                        e.event -> 'metadata' ->> 'table',
                        e.ts >= coalesce(lag(e.ts) OVER (ORDER BY e.seq), e.ts)
                   FROM bh_audit.events e
                  WHERE e.seq > m AND e.resource_type <> 'AuditConfiguration'
                  ORDER BY e.seq;
    UPDATE regress_reads.mark SET seq = (SELECT max(seq) FROM bh_audit.events);
END $$;
SELECT regress_reads.mark_now();

-- the statement's READs of rows 1..3, then its FAILURE
SELECT id, 1 / (id - 3) FROM fo.notes ORDER BY id;
SELECT * FROM pg_temp.fo_events();
-- COPY TO failing midway: its EXPORTs, then its FAILURE
COPY (SELECT id, 1 / (id - 3) FROM fo.notes ORDER BY id) TO STDOUT;
SELECT * FROM pg_temp.fo_events();
-- in a transaction: the first statement's READ comes first as it did
BEGIN;
SELECT pid FROM fo.notes WHERE id = 4;
SELECT id, 1 / (id - 3) FROM fo.notes ORDER BY id;
ROLLBACK;
SELECT * FROM pg_temp.fo_events();
-- a function's statement fails: its READs and FAILURE, then those of the
-- client's statement
SELECT fo.inner_fails() FROM fo.visits;
SELECT * FROM pg_temp.fo_events();
-- a function's loop fails in its body: the cursor's READs and the client's
-- statement's come before the client's statement's FAILURE
SELECT fo.loop_fails() FROM fo.visits;
SELECT * FROM pg_temp.fo_events();
-- a cursor fetched, then failing
BEGIN;
DECLARE c CURSOR FOR SELECT id, 1 / (id - 3) FROM fo.notes ORDER BY id;
FETCH 2 FROM c;
FETCH 2 FROM c;
ROLLBACK;
SELECT * FROM pg_temp.fo_events();
-- ... in a savepoint rolled back: before the transaction's next statement
BEGIN;
DECLARE c CURSOR FOR SELECT id, 1 / (id - 3) FROM fo.notes ORDER BY id;
FETCH 1 FROM c;
SAVEPOINT s;
FETCH 2 FROM c;
ROLLBACK TO s;
SELECT pid FROM fo.notes WHERE id = 4;
COMMIT;
SELECT * FROM pg_temp.fo_events();
-- an exception block catches the failure; the function goes on and reads
DO $$
BEGIN
  BEGIN
    PERFORM id, 1 / (id - 3) FROM fo.notes ORDER BY id;
  EXCEPTION WHEN division_by_zero THEN NULL;
  END;
  PERFORM pid FROM fo.notes WHERE id = 4;
END $$;
SELECT * FROM pg_temp.fo_events();
-- reads, then refused: the READs, then the DENIED
SET ROLE bh_fo_user;
SELECT fo.reads_then_refused();
RESET ROLE;
SELECT * FROM pg_temp.fo_events();
-- refused in a loop: the DENIED, then the READs of the cursor, which the
-- abort ends
SET ROLE bh_fo_user;
SELECT fo.loop_refused();
RESET ROLE;
SELECT * FROM pg_temp.fo_events();

DROP FUNCTION fo.inner_fails(), fo.loop_fails(), fo.reads_then_refused(), fo.loop_refused();
SELECT bh_audit.untag_table('fo.notes');
SELECT bh_audit.untag_table('fo.visits');
DROP SCHEMA fo CASCADE;
DROP ROLE bh_fo_user;
