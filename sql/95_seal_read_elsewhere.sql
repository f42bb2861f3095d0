-- bh_audit.seal() in a REPEATABLE READ transaction: the transaction's first
-- read of the ledger after the call warns (sql/82).  A read is not only a
-- statement that starts an executor on bh_audit.events in this backend:
-- a FETCH from a cursor declared on the ledger before the call reads it
-- after the call, under a snapshot older still, and misses the events
-- the call sealed.
SELECT bh_audit.seal() >= 0 AS sealed;
\set VERBOSITY default
\i test/regress/seal_hold_functions.sql
\i test/regress/seal_hold.sql
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
