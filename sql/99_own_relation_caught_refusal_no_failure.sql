-- A refusal of the queue's identity sequence (nextval()), of the queue or of
-- the ledger (LOCK TABLE) raised in a PL/pgSQL function whose exception handler
-- catches it, the function called by a statement on a tagged table that
-- then succeeds: the refusal is the relation's DENIED event, one per call
-- ("also where an exception handler catches it", read-capture.md), and the
-- statement, which did not fail, is no FAILURE on the tagged table (a
-- caught refusal of an untagged user's sequence records nothing at all).
CREATE ROLE regress_own102_app;
-- (schema pinv, dropped at the end)
CREATE SCHEMA pinv;
GRANT USAGE ON SCHEMA pinv TO regress_own102_app;
CREATE TABLE pinv.pat2 (id int PRIMARY KEY, name text);
INSERT INTO pinv.pat2 VALUES (1, 'x');
GRANT SELECT ON pinv.pat2 TO regress_own102_app;
CREATE SEQUENCE pinv.plain_seq2;
SELECT bh_audit.tag_table('pinv.pat2', 'Own102Patient', 'id', 'id');
CREATE FUNCTION pinv.f2_nextval_caught(s text) RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RETURN nextval(s::regclass);
   EXCEPTION WHEN insufficient_privilege THEN RETURN -1; END $$;
CREATE FUNCTION pinv.f2_lock_caught(t text) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN EXECUTE 'LOCK TABLE ' || t || ' IN ACCESS SHARE MODE'; RETURN 1;
   EXCEPTION WHEN insufficient_privilege THEN RETURN -1; END $$;
CREATE FUNCTION pg_temp.own102_events() RETURNS TABLE (action text, resource_type text, outcome text,
                                                       tbl text, message text)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM own102_mark;
    RETURN QUERY SELECT e.action, e.resource_type, e.outcome,
                        e.event -> 'metadata' ->> 'table',
                        e.event -> 'outcome' ->> 'error_message'
                   FROM bh_audit.events e
                  WHERE e.seq > m ORDER BY e.outcome, e.seq;
    UPDATE own102_mark SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE own102_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- For comparison: a user's sequence, refused and caught: the READ only.
SET ROLE regress_own102_app;
SELECT pinv.f2_nextval_caught('pinv.plain_seq2') FROM pinv.pat2;
RESET ROLE;
SELECT * FROM pg_temp.own102_events();

-- The queue's sequence, refused and caught: its UPDATE denial and the READ.
SET ROLE regress_own102_app;
SELECT pinv.f2_nextval_caught('bh_audit.queue_id_seq') FROM pinv.pat2;
RESET ROLE;
SELECT * FROM pg_temp.own102_events();

-- The queue locked, refused and caught: its READ denial and the READ.
SET ROLE regress_own102_app;
BEGIN;
SELECT pinv.f2_lock_caught('bh_audit.queue') FROM pinv.pat2;
COMMIT;
RESET ROLE;
SELECT * FROM pg_temp.own102_events();

-- The ledger locked, refused and caught: likewise.
SET ROLE regress_own102_app;
BEGIN;
SELECT pinv.f2_lock_caught('bh_audit.events') FROM pinv.pat2;
COMMIT;
RESET ROLE;
SELECT * FROM pg_temp.own102_events();

SELECT bh_audit.untag_table('pinv.pat2');
DROP SCHEMA pinv CASCADE;
DROP ROLE regress_own102_app;
