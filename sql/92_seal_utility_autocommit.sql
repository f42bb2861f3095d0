-- bh_audit.seal() in autocommit under default_transaction_isolation
-- REPEATABLE READ, called by the query of a client's utility statement
-- sent alone (COPY (query) TO, EXPLAIN ANALYZE, CREATE TABLE AS): the
-- call is the whole transaction, as a plain SELECT's (sql/86), and the
-- next statement sees what it sealed.  Nothing must be said.
SELECT bh_audit.seal() >= 0 AS sealed;
\set VERBOSITY default
SET default_transaction_isolation = 'repeatable read';
SELECT bh_audit.emit('OTHER', 'SealUtilCopy') IS NOT NULL AS queued;
COPY (SELECT bh_audit.seal() >= 0 AS sealed) TO STDOUT;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealUtilCopy';
SELECT bh_audit.emit('OTHER', 'SealUtilCtas') IS NOT NULL AS queued;
CREATE TEMP TABLE seal_ctas AS SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealUtilCtas';
SELECT bh_audit.emit('OTHER', 'SealUtilExplain') IS NOT NULL AS queued;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS seen FROM bh_audit.events WHERE resource_type = 'SealUtilExplain';
RESET default_transaction_isolation;
\set VERBOSITY terse
