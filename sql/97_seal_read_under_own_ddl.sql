-- bh_audit.seal() in a REPEATABLE READ transaction: the transaction's first
-- read of the ledger after the call warns (sql/82), a function's statement
-- included.  A user's event trigger is such a function, also when it fires
-- for the DDL that tag_table() and untag_table() run themselves (creating
-- and dropping the capture triggers): its read misses the sealed events as
-- any other does, and must be told.  The extension's own statements are
-- not reads of the user's; what a user's code does while they run is.
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TABLE seal_ddl_pat (id int);
CREATE FUNCTION seal_ddl_review() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('seal_ddl.review', true) = 'on' THEN
    PERFORM count(*) FROM bh_audit.events WHERE resource_type = 'SealDdl';
    RAISE NOTICE 'reviewed the ledger at %', tg_tag;
  END IF;
END $$;
CREATE EVENT TRIGGER seal_ddl_review ON ddl_command_end
  EXECUTE FUNCTION seal_ddl_review();
\set VERBOSITY default

-- the event trigger's read after a DDL statement of the user's: one warning
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bh_audit.seal() >= 0 AS sealed;
SET LOCAL seal_ddl.review = on;
CREATE TABLE seal_ddl_other (id int);
ALTER TABLE seal_ddl_other ADD COLUMN p text;
COMMIT;

-- fired by tag_table()'s own DDL: one warning too, at the first
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bh_audit.seal() >= 0 AS sealed;
SET LOCAL seal_ddl.review = on;
SELECT count(*) AS tagged FROM bh_audit.tag_table('seal_ddl_pat', 'Patient', 'id');
COMMIT;

-- fired by untag_table()'s: one warning
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bh_audit.seal() >= 0 AS sealed;
SET LOCAL seal_ddl.review = on;
SELECT count(*) AS untagged FROM bh_audit.untag_table('seal_ddl_pat');
COMMIT;

\set VERBOSITY terse
DROP EVENT TRIGGER seal_ddl_review;
DROP FUNCTION seal_ddl_review();
DROP TABLE seal_ddl_pat, seal_ddl_other;
