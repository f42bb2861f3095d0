-- Capture cannot be switched off quietly.  (Uses the tables of 20_tagging.)
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark AS SELECT max(seq) AS seq FROM bh_audit.events;
-- (without the events of rolled-back changes, which the ring brings: their
-- place among the queued events is not held to one order here; they
-- are checked at the end)
CREATE TEMP VIEW config_events AS
SELECT action, resource_id, event -> 'metadata' ->> 'change' AS change
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'AuditConfiguration'
   AND NOT event -> 'metadata' ? 'rolled_back'
 ORDER BY seq;

-- A table owner who is not a superuser can neither drop nor disable the
-- capture triggers.
CREATE ROLE bh_regress_owner;
GRANT USAGE, CREATE ON SCHEMA clinic TO bh_regress_owner;
ALTER TABLE clinic.notes OWNER TO bh_regress_owner;
SET ROLE bh_regress_owner;
ALTER TABLE clinic.notes DISABLE TRIGGER bh_audit_capture_row;
ALTER TABLE clinic.notes DISABLE TRIGGER USER;
ALTER TABLE clinic.notes ENABLE TRIGGER bh_audit_capture_row;
ALTER TABLE clinic.notes ENABLE REPLICA TRIGGER bh_audit_capture_truncate;
DROP TRIGGER bh_audit_capture_row ON clinic.notes;
ALTER TRIGGER bh_audit_capture_row ON clinic.notes RENAME TO x;
-- A replacement could fire never; a dependency on an extension would let
-- DROP EXTENSION drop it; an inheritance child would escape.  (ENABLE
-- TRIGGER ALL / USER leaves the capture triggers ALWAYS: the owner may.)
ALTER TABLE clinic.notes ENABLE TRIGGER ALL;
ALTER TABLE clinic.notes ENABLE TRIGGER USER;
CREATE OR REPLACE TRIGGER bh_audit_capture_row AFTER INSERT OR UPDATE OR DELETE ON clinic.notes
    FOR EACH ROW WHEN (false) EXECUTE FUNCTION bh_audit._capture_row();
ALTER TRIGGER bh_audit_capture_row ON clinic.notes DEPENDS ON EXTENSION plpgsql;
CREATE TABLE clinic.notes_child () INHERITS (clinic.notes);
CREATE TABLE clinic.notes_orphan (note_id int, patient_id int, body text);
ALTER TABLE clinic.notes_orphan INHERIT clinic.notes;
DROP TABLE clinic.notes_orphan;
-- ... but may change its other triggers.
CREATE FUNCTION clinic.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER own_trigger BEFORE INSERT ON clinic.notes FOR EACH ROW EXECUTE FUNCTION clinic.noop();
ALTER TABLE clinic.notes DISABLE TRIGGER own_trigger;
DROP TRIGGER own_trigger ON clinic.notes;
RESET ROLE;
SELECT * FROM bh_audit.capture_status();

-- A superuser can, and it is recorded; capture_status() shows the gap.
ALTER TABLE clinic.notes DISABLE TRIGGER bh_audit_capture_row;
SELECT * FROM bh_audit.capture_status();
ALTER TABLE clinic.notes ENABLE ALWAYS TRIGGER bh_audit_capture_row;
DROP TRIGGER bh_audit_capture_truncate ON clinic.visits_1;
SELECT * FROM bh_audit.capture_status();
-- (the table's owner may not create it again; a superuser creating it again
-- where there is none restores capture, as a restore does: not recorded,
-- like ENABLE ALWAYS)
SET ROLE bh_regress_owner;
SELECT regress_err($$CREATE TRIGGER bh_audit_capture_truncate BEFORE TRUNCATE ON clinic.visits_1
    FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._capture_truncate()$$);
RESET ROLE;
CREATE TRIGGER bh_audit_capture_truncate BEFORE TRUNCATE ON clinic.visits_1
    FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._capture_truncate();
ALTER TABLE clinic.visits_1 ENABLE ALWAYS TRIGGER bh_audit_capture_truncate;
SELECT * FROM bh_audit.capture_status();
-- A superuser's replacement is recorded, and capture_status() sees that the
-- trigger is not bh_audit's any more; a replacement is enabled on the
-- origin, ENABLE TRIGGER ALL makes the capture triggers ALWAYS (not
-- recorded, as ENABLE ALWAYS).
CREATE OR REPLACE TRIGGER bh_audit_capture_row AFTER INSERT OR UPDATE OR DELETE ON clinic.notes
    FOR EACH ROW WHEN (false) EXECUTE FUNCTION bh_audit._capture_row();
ALTER TABLE clinic.notes ENABLE ALWAYS TRIGGER bh_audit_capture_row;
SELECT * FROM bh_audit.capture_status();
CREATE OR REPLACE TRIGGER bh_audit_capture_row AFTER INSERT OR UPDATE OR DELETE ON clinic.notes
    FOR EACH ROW EXECUTE FUNCTION bh_audit._capture_row();
SELECT * FROM bh_audit.capture_status();
ALTER TABLE clinic.notes ENABLE TRIGGER ALL;
SELECT * FROM bh_audit.capture_status();

-- Tagged columns: a rename is followed and recorded, a type change
-- recorded, a drop refused.
ALTER TABLE clinic.notes RENAME COLUMN patient_id TO client_id;
SELECT id_column, patient_column FROM bh_audit.tagged_tables WHERE table_name = 'notes';
INSERT INTO clinic.notes VALUES (500, 7, 'after rename');
ALTER TABLE clinic.notes ALTER COLUMN client_id TYPE bigint;
ALTER TABLE clinic.notes DROP COLUMN client_id;
ALTER TABLE clinic.notes DROP COLUMN note_id;
ALTER TABLE clinic.notes RENAME COLUMN body TO text_body;
ALTER TABLE clinic.notes DROP COLUMN text_body;
-- ... also through an untagged parent, whose statement recurses to a tagged
-- partition; and renames of a tagged table by ALTER INDEX ... RENAME (which
-- PostgreSQL applies to a table too) or by renaming its schema.
CREATE TABLE clinic.stays (id int, pat int, note text) PARTITION BY RANGE (id);
CREATE TABLE clinic.stays_1 PARTITION OF clinic.stays FOR VALUES FROM (0) TO (100);
SELECT bh_audit.tag_table('clinic.stays_1', 'Stay', 'id', 'pat');
ALTER TABLE clinic.stays RENAME COLUMN pat TO patient;
ALTER TABLE clinic.stays ALTER COLUMN patient TYPE bigint;
SELECT id_column, patient_column FROM bh_audit.tagged_tables WHERE table_name = 'stays_1';
SELECT bh_audit.untag_table('clinic.stays_1');
DROP TABLE clinic.stays;
CREATE SCHEMA clinic_b;
CREATE TABLE clinic_b.r (id int, pat int);
SELECT bh_audit.tag_table('clinic_b.r', 'R', 'id', 'pat');
ALTER INDEX clinic_b.r RENAME TO r2;
ALTER SCHEMA clinic_b RENAME TO clinic_c;
SELECT bh_audit.untag_table('clinic_c.r2');
DROP SCHEMA clinic_c CASCADE;

