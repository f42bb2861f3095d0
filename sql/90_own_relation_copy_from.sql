-- A refused COPY ... FROM into the extension's own relations is a DENIED
-- event of the trail, as one into the ledger is (a refused write, CREATE):
-- docs/read-capture.md, "The extension's own relations", records a
-- refused access of each for lack of table or column privileges.
CREATE ROLE regress_owncf_nobody;
CREATE FUNCTION pg_temp.owncf_events() RETURNS TABLE (action text, resource_type text, outcome text,
                                                      tbl text, message text)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM owncf_mark;
    RETURN QUERY SELECT e.action, e.resource_type, e.outcome,
                        e.event -> 'metadata' ->> 'table',
                        e.event -> 'outcome' ->> 'error_message'
                   FROM bh_audit.events e
                  WHERE e.seq > m ORDER BY e.seq;
    UPDATE owncf_mark SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE owncf_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- the ledger's, for comparison; then the queue, the tag catalog, the
-- ledger's home and the queue's identity sequence ("permission denied for
-- sequence queue_id_seq": PostgreSQL checks INSERT, which no role holds on
-- a sequence, before it refuses to copy into one): one CREATE denial each
SET ROLE regress_owncf_nobody;
COPY bh_audit.events (seq) FROM STDIN;
\.
COPY bh_audit.queue (id) FROM STDIN;
\.
COPY bh_audit.tags (tbl) FROM STDIN;
\.
COPY bh_audit.ledger_home FROM STDIN;
\.
COPY bh_audit.queue_id_seq FROM STDIN;
\.
RESET ROLE;
SELECT * FROM pg_temp.owncf_events();

-- A refused COPY ... FROM into another table named queue, or another
-- sequence named queue_id_seq: no denial of bh_audit.queue or its sequence;
-- a COPY ... FROM into the queue failing on its data (a superuser's): no
-- event either (of the trail's relations other than the ledger only a
-- refusal is recorded).
CREATE TABLE public.queue (id int);
CREATE SEQUENCE public.queue_id_seq;
SET ROLE regress_owncf_nobody;
COPY public.queue FROM STDIN;
\.
COPY public.queue_id_seq FROM STDIN;
\.
RESET ROLE;
COPY bh_audit.queue (id) FROM STDIN;
not a number
\.
SELECT * FROM pg_temp.owncf_events();
DROP TABLE public.queue;
DROP SEQUENCE public.queue_id_seq;

DROP ROLE regress_owncf_nobody;
