-- A statement on two tagged tables that calls a function refused one of the
-- extension's own relations: the denial of that relation, and the
-- statement's FAILURE on each of the two tables, every one with the error's
-- message, also when the function runs as the statement is planned.  The
-- denial is recorded first; the recording released the memory that held
-- the message taken before it, and a FAILURE carried whatever had since
-- been written there (a few bytes of nothing).
CREATE ROLE regress_s46e_app;
CREATE SCHEMA s46e;
GRANT USAGE ON SCHEMA s46e TO regress_s46e_app;
CREATE TABLE s46e.pat1 (id int PRIMARY KEY, name text);
CREATE TABLE s46e.pat2 (id int PRIMARY KEY, name text);
INSERT INTO s46e.pat1 VALUES (1, 'x');
INSERT INTO s46e.pat2 VALUES (1, 'y');
GRANT SELECT ON s46e.pat1, s46e.pat2 TO regress_s46e_app;
SELECT bh_audit.tag_table('s46e.pat1', 'S46ePatientA', 'id', 'id');
SELECT bh_audit.tag_table('s46e.pat2', 'S46ePatientB', 'id', 'id');
CREATE FUNCTION s46e.readq() RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RETURN (SELECT count(*) FROM bh_audit.queue); END $$;
CREATE FUNCTION s46e.lock(t text) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN EXECUTE 'LOCK TABLE ' || t || ' IN ACCESS SHARE MODE'; RETURN 1; END $$;
CREATE FUNCTION s46e.next() RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RETURN nextval('bh_audit.queue_id_seq'); END $$;
CREATE FUNCTION pg_temp.s46e_events() RETURNS TABLE (action text, resource_type text, outcome text,
                                                    tbl text, message text)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM s46e_mark;
    RETURN QUERY SELECT e.action, e.resource_type, e.outcome,
                        e.event -> 'metadata' ->> 'table',
                        e.event -> 'outcome' ->> 'error_message'
                   FROM bh_audit.events e
                  WHERE e.seq > m AND e.outcome <> 'SUCCESS'
                  ORDER BY e.outcome, e.resource_type;
    UPDATE s46e_mark SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE s46e_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- The queue read in the function: its READ denial, a FAILURE on each table.
SET ROLE regress_s46e_app;
SELECT s46e.readq() FROM s46e.pat1 a JOIN s46e.pat2 b USING (id);
RESET ROLE;
SELECT * FROM pg_temp.s46e_events();

-- The ledger locked in the function: the same, with the ledger's denial.
SET ROLE regress_s46e_app;
SELECT s46e.lock('bh_audit.events') FROM s46e.pat1 a JOIN s46e.pat2 b USING (id);
RESET ROLE;
SELECT * FROM pg_temp.s46e_events();

-- The queue's sequence in the function: its UPDATE denial, the FAILUREs.
SET ROLE regress_s46e_app;
SELECT s46e.next() FROM s46e.pat1 a JOIN s46e.pat2 b USING (id);
RESET ROLE;
SELECT * FROM pg_temp.s46e_events();

-- The queue's sequence in an IMMUTABLE function the statement's planning
-- folds: the sequence's READ denial, the FAILUREs.
CREATE FUNCTION s46e.curr_folded() RETURNS bigint LANGUAGE plpgsql IMMUTABLE
AS $$ BEGIN RETURN currval('bh_audit.queue_id_seq'); END $$;
SET ROLE regress_s46e_app;
SELECT count(*) FROM s46e.pat1 a JOIN s46e.pat2 b USING (id) WHERE a.id = s46e.curr_folded();
RESET ROLE;
SELECT * FROM pg_temp.s46e_events();

-- A function whose SELECT ... INTO STRICT of a tagged table finds two rows,
-- called by a statement on the two tables: the FAILURE of that SELECT, on
-- its table, and the statement's FAILURE on each of its tables.
INSERT INTO s46e.pat1 VALUES (2, 'z');
CREATE TABLE s46e.pat3 (id int PRIMARY KEY, name text);
INSERT INTO s46e.pat3 VALUES (1, 'w');
GRANT SELECT ON s46e.pat3 TO regress_s46e_app;
SELECT bh_audit.tag_table('s46e.pat3', 'S46ePatientC', 'id', 'id');
CREATE FUNCTION s46e.strict_one() RETURNS text LANGUAGE plpgsql
AS $$ DECLARE r text; BEGIN SELECT name INTO STRICT r FROM s46e.pat1; RETURN r; END $$;
SET ROLE regress_s46e_app;
SELECT s46e.strict_one() FROM s46e.pat2 b JOIN s46e.pat3 c USING (id);
RESET ROLE;
SELECT * FROM pg_temp.s46e_events();

DROP SCHEMA s46e CASCADE;
DROP ROLE regress_s46e_app;
