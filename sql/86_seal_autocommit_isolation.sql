-- bh_audit.seal() in autocommit, under default_transaction_isolation
-- REPEATABLE READ or SERIALIZABLE: its transaction ends with the call, and
-- the next statement, in a transaction of its own, sees what it sealed.
-- Nothing is said (sql-reference.md: in autocommit the statements after
-- the call see the events).  Two statements sent as one string run in one
-- transaction, and so do the statements of a DO block or of a function:
-- there the later ones do not see them, and the first of them that reads
-- the ledger warns.
SELECT bh_audit.seal() >= 0 AS sealed;
\set VERBOSITY default
\i test/regress/seal_hold_functions.sql
SET default_transaction_isolation = 'repeatable read';
SELECT bh_audit.emit('OTHER', 'SealAutoRR') IS NOT NULL AS queued;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealAutoRR';
SET default_transaction_isolation = 'serializable';
SELECT bh_audit.emit('OTHER', 'SealAutoSer') IS NOT NULL AS queued;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealAutoSer';
-- one string, one transaction: the count does not see the event; it warns
\i test/regress/seal_hold.sql
SELECT bh_audit.emit('OTHER', 'SealAutoOne') IS NOT NULL AS queued;
SELECT bh_audit.seal() >= 0 AS sealed \; SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealAutoOne';
-- a DO block: its statements after the call read the transaction's snapshot
\i test/regress/seal_hold.sql
SELECT bh_audit.emit('OTHER', 'SealAutoDo') IS NOT NULL AS queued;
DO $$
BEGIN
	PERFORM bh_audit.seal();
	RAISE NOTICE 'seen in the block: %',
		(SELECT count(*) FROM bh_audit.events WHERE resource_type = 'SealAutoDo');
END $$;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealAutoDo';
-- a function the client's statement calls: its later statements share the
-- transaction too; its read warns
CREATE FUNCTION seal_then_count(t text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
	PERFORM bh_audit.seal();
	RETURN (SELECT count(*) FROM bh_audit.events WHERE resource_type = t);
END $$;
\i test/regress/seal_hold.sql
SELECT bh_audit.emit('OTHER', 'SealAutoFn') IS NOT NULL AS queued;
SELECT seal_then_count('SealAutoFn') AS seen_in_function;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealAutoFn';
DROP FUNCTION seal_then_count(text);
-- EXECUTE of a prepared call, in autocommit: the call is the whole
-- transaction, as when sent itself; nothing is said
PREPARE seal_prepared AS SELECT bh_audit.seal() >= 0 AS sealed;
SELECT bh_audit.emit('OTHER', 'SealAutoExec') IS NOT NULL AS queued;
EXECUTE seal_prepared;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealAutoExec';
DEALLOCATE seal_prepared;
RESET default_transaction_isolation;
\set VERBOSITY terse
DROP FUNCTION public.seal_hold_until_waited(), public.seal_hold_taken();
