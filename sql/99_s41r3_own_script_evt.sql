-- 21cd604 made only bh_audit's own scripts exempt from its guards of the
-- extension's objects, so that a statement an event trigger runs while
-- another extension's script runs (CREATE EXTENSION citext running ALTER
-- SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1) is refused
-- (sql/99_s41e2_queue_sequence_other_extension).  The same event trigger
-- firing for a statement of bh_audit's own script (CREATE EXTENSION
-- bh_audit: its CREATE FUNCTION statements) is still exempt
-- (config_guard.c, bh_in_own_script(): any statement while the script
-- runs): the install completes with the queue's sequence counting down,
-- and every later tag_table() (and write of a tagged table) fails.  It
-- must be refused as in another extension's script: the CREATE EXTENSION
-- fails, nothing is installed.
CREATE DATABASE s41r3_evt TEMPLATE template0;
\c s41r3_evt
CREATE FUNCTION public.evt() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
  r regclass := to_regclass('bh_audit.queue_id_seq');
BEGIN
  IF r IS NOT NULL THEN
    IF (SELECT seqincrement FROM pg_sequence WHERE seqrelid = r) > 0 THEN
      ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1;
    END IF;
  END IF;
END $$;
CREATE EVENT TRIGGER evt ON ddl_command_end WHEN TAG IN ('CREATE FUNCTION')
  EXECUTE FUNCTION public.evt();
\set VERBOSITY terse
CREATE EXTENSION bh_audit;
\set VERBOSITY default
DROP EVENT TRIGGER evt;
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'bh_audit';
SELECT seqincrement FROM pg_sequence
 WHERE seqrelid = to_regclass('bh_audit.queue_id_seq');
\c contrib_regression
DROP DATABASE s41r3_evt;