-- Dropping a tagged table is recorded and its tag removed.
CREATE TABLE clinic.scratch (id int, pat int);
SELECT bh_audit.tag_table('clinic.scratch', 'Scratch', 'id', 'pat');
DROP TABLE clinic.scratch;
SELECT count(*) AS scratch_tags FROM bh_audit.tagged_tables WHERE table_name = 'scratch';

-- ALTER SYSTEM of bh_audit.enabled is recorded too.
ALTER SYSTEM SET bh_audit.enabled = off;
ALTER SYSTEM RESET bh_audit.enabled;
-- So are set_config(), a function's SET clause (at each call, and as the
-- function is created: its CREATE FUNCTION event, once, though PostgreSQL
-- applies it while checking the body), and per-role and per-database
-- settings; a SET statement is recorded once;
-- a set_config() that changes nothing is not recorded.
BEGIN;
SELECT set_config('bh_audit.enabled', 'off', true) AS switched;
SELECT set_config('bh_audit.enabled', 'off', true) AS unchanged;
SELECT set_config('bh_audit.enabled', 'on', true) AS switched;
SET LOCAL bh_audit.enabled = off;
COMMIT;
-- A SET statement is recorded whenever it runs, also when it leaves the
-- value as it was (nothing here is committed).
BEGIN;
SET LOCAL bh_audit.enabled = on;
SET LOCAL bh_audit.enabled = on;
SELECT count(*) AS set_statements_recorded FROM bh_audit.pending_events() e
 WHERE e -> 'metadata' ->> 'change' = 'SET' AND e -> 'metadata' ->> 'value' = 'on';
ROLLBACK;
CREATE FUNCTION pg_temp.quiet() RETURNS int LANGUAGE sql SET bh_audit.enabled = off AS 'SELECT 1';
SELECT pg_temp.quiet();
ALTER ROLE bh_regress_owner SET bh_audit.enabled = off;
ALTER ROLE bh_regress_owner RESET bh_audit.enabled;
ALTER DATABASE contrib_regression SET bh_audit.enabled = on;
ALTER DATABASE contrib_regression RESET bh_audit.enabled;
-- a non-superuser cannot switch it at all (nothing recorded) ...
SET ROLE bh_regress_owner;
SELECT regress_err($$SELECT set_config('bh_audit.enabled', 'off', true)$$) AS refused;
SELECT regress_err($$ALTER ROLE bh_regress_owner SET bh_audit.enabled = off$$) AS refused;
RESET ROLE;
-- ... unless granted SET on it: then it is recorded like a superuser's
GRANT SET ON PARAMETER bh_audit.enabled TO bh_regress_owner;
SET ROLE bh_regress_owner;
ALTER ROLE bh_regress_owner SET bh_audit.enabled = off;
ALTER ROLE bh_regress_owner RESET bh_audit.enabled;
RESET ROLE;
REVOKE SET ON PARAMETER bh_audit.enabled FROM bh_regress_owner;
-- A name quoted in other letter cases is the same setting
ALTER ROLE bh_regress_owner SET "BH_Audit.Enabled" = off;
ALTER ROLE bh_regress_owner RESET "BH_Audit.Enabled";
-- Any other setting of bh_audit stored for others is recorded too: a
-- role's or a database's default end-user context (which a role with
-- CREATEROLE, or a database's owner, may give: every later session of
-- that role would name that actor), the server's.  A session's own SET of
-- its context is not.
CREATE ROLE bh_regress_roleadmin CREATEROLE;
SET ROLE bh_regress_roleadmin;
ALTER ROLE bh_regress_owner SET bh_audit.actor_id = 'dr_framed';
ALTER ROLE bh_regress_owner IN DATABASE contrib_regression SET "BH_AUDIT.ACTOR_ROLES" = 'clinician,admin';
ALTER ROLE bh_regress_owner RESET bh_audit.actor_id;
ALTER ROLE bh_regress_owner IN DATABASE contrib_regression RESET ALL;
RESET ROLE;
DROP ROLE bh_regress_roleadmin;
ALTER DATABASE contrib_regression SET bh_audit.actor_type = service;
ALTER DATABASE contrib_regression RESET bh_audit.actor_type;
-- (SET ... FROM CURRENT stores the session's value: that one is recorded)
SET bh_audit.actor_id = 'mallory';
ALTER DATABASE contrib_regression SET bh_audit.actor_id FROM CURRENT;
ALTER DATABASE contrib_regression RESET bh_audit.actor_id;
RESET bh_audit.actor_id;
ALTER SYSTEM SET bh_audit.max_patients_per_statement = 5;
ALTER SYSTEM RESET bh_audit.max_patients_per_statement;
-- RESET ALL removes every stored setting at once: one event for each of
-- bh_audit's it removes (a role's, a database's, the server's), none for
-- others' settings, none when there is none of bh_audit's.
CREATE ROLE bh_regress_resetall;
ALTER ROLE bh_regress_resetall SET bh_audit.actor_id = 'dr_stored';
ALTER ROLE bh_regress_resetall SET bh_audit.actor_org_id = 'org_stored';
ALTER ROLE bh_regress_resetall SET work_mem = '8MB';
ALTER ROLE bh_regress_resetall RESET ALL;
ALTER ROLE bh_regress_resetall RESET ALL;
DROP ROLE bh_regress_resetall;
ALTER ROLE ALL IN DATABASE contrib_regression SET bh_audit.session_id = 'sess_stored';
ALTER ROLE ALL IN DATABASE contrib_regression RESET ALL;
ALTER DATABASE contrib_regression SET bh_audit.actor_type = service;
ALTER DATABASE contrib_regression SET "BH_AUDIT.REQUEST_ID" = 'req_stored';
ALTER DATABASE contrib_regression RESET ALL;
ALTER SYSTEM SET bh_audit.max_patients_per_statement = 7;
ALTER SYSTEM SET bh_audit.owner_org_id = 'org_system';
ALTER SYSTEM SET work_mem = '8MB';
-- (what ALTER SYSTEM RESET ALL removes here: these three only)
SELECT name, setting FROM pg_file_settings
 WHERE sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno;
ALTER SYSTEM RESET ALL;
SELECT count(*) AS auto_conf_settings FROM pg_file_settings
 WHERE sourcefile LIKE '%postgresql.auto.conf';
