-- ALTER TABLE ... ENABLE TRIGGER ALL / USER (what a restore with
-- --disable-triggers runs after its rows) leaves bh_audit's capture
-- triggers, and the ALWAYS triggers of its own tables, ENABLE ALWAYS, in
-- the same statement: it weakens nothing, so a table's owner may run it,
-- nothing is recorded for a tagged table (as for ENABLE ALWAYS TRIGGER),
-- and capture_status() is clean after it.  A capture trigger disabled,
-- or enabled REPLICA or on the origin, before it is ALWAYS again.  Other
-- triggers get PostgreSQL's ENABLE (origin).  A later subcommand of the
-- same statement naming a capture trigger (DISABLE, ENABLE REPLICA,
-- ENABLE) or DISABLE TRIGGER ALL keeps its effect and its check (refused
-- for the owner, recorded for a superuser).  Only the capture triggers
-- the statement reaches change: ONLY stops at the partitioned table, a
-- parent that is not tagged reaches a tagged partition's capture trigger
-- only if it is a clone of the parent's.  On the extension's own tables
-- ENABLE TRIGGER ALL is recorded as enabling their triggers, the one
-- installed on the origin (queue_restored, tags_changed) stays so.
\set VERBOSITY terse
CREATE SCHEMA s45a;
CREATE ROLE s45a_owner;
GRANT USAGE, CREATE ON SCHEMA s45a TO s45a_owner;
CREATE FUNCTION s45a.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
CREATE TABLE s45a.notes (id int PRIMARY KEY, patient text);
CREATE TRIGGER s45a_user AFTER INSERT ON s45a.notes FOR EACH ROW EXECUTE FUNCTION s45a.noop();
SELECT bh_audit.tag_table('s45a.notes', 'S45aNote', 'id', 'patient') IS NOT NULL AS tagged;
ALTER TABLE s45a.notes OWNER TO s45a_owner;
-- a tagged partitioned table, with a partition partitioned in turn
CREATE TABLE s45a.parted (id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE s45a.parted_1 PARTITION OF s45a.parted FOR VALUES FROM (0) TO (10);
CREATE TABLE s45a.parted_2 PARTITION OF s45a.parted FOR VALUES FROM (10) TO (20)
  PARTITION BY RANGE (id);
CREATE TABLE s45a.parted_2a PARTITION OF s45a.parted_2 FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('s45a.parted', 'S45aParted', 'id', 'patient') IS NOT NULL AS tagged;
ALTER TABLE s45a.parted OWNER TO s45a_owner;
ALTER TABLE s45a.parted_1 OWNER TO s45a_owner;
ALTER TABLE s45a.parted_2 OWNER TO s45a_owner;
ALTER TABLE s45a.parted_2a OWNER TO s45a_owner;
-- a partitioned table that is not tagged, above a tagged partition
CREATE TABLE s45a.up (id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE s45a.up_1 PARTITION OF s45a.up FOR VALUES FROM (0) TO (10);
CREATE TRIGGER s45a_up_user AFTER INSERT ON s45a.up FOR EACH ROW EXECUTE FUNCTION s45a.noop();
SELECT bh_audit.tag_table('s45a.up_1', 'S45aUp', 'id', 'patient') IS NOT NULL AS tagged;
ALTER TABLE s45a.up OWNER TO s45a_owner;
ALTER TABLE s45a.up_1 OWNER TO s45a_owner;
GRANT SELECT ON ALL TABLES IN SCHEMA s45a TO PUBLIC;

-- each trigger of the tables (tgenabled: A always, O origin, R replica,
-- D disabled)
CREATE FUNCTION pg_temp.triggers(VARIADIC rels regclass[]) RETURNS TABLE (tbl regclass, triggers text)
LANGUAGE sql AS $$
SELECT t.tgrelid::regclass, string_agg(t.tgname || '=' || t.tgenabled::text, ' ' ORDER BY t.tgname)
  FROM pg_trigger t
 WHERE t.tgrelid = ANY (rels) AND NOT t.tgisinternal
 GROUP BY t.tgrelid ORDER BY t.tgrelid::regclass::text $$;
-- the configuration events held by this transaction (read as the
-- superuser: the owner's statements too)
CREATE FUNCTION pg_temp.config_events() RETURNS TABLE (id text, resource text, change text, trig text)
LANGUAGE sql SECURITY DEFINER AS $$
SELECT e ->> 'event_id', e -> 'resource' ->> 'id', e -> 'metadata' ->> 'change',
       e -> 'metadata' ->> 'trigger'
  FROM (SELECT e FROM bh_audit.pending_events() e
        UNION ALL
        SELECT unnest(events) FROM bh_audit.queue) x
 WHERE e -> 'resource' ->> 'type' = 'AuditConfiguration' $$;
-- the statement's outcome, and the events it recorded (none: one row of
-- NULLs)
CREATE FUNCTION pg_temp.recorded(stmt text) RETURNS TABLE (res text, resource text, change text, trig text)
LANGUAGE plpgsql AS $$
DECLARE
	before text[] := ARRAY(SELECT c.id FROM pg_temp.config_events() c);
BEGIN
	res := regress_err(stmt);
	FOR resource, change, trig IN
		SELECT c.resource, c.change, c.trig FROM pg_temp.config_events() c
		 WHERE c.id <> ALL (before) ORDER BY c.resource, c.change
	LOOP
		RETURN NEXT;
	END LOOP;
	IF NOT FOUND THEN
		resource := NULL;
		change := NULL;
		trig := NULL;
		RETURN NEXT;
	END IF;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.triggers(regclass[]), pg_temp.recorded(text),
  pg_temp.config_events() TO PUBLIC;
SELECT * FROM pg_temp.triggers('s45a.notes', 's45a.parted', 's45a.parted_1', 's45a.parted_2',
                               's45a.parted_2a', 's45a.up', 's45a.up_1');
SELECT * FROM bh_audit.capture_status() WHERE tbl::text LIKE 's45a.%';

-- 1. The owner: ENABLE TRIGGER ALL and USER are accepted and recorded
-- nothing; the capture triggers stay ALWAYS, the owner's trigger is
-- enabled on the origin (as PostgreSQL does).
SET ROLE s45a_owner;
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes DISABLE TRIGGER s45a_user');
SELECT * FROM pg_temp.triggers('s45a.notes');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('s45a.notes');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE REPLICA TRIGGER s45a_user');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER USER');
SELECT * FROM pg_temp.triggers('s45a.notes');
-- the naming forms still weaken, and are refused; so is a statement with
-- ENABLE TRIGGER ALL and a later subcommand that weakens or disables
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER bh_audit_capture_row');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE REPLICA TRIGGER bh_audit_capture_truncate');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER ALL, DISABLE TRIGGER bh_audit_capture_row');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER ALL, ENABLE REPLICA TRIGGER bh_audit_capture_row');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER USER, ENABLE TRIGGER bh_audit_capture_truncate');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER ALL, DISABLE TRIGGER USER');
-- a tagged partitioned table, its partitions (ONLY too) and a parent that
-- is not tagged: accepted
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.parted ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.recorded('ALTER TABLE ONLY s45a.parted ENABLE TRIGGER USER');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.parted_2 ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.up ENABLE TRIGGER ALL');
RESET ROLE;
SELECT * FROM pg_temp.triggers('s45a.notes', 's45a.parted', 's45a.parted_1', 's45a.parted_2',
                               's45a.parted_2a', 's45a.up', 's45a.up_1');
