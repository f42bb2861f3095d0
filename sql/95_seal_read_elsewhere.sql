-- bh_audit.seal() in a REPEATABLE READ transaction: the transaction's first
-- read of the ledger after the call warns (sql/82).  A read is not only a
-- statement that starts an executor on bh_audit.events in this backend:
-- a FETCH from a cursor declared on the ledger before the call reads it
-- after the call, under a snapshot older still, and misses the events
-- the call sealed.
SELECT bh_audit.seal() >= 0 AS sealed;
\set VERBOSITY default
-- The sealer is held back (another session's EXCLUSIVE lock on the ledger)
-- from before each event is queued until seal() waits for it, so that the
-- event is chained after the snapshot however soon the sealer would chain
-- it (it waits 50 ms after a commit wakes it; a client held up longer on a
-- loaded machine took its snapshot after the event was chained).  The
-- holder lets go once a session waits in seal(); seal_hold_taken() waits
-- until it holds the lock.
CREATE FUNCTION public.seal_hold_until_waited() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1 .. 1200 LOOP
		EXIT WHEN EXISTS (SELECT FROM pg_stat_activity
		                   WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
		                     AND wait_event_type = 'Extension');
		PERFORM pg_sleep(0.05);
		PERFORM pg_stat_clear_snapshot();
	END LOOP;
END $$;
CREATE FUNCTION public.seal_hold_taken() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1 .. 1200 LOOP
		IF EXISTS (SELECT FROM pg_locks
		            WHERE relation = 'bh_audit.events'::regclass AND mode = 'ExclusiveLock'
		              AND granted AND pid <> pg_backend_pid()) THEN
			RETURN true;
		END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
	RETURN false;
END $$;
\! PGAPPNAME=bh_seal_hold psql -X -q -d contrib_regression -c 'BEGIN' -c 'LOCK TABLE bh_audit.events IN EXCLUSIVE MODE' -c 'SELECT public.seal_hold_until_waited()' -c 'COMMIT' >/dev/null 2>&1 &
SELECT public.seal_hold_taken() AS sealer_held;
SELECT bh_audit.emit('OTHER', 'SealCursorRR') IS NOT NULL AS queued;
BEGIN ISOLATION LEVEL REPEATABLE READ;
DECLARE seal_c CURSOR FOR
  SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealCursorRR';
SELECT bh_audit.seal() >= 0 AS sealed;
-- the fetch misses the event: a warning
FETCH seal_c;
CLOSE seal_c;
COMMIT;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealCursorRR';
\set VERBOSITY terse
DROP FUNCTION public.seal_hold_until_waited(), public.seal_hold_taken();