-- A value as written longer than 1024 characters is cut in the event
-- (ending in "..."), as stored settings may be of any length.
CREATE ROLE bh_regress_long;
DO $$ BEGIN
  EXECUTE format('ALTER ROLE bh_regress_long SET bh_audit.request_id = %L', repeat('x', 100000));
END $$;
DROP ROLE bh_regress_long;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT length(event -> 'metadata' ->> 'value') AS value_length,
       right(event -> 'metadata' ->> 'value', 5) AS value_end
  FROM bh_audit.events WHERE event -> 'metadata' ->> 'setting_role' = 'bh_regress_long';
BEGIN;
ALTER DATABASE contrib_regression SET bh_audit.request_id = 'rolled-back';
ROLLBACK;
SET bh_audit.actor_id = 'own_context';
RESET bh_audit.actor_id;

-- Changes to the ledger's own triggers (its append-only guard; only its
-- owner can make them) are recorded: the chain shows when the guard was
-- off or weakened, and who did it.  A change rolled back leaves nothing.
-- capture_status() lists the ledger while its guard is not fully on.
ALTER TABLE bh_audit.events DISABLE TRIGGER events_append_only;
SELECT * FROM bh_audit.capture_status() WHERE tbl = 'bh_audit.events'::regclass;
ALTER TABLE bh_audit.events ENABLE ALWAYS TRIGGER events_append_only;
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
ROLLBACK;
ALTER TABLE bh_audit.events ENABLE TRIGGER events_chain_only;
SELECT * FROM bh_audit.capture_status() WHERE tbl = 'bh_audit.events'::regclass;
ALTER TABLE bh_audit.events ENABLE ALWAYS TRIGGER events_chain_only;
SELECT count(*) AS ledger_problems FROM bh_audit.capture_status() WHERE tbl = 'bh_audit.events'::regclass;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, event -> 'metadata' ->> 'change' AS change, event -> 'metadata' ->> 'trigger' AS trigger,
       actor_id = current_user AS by_me
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'AuditConfiguration'
   AND resource_id = 'bh_audit.events' ORDER BY seq;
-- The same for the other triggers guarding the extension's own tables: the
-- ledger's, the queue's and the tag catalog's skipping of rows replicated
-- from another server, the tag catalog's news to every session's tag cache
-- (disabled, other sessions would go on with tags as they were), the
-- queue's identity after a restore.  ENABLE (not ALWAYS) weakens all but
-- the last two, which are installed so.
ALTER TABLE bh_audit.tags DISABLE TRIGGER tags_changed;
ALTER TABLE bh_audit.queue ENABLE REPLICA TRIGGER queue_applied_skip;
ALTER TABLE bh_audit.events ENABLE TRIGGER events_applied_skip;
ALTER TRIGGER queue_restored ON bh_audit.queue RENAME TO queue_restored_x;
DROP TRIGGER tags_applied_truncate_restore ON bh_audit.tags;
SELECT * FROM bh_audit.capture_status()
 WHERE tbl IN ('bh_audit.events'::regclass, 'bh_audit.queue'::regclass, 'bh_audit.tags'::regclass);
ALTER TABLE bh_audit.tags ENABLE TRIGGER tags_changed;
ALTER TABLE bh_audit.queue ENABLE ALWAYS TRIGGER queue_applied_skip;
ALTER TABLE bh_audit.events ENABLE ALWAYS TRIGGER events_applied_skip;
ALTER TRIGGER queue_restored_x ON bh_audit.queue RENAME TO queue_restored;
CREATE TRIGGER tags_applied_truncate_restore AFTER TRUNCATE ON bh_audit.tags
    FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._keep_on_truncate();
ALTER TABLE bh_audit.tags ENABLE ALWAYS TRIGGER tags_applied_truncate_restore;
BEGIN;
ALTER TABLE bh_audit.queue DISABLE TRIGGER ALL;
ROLLBACK;
-- Any other trigger on them is refused, superusers included: the extension
-- writes them without firing triggers (pg_repack's logging trigger would
-- miss the rows written while it copies the table).
CREATE FUNCTION pg_temp.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
SELECT regress_err($$CREATE TRIGGER repack_trigger AFTER INSERT OR DELETE OR UPDATE ON bh_audit.events
  FOR EACH ROW EXECUTE FUNCTION pg_temp.noop()$$) AS events;
SELECT regress_err($$CREATE TRIGGER repack_trigger AFTER INSERT OR DELETE OR UPDATE ON bh_audit.queue
  FOR EACH ROW EXECUTE FUNCTION pg_temp.noop()$$) AS queue;
SELECT regress_err($$CREATE TRIGGER audit_tags BEFORE INSERT ON bh_audit.tags
  FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.noop()$$) AS tags;
DROP FUNCTION pg_temp.noop();
SELECT count(*) AS guard_problems FROM bh_audit.capture_status()
 WHERE tbl IN ('bh_audit.events'::regclass, 'bh_audit.queue'::regclass, 'bh_audit.tags'::regclass);
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_id, event -> 'metadata' ->> 'change' AS change,
       event -> 'metadata' ->> 'trigger' AS trigger, actor_id = current_user AS by_me
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'AuditConfiguration'
   AND (resource_id IN ('bh_audit.queue', 'bh_audit.tags')
        OR event -> 'metadata' ->> 'trigger' = 'events_applied_skip') ORDER BY seq;
-- Row-level security on the ledger decides which events a reviewer's query
-- of it returns, and verification reads them all, and passes: switching it
-- on, off or forced on the extension's own tables, and each of their
-- policies created, altered or dropped, is recorded (DROP POLICY IF EXISTS
-- of none drops nothing: not recorded).  A change rolled back leaves nothing.
CREATE ROLE bh_regress_reviewer;
GRANT bh_audit_reader TO bh_regress_reviewer;
ALTER TABLE bh_audit.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY bh_regress_hide ON bh_audit.events FOR SELECT TO bh_audit_reader
  USING (resource_type <> 'AuditConfiguration');
SELECT bh_audit.seal() >= 0 AS sealed;
SET ROLE bh_regress_reviewer;
SELECT count(*) AS configuration_events_seen FROM bh_audit.events
 WHERE resource_type = 'AuditConfiguration';
SELECT result FROM bh_audit.verify_chain();
RESET ROLE;
ALTER POLICY bh_regress_hide ON bh_audit.events USING (true);
ALTER TABLE bh_audit.events FORCE ROW LEVEL SECURITY;
ALTER TABLE bh_audit.events NO FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS bh_regress_none ON bh_audit.events;
DROP POLICY bh_regress_hide ON bh_audit.events;
ALTER TABLE bh_audit.events DISABLE ROW LEVEL SECURITY;
CREATE POLICY bh_regress_queue ON bh_audit.queue USING (false);
DROP POLICY bh_regress_queue ON bh_audit.queue;
BEGIN;
ALTER TABLE bh_audit.tags ENABLE ROW LEVEL SECURITY;
ROLLBACK;
DROP ROLE bh_regress_reviewer;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_id, event -> 'metadata' ->> 'change' AS change,
       event -> 'metadata' ->> 'policy' AS policy, actor_id = current_user AS by_me
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'AuditConfiguration'
   AND (event -> 'metadata' ->> 'change' LIKE '%row-level security'
        OR event -> 'metadata' ? 'policy') ORDER BY seq;
