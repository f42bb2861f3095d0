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
\i test/regress/seal_hold_functions.sql
-- READ COMMITTED: the review sees the event sealed before it
SELECT bh_audit.emit('OTHER', 'SealSameRC') IS NOT NULL AS queued;
SELECT bh_audit.seal() >= 0 AS sealed, review_count('SealSameRC') AS seen;
-- REPEATABLE READ, autocommit: the review misses it; its read warns
SET default_transaction_isolation = 'repeatable read';
\i test/regress/seal_hold.sql
SELECT bh_audit.emit('OTHER', 'SealSameRR') IS NOT NULL AS queued;
SELECT bh_audit.seal() >= 0 AS sealed, review_count('SealSameRR') AS seen;
\i test/regress/seal_hold.sql
SELECT bh_audit.emit('OTHER', 'SealSameLat') IS NOT NULL AS queued;
SELECT s >= 0 AS sealed, r AS seen
  FROM bh_audit.seal() s, LATERAL review_count('SealSameLat') r;
SELECT count(*) AS seen_after FROM bh_audit.events
 WHERE resource_type IN ('SealSameRR', 'SealSameLat');
RESET default_transaction_isolation;
\set VERBOSITY terse
DROP FUNCTION review_count(text);
DROP FUNCTION public.seal_hold_until_waited(), public.seal_hold_taken();
