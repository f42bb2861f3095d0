-- The tag catalog given to a role that is no superuser (ALTER TABLE
-- bh_audit.tags OWNER TO, allowed as attaching no code; REASSIGN OWNED BY
-- the superuser who installed the extension does the same, for the queue
-- and the ledger too): that role can then delete a tag row, and every
-- later write of the table goes unrecorded, with nothing in the chain --
-- untag_table() is recorded, and direct edits of the catalog are counted
-- among a superuser's powers only (threat-model.md).  No row of a tagged
-- table may change without its event, or without a record of capture
-- being switched off: the ownership change, or the catalog edit, must be
-- refused or recorded.  (In a transaction rolled back: the held events
-- are read with pending_events().)
\set VERBOSITY terse
CREATE ROLE regress_s41h_owner;
CREATE TABLE s41h_notes (id int, patient_id text);
SELECT bh_audit.tag_table('s41h_notes', 'Note', 'id', 'patient_id');
BEGIN;
-- (a refusal anywhere in it leaves the tag as it was)
DO $$
BEGIN
  ALTER TABLE bh_audit.tags OWNER TO regress_s41h_owner;
  GRANT USAGE ON SCHEMA bh_audit TO regress_s41h_owner;
  SET LOCAL ROLE regress_s41h_owner;
  DELETE FROM bh_audit.tags WHERE tbl = 'public.s41h_notes'::regclass;
  RESET ROLE;
EXCEPTION WHEN OTHERS THEN NULL;
END $$;
INSERT INTO s41h_notes VALUES (1, 'pat_s41h');
-- the insert's event, or an AuditConfiguration event saying why there is none
SELECT (SELECT count(*) FROM bh_audit.pending_events() e
         WHERE e -> 'resource' ->> 'type' = 'Note' AND e -> 'resource' ->> 'id' = '1'
           AND e -> 'action' ->> 'type' = 'CREATE')
     + (SELECT count(*) FROM bh_audit.pending_events() e
         WHERE e -> 'resource' ->> 'type' = 'AuditConfiguration'
           AND e -> 'resource' ->> 'id' IN ('bh_audit.tags', 'public.s41h_notes')) > 0
       AS insert_or_switch_off_recorded;
ROLLBACK;
SELECT bh_audit.untag_table('s41h_notes');
DROP TABLE s41h_notes;
DROP ROLE regress_s41h_owner;
-- The extension's objects stay a superuser's: given to a role that is no
-- superuser, their owner could grant itself any privilege on the trail
-- (the ledger, EXECUTE of export_jsonl()), or drop everything in the
-- schema.  Refused, by name or by REASSIGN OWNED.
CREATE ROLE regress_s41h_owner;
ALTER TABLE bh_audit.tags OWNER TO regress_s41h_owner;
ALTER TABLE bh_audit.events OWNER TO regress_s41h_owner;
ALTER SEQUENCE bh_audit.queue_id_seq OWNER TO regress_s41h_owner;
ALTER VIEW bh_audit.tagged_tables OWNER TO regress_s41h_owner;
ALTER FUNCTION bh_audit.export_jsonl(bigint, bigint) OWNER TO regress_s41h_owner;
ALTER SCHEMA bh_audit OWNER TO regress_s41h_owner;
SELECT count(*) AS owned_by_others
  FROM pg_class c WHERE c.relnamespace = 'bh_audit'::regnamespace
   AND NOT (SELECT rolsuper FROM pg_roles WHERE oid = c.relowner);
-- (to a superuser, as before)
CREATE ROLE regress_s41h_super SUPERUSER;
BEGIN;
ALTER TABLE bh_audit.tags OWNER TO regress_s41h_super;
ALTER FUNCTION bh_audit.export_jsonl(bigint, bigint) OWNER TO regress_s41h_super;
ROLLBACK;
DROP ROLE regress_s41h_super;
-- A TRUNCATE privilege granted on the queue or the tag catalog does not
-- let a role that is no superuser empty it, nor do INSERT, UPDATE, DELETE
-- privileges let it write it.
GRANT USAGE ON SCHEMA bh_audit TO regress_s41h_owner;
GRANT ALL ON bh_audit.tags, bh_audit.queue TO regress_s41h_owner;
SET ROLE regress_s41h_owner;
TRUNCATE bh_audit.tags;
TRUNCATE bh_audit.queue;
DELETE FROM bh_audit.tags;
UPDATE bh_audit.tags SET capture_writes = false;
DELETE FROM bh_audit.queue;
COPY bh_audit.queue (events) FROM stdin;
{}
\.
RESET ROLE;
REVOKE ALL ON bh_audit.tags, bh_audit.queue FROM regress_s41h_owner;
REVOKE ALL ON SCHEMA bh_audit FROM regress_s41h_owner;
DROP ROLE regress_s41h_owner;
-- A superuser's own UPDATE or DELETE of the tag catalog, which untags a
-- table or changes what is captured of it outside tag_table() and
-- untag_table(), is recorded; a row added (a restore's COPY) is not.
CREATE TABLE s41h_notes (id int, patient_id text);
SELECT bh_audit.tag_table('s41h_notes', 'Note', 'id', 'patient_id');
BEGIN;
UPDATE bh_audit.tags SET capture_writes = false WHERE tbl = 's41h_notes'::regclass;
DELETE FROM bh_audit.tags WHERE tbl = 's41h_notes'::regclass;
INSERT INTO bh_audit.tags (tbl, resource_type, id_column, patient_column, classification, part2, capture_reads, capture_writes)
VALUES ('s41h_notes'::regclass, 'Note', 'id', 'patient_id', 'PHI', false, true, true);
SELECT e -> 'action' ->> 'type' AS action, e -> 'resource' ->> 'id' AS resource,
       e -> 'metadata' ->> 'change' AS change, e -> 'metadata' ->> 'statement' AS statement
  FROM bh_audit.pending_events() e
 WHERE e -> 'resource' ->> 'type' = 'AuditConfiguration';
ROLLBACK;
SELECT bh_audit.untag_table('s41h_notes');
DROP TABLE s41h_notes;
