-- A COPY into bh_audit.queue (a restore's rows of events still queued at
-- the dump) that fails on a line after the queue's row trigger checked it
-- (a key that is there already: the "seal them first" case of a data-only
-- restore) shows the line's number in the error's context, not its data:
-- the line is a queued event, with the ids of a patient and of the person
-- who acted.  The refusal of a non-object (sql/99_s44g_queue_check_paths)
-- showed no data already.  Rolled back: the sealer never sees these rows.
\set VERBOSITY default
BEGIN;
COPY bh_audit.queue (id, events) FROM PROGRAM $$printf '44851\t{"{\\\\"resource\\\\": {\\\\"patient_id\\\\": \\\\"s45k-token-1\\\\"}}"}\n44851\t{"{\\\\"resource\\\\": {\\\\"patient_id\\\\": \\\\"s45k-token-2\\\\"}}"}\n'$$;
ROLLBACK;
-- a COPY of another table keeps PostgreSQL's context, its line shown
CREATE TEMP TABLE s45k_plain (id bigint PRIMARY KEY, note text CHECK (note <> 'shown-2'));
BEGIN;
COPY s45k_plain FROM PROGRAM $$printf '1\tshown-1\n1\tshown-2\n'$$;
ROLLBACK;
\set VERBOSITY terse
SELECT count(*) AS s45k_rows FROM bh_audit.queue WHERE id = 44851;
