-- A refusal of the queue's identity sequence (bh_audit.queue_id_seq) raised
-- while a statement on a tagged table runs -- nextval() or currval() in its
-- target list, in a value it inserts, in a function it calls -- and a
-- refusal of the queue or of the ledger by a LOCK TABLE in a function that
-- such a statement calls: each is the DENIED event of the relation refused
-- (it was lost, the statement's FAILURE recorded instead).  Raised by the
-- statement's own expressions, the statement was refused that relation:
-- "A statement on a tagged table that is refused one of these relations
-- records the denial only, no FAILURE on the tagged table" (read-capture.md,
-- "The extension's own relations"), as a SELECT of the tagged table joined
-- with the queue does (sql/85).  Raised in a function it calls, the error
-- that leaves the function fails the statement: also its FAILURE on the
-- tagged table, as for a read of the queue refused in such a function
-- ("Errors a function catches"), also in one its planning folds.  (The READ events of rows read before the
-- error are not the point here: only events other than SUCCESS are shown.)
CREATE ROLE regress_own101_app;
-- (schema pinv, dropped at the end)
CREATE SCHEMA pinv;
GRANT USAGE ON SCHEMA pinv TO regress_own101_app;
CREATE TABLE pinv.pat1 (id int PRIMARY KEY, name text);
INSERT INTO pinv.pat1 VALUES (1, 'x');
GRANT SELECT, INSERT ON pinv.pat1 TO regress_own101_app;
SELECT bh_audit.tag_table('pinv.pat1', 'Own101Patient', 'id', 'id');
CREATE FUNCTION pinv.f1_nextval() RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RETURN nextval('bh_audit.queue_id_seq'); END $$;
CREATE FUNCTION pinv.f1_lock(t text) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN EXECUTE 'LOCK TABLE ' || t || ' IN ACCESS SHARE MODE'; RETURN 1; END $$;
CREATE FUNCTION pinv.f1_readq() RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RETURN (SELECT count(*) FROM bh_audit.queue); END $$;
CREATE FUNCTION pg_temp.own101_events() RETURNS TABLE (action text, resource_type text, outcome text,
                                                       tbl text, message text)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM own101_mark;
    RETURN QUERY SELECT e.action, e.resource_type, e.outcome,
                        e.event -> 'metadata' ->> 'table',
                        e.event -> 'outcome' ->> 'error_message'
                   FROM bh_audit.events e
                  WHERE e.seq > m AND e.outcome <> 'SUCCESS' ORDER BY e.seq;
    UPDATE own101_mark SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE own101_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- For comparison: the queue refused with the tagged table, the denial only.
SET ROLE regress_own101_app;
SELECT count(*) FROM pinv.pat1 p, bh_audit.queue q;
RESET ROLE;
SELECT * FROM pg_temp.own101_events();

-- nextval() of the queue's sequence in the target list: an UPDATE denial of
-- it, no FAILURE on pinv.pat1.
SET ROLE regress_own101_app;
SELECT p.id, nextval('bh_audit.queue_id_seq') FROM pinv.pat1 p;
RESET ROLE;
SELECT * FROM pg_temp.own101_events();

-- currval(): a READ denial of it, no FAILURE.
SET ROLE regress_own101_app;
SELECT p.id, currval('bh_audit.queue_id_seq') FROM pinv.pat1 p;
RESET ROLE;
SELECT * FROM pg_temp.own101_events();

-- An INSERT into the tagged table whose value is the sequence's nextval():
-- an UPDATE denial of the sequence, no FAILURE.
SET ROLE regress_own101_app;
INSERT INTO pinv.pat1 VALUES (nextval('bh_audit.queue_id_seq')::int, 'y');
RESET ROLE;
SELECT * FROM pg_temp.own101_events();

-- For comparison: the queue read in a function the statement calls, refused:
-- its READ denial, and the statement's FAILURE.
SET ROLE regress_own101_app;
SELECT pinv.f1_readq() FROM pinv.pat1;
RESET ROLE;
SELECT * FROM pg_temp.own101_events();

-- nextval() in a PL/pgSQL function the statement calls: the UPDATE denial of
-- the sequence, and the statement's FAILURE.
SET ROLE regress_own101_app;
SELECT pinv.f1_nextval() FROM pinv.pat1;
RESET ROLE;
SELECT * FROM pg_temp.own101_events();

-- LOCK TABLE of the queue in a function the statement calls: a READ denial
-- of the queue, and the statement's FAILURE; of the ledger, likewise.
SET ROLE regress_own101_app;
BEGIN;
SELECT pinv.f1_lock('bh_audit.queue') FROM pinv.pat1;
ROLLBACK;
BEGIN;
SELECT pinv.f1_lock('bh_audit.events') FROM pinv.pat1;
ROLLBACK;
RESET ROLE;
SELECT * FROM pg_temp.own101_events();

-- currval() of the sequence in an IMMUTABLE function that the planning of
-- such a statement folds (it runs while the statement is planned): the
-- sequence's READ denial, and the statement's FAILURE.
CREATE FUNCTION pinv.f1_currval_folded() RETURNS bigint LANGUAGE plpgsql IMMUTABLE
AS $$ BEGIN RETURN currval('bh_audit.queue_id_seq'); END $$;
SET ROLE regress_own101_app;
SELECT count(*) FROM pinv.pat1 WHERE id = pinv.f1_currval_folded();
RESET ROLE;
SELECT * FROM pg_temp.own101_events();

SELECT bh_audit.untag_table('pinv.pat1');
DROP SCHEMA pinv CASCADE;
DROP ROLE regress_own101_app;
