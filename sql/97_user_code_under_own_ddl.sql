-- The DDL that tag_table() and untag_table() run themselves (creating and
-- dropping the capture triggers) fires no event trigger, as PostgreSQL's
-- own subcommands fire none (sql/99_own_ddl_user_code_role): the
-- extension's own statements record nothing but the tagging.  What a
-- user's event trigger does when the user's own DDL fires it, in the same
-- transaction, is the user's: its read of a tagged table is a read (also
-- by an expression index it builds: a read by DDL), a capture trigger it
-- drops is recorded, its read of the ledger after bh_audit.seal() in a
-- REPEATABLE READ transaction is told (97_seal_read_under_own_ddl).
SELECT regress_reads.mark_now();
CREATE SCHEMA ucd;
CREATE TABLE ucd.pat (id int PRIMARY KEY, name text);
INSERT INTO ucd.pat VALUES (1, 'a'), (2, 'b');
SELECT bh_audit.tag_table('ucd.pat', 'UcdPatient', 'id', 'id');
CREATE TABLE ucd.other (id int);
CREATE TABLE ucd.more (id int);
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TABLE ucd.mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE FUNCTION ucd.review() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
  mode text := current_setting('ucd.mode', true);
  n int;
BEGIN
  IF mode = 'read' THEN
    SELECT count(*) INTO n FROM ucd.pat WHERE id = 1;
    RAISE NOTICE 'read % at %', n, tg_tag;
  ELSIF mode = 'index' THEN
    PERFORM set_config('ucd.mode', '', true);
    CREATE INDEX pat_name_x ON ucd.pat ((name || 'x'));
    RAISE NOTICE 'indexed at %', tg_tag;
  ELSIF mode = 'drop' THEN
    PERFORM set_config('ucd.mode', '', true);
    DROP TRIGGER bh_audit_capture_truncate ON ucd.pat;
    RAISE NOTICE 'dropped at %', tg_tag;
  END IF;
END $$;
CREATE EVENT TRIGGER ucd_review ON ddl_command_end EXECUTE FUNCTION ucd.review();

-- tag_table(): no firing; the user's ALTER TABLE after it: one read
BEGIN;
SET LOCAL ucd.mode = 'read';
SELECT bh_audit.tag_table('ucd.other', 'UcdOther', 'id');
ALTER TABLE ucd.other ADD COLUMN r int;
COMMIT;
SELECT action, resource_type, patient_id, outcome FROM regress_reads.reads();
-- untag_table(): no firing; then an expression index: a read by DDL
BEGIN;
SET LOCAL ucd.mode = 'index';
SELECT bh_audit.untag_table('ucd.other');
ALTER TABLE ucd.other ADD COLUMN i int;
COMMIT;
SELECT action, resource_type, patient_id, outcome, meta ->> 'statement' AS statement,
       meta ->> 'evaluated' AS evaluated FROM regress_reads.reads();
-- tag_table(): no firing; then a capture trigger dropped: recorded, as a
-- superuser's own DROP TRIGGER is
BEGIN;
SET LOCAL ucd.mode = 'drop';
SELECT bh_audit.tag_table('ucd.more', 'UcdMore', 'id');
ALTER TABLE ucd.other ADD COLUMN d int;
COMMIT;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'ucd.pat'::regclass AND NOT tgisinternal ORDER BY 1;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_id, event -> 'metadata' ->> 'change' AS change
  FROM bh_audit.events WHERE seq > (SELECT seq FROM ucd.mark)
   AND resource_type = 'AuditConfiguration' ORDER BY seq;
DROP EVENT TRIGGER ucd_review;
CREATE TRIGGER bh_audit_capture_truncate BEFORE TRUNCATE ON ucd.pat
    FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._capture_truncate();
ALTER TABLE ucd.pat ENABLE ALWAYS TRIGGER bh_audit_capture_truncate;

SELECT bh_audit.untag_table('ucd.more');
SELECT bh_audit.untag_table('ucd.pat');
\set VERBOSITY terse
DROP SCHEMA ucd CASCADE;
