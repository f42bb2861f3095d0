-- A refused read of the extension's own relations is a DENIED event of the
-- audit trail, as a refused read of the ledger (bh_audit.events) is: the
-- queue of events not sealed yet (patient ids, actors: AuditLog, as the
-- ledger), the tag catalog, the ledger's home and the view tagged_tables
-- (the trail's configuration: AuditConfiguration).  metadata.table names
-- the relation.  Refused by SELECT, by COPY ... TO, by COPY (query) TO, and
-- through a view whose owner may not read them; a TRUNCATE refused too.
-- Successful reads of them (and of the ledger) record nothing.
CREATE ROLE regress_own_nobody;
CREATE ROLE regress_own_reader IN ROLE bh_audit_reader;
CREATE SCHEMA own_denials;
GRANT USAGE, CREATE ON SCHEMA own_denials TO regress_own_nobody;
SET ROLE regress_own_nobody;
CREATE VIEW own_denials.v_events AS SELECT seq FROM bh_audit.events;
CREATE VIEW own_denials.v_queue AS SELECT id FROM bh_audit.queue;
CREATE VIEW own_denials.v_tags AS SELECT tbl FROM bh_audit.tags;
CREATE VIEW own_denials.v_home AS SELECT database_name FROM bh_audit.ledger_home;
CREATE VIEW own_denials.v_tagged AS SELECT tbl FROM bh_audit.tagged_tables;
CREATE TABLE own_denials.plain (id int);
CREATE TABLE own_denials.notes (id int PRIMARY KEY, patient_id int);
INSERT INTO own_denials.notes VALUES (1, 7);
RESET ROLE;
SELECT bh_audit.tag_table('own_denials.notes', 'OwnNote', 'id', 'patient_id',
                          capture_writes => false);
CREATE FUNCTION pg_temp.own_events() RETURNS TABLE (action text, resource_type text, outcome text,
                                                    error_type text, tbl text, class text,
                                                    message text, db_role text)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM own_denials_mark;
    RETURN QUERY SELECT e.action, e.resource_type, e.outcome, e.error_type,
                        e.event -> 'metadata' ->> 'table',
                        e.event -> 'action' ->> 'data_classification',
                        e.event -> 'outcome' ->> 'error_message',
                        e.event -> 'metadata' ->> 'db_role'
                   FROM bh_audit.events e
                  WHERE e.seq > m ORDER BY e.seq;
    UPDATE own_denials_mark SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE own_denials_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- Refused SELECT: one READ denial each (the ledger's for comparison).
SET ROLE regress_own_nobody;
SELECT count(*) FROM bh_audit.events;
SELECT count(*) FROM bh_audit.queue;
SELECT count(*) FROM bh_audit.tags;
SELECT count(*) FROM bh_audit.ledger_home;
SELECT count(*) FROM bh_audit.tagged_tables;
-- an untagged table of the user's own: nothing
SELECT count(*) FROM own_denials.plain;
RESET ROLE;
SELECT * FROM pg_temp.own_events();

-- Refused COPY ... TO: one EXPORT denial each (the view: its own message).
SET ROLE regress_own_nobody;
COPY bh_audit.events TO STDOUT;
COPY bh_audit.queue TO STDOUT;
COPY bh_audit.queue (id) TO STDOUT;
COPY bh_audit.tags TO STDOUT;
COPY bh_audit.ledger_home TO STDOUT;
COPY bh_audit.tagged_tables TO STDOUT;
COPY (SELECT id FROM bh_audit.queue) TO STDOUT;
COPY (SELECT tbl FROM bh_audit.tagged_tables) TO STDOUT;
-- refused the file first, or a column that does not exist: no denial
COPY bh_audit.queue TO '/nonexistent/own_denials';
COPY bh_audit.queue (nosuch) TO STDOUT;
RESET ROLE;
SELECT * FROM pg_temp.own_events();

-- Through a view whose owner may not read them: the relation the view reads
-- is refused (checked as the view's owner), a READ denial of it.
SET ROLE regress_own_nobody;
SELECT count(*) FROM own_denials.v_events;
SELECT count(*) FROM own_denials.v_queue;
SELECT count(*) FROM own_denials.v_tags;
SELECT count(*) FROM own_denials.v_home;
SELECT count(*) FROM own_denials.v_tagged;
-- in a function that catches the error: recorded all the same
DO $$
BEGIN
    PERFORM count(*) FROM bh_audit.queue;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'caught: %', SQLERRM;
END $$;
-- a refused TRUNCATE of the queue: a DELETE denial
TRUNCATE bh_audit.queue;
RESET ROLE;
SELECT * FROM pg_temp.own_events();

-- With a tagged table the role may read: the refusal is the statement's
-- event, a denial, no failure on the tagged table (as with the ledger).
SET ROLE regress_own_nobody;
SELECT count(*) FROM own_denials.notes n, bh_audit.events e;
SELECT count(*) FROM own_denials.notes n, bh_audit.queue q;
SELECT count(*) FROM own_denials.notes n, bh_audit.tagged_tables t;
-- the view in a query PostgreSQL does not plan (a WITH query nothing reads,
-- a subquery folded away) is not refused: nothing
WITH t AS (SELECT * FROM bh_audit.tagged_tables) SELECT count(*) FROM own_denials.notes;
SELECT count(*) FROM own_denials.notes WHERE false AND EXISTS (SELECT FROM bh_audit.tagged_tables);
RESET ROLE;
SELECT * FROM pg_temp.own_events();

-- bh_audit_reader may read the ledger and tagged_tables (nothing recorded),
-- not the queue, the tag catalog or the ledger's home (denials).
SET ROLE regress_own_reader;
SELECT count(*) >= 0 AS read FROM bh_audit.events;
SELECT count(*) >= 0 AS read FROM bh_audit.tagged_tables;
COPY (SELECT 1 FROM bh_audit.tagged_tables LIMIT 0) TO STDOUT;
SELECT count(*) FROM bh_audit.queue;
SELECT count(*) FROM bh_audit.tags;
-- a plan made for the reader, run by a role refused the view: the executor's
-- check refuses it (no planning)
PREPARE own_tagged AS SELECT count(*) >= 0 AS read FROM bh_audit.tagged_tables;
EXECUTE own_tagged;
SET ROLE regress_own_nobody;
EXECUTE own_tagged;
RESET ROLE;
DEALLOCATE own_tagged;
SELECT * FROM pg_temp.own_events();

-- A privilege on some columns only: COPY of those passes, of the others is
-- refused, as PostgreSQL judges it.
GRANT SELECT (id) ON bh_audit.queue TO regress_own_nobody;
SELECT count(*) >= 0 AS marked FROM pg_temp.own_events();
SET ROLE regress_own_nobody;
COPY bh_audit.queue (id) TO STDOUT;
SELECT count(id) >= 0 AS read FROM bh_audit.queue;
COPY bh_audit.queue TO STDOUT;
RESET ROLE;
REVOKE SELECT (id) ON bh_audit.queue FROM regress_own_nobody;
SELECT * FROM pg_temp.own_events() WHERE outcome = 'DENIED';

-- A superuser's reads of them record nothing.
SELECT count(*) >= 0 AS read FROM bh_audit.queue;
SELECT count(*) >= 0 AS read FROM bh_audit.tags;
SELECT count(*) >= 0 AS read FROM bh_audit.ledger_home;
SELECT count(*) >= 0 AS read FROM bh_audit.tagged_tables;
SELECT * FROM pg_temp.own_events();

SELECT bh_audit.untag_table('own_denials.notes');
DROP SCHEMA own_denials CASCADE;
DROP ROLE regress_own_nobody;
DROP ROLE regress_own_reader;
