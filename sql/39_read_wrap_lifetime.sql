-- The wrapped plan nodes of a statement whose executor state went without
-- ExecutorEnd.  Each wrapper finds its own state by its plan node's
-- address (capture_read_wrap.c): a cursor closed after its FETCH failed,
-- or a savepoint rolled back with a cursor open, frees the cursor's plan
-- nodes, while what it read waits for the end of its (sub)transaction.
-- The statements after it, cursors of the same plan's shape among them
-- (whose nodes take the freed addresses), each read their own rows,
-- attributed to them alone: their READ events come at their end, one per
-- statement, and the cursor's, at the end of its transaction (or at the
-- rollback of its savepoint), name its rows only.
CREATE SCHEMA wl;
CREATE TABLE wl.visits (id int PRIMARY KEY, pid text NOT NULL);
INSERT INTO wl.visits SELECT g, 'p' || g FROM generate_series(1, 300) g;
ANALYZE wl.visits;
SELECT bh_audit.tag_table('wl.visits', 'Encounter', 'id', 'pid', capture_writes => false);
SELECT regress_reads.mark_now();

-- The events since the mark in the order they were sealed (one
-- statement's READ events in patient order), ten a line, then the mark
-- moved.
CREATE FUNCTION pg_temp.reads_in_order() RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM regress_reads.mark;
    RETURN QUERY
    SELECT string_agg(ev, ', ' ORDER BY k)
      FROM (SELECT row_number() OVER (ORDER BY e.seq) - 1 AS k,
                   e.action || ' ' || e.outcome || ' ' || coalesce(e.patient_id, '-') AS ev
              FROM bh_audit.events e
             WHERE e.seq > m AND e.resource_type <> 'AuditConfiguration') s
     GROUP BY k / 10 ORDER BY k / 10;
    UPDATE regress_reads.mark SET seq = (SELECT max(seq) FROM bh_audit.events);
END $$;
-- Statements run by a function, one for each patient of first ..
-- first + k - 1.
CREATE FUNCTION pg_temp.read_each(first int, k int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE v text;
BEGIN
    FOR i IN first .. first + k - 1 LOOP
        EXECUTE format('SELECT pid FROM wl.visits WHERE id BETWEEN %s AND %s ORDER BY id LIMIT 1', i, i + 1000)
           INTO v;
    END LOOP;
END $$;

-- A cursor whose FETCH failed, closed: its plan nodes are freed without
-- ExecutorEnd.  Its rows (patients 1 and 2 produced, 3 evaluated when
-- 1 / 0 failed: a FAILURE without a patient) are recorded when the
-- transaction ends, after the statements that followed it within, each
-- with its own patients: 20 run by a function, then 5 cursors.
BEGIN;
DECLARE f CURSOR FOR SELECT pid, 1 / (id - 3) FROM wl.visits WHERE id BETWEEN 1 AND 5 ORDER BY id;
FETCH 2 FROM f;
DO $$
DECLARE c refcursor := 'f'; r record;
BEGIN
    FETCH c INTO r;
EXCEPTION WHEN division_by_zero THEN NULL;
END $$;
CLOSE f;
SELECT pg_temp.read_each(101, 20);
DECLARE g CURSOR FOR SELECT pid, 1 / (id - 3) FROM wl.visits WHERE id BETWEEN 121 AND 126 ORDER BY id;
FETCH 2 FROM g;
CLOSE g;
DECLARE g CURSOR FOR SELECT pid, 1 / (id - 3) FROM wl.visits WHERE id BETWEEN 123 AND 128 ORDER BY id;
FETCH 2 FROM g;
CLOSE g;
DECLARE g CURSOR FOR SELECT pid, 1 / (id - 3) FROM wl.visits WHERE id BETWEEN 125 AND 130 ORDER BY id;
FETCH 2 FROM g;
CLOSE g;
DECLARE g CURSOR FOR SELECT pid, 1 / (id - 3) FROM wl.visits WHERE id BETWEEN 127 AND 132 ORDER BY id;
FETCH 2 FROM g;
CLOSE g;
DECLARE g CURSOR FOR SELECT pid, 1 / (id - 3) FROM wl.visits WHERE id BETWEEN 129 AND 134 ORDER BY id;
FETCH 2 FROM g;
CLOSE g;
COMMIT;
SELECT * FROM pg_temp.reads_in_order();

-- A savepoint rolled back with a cursor open: the cursor's reads are
-- recorded at the rollback; the statements after it in the same
-- transaction are their own.
BEGIN;
SAVEPOINT s;
DECLARE c CURSOR FOR SELECT pid, 1 / (id - 3) FROM wl.visits WHERE id BETWEEN 6 AND 8 ORDER BY id;
FETCH 1 FROM c;
ROLLBACK TO s;
DECLARE g CURSOR FOR SELECT pid, 1 / (id - 3) FROM wl.visits WHERE id BETWEEN 141 AND 146 ORDER BY id;
FETCH 2 FROM g;
CLOSE g;
SELECT pg_temp.read_each(143, 20);
DECLARE g CURSOR FOR SELECT pid, 1 / (id - 3) FROM wl.visits WHERE id BETWEEN 163 AND 168 ORDER BY id;
FETCH 2 FROM g;
CLOSE g;
COMMIT;
SELECT * FROM pg_temp.reads_in_order();

-- Both in one transaction, the failed cursor's plan nodes freed while
-- another cursor stays open, fetched from between new statements: each
-- fetch of the open one is its own, and so are the statements' reads.
BEGIN;
DECLARE o CURSOR FOR SELECT pid FROM wl.visits WHERE id BETWEEN 9 AND 12 ORDER BY id;
DECLARE f CURSOR FOR SELECT pid, 1 / (id - 14) FROM wl.visits WHERE id BETWEEN 13 AND 15 ORDER BY id;
FETCH 1 FROM f;
DO $$
DECLARE c refcursor := 'f'; r record;
BEGIN
    FETCH c INTO r;
EXCEPTION WHEN division_by_zero THEN NULL;
END $$;
CLOSE f;
FETCH 1 FROM o;
DECLARE g CURSOR FOR SELECT pid, 1 / (id - 3) FROM wl.visits WHERE id BETWEEN 181 AND 186 ORDER BY id;
FETCH 2 FROM g;
CLOSE g;
FETCH 1 FROM o;
SELECT pg_temp.read_each(183, 20);
DECLARE g CURSOR FOR SELECT pid, 1 / (id - 3) FROM wl.visits WHERE id BETWEEN 203 AND 208 ORDER BY id;
FETCH 2 FROM g;
CLOSE g;
FETCH 2 FROM o;
CLOSE o;
COMMIT;
SELECT * FROM pg_temp.reads_in_order();
