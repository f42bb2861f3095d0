-- bh_audit.seal() in a REPEATABLE READ or SERIALIZABLE transaction: the
-- transaction reads the ledger as of its snapshot, taken at its first
-- statement, so the events the sealer chains after it (those the call
-- waited for among them) are not in the results of an access review run
-- after it in the same transaction.  The call only remembers it; the
-- transaction's first read of the ledger after it warns, once: a query
-- (directly, through a view, COPY) or a function reading the ledger back
-- (verify_chain, chain_failures, chain_head, export_jsonl).  In READ
-- COMMITTED (and in autocommit) the next statement sees them, and nothing
-- is said; nor where nothing reads the ledger after the call.
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE VIEW seal_snap_review AS
  SELECT resource_type FROM bh_audit.events WHERE action = 'OTHER';
\set VERBOSITY default
\i test/regress/seal_hold_functions.sql
\i test/regress/seal_hold.sql
SELECT bh_audit.emit('OTHER', 'SealSnapRR') IS NOT NULL AS queued;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bh_audit.seal() >= 0 AS sealed;
-- the review misses the event: a warning, once
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealSnapRR';
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealSnapRR';
COMMIT;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealSnapRR';
-- the snapshot taken before the call, by an earlier statement; the read
-- after it through a view
\i test/regress/seal_hold.sql
SELECT bh_audit.emit('OTHER', 'SealSnapView') IS NOT NULL AS queued;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT count(*) >= 0 AS snapshot_taken FROM bh_audit.events;
SELECT bh_audit.seal() >= 0 AS sealed;
-- EXPLAIN reads nothing: said at the read
EXPLAIN (COSTS OFF) SELECT count(*) FROM seal_snap_review;
SELECT count(*) AS seen FROM seal_snap_review WHERE resource_type = 'SealSnapView';
COMMIT;
SELECT count(*) AS seen FROM seal_snap_review WHERE resource_type = 'SealSnapView';
-- the functions that read the ledger back, each in a transaction of its own
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT result FROM bh_audit.verify_chain();
COMMIT;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS failures FROM bh_audit.chain_failures();
COMMIT;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT (bh_audit.chain_head()).seq > 0 AS has_head;
COMMIT;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) > 0 AS exported FROM bh_audit.export_jsonl();
COMMIT;
-- COPY of the ledger itself (no executor)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bh_audit.seal() >= 0 AS sealed;
\o /dev/null
COPY bh_audit.events (seq) TO STDOUT;
\o
COMMIT;
-- a savepoint rolled back does not undo what was sealed
BEGIN ISOLATION LEVEL REPEATABLE READ;
SAVEPOINT s;
SELECT bh_audit.seal() >= 0 AS sealed;
ROLLBACK TO SAVEPOINT s;
SELECT count(*) >= 0 AS read FROM bh_audit.events;
COMMIT;
-- nothing read after the call: nothing said, in that transaction or the next
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) >= 0 AS read FROM bh_audit.events;
SELECT bh_audit.seal() >= 0 AS sealed;
COMMIT;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) >= 0 AS read FROM bh_audit.events;
COMMIT;
SELECT bh_audit.emit('OTHER', 'SealSnapRC') IS NOT NULL AS queued;
BEGIN ISOLATION LEVEL READ COMMITTED;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealSnapRC';
COMMIT;
\set VERBOSITY terse
DROP VIEW seal_snap_review;
DROP FUNCTION public.seal_hold_until_waited(), public.seal_hold_taken();
