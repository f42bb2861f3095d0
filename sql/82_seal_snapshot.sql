-- bh_audit.seal() in a REPEATABLE READ or SERIALIZABLE transaction: the
-- transaction reads the ledger as of its snapshot, taken at its first
-- statement, so the events the sealer chains after it (those the call
-- waited for among them) are not in the results of an access review run
-- after it in the same transaction.  The call warns; in READ COMMITTED
-- (and in autocommit) the next statement sees them, and nothing is said.
SELECT bh_audit.seal() >= 0 AS sealed;
\set VERBOSITY default
SELECT bh_audit.emit('OTHER', 'SealSnapRR') IS NOT NULL AS queued;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bh_audit.seal() >= 0 AS sealed;
COMMIT;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealSnapRR';
-- the snapshot taken before the call, by an earlier statement
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT count(*) >= 0 AS snapshot_taken FROM bh_audit.events;
SELECT bh_audit.seal() >= 0 AS sealed;
COMMIT;
SELECT bh_audit.emit('OTHER', 'SealSnapRC') IS NOT NULL AS queued;
BEGIN ISOLATION LEVEL READ COMMITTED;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealSnapRC';
COMMIT;
\set VERBOSITY terse
