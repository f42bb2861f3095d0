-- bh_audit.seal() in a REPEATABLE READ transaction: the transaction's first
-- read of the ledger after the call warns (sql/82), a function's statement
-- included: a user's event trigger is such a function.  The DDL that
-- tag_table() and untag_table() run themselves (creating and dropping the
-- capture triggers) fires no event trigger (sql/99_own_ddl_user_code_role)
-- and reads nothing of the user's: the read of an event trigger fired by
-- the user's own DDL later in the same transaction is the first one, and
-- is told.
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

-- tag_table()'s own DDL fires no event trigger: no read, no warning; the
-- user's ALTER TABLE after it in the transaction: one warning
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bh_audit.seal() >= 0 AS sealed;
SET LOCAL seal_ddl.review = on;
SELECT count(*) AS tagged FROM bh_audit.tag_table('seal_ddl_pat', 'Patient', 'id');
ALTER TABLE seal_ddl_other ADD COLUMN q text;
COMMIT;

-- untag_table()'s neither
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bh_audit.seal() >= 0 AS sealed;
SET LOCAL seal_ddl.review = on;
SELECT count(*) AS untagged FROM bh_audit.untag_table('seal_ddl_pat');
COMMIT;
DROP EVENT TRIGGER seal_ddl_review;

\set VERBOSITY terse
DROP FUNCTION seal_ddl_review();
DROP TABLE seal_ddl_pat, seal_ddl_other;
