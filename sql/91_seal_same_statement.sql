-- bh_audit.seal() in autocommit under default_transaction_isolation
-- REPEATABLE READ: a statement that calls seal() and then, in the same
-- statement, calls a function that reads the ledger (an access review:
-- a VOLATILE function, whose statements take a new snapshot in READ
-- COMMITTED) shares the call's transaction; the function does not see
-- what was sealed.  Its read must warn, as where a function calls seal()
-- and reads after it (sql/86); in READ COMMITTED it sees the events.
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE FUNCTION review_count(t text) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RETURN (SELECT count(*) FROM bh_audit.events WHERE resource_type = t);
END $$;
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
-- READ COMMITTED: the review sees the event sealed before it
SELECT bh_audit.emit('OTHER', 'SealSameRC') IS NOT NULL AS queued;
SELECT bh_audit.seal() >= 0 AS sealed, review_count('SealSameRC') AS seen;
-- REPEATABLE READ, autocommit: the review misses it; its read warns
SET default_transaction_isolation = 'repeatable read';
\! PGAPPNAME=bh_seal_hold psql -X -q -d contrib_regression -c 'BEGIN' -c 'LOCK TABLE bh_audit.events IN EXCLUSIVE MODE' -c 'SELECT public.seal_hold_until_waited()' -c 'COMMIT' >/dev/null 2>&1 &
SELECT public.seal_hold_taken() AS sealer_held;
SELECT bh_audit.emit('OTHER', 'SealSameRR') IS NOT NULL AS queued;
SELECT bh_audit.seal() >= 0 AS sealed, review_count('SealSameRR') AS seen;
\! PGAPPNAME=bh_seal_hold psql -X -q -d contrib_regression -c 'BEGIN' -c 'LOCK TABLE bh_audit.events IN EXCLUSIVE MODE' -c 'SELECT public.seal_hold_until_waited()' -c 'COMMIT' >/dev/null 2>&1 &
SELECT public.seal_hold_taken() AS sealer_held;
SELECT bh_audit.emit('OTHER', 'SealSameLat') IS NOT NULL AS queued;
SELECT s >= 0 AS sealed, r AS seen
  FROM bh_audit.seal() s, LATERAL review_count('SealSameLat') r;
SELECT count(*) AS seen_after FROM bh_audit.events
 WHERE resource_type IN ('SealSameRR', 'SealSameLat');
RESET default_transaction_isolation;
\set VERBOSITY terse
DROP FUNCTION review_count(text);
DROP FUNCTION public.seal_hold_until_waited(), public.seal_hold_taken();
