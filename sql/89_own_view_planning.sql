-- The trail's view bh_audit.tagged_tables, whose privileges PostgreSQL
-- checks as it plans a query (sql/85_own_relation_denials.sql): each
-- refusal of it is one DENIED event of it, wherever the planner meets the
-- view, and a refusal of another view of that name is none.
CREATE ROLE regress_ownv_nobody;
CREATE SCHEMA ownv;
GRANT USAGE, CREATE ON SCHEMA ownv TO regress_ownv_nobody;
SET ROLE regress_ownv_nobody;
-- a set-returning SQL function the planner inlines into the query calling
-- it, and one it does not inline (VOLATILE): the view is refused either way
CREATE FUNCTION ownv.inlined() RETURNS TABLE (tbl regclass)
LANGUAGE sql STABLE AS 'SELECT tbl FROM bh_audit.tagged_tables';
CREATE FUNCTION ownv.not_inlined() RETURNS TABLE (tbl regclass)
LANGUAGE sql VOLATILE AS 'SELECT tbl FROM bh_audit.tagged_tables';
RESET ROLE;
CREATE FUNCTION pg_temp.ownv_events() RETURNS TABLE (action text, resource_type text, outcome text,
                                                     tbl text, message text)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM ownv_mark;
    RETURN QUERY SELECT e.action, e.resource_type, e.outcome,
                        e.event -> 'metadata' ->> 'table',
                        e.event -> 'outcome' ->> 'error_message'
                   FROM bh_audit.events e
                  WHERE e.seq > m ORDER BY e.seq;
    UPDATE ownv_mark SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE ownv_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- Through a set-returning SQL function: one READ denial each, inlined or not.
SET ROLE regress_ownv_nobody;
SELECT * FROM ownv.not_inlined();
RESET ROLE;
SELECT * FROM pg_temp.ownv_events();
SET ROLE regress_ownv_nobody;
SELECT * FROM ownv.inlined();
RESET ROLE;
SELECT * FROM pg_temp.ownv_events();

-- Another view named tagged_tables that the role may not read, refused
-- while bh_audit.tagged_tables is only in a WITH query nothing reads (not
-- planned, not refused): no denial of bh_audit.tagged_tables.
CREATE VIEW ownv.tagged_tables AS SELECT 1 AS x;
SET ROLE regress_ownv_nobody;
WITH t AS (SELECT * FROM bh_audit.tagged_tables) SELECT * FROM ownv.tagged_tables;
RESET ROLE;
SELECT * FROM pg_temp.ownv_events();

-- A function the planner runs as it folds constants, refused the view as
-- its own query is planned, in a query that reads the view too: the
-- refusal raised once, one denial.
SET ROLE regress_ownv_nobody;
CREATE FUNCTION ownv.folded() RETURNS bigint
LANGUAGE sql IMMUTABLE AS 'SELECT count(*) FROM bh_audit.tagged_tables';
SELECT ownv.folded(), (SELECT count(*) FROM bh_audit.tagged_tables);
RESET ROLE;
SELECT * FROM pg_temp.ownv_events();

-- Another view refused first (its name is not tagged_tables) in a query
-- reading the trail's view too: PostgreSQL's refusal is of that view, no
-- denial of bh_audit.tagged_tables.
CREATE VIEW ownv.secret AS SELECT 1 AS x;
SET ROLE regress_ownv_nobody;
SELECT * FROM ownv.secret, bh_audit.tagged_tables;
RESET ROLE;
SELECT * FROM pg_temp.ownv_events();

DROP SCHEMA ownv CASCADE;
DROP ROLE regress_ownv_nobody;