-- (the per-role and per-database settings of bh_audit.enabled above name
-- whose setting they changed)
SELECT event -> 'metadata' ->> 'change' AS change, event -> 'metadata' ->> 'value' AS value,
       event -> 'metadata' ->> 'setting_role' AS setting_role,
       event -> 'metadata' ->> 'setting_database' AS setting_database
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_id = 'bh_audit.enabled'
   AND event -> 'metadata' ->> 'change' LIKE 'ALTER%' ORDER BY seq;
-- (and so do those of the other settings, with their values)
SELECT resource_id, event -> 'metadata' ->> 'setting' AS setting,
       event -> 'metadata' ->> 'change' AS change, event -> 'metadata' ->> 'value' AS value,
       event -> 'metadata' ->> 'setting_role' AS setting_role,
       event -> 'metadata' ->> 'setting_database' AS setting_database,
       actor_id
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'AuditConfiguration'
   AND event -> 'metadata' ->> 'setting' LIKE 'bh\_audit.%' AND resource_id <> 'bh_audit.enabled'
   AND (event -> 'metadata' ->> 'setting_role') IS DISTINCT FROM 'bh_regress_long'
 ORDER BY seq;

-- Capture is not switched off while changes wait for their capture
-- triggers (a writable WITH around the call): the triggers would fire with
-- capture already off, and the changes made while it was on would leave
-- no event.  Refused, untagging as well; the changes are recorded.
CREATE TABLE clinic.pending (id int, pat text, v int);
INSERT INTO clinic.pending VALUES (1, 'p1', 0), (2, 'p2', 0);
SELECT bh_audit.tag_table('clinic.pending', 'Pending', 'id', 'pat');
SELECT regress_err($$WITH u AS (UPDATE clinic.pending SET v = v + 1 RETURNING id)
  SELECT bh_audit.untag_table('clinic.pending') FROM (SELECT count(*) FROM u) s$$) AS untag;
BEGIN;
SELECT regress_err($$WITH u AS (UPDATE clinic.pending SET v = v + 1 RETURNING id)
  SELECT set_config('bh_audit.enabled', 'off', true) FROM (SELECT count(*) FROM u) s$$) AS switch;
SHOW bh_audit.enabled;
-- ... and so is a user's AFTER trigger firing before the capture trigger
CREATE FUNCTION pg_temp.switch_off() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN PERFORM set_config('bh_audit.enabled', 'off', true); RETURN NULL; END$$;
CREATE TRIGGER aa_switch_off AFTER UPDATE ON clinic.pending FOR EACH ROW
  EXECUTE FUNCTION pg_temp.switch_off();
SELECT regress_err($$UPDATE clinic.pending SET v = v + 1$$) AS trigger_switch;
-- ... also in a COPY ... FROM (no executor statement)
CREATE TRIGGER aa_switch_off_copy AFTER INSERT ON clinic.pending FOR EACH ROW
  EXECUTE FUNCTION pg_temp.switch_off();
