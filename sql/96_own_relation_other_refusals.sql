-- The extension's own relations other than the ledger (the queue, the tag
-- catalog, its view tagged_tables, the ledger's home) refused by statements
-- that are no data access, as the ledger is (sql/37): LOCK TABLE (READ in
-- ACCESS SHARE mode, UPDATE otherwise), a LIKE's source and a foreign key's
-- REFERENCES (READ), CREATE TRIGGER, GRANT and REVOKE by a role without
-- privileges (UPDATE): each a DENIED event of the relation, with its
-- resource type and classification (sql/85).  Also a superuser's read
-- through a view whose owner may not read the queue, and the queue's
-- identity sequence bh_audit.queue_id_seq (a counter: AuditLog, NONE):
-- a refused nextval() or setval() (UPDATE), currval(), lastval(),
-- pg_sequence_last_value() or SELECT (READ).
CREATE ROLE regress_own96_nobody;
CREATE ROLE regress_own96_owner;
CREATE SCHEMA own96;
GRANT USAGE, CREATE ON SCHEMA own96 TO regress_own96_nobody, regress_own96_owner;
SET ROLE regress_own96_owner;
CREATE VIEW own96.v_queue AS SELECT id FROM bh_audit.queue;
CREATE VIEW own96.v_tagged AS SELECT tbl FROM bh_audit.tagged_tables;
-- a sequence of the queue's sequence name, of another schema
CREATE SEQUENCE own96.queue_id_seq;
RESET ROLE;
SET ROLE regress_own96_nobody;
CREATE VIEW own96.v_tags AS SELECT tbl FROM bh_audit.tags;
RESET ROLE;
CREATE FUNCTION pg_temp.own96_events() RETURNS TABLE (action text, resource_type text, outcome text,
                                                      error_type text, tbl text, class text,
                                                      message text, db_role text)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM own96_mark;
    RETURN QUERY SELECT e.action, e.resource_type, e.outcome, e.error_type,
                        e.event -> 'metadata' ->> 'table',
                        e.event -> 'action' ->> 'data_classification',
                        e.event -> 'outcome' ->> 'error_message',
                        e.event -> 'metadata' ->> 'db_role'
                   FROM bh_audit.events e
                  WHERE e.seq > m ORDER BY e.seq;
    UPDATE own96_mark SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE own96_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- LOCK TABLE: READ in ACCESS SHARE mode, UPDATE in another (the ledger's for
-- comparison); of a view, the relations it reads, as its owner.
SET ROLE regress_own96_nobody;
BEGIN;
LOCK TABLE bh_audit.events IN ACCESS SHARE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE bh_audit.queue IN ACCESS SHARE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE bh_audit.tags IN EXCLUSIVE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE bh_audit.ledger_home IN ACCESS SHARE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE bh_audit.tagged_tables IN ACCESS SHARE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE own96.v_tags IN ACCESS SHARE MODE;
ROLLBACK;
-- outside a transaction block PostgreSQL refuses the LOCK first: nothing
LOCK TABLE bh_audit.queue IN ACCESS SHARE MODE;
RESET ROLE;
SELECT * FROM pg_temp.own96_events();

-- A LIKE's source and a foreign key's REFERENCES: READ; CREATE TRIGGER,
-- GRANT and REVOKE without any privilege: UPDATE.
SET ROLE regress_own96_nobody;
CREATE TABLE own96.t_like (LIKE bh_audit.queue);
CREATE TABLE own96.t_like (LIKE bh_audit.tagged_tables);
CREATE TABLE own96.t_fk (x regclass REFERENCES bh_audit.tags);
CREATE TABLE own96.t_fk (x bigint);
ALTER TABLE own96.t_fk ADD FOREIGN KEY (x) REFERENCES bh_audit.queue;
CREATE TRIGGER own96_trig BEFORE UPDATE ON bh_audit.tags
    FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
GRANT SELECT ON bh_audit.queue TO regress_own96_nobody;
REVOKE SELECT ON bh_audit.ledger_home FROM PUBLIC;
GRANT SELECT ON bh_audit.tagged_tables TO PUBLIC;
-- in a function whose handler catches the refusal: recorded all the same
DO $$
BEGIN
    LOCK TABLE bh_audit.tags IN ACCESS SHARE MODE;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'caught: %', SQLERRM;
END $$;
RESET ROLE;
SELECT * FROM pg_temp.own96_events();

-- A superuser's read through a view whose owner may not read the queue:
-- PostgreSQL refuses it (checked as the view's owner), a READ denial.
SELECT count(*) FROM own96.v_queue;
-- the view tagged_tables through such a view: refused as the query is
-- planned, where a superuser's statement is not judged (not covered): nothing
SELECT count(*) FROM own96.v_tagged;
-- the superuser's own reads: nothing
SELECT count(*) >= 0 AS read FROM bh_audit.queue;
SELECT last_value >= 0 AS read FROM bh_audit.queue_id_seq;
SELECT * FROM pg_temp.own96_events();

-- The queue's identity sequence: nextval() and setval() refused, UPDATE;
-- currval(), lastval(), pg_sequence_last_value() and a SELECT of it, READ
-- (EXPORT in a COPY); GRANT on it, UPDATE; a sequence of its name in
-- another schema refused, nothing.
SET ROLE regress_own96_nobody;
SELECT nextval('bh_audit.queue_id_seq');
SELECT setval('bh_audit.queue_id_seq', 1);
SELECT currval('bh_audit.queue_id_seq');
SELECT pg_sequence_last_value('bh_audit.queue_id_seq');
SELECT last_value FROM bh_audit.queue_id_seq;
COPY (SELECT last_value FROM bh_audit.queue_id_seq) TO STDOUT;
SELECT nextval('own96.queue_id_seq');
SELECT last_value FROM own96.queue_id_seq;
DO $$
BEGIN
    PERFORM nextval('bh_audit.queue_id_seq');
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'caught: %', SQLERRM;
END $$;
GRANT USAGE ON SEQUENCE bh_audit.queue_id_seq TO regress_own96_nobody;
-- lastval(): of the sequence nextval() gave a value last in the session,
-- here the queue's (a superuser's nextval() of it: a gap in the queue's ids,
-- as a rolled back write makes): refused, a READ denial (PostgreSQL locks
-- the sequence before it checks)
RESET ROLE;
SELECT nextval('bh_audit.queue_id_seq') > 0 AS counted;
SET ROLE regress_own96_nobody;
SELECT lastval();
RESET ROLE;
SELECT * FROM pg_temp.own96_events();

DROP SCHEMA own96 CASCADE;
DROP ROLE regress_own96_nobody;
DROP ROLE regress_own96_owner;
