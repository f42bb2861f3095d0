-- The queue's identity sequence bh_audit.queue_id_seq: its ids must increase
-- (queue_ids.c reserves blocks of the ids nextval() would give, and the
-- sealer takes a higher id for a later commit).  ALTER SEQUENCE ...
-- INCREMENT BY a negative number is refused for its owner, a superuser
-- (before: accepted, and every later write of a tagged table failed at its
-- commit); SET UNLOGGED is refused for everyone; a role that does not own
-- it (a member of bh_audit_admin, a tagged table's owner) gets
-- PostgreSQL's own refusal.  Nothing changes in pg_sequence, writes go on,
-- their events are sealed and the chain verifies.
CREATE ROLE regress_oqs_admin IN ROLE bh_audit_admin;
CREATE ROLE regress_oqs_owner;
CREATE SCHEMA oqs;
GRANT USAGE, CREATE ON SCHEMA oqs TO regress_oqs_owner;
SET ROLE regress_oqs_owner;
CREATE TABLE oqs.pat (id int PRIMARY KEY, name text);
RESET ROLE;
SELECT bh_audit.tag_table('oqs.pat', 'OqsPatient', 'id', 'id');
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE oqs_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE TEMP TABLE oqs_seq AS
SELECT s.* FROM pg_sequence s WHERE s.seqrelid = 'bh_audit.queue_id_seq'::regclass;
CREATE TEMP TABLE oqs_persistence AS
SELECT relpersistence FROM pg_class WHERE oid = 'bh_audit.queue_id_seq'::regclass;

-- a superuser, the sequence's owner
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT -5 MINVALUE -100$$);
SELECT regress_err($$ALTER SEQUENCE IF EXISTS bh_audit.queue_id_seq MAXVALUE 1000000000000 INCREMENT BY -1$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq SET UNLOGGED$$);
SELECT regress_err($$ALTER TABLE bh_audit.queue_id_seq SET UNLOGGED$$);
-- the identity column itself: the queue's definition, refused
SELECT regress_err($$ALTER TABLE bh_audit.queue ALTER COLUMN id SET INCREMENT BY -1$$);
-- PostgreSQL's own refusal of a zero increment comes first
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY 0$$);
-- another sequence of that name is not the queue's
CREATE SEQUENCE oqs.queue_id_seq;
ALTER SEQUENCE oqs.queue_id_seq INCREMENT BY -1 MINVALUE -10;
SELECT seqincrement FROM pg_sequence WHERE seqrelid = 'oqs.queue_id_seq'::regclass;

-- a member of bh_audit_admin, and the tagged table's owner: not the
-- sequence's owner, refused by PostgreSQL
SET ROLE regress_oqs_admin;
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq SET UNLOGGED$$);
RESET ROLE;
SET ROLE regress_oqs_owner;
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq SET UNLOGGED$$);
RESET ROLE;

-- nothing changed
SELECT (SELECT row(s.*)::text FROM pg_sequence s
         WHERE s.seqrelid = 'bh_audit.queue_id_seq'::regclass) =
       (SELECT row(o.*)::text FROM oqs_seq o) AS sequence_unchanged;
SELECT relpersistence = (SELECT relpersistence FROM oqs_persistence) AS persistence_unchanged
  FROM pg_class WHERE oid = 'bh_audit.queue_id_seq'::regclass;

-- the writes go on: their events sealed, the chain verifies
INSERT INTO oqs.pat VALUES (1, 'a');
SET ROLE regress_oqs_owner;
INSERT INTO oqs.pat VALUES (2, 'b');
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM oqs_mark) AND event -> 'metadata' ->> 'table' = 'oqs.pat'
 ORDER BY seq;
SELECT count(*) AS other_events
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM oqs_mark)
   AND coalesce(event -> 'metadata' ->> 'table', '') <> 'oqs.pat';
SELECT result, chain_gaps, hash_mismatches FROM bh_audit.verify_chain();

SELECT bh_audit.untag_table('oqs.pat');
DROP SCHEMA oqs CASCADE;
DROP ROLE regress_oqs_admin, regress_oqs_owner;
