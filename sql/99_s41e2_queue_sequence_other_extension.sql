-- ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY a negative number is
-- refused for its owner, a superuser, too, outside the extension's
-- scripts (own_guard.c, bh_check_own_sequence_altered; docs/operations.md,
-- docs/sql-reference.md).  The exemption is "creating_extension", true
-- while ANY extension's script runs: an ALTER SEQUENCE run then (an event
-- trigger on ddl_command_end fired by a command of another extension's
-- script, here citext's CREATE FUNCTION) is accepted, and from then on
-- every write of a tagged table (and tag_table() itself) fails at its
-- commit.  Expected: refused (55000), the CREATE EXTENSION with it;
-- nothing changes; a write of a tagged table goes on.  (The same
-- exemption was in the utility hook's check before 56eeb98, and is in
-- own_guard.c's other guards of the extension's objects.)
CREATE TABLE public.s41e2_qso (id int PRIMARY KEY, p text);
SELECT bh_audit.tag_table('public.s41e2_qso', 'Qso', 'id', 'p');
SELECT seqincrement FROM pg_sequence WHERE seqrelid = 'bh_audit.queue_id_seq'::regclass;
CREATE FUNCTION public.s41e2_qso_evt() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT seqincrement FROM pg_sequence
       WHERE seqrelid = 'bh_audit.queue_id_seq'::regclass) > 0 THEN
    ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1;
  END IF;
END $$;
CREATE EVENT TRIGGER s41e2_qso_evt ON ddl_command_end WHEN TAG IN ('CREATE FUNCTION')
  EXECUTE FUNCTION public.s41e2_qso_evt();
SELECT regress_err($$CREATE EXTENSION citext$$);
DROP EVENT TRIGGER s41e2_qso_evt;
DROP FUNCTION public.s41e2_qso_evt();
-- nothing changed
SELECT seqincrement FROM pg_sequence WHERE seqrelid = 'bh_audit.queue_id_seq'::regclass;
SELECT count(*) AS citext FROM pg_extension WHERE extname = 'citext';
-- a write of a tagged table goes on
INSERT INTO public.s41e2_qso VALUES (1, 'a');
SELECT count(*) FROM public.s41e2_qso;
-- put back for the later files whatever happened
DROP EXTENSION IF EXISTS citext;
ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY 1;
SELECT bh_audit.untag_table('public.s41e2_qso');
DROP TABLE public.s41e2_qso;