SELECT * FROM bh_audit.capture_status() WHERE tbl::text LIKE 's45a.%';

-- 2. A superuser: DISABLE TRIGGER ALL is recorded and capture_status()
-- lists the gap; ENABLE TRIGGER ALL makes them ALWAYS, unrecorded, and
-- capture_status() is clean.
BEGIN;
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes DISABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('s45a.notes');
SELECT * FROM bh_audit.capture_status() WHERE tbl::text LIKE 's45a.%';
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('s45a.notes');
SELECT * FROM bh_audit.capture_status() WHERE tbl::text LIKE 's45a.%';
-- weakened by name (recorded), then ENABLE TRIGGER USER: ALWAYS again
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE REPLICA TRIGGER bh_audit_capture_row');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER bh_audit_capture_truncate');
SELECT * FROM pg_temp.triggers('s45a.notes');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER USER');
SELECT * FROM pg_temp.triggers('s45a.notes');
SELECT * FROM bh_audit.capture_status() WHERE tbl::text LIKE 's45a.%';
ROLLBACK;

-- 3. Several subcommands: a later one naming a capture trigger, or
-- DISABLE TRIGGER ALL, keeps its effect and is recorded; an earlier one is
-- recorded, and ENABLE TRIGGER ALL after it leaves the trigger ALWAYS.
BEGIN;
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER ALL, DISABLE TRIGGER bh_audit_capture_row');
SELECT * FROM pg_temp.triggers('s45a.notes');
SELECT * FROM bh_audit.capture_status() WHERE tbl::text LIKE 's45a.%';
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER ALL, ENABLE REPLICA TRIGGER bh_audit_capture_row');
SELECT * FROM pg_temp.triggers('s45a.notes');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER USER, ENABLE TRIGGER bh_audit_capture_truncate');
SELECT * FROM pg_temp.triggers('s45a.notes');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes ENABLE TRIGGER ALL, DISABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('s45a.notes');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes DISABLE TRIGGER bh_audit_capture_row, ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('s45a.notes');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.notes DISABLE TRIGGER ALL, ENABLE TRIGGER USER, ENABLE REPLICA TRIGGER s45a_user');
SELECT * FROM pg_temp.triggers('s45a.notes');
SELECT * FROM bh_audit.capture_status() WHERE tbl::text LIKE 's45a.%';
ROLLBACK;

