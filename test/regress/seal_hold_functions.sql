-- test/regress/seal_hold_functions.sql: included (\i) by the pg_regress tests
-- that hold the sealer back around a seal() (sql/82, 86, 91, 95), with
-- test/regress/seal_hold.sql, which starts one hold.  Each test drops the
-- two functions at its end.
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