SELECT regress_err($$COPY clinic.pending (id, pat, v) FROM PROGRAM 'echo 9,p9,0' WITH (FORMAT csv)$$) AS copy_switch;
ROLLBACK;
-- ... but allowed once the statement is over, whatever else waits for the
-- commit (a deferred foreign key's check)
CREATE TABLE clinic.pending_parent (id int PRIMARY KEY);
INSERT INTO clinic.pending_parent VALUES (1);
ALTER TABLE clinic.pending ADD COLUMN parent int
  REFERENCES clinic.pending_parent DEFERRABLE INITIALLY DEFERRED;
BEGIN;
INSERT INTO clinic.pending VALUES (3, 'p3', 0, 1);
SELECT set_config('bh_audit.enabled', 'off', true) AS switched;
SELECT set_config('bh_audit.enabled', 'on', true) AS switched;
SELECT bh_audit.untag_table('clinic.pending');
ROLLBACK;
WITH u AS (UPDATE clinic.pending SET v = v + 1 RETURNING id) SELECT count(*) AS updated FROM u;
SELECT bh_audit.untag_table('clinic.pending');
DROP TABLE clinic.pending, clinic.pending_parent;
SELECT bh_audit.seal() >= 0 AS sealed;
-- (each refused statement: its RETURNING rows read, a FAILURE; then the
-- statement that ran: its two changes and its reads; the ring's events and
-- the queue's may be chained in either order between batches)
SELECT action, outcome, resource_id, patient_id, error_type, count(*) FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'Pending'
 GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5;

-- A partition leaving a tagged table is recorded, naming it, with its row
-- estimate: detached (its rows are no longer captured; it keeps no capture
-- trigger and can be tagged on its own) or dropped (its rows are gone).
CREATE TABLE clinic.visits_8 PARTITION OF clinic.visits FOR VALUES FROM (8000) TO (8100);
CREATE TABLE clinic.visits_9 PARTITION OF clinic.visits FOR VALUES FROM (9000) TO (9100);
CREATE TABLE clinic.visits_7 PARTITION OF clinic.visits FOR VALUES FROM (7000) TO (7100)
    PARTITION BY RANGE (id);
CREATE TABLE clinic.visits_7a PARTITION OF clinic.visits_7 FOR VALUES FROM (7000) TO (7100);
INSERT INTO clinic.visits VALUES (8001, 81, 'a'), (9001, 91, 'b'), (9002, 92, 'c');
ANALYZE clinic.visits_8;
ANALYZE clinic.visits_9;
ALTER TABLE clinic.visits DETACH PARTITION clinic.visits_9;
ALTER TABLE clinic.visits DETACH PARTITION clinic.visits_7 CONCURRENTLY;
SELECT tgname FROM pg_trigger
 WHERE tgrelid IN ('clinic.visits_9'::regclass, 'clinic.visits_7'::regclass, 'clinic.visits_7a'::regclass);
SELECT bh_audit.tag_table('clinic.visits_9', 'Encounter', 'id', 'patient_id');
SELECT bh_audit.untag_table('clinic.visits_9');
SELECT bh_audit.tag_table('clinic.visits_7', 'Encounter', 'id', 'patient_id');
SELECT bh_audit.untag_table('clinic.visits_7');
DROP TABLE clinic.visits_9;
DROP TABLE clinic.visits_8;
DROP TABLE clinic.visits_7;
-- A table tagged itself cannot be attached under a tagged table (its rows
-- would be captured twice); untagged, it can (recorded: its rows join
-- capture), and gets its TRUNCATE trigger.
CREATE TABLE clinic.visits_6 (id int, patient_id int, reason text);
SELECT bh_audit.tag_table('clinic.visits_6', 'Encounter', 'id', 'patient_id');
SELECT regress_err($$ALTER TABLE clinic.visits ATTACH PARTITION clinic.visits_6 FOR VALUES FROM (6000) TO (6100)$$);
SELECT bh_audit.untag_table('clinic.visits_6');
ALTER TABLE clinic.visits ATTACH PARTITION clinic.visits_6 FOR VALUES FROM (6000) TO (6100);
SELECT tgname FROM pg_trigger WHERE tgrelid = 'clinic.visits_6'::regclass ORDER BY 1;
DROP TABLE clinic.visits_6;
-- A table attached with a TRUNCATE trigger of the capture trigger's name
-- (calling something else) gets the extension's instead.
CREATE FUNCTION clinic.noop_truncate() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
CREATE TABLE clinic.visits_5 (id int, patient_id int, reason text);
CREATE TRIGGER bh_audit_capture_truncate BEFORE TRUNCATE ON clinic.visits_5
    FOR EACH STATEMENT EXECUTE FUNCTION clinic.noop_truncate();
ALTER TABLE clinic.visits_5 ENABLE ALWAYS TRIGGER bh_audit_capture_truncate;
ALTER TABLE clinic.visits ATTACH PARTITION clinic.visits_5 FOR VALUES FROM (5000) TO (5100);
SELECT tgfoid::regprocedure, tgenabled FROM pg_trigger
 WHERE tgrelid = 'clinic.visits_5'::regclass AND tgname = 'bh_audit_capture_truncate';
SELECT * FROM bh_audit.capture_status();
DROP TABLE clinic.visits_5;
DROP FUNCTION clinic.noop_truncate();
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_id, event -> 'metadata' ->> 'partition' AS partition,
       event -> 'metadata' ->> 'row_count_estimate' AS rows
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND event -> 'metadata' ? 'partition' ORDER BY seq;

-- A rule on a tagged table is recorded: DO INSTEAD sends its rows elsewhere.
CREATE TABLE clinic.notes_elsewhere (LIKE clinic.notes);
CREATE RULE divert AS ON INSERT TO clinic.notes DO INSTEAD
    INSERT INTO clinic.notes_elsewhere VALUES (NEW.*);
CREATE RULE also AS ON UPDATE TO clinic.notes DO ALSO NOTIFY notes_changed;
-- and so is enabling one again (a rule disabled before it was tagged, say)
ALTER TABLE clinic.notes DISABLE RULE divert;
ALTER TABLE clinic.notes ENABLE RULE divert;
ALTER TABLE clinic.notes ENABLE ALWAYS RULE also;
-- capture_status() shows the writes an enabled DO INSTEAD rule diverts
SELECT * FROM bh_audit.capture_status();
DROP RULE divert ON clinic.notes;
DROP RULE also ON clinic.notes;
-- Rules a table has when it is tagged, or when it joins a tagged table by
-- ATTACH PARTITION, are recorded too (a disabled one when it is enabled).
CREATE TABLE clinic.ruled (id int, pat int, body text);
CREATE RULE ruled_divert AS ON INSERT TO clinic.ruled DO INSTEAD
    INSERT INTO clinic.notes_elsewhere (note_id) VALUES (NEW.id);
CREATE RULE ruled_also AS ON DELETE TO clinic.ruled DO ALSO NOTIFY ruled_gone;
CREATE RULE ruled_off AS ON UPDATE TO clinic.ruled DO INSTEAD NOTHING;
ALTER TABLE clinic.ruled DISABLE RULE ruled_off;
SELECT bh_audit.tag_table('clinic.ruled', 'Ruled', 'id', 'pat');
SELECT * FROM bh_audit.capture_status();
CREATE TABLE clinic.ruled_parts (id int, pat int) PARTITION BY RANGE (id);
SELECT bh_audit.tag_table('clinic.ruled_parts', 'RuledPart', 'id', 'pat');
CREATE TABLE clinic.ruled_p1 (id int, pat int);
CREATE RULE p1_divert AS ON UPDATE TO clinic.ruled_p1 DO INSTEAD NOTHING;
ALTER TABLE clinic.ruled_parts ATTACH PARTITION clinic.ruled_p1 FOR VALUES FROM (0) TO (10);
SELECT * FROM bh_audit.capture_status();
SELECT bh_audit.untag_table('clinic.ruled');
SELECT bh_audit.untag_table('clinic.ruled_parts');
DROP TABLE clinic.ruled, clinic.ruled_parts;
DROP TABLE clinic.notes_elsewhere;

-- Renaming a tagged table (or moving it to another schema) is recorded with
-- the new name: events name tables, access review follows the rename.
ALTER TABLE clinic.notes RENAME TO notes_renamed;
ALTER TABLE clinic.notes_renamed RENAME TO notes;
ALTER TABLE clinic.visits_1 SET SCHEMA public;
ALTER TABLE public.visits_1 SET SCHEMA clinic;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_id, event -> 'metadata' ->> 'new_table' AS new_table
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND event -> 'metadata' ->> 'change' = 'tagged_table_renamed'
 ORDER BY seq;

-- The extension's functions change only through its scripts, for superusers
-- too: the capture trigger function cannot become a no-op, verify_chain()
-- cannot become one that always passes, nothing can leave the extension.
SELECT regress_err($$CREATE OR REPLACE FUNCTION bh_audit._capture_row() RETURNS trigger
                     LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'$$);
SELECT regress_err($$ALTER FUNCTION bh_audit.verify_chain(bigint, bigint, text) RENAME TO verify$$);
SELECT regress_err($$ALTER FUNCTION bh_audit._capture_truncate() SECURITY DEFINER$$);
SELECT regress_err($$ALTER FUNCTION bh_audit.chain_head() SET SCHEMA public$$);
SELECT regress_err($$ALTER EXTENSION bh_audit DROP FUNCTION bh_audit._capture_row()$$);
SELECT l.lanname, p.prosrc FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.oid = 'bh_audit._capture_row'::regproc;
-- Granting, commenting and changing the owner remain possible.
GRANT EXECUTE ON FUNCTION bh_audit.chain_head() TO bh_regress_owner;
REVOKE EXECUTE ON FUNCTION bh_audit.chain_head() FROM bh_regress_owner;
COMMENT ON FUNCTION bh_audit.chain_head() IS
    'The last sealed event: store its hash outside the database and pass it to verify_chain(expected_head => ...)';
CREATE ROLE bh_regress_fn_owner SUPERUSER;
ALTER FUNCTION bh_audit.chain_head() OWNER TO bh_regress_fn_owner;
SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE oid = 'bh_audit.chain_head'::regproc;
ALTER FUNCTION bh_audit.chain_head() OWNER TO CURRENT_USER;
DROP ROLE bh_regress_fn_owner;
-- A column of a temporary type in a tagged table: refused (PostgreSQL drops
-- the column with its type when the session ends, unseen); nor can a table
-- with one be tagged.
CREATE TYPE pg_temp.sev AS ENUM ('low', 'high');
SELECT regress_err($$ALTER TABLE clinic.notes ADD COLUMN severity pg_temp.sev$$);
SELECT regress_err($$ALTER TABLE clinic.notes ALTER COLUMN body TYPE pg_temp.sev USING NULL$$);
CREATE TABLE clinic.temp_typed (id int, pat int, s pg_temp.sev);
SELECT regress_err($$SELECT bh_audit.tag_table('clinic.temp_typed', 'Typed', 'id', 'pat')$$);
DROP TABLE clinic.temp_typed;
-- nor one built on a temporary type (a domain over it in a permanent
-- schema), nor through an untagged parent
CREATE DOMAIN public.sev_d AS pg_temp.sev;
SELECT regress_err($$ALTER TABLE clinic.notes ADD COLUMN severity public.sev_d$$);
CREATE TABLE clinic.tpar (id int, pat int) PARTITION BY RANGE (id);
CREATE TABLE clinic.tpar_1 PARTITION OF clinic.tpar FOR VALUES FROM (0) TO (10);
SELECT bh_audit.tag_table('clinic.tpar_1', 'Typed', 'id', 'pat');
SELECT regress_err($$ALTER TABLE clinic.tpar ADD COLUMN severity pg_temp.sev$$);
SELECT bh_audit.untag_table('clinic.tpar_1');
DROP TABLE clinic.tpar;
DROP DOMAIN public.sev_d;
DROP TYPE pg_temp.sev;
-- A foreign table cannot be a partition of a tagged table (its rows live on
-- another server, uncaptured).
CREATE FOREIGN DATA WRAPPER bh_regress_fdw;
CREATE SERVER bh_regress_srv FOREIGN DATA WRAPPER bh_regress_fdw;
SELECT regress_err($$CREATE FOREIGN TABLE clinic.visits_far PARTITION OF clinic.visits
                     FOR VALUES FROM (90000) TO (90100) SERVER bh_regress_srv$$);
-- Nor an inheritance child of one, as a plain table cannot.
SELECT regress_err($$CREATE FOREIGN TABLE clinic.notes_far () INHERITS (clinic.notes)
                     SERVER bh_regress_srv$$);
DROP SERVER bh_regress_srv;
DROP FOREIGN DATA WRAPPER bh_regress_fdw;
-- What an event trigger runs during an owner change is not let through.
CREATE FUNCTION public.swap_capture() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    IF tg_tag = 'ALTER FUNCTION' THEN
        CREATE OR REPLACE FUNCTION bh_audit._capture_row() RETURNS trigger
            LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
    END IF;
END $$;
CREATE EVENT TRIGGER swap_capture ON ddl_command_end EXECUTE FUNCTION public.swap_capture();
CREATE FUNCTION public.harmless() RETURNS int LANGUAGE sql AS 'SELECT 1';
SELECT regress_err($$ALTER FUNCTION public.harmless() OWNER TO bh_regress_owner$$);
DROP EVENT TRIGGER swap_capture;
DROP FUNCTION public.swap_capture(), public.harmless();
SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.oid = 'bh_audit._capture_row'::regproc;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT * FROM config_events;
-- (writes: the row, and the type change and the drop of notes' columns)
SELECT resource_type, action, resource_id, patient_id, event -> 'metadata' ->> 'statement' AS statement,
       event -> 'metadata' ->> 'changed_columns' AS changed_columns,
       event -> 'metadata' ->> 'dropped_columns' AS dropped_columns
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type IN ('Note', 'Stay')
 ORDER BY resource_type, action = 'READ', seq;  -- reads come by the ring, writes by the queue

-- DROP EXTENSION refuses while tables depend on the capture functions.
DROP VIEW config_events;
\set VERBOSITY terse
DROP EXTENSION bh_audit;
\set VERBOSITY default

ALTER TABLE clinic.notes OWNER TO postgres;
DROP FUNCTION clinic.noop();
REVOKE ALL ON SCHEMA clinic FROM bh_regress_owner;
DROP ROLE bh_regress_owner;

-- RESET ALL and DISCARD ALL that switch capture are recorded; so is a
-- connection option, before the session's first statement.
CREATE TABLE public.mark22 AS SELECT max(seq) AS seq FROM bh_audit.events;
ALTER ROLE CURRENT_USER SET bh_audit.enabled = off;
\c
SHOW bh_audit.enabled;
SET bh_audit.enabled = on;
RESET ALL;
SHOW bh_audit.enabled;
SET bh_audit.enabled = on;
DISCARD ALL;
SHOW bh_audit.enabled;
ALTER ROLE CURRENT_USER RESET bh_audit.enabled;
\c -reuse-previous=on "options='-c bh_audit.enabled=off'"
SELECT 1 AS first_statement;
-- (its parallel workers restore the setting from the leader: not again)
SET force_parallel_mode = on;
SELECT count(*) > 0 AS read_in_a_worker FROM pg_class;
\c -reuse-previous=on "options='-c bh_audit.enabled=on'"
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, event -> 'metadata' ->> 'change' AS change, event -> 'metadata' ->> 'value' AS value
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM public.mark22) AND resource_type = 'AuditConfiguration'
 ORDER BY seq;
DROP TABLE public.mark22;

-- Renaming a schema renames its tables: every tagged table of the schema
-- and every partition of a tagged table in it (wherever its tagged table
-- lives) is recorded with its new name, as ALTER TABLE ... SET SCHEMA of
-- each would be; the events that follow name the tables by their new
-- schema, in the renaming session as in every other.
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TABLE public.mark22 AS SELECT max(seq) AS seq FROM bh_audit.events;
CREATE SCHEMA ya;
CREATE TABLE ya.t (id int, pat text);
SELECT bh_audit.tag_table('ya.t', 'YT', 'id', 'pat');
INSERT INTO ya.t VALUES (1, 'a');
CREATE SCHEMA pz;
CREATE TABLE ya.vp (id int, pat text) PARTITION BY RANGE (id);
CREATE TABLE pz.vp_1 PARTITION OF ya.vp FOR VALUES FROM (0) TO (10);
CREATE TABLE ya.vp_2 PARTITION OF ya.vp FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('ya.vp', 'VP', 'id', 'pat');
INSERT INTO ya.vp VALUES (1, 'p'), (11, 'q');
ALTER SCHEMA pz RENAME TO pz2;
ALTER SCHEMA ya RENAME TO yb;
INSERT INTO yb.t VALUES (2, 'b');
SELECT count(*) FROM yb.t;
UPDATE yb.vp SET pat = pat || '2';
SELECT count(*) FROM yb.vp;
ALTER TABLE pz2.vp_1 SET SCHEMA yb;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_id, event -> 'metadata' ->> 'new_table' AS new_table
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM public.mark22) AND event -> 'metadata' ->> 'change' = 'tagged_table_renamed'
 ORDER BY seq;
SELECT resource_type, action, resource_id, patient_id, event -> 'metadata' ->> 'table' AS "table"
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM public.mark22) AND resource_type IN ('YT', 'VP')
 ORDER BY action = 'READ', seq;  -- reads come by the ring, writes by the queue
SELECT bh_audit.untag_table('yb.t');
SELECT bh_audit.untag_table('yb.vp');
DROP TABLE yb.t, yb.vp;
DROP SCHEMA yb;
DROP SCHEMA pz2;
DROP TABLE public.mark22;

-- ALTER EXTENSION ... SET SCHEMA moves the extension's member tables: a
-- tagged one is recorded as ALTER TABLE ... SET SCHEMA of it is.
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TABLE public.mark22 AS SELECT max(seq) AS seq FROM bh_audit.events;
CREATE SCHEMA ex1;
CREATE SCHEMA ex2;
CREATE EXTENSION amcheck SCHEMA ex1;
CREATE TABLE ex1.em (id int, pat text);
CREATE TABLE ex1.plain (id int);
SELECT bh_audit.tag_table('ex1.em', 'EM', 'id', 'pat');
ALTER EXTENSION amcheck ADD TABLE ex1.em;
ALTER EXTENSION amcheck ADD TABLE ex1.plain;
ALTER EXTENSION amcheck SET SCHEMA ex2;
INSERT INTO ex2.em VALUES (1, 'a');
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_type, action, resource_id, event -> 'metadata' ->> 'change' AS change,
       event -> 'metadata' ->> 'new_table' AS new_table, event -> 'metadata' ->> 'table' AS "table"
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM public.mark22) AND resource_type IN ('AuditConfiguration', 'EM')
 ORDER BY seq;