-- 4. A tagged partitioned table: DISABLE TRIGGER ALL reaches the clones of
-- its row trigger; ONLY ENABLE TRIGGER ALL makes the parent's ALWAYS and
-- leaves the clones (PostgreSQL does not reach them); without ONLY they
-- are ALWAYS too.  A partition's own TRUNCATE trigger is not reached
-- through the parent.
BEGIN;
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.parted DISABLE TRIGGER ALL');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.parted_1 DISABLE TRIGGER bh_audit_capture_truncate');
SELECT * FROM pg_temp.triggers('s45a.parted', 's45a.parted_1', 's45a.parted_2', 's45a.parted_2a');
SELECT * FROM pg_temp.recorded('ALTER TABLE ONLY s45a.parted ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('s45a.parted', 's45a.parted_1', 's45a.parted_2', 's45a.parted_2a');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.parted ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('s45a.parted', 's45a.parted_1', 's45a.parted_2', 's45a.parted_2a');
SELECT * FROM bh_audit.capture_status() WHERE tbl::text LIKE 's45a.%';
-- a partition's clone weakened, then ENABLE TRIGGER ALL of the partition
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.parted_2a ENABLE REPLICA TRIGGER bh_audit_capture_row');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.parted_1 ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.parted_2a ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('s45a.parted', 's45a.parted_1', 's45a.parted_2', 's45a.parted_2a');
SELECT * FROM bh_audit.capture_status() WHERE tbl::text LIKE 's45a.%';
ROLLBACK;

-- 5. A parent that is not tagged: its ENABLE TRIGGER ALL does not reach
-- the tagged partition's own capture triggers (left as they are); once a
-- superuser replaced the partition's row trigger by one of the parent's
-- (a clone), it reaches that clone, ALWAYS after it (ONLY does not), and
-- the parent's own trigger of that name is enabled on the origin, as any
-- trigger of a table that is not tagged.
BEGIN;
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.up_1 DISABLE TRIGGER ALL');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.up ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('s45a.up', 's45a.up_1');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.up_1 ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.recorded($$CREATE OR REPLACE TRIGGER bh_audit_capture_row
  AFTER INSERT OR UPDATE OR DELETE ON s45a.up FOR EACH ROW EXECUTE FUNCTION bh_audit._capture_row()$$);
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.up DISABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('s45a.up', 's45a.up_1');
SELECT * FROM pg_temp.recorded('ALTER TABLE ONLY s45a.up ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('s45a.up', 's45a.up_1');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.up ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('s45a.up', 's45a.up_1');
-- (the parent's own trigger of that name is listed, since it was created)
SELECT * FROM bh_audit.capture_status() WHERE tbl::text LIKE 's45a.%';
-- the owner, through the parent: accepted, the clone ALWAYS
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.up ENABLE TRIGGER bh_audit_capture_row');
SET ROLE s45a_owner;
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.up ENABLE TRIGGER USER');
SELECT * FROM pg_temp.recorded('ALTER TABLE s45a.up ENABLE TRIGGER USER, ENABLE TRIGGER bh_audit_capture_row');
RESET ROLE;
SELECT * FROM pg_temp.triggers('s45a.up', 's45a.up_1');
ROLLBACK;

-- 6. The extension's own tables: ENABLE TRIGGER ALL / USER is recorded as
-- enabling their triggers; those installed ALWAYS stay so, queue_restored
-- and tags_changed on the origin; a later subcommand naming one keeps its
-- effect and its record.
BEGIN;
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.queue DISABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('bh_audit.queue');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.queue ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('bh_audit.queue');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.tags DISABLE TRIGGER USER, ENABLE TRIGGER USER');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.ledger_home ENABLE TRIGGER ALL');
SELECT * FROM pg_temp.triggers('bh_audit.tags', 'bh_audit.events', 'bh_audit.ledger_home');
SELECT * FROM bh_audit.capture_status() WHERE tbl::text LIKE 'bh_audit.%';
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.queue ENABLE TRIGGER ALL, ENABLE REPLICA TRIGGER queue_applied_skip, DISABLE TRIGGER queue_objects_only');
SELECT * FROM pg_temp.triggers('bh_audit.queue');
ROLLBACK;
SELECT * FROM pg_temp.triggers('bh_audit.queue', 'bh_audit.tags', 'bh_audit.events', 'bh_audit.ledger_home');

-- clean up
SELECT bh_audit.untag_table('s45a.notes') IS NOT NULL AS untagged;
SELECT bh_audit.untag_table('s45a.parted') IS NOT NULL AS untagged;
SELECT bh_audit.untag_table('s45a.up_1') IS NOT NULL AS untagged;
DROP SCHEMA s45a CASCADE;
DROP ROLE s45a_owner;
