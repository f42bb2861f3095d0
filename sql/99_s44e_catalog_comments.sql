-- The catalog comments of bh_audit's functions are their description in
-- psql (\df+, \dd): chain_failures()'s must name every failure_type it
-- reports (hash_mismatch, chain_gap, seq_gap, column_mismatch,
-- head_mismatch: docs/sql-reference.md), not only three of them.
SELECT t AS failure_type,
       strpos(obj_description('bh_audit.chain_failures(bigint, bigint, text)'::regprocedure,
                              'pg_proc'), t) > 0 AS named
  FROM unnest(ARRAY['hash_mismatch', 'chain_gap', 'seq_gap', 'column_mismatch',
                    'head_mismatch']) AS t;