SELECT bh_audit.untag_table('ex2.em');
ALTER EXTENSION amcheck DROP TABLE ex2.em;
ALTER EXTENSION amcheck DROP TABLE ex2.plain;
DROP EXTENSION amcheck;
DROP TABLE ex2.em, ex2.plain;
DROP SCHEMA ex1, ex2;
DROP TABLE public.mark22;

-- A change that narrows read capture at once in the session (capture
-- switched off, a table untagged, a partition detached), rolled back, is
-- recorded all the same, marked rolled_back: it was in effect in the
-- session until the rollback, and the reads made meanwhile were not
-- recorded.  Other changes rolled back (a tagging, capture switched on)
-- leave nothing.
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TABLE public.mark22 AS SELECT max(seq) AS seq FROM bh_audit.events;
CREATE TABLE public.rb22 (id int, pat text);
CREATE TABLE public.rbp22 (id int, pat text, region int) PARTITION BY LIST (region);
CREATE TABLE public.rbp22_1 PARTITION OF public.rbp22 FOR VALUES IN (1);
SELECT bh_audit.tag_table('public.rb22', 'RB', 'id', 'pat');
SELECT bh_audit.tag_table('public.rbp22', 'RBP', 'id', 'pat');
INSERT INTO public.rb22 VALUES (1, 'p1'), (2, 'p2');
INSERT INTO public.rbp22 VALUES (3, 'p3', 1);
-- capture switched off in a transaction that rolls back
BEGIN;
SET LOCAL bh_audit.enabled = off;
SELECT pat FROM public.rb22 WHERE id = 1;
ROLLBACK;
-- untagged in a savepoint rolled back; the transaction commits
BEGIN;
SAVEPOINT s;
SELECT bh_audit.untag_table('public.rb22');
SELECT pat FROM public.rb22 WHERE id = 2;
ROLLBACK TO s;
COMMIT;
-- switched off in a PL/pgSQL block whose exception handler rolls it back
DO $$
BEGIN
    PERFORM set_config('bh_audit.enabled', 'off', false);
    PERFORM pat FROM public.rb22;
    RAISE EXCEPTION 'undo';
