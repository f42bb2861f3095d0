-- A CROSS JOIN (or a FROM list) of many calls of a SQL function that the
-- planner analyses but does not inline (it returns the whole row as one
-- column) walked the query for each call (plan_tags.c, bh_plan_body_add):
-- quadratic planning (test/bench/union_walk_bench.sh, shape cross).  The
-- walk is kept for the next body of the same text while the query's range
-- table is as it was; the events are those of a walk per call: the reads
-- the functions run, a planning failure recorded on the tables of the
-- bodies inlined (or that may be: one called apart, in an inlined body).
-- Last, a body inlined apart while the query's FROM calls the same function
-- with a volatile argument (its planning failure's tables).
CREATE SCHEMA cjw;
CREATE TABLE cjw.notes (id int PRIMARY KEY, patient_id text);
INSERT INTO cjw.notes SELECT g, 'p' || g FROM generate_series(1, 5) g;
CREATE TABLE cjw.labs (id int PRIMARY KEY, patient_id text);
INSERT INTO cjw.labs SELECT g, 'p' || g FROM generate_series(1, 5) g;
SELECT bh_audit.tag_table('cjw.notes', 'CjwNote', 'id', 'patient_id');
SELECT bh_audit.tag_table('cjw.labs', 'CjwLab', 'id', 'patient_id');
-- not inlined (a whole row as one column), inlined, inlined calling the first
CREATE FUNCTION cjw.rej(k int) RETURNS SETOF cjw.notes LANGUAGE sql STABLE
  AS 'SELECT n FROM cjw.notes n WHERE id = k';
CREATE FUNCTION cjw.inl(k int) RETURNS SETOF cjw.notes LANGUAGE sql STABLE
  AS 'SELECT * FROM cjw.notes WHERE id = k';
CREATE FUNCTION cjw.lab_rej(k int) RETURNS SETOF cjw.labs LANGUAGE sql STABLE
  AS 'SELECT l FROM cjw.labs l WHERE id = k';
CREATE FUNCTION cjw.via(k int) RETURNS SETOF cjw.labs LANGUAGE sql STABLE
  AS 'SELECT * FROM cjw.lab_rej(k)';
CREATE FUNCTION pg_temp.cjw_events() RETURNS TABLE (action text, outcome text, tbl text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM cjw_mark;
    RETURN QUERY SELECT e.action, e.outcome, e.event -> 'metadata' ->> 'table', count(*)
                   FROM bh_audit.events e
                  WHERE e.seq > m GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
    UPDATE cjw_mark SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE cjw_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
-- the query texts: N calls of fn joined by sep
CREATE FUNCTION pg_temp.cjw_q(fn text, n int, sep text, tail text DEFAULT '') RETURNS text
LANGUAGE sql AS $$
SELECT 'SELECT count(*) FROM ' ||
       string_agg(format('%s(%s) a%s', fn, 1 + i % 5, i), sep ORDER BY i) || tail
  FROM generate_series(1, n) i
$$;

-- 40 calls not inlined, CROSS JOIN and a FROM list: each call's read
DO $$BEGIN EXECUTE pg_temp.cjw_q('cjw.rej', 40, ' CROSS JOIN '); END $$;
SELECT * FROM pg_temp.cjw_events();
DO $$BEGIN EXECUTE pg_temp.cjw_q('cjw.rej', 40, ', '); END $$;
SELECT * FROM pg_temp.cjw_events();
-- a planning failure (a constant folded to an error): the bodies not
-- inlined are not its tables
SELECT regress_err(pg_temp.cjw_q('cjw.rej', 40, ' CROSS JOIN ', ' WHERE 1 / 0 = 1'));
SELECT * FROM pg_temp.cjw_events();
-- ... an inlined call after them is: its table
SELECT regress_err(pg_temp.cjw_q('cjw.rej', 40, ' CROSS JOIN ') ||
                   ' CROSS JOIN cjw.inl(1) z WHERE 1 / 0 = 1');
SELECT * FROM pg_temp.cjw_events();
-- ... and a body not inlined that an inlined call's body calls apart (the
-- range table changed since the walk: walked again): its table too
SELECT regress_err(pg_temp.cjw_q('cjw.lab_rej', 40, ' CROSS JOIN ') ||
                   ' CROSS JOIN cjw.via(1) z WHERE 1 / 0 = 1');
SELECT * FROM pg_temp.cjw_events();
SELECT regress_err(pg_temp.cjw_q('cjw.lab_rej', 40, ' CROSS JOIN ', ' WHERE 1 / 0 = 1'));
SELECT * FROM pg_temp.cjw_events();

-- The body of a set-returning SQL function inlined while a query is
-- planned names tables that are the query's should its planning fail
-- (plan_tags.c, bh_plan_body_settle): here the body is inlined in a
-- MATERIALIZED CTE or in a scalar subquery (planned in their own copies,
-- before the query's WHERE is folded to an error), and the query's own
-- FROM calls the same function with a volatile argument, a call the
-- planner never analyses nor inlines.  bh_plan_body_inlined took that
-- call for the one the body was analysed for (bh_rte_may_inline does not
-- look at the arguments) and, seeing it still a function, dropped the
-- body's tables: no FAILURE of the tagged table, where the same queries
-- without that call, or with it called with a constant, have one.
CREATE TABLE cjw.other (a int);
INSERT INTO cjw.other VALUES (1);
-- controls: the body inlined in a CTE, in a scalar subquery: a FAILURE of cjw.notes
WITH c AS MATERIALIZED (SELECT * FROM cjw.inl(1)) SELECT * FROM c WHERE 1 / 0 = 1;
SELECT * FROM pg_temp.cjw_events();
SELECT (SELECT id FROM cjw.inl(1) LIMIT 1) FROM cjw.other WHERE 1 / 0 = 1;
SELECT * FROM pg_temp.cjw_events();
-- ... with a call of the function in FROM, inlined: the same
WITH c AS MATERIALIZED (SELECT * FROM cjw.inl(1)) SELECT * FROM c, cjw.inl(2) z WHERE 1 / 0 = 1;
SELECT * FROM pg_temp.cjw_events();
-- the call in FROM with a volatile argument (not inlined, its body never
-- analysed): the same FAILURE of cjw.notes
WITH c AS MATERIALIZED (SELECT * FROM cjw.inl(1))
SELECT * FROM c, cjw.inl((random() * 3)::int) z WHERE 1 / 0 = 1;
SELECT * FROM pg_temp.cjw_events();
SELECT (SELECT id FROM cjw.inl(1) LIMIT 1)
  FROM cjw.other, cjw.inl((random() * 3)::int) z WHERE 1 / 0 = 1;
SELECT * FROM pg_temp.cjw_events();

SELECT bh_audit.untag_table('cjw.notes');
SELECT bh_audit.untag_table('cjw.labs');
DROP SCHEMA cjw CASCADE;
