-- The body of a set-returning SQL function inlined while a query is
-- planned names tables that are the query's should its planning fail
-- (plan_tags.c, bh_plan_body_settle): here the body is inlined in a
-- MATERIALIZED CTE or in a scalar subquery (planned in their own copies,
-- before the query's WHERE is folded to an error), and the query's own
-- FROM calls the same function with a volatile argument, a call the
-- planner never analyses nor inlines.  bh_plan_body_inlined takes that
-- call for the one the body was analysed for (bh_rte_may_inline does not
-- look at the arguments) and, seeing it still a function, drops the
-- body's tables: no FAILURE of the tagged table, where the same queries
-- without that call, or with it called with a constant, have one.
CREATE SCHEMA bwv;
CREATE TABLE bwv.notes (id int PRIMARY KEY, patient_id text);
INSERT INTO bwv.notes SELECT g, 'p' || g FROM generate_series(1, 5) g;
CREATE TABLE bwv.other (a int);
INSERT INTO bwv.other VALUES (1);
SELECT bh_audit.tag_table('bwv.notes', 'BwvNote', 'id', 'patient_id');
CREATE FUNCTION bwv.inl(k int) RETURNS SETOF bwv.notes LANGUAGE sql STABLE
  AS 'SELECT * FROM bwv.notes WHERE id = k';
CREATE FUNCTION pg_temp.bwv_events() RETURNS TABLE (action text, outcome text, tbl text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM bwv_mark;
    RETURN QUERY SELECT e.action, e.outcome, e.event -> 'metadata' ->> 'table', count(*)
                   FROM bh_audit.events e
                  WHERE e.seq > m GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
    UPDATE bwv_mark SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE bwv_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- controls: the body inlined in a CTE, in a scalar subquery: a FAILURE of bwv.notes
WITH c AS MATERIALIZED (SELECT * FROM bwv.inl(1)) SELECT * FROM c WHERE 1 / 0 = 1;
SELECT * FROM pg_temp.bwv_events();
SELECT (SELECT id FROM bwv.inl(1) LIMIT 1) FROM bwv.other WHERE 1 / 0 = 1;
SELECT * FROM pg_temp.bwv_events();
-- ... with a call of the function in FROM, inlined: the same
WITH c AS MATERIALIZED (SELECT * FROM bwv.inl(1)) SELECT * FROM c, bwv.inl(2) z WHERE 1 / 0 = 1;
SELECT * FROM pg_temp.bwv_events();
-- the call in FROM with a volatile argument (not inlined, its body never
-- analysed): the same FAILURE of bwv.notes
WITH c AS MATERIALIZED (SELECT * FROM bwv.inl(1))
SELECT * FROM c, bwv.inl((random() * 3)::int) z WHERE 1 / 0 = 1;
SELECT * FROM pg_temp.bwv_events();
SELECT (SELECT id FROM bwv.inl(1) LIMIT 1)
  FROM bwv.other, bwv.inl((random() * 3)::int) z WHERE 1 / 0 = 1;
SELECT * FROM pg_temp.bwv_events();

SELECT bh_audit.untag_table('bwv.notes');
DROP SCHEMA bwv CASCADE;