EXCEPTION WHEN raise_exception THEN NULL;
END $$;
-- a partition detached, rolled back
BEGIN;
ALTER TABLE public.rbp22 DETACH PARTITION public.rbp22_1;
SELECT pat FROM public.rbp22_1;
ROLLBACK;
-- a change that did not take effect leaves nothing: refused (a role without
-- SET on it; while a statement changes a tagged table, caught by a
-- PL/pgSQL handler), or no change at all (a DETACH of a table that is no
-- partition; off when capture is off already)
CREATE ROLE bh_regress_noset;
SET ROLE bh_regress_noset;
SELECT regress_err($$SET bh_audit.enabled = off$$);
RESET ROLE;
DROP ROLE bh_regress_noset;
CREATE FUNCTION pg_temp.try_off() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    SET bh_audit.enabled = off;
    RETURN 1;
EXCEPTION WHEN object_in_use THEN RETURN 0;
END $$;
BEGIN;
WITH u AS (UPDATE public.rb22 SET pat = pat RETURNING id)
SELECT pg_temp.try_off() AS switched FROM (SELECT count(*) FROM u) s;
SHOW bh_audit.enabled;
ROLLBACK;
CREATE TABLE public.rbq22 (id int, pat text, region int);
SELECT regress_err($$ALTER TABLE public.rbp22 DETACH PARTITION public.rbq22$$);
SET bh_audit.enabled = off;
BEGIN;
SET LOCAL bh_audit.enabled = off;
ROLLBACK;
SET bh_audit.enabled = on;
-- a function switching capture off by its SET clause, called three times
-- in a transaction rolled back: one change
CREATE FUNCTION pg_temp.quiet_read() RETURNS bigint LANGUAGE sql
    SET bh_audit.enabled = off AS 'SELECT count(*) FROM public.rb22';
BEGIN;
SELECT pg_temp.quiet_read(), pg_temp.quiet_read(), pg_temp.quiet_read();
ROLLBACK;
-- ... also each call in a savepoint of its own (a block with EXCEPTION)
BEGIN;
DO $$BEGIN
    FOR i IN 1..5 LOOP
        BEGIN PERFORM pg_temp.quiet_read(); EXCEPTION WHEN others THEN NULL; END;
    END LOOP;
END $$;
ROLLBACK;
-- a function created with the clause (PostgreSQL applies it while checking
-- the body, which reads nothing), rolled back: nothing
BEGIN;
CREATE FUNCTION pg_temp.quiet_count() RETURNS bigint LANGUAGE sql
    SET bh_audit.enabled = off AS 'SELECT count(*) FROM public.rb22';
ROLLBACK;
DROP TABLE public.rbq22;
-- a tagging and a switch on, rolled back: nothing
BEGIN;
SELECT bh_audit.untag_table('public.rb22');
SELECT bh_audit.tag_table('public.rb22', 'RB', 'id', 'pat');
ROLLBACK;
SET bh_audit.enabled = off;
BEGIN;
SET LOCAL bh_audit.enabled = on;
ROLLBACK;
-- a change that commits carries no such mark
SET bh_audit.enabled = on;
SHOW bh_audit.enabled;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_type, action, resource_id, event -> 'metadata' ->> 'change' AS change,
       event -> 'metadata' ->> 'value' AS value, event -> 'metadata' -> 'rolled_back' AS rolled_back
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM public.mark22) AND resource_type IN ('AuditConfiguration', 'RB', 'RBP')
   AND NOT (resource_type IN ('RB', 'RBP') AND action IN ('CREATE', 'READ'))
 ORDER BY event -> 'metadata' ? 'rolled_back' DESC, seq;
-- the rolled-back forms are valid events
SELECT count(*) AS invalid FROM bh_audit.events
 WHERE seq > (SELECT seq FROM public.mark22) AND NOT bh_audit.validate_event(event);
SELECT tbl, resource_type, patient_column FROM bh_audit.tagged_tables WHERE resource_type IN ('RB', 'RBP') ORDER BY 1;
SELECT bh_audit.untag_table('public.rb22');
SELECT bh_audit.untag_table('public.rbp22');
DROP TABLE public.rb22, public.rbp22, public.mark22;

-- ... also when the statement that made the change fails after it took
-- effect: a DETACH whose ddl_command_end event trigger reads the detached
-- partition, then fails; an untag_table() in a statement failing later; a
-- set_config() by the event trigger of a CREATE FUNCTION whose own SET
-- clause PostgreSQL does not apply (check_function_bodies off, as pg_dump's
-- scripts set it, or a language without a validator).  A DETACH refused
-- before it was done (the foreign-key check, after PostgreSQL took the
-- partition out of its parent) leaves nothing; nor does an untag_table()
-- in a statement failing before it runs.
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TABLE public.mark22 AS SELECT max(seq) AS seq FROM bh_audit.events;
CREATE TABLE public.rc22 (id int, pat text, region int, PRIMARY KEY (id, region))
    PARTITION BY LIST (region);
CREATE TABLE public.rc22_1 PARTITION OF public.rc22 FOR VALUES IN (1);
CREATE TABLE public.rc22_2 PARTITION OF public.rc22 FOR VALUES IN (2);
CREATE TABLE public.rcref22 (id int, region int, FOREIGN KEY (id, region) REFERENCES public.rc22);
CREATE TABLE public.rd22 (id int, pat text);
CREATE TABLE public.zero22 (n int);
INSERT INTO public.zero22 VALUES (0);
SELECT bh_audit.tag_table('public.rc22', 'RC', 'id', 'pat');
SELECT bh_audit.tag_table('public.rd22', 'RD', 'id', 'pat');
INSERT INTO public.rc22 VALUES (1, 'q1', 1), (5, 'q5', 2);
INSERT INTO public.rcref22 VALUES (1, 1);
INSERT INTO public.rd22 VALUES (7, 'p7');
CREATE FUNCTION public.after_detach22() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM count(*) FROM public.rc22_2 WHERE pat = 'q5';
    RAISE EXCEPTION 'no';
END $$;
CREATE EVENT TRIGGER after_detach22 ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION public.after_detach22();
SELECT regress_err($$ALTER TABLE public.rc22 DETACH PARTITION public.rc22_2$$);
DROP EVENT TRIGGER after_detach22;
SELECT regress_err($$ALTER TABLE public.rc22 DETACH PARTITION public.rc22_1$$);
SELECT regress_err($$SELECT bh_audit.untag_table('public.rd22'), 1/0$$);
SELECT regress_err($$SELECT bh_audit.untag_table('public.rd22'), 1/n FROM public.zero22$$);
CREATE FUNCTION public.after_create22() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('bh_audit.enabled', 'off', false);
    PERFORM pat FROM public.rd22 WHERE id = 7;
END $$;
CREATE EVENT TRIGGER after_create22 ON ddl_command_end WHEN TAG IN ('CREATE FUNCTION')
    EXECUTE FUNCTION public.after_create22();
BEGIN;
SET LOCAL check_function_bodies = off;
CREATE FUNCTION pg_temp.h1() RETURNS int LANGUAGE sql SET bh_audit.enabled = off AS $$SELECT 1$$;
SHOW bh_audit.enabled;
ROLLBACK;
BEGIN;
CREATE FUNCTION pg_temp.h2() RETURNS int LANGUAGE sql SET bh_audit.enabled = off AS $$SELECT 2$$;
SHOW bh_audit.enabled;
ROLLBACK;
CREATE LANGUAGE plnoval22 HANDLER plpgsql_call_handler;
BEGIN;
CREATE FUNCTION pg_temp.h3() RETURNS int LANGUAGE plnoval22 SET bh_audit.enabled = off AS $$BEGIN RETURN 3; END$$;
SHOW bh_audit.enabled;
ROLLBACK;
DROP EVENT TRIGGER after_create22;
DROP LANGUAGE plnoval22;
SHOW bh_audit.enabled;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_id, event -> 'metadata' ->> 'change' AS change,
       event -> 'metadata' ->> 'partition' AS partition, event -> 'metadata' ->> 'value' AS value,
       event -> 'metadata' -> 'rolled_back' AS rolled_back
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM public.mark22) AND resource_type = 'AuditConfiguration'
   AND event -> 'metadata' ->> 'change' <> 'tag_table'
 ORDER BY seq;
SELECT count(*) AS invalid FROM bh_audit.events
 WHERE seq > (SELECT seq FROM public.mark22) AND NOT bh_audit.validate_event(event);
SELECT tbl FROM bh_audit.tagged_tables WHERE resource_type IN ('RC', 'RD') ORDER BY 1;
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'public.rc22'::regclass;
DROP FUNCTION public.after_detach22(), public.after_create22();
DROP TABLE public.rcref22;
SELECT bh_audit.untag_table('public.rc22');
SELECT bh_audit.untag_table('public.rd22');
DROP TABLE public.rc22, public.rd22, public.zero22, public.mark22;
