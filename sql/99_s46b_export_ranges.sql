-- export_jsonl(), verify_chain() and chain_failures() over the ranges an
-- archive takes (docs/operations.md, "Retention"): on a ledger with no
-- event yet, at the ends of the chain and past them, and across a change
-- of bh_audit.hash_algorithm, where a range's first line links to a hash
-- of the other algorithm.

-- 1. A ledger with no event yet (a database whose extension the sealer
-- does not serve: nothing is ever sealed there).
CREATE DATABASE regress_s46b_empty;
\c regress_s46b_empty
SET client_min_messages = error;
CREATE EXTENSION bh_audit;
RESET client_min_messages;
SELECT seq, event_hash, ts FROM bh_audit.chain_head();
-- nothing to scan: PASS, with no head ...
SELECT * FROM bh_audit.verify_chain();
SELECT * FROM bh_audit.verify_chain(1, 10);
SELECT count(*) AS failures FROM bh_audit.chain_failures();
-- ... unless a head is expected: it is not found (seq 0, no actual hash)
SELECT result, events_scanned, head_seq FROM bh_audit.verify_chain(expected_head => repeat('ab', 32));
SELECT seq, event_id, failure_type, expected = repeat('ab', 32) AS expected_is_given, actual
  FROM bh_audit.chain_failures(expected_head => repeat('AB', 32));
-- no line, in the SELECT list and in FROM, whole or ranged
SELECT bh_audit.export_jsonl();
SELECT count(*) AS lines FROM bh_audit.export_jsonl();
SELECT count(*) AS lines FROM bh_audit.export_jsonl(1, 5);
\c contrib_regression
DROP DATABASE regress_s46b_empty;

-- 2. A chain whose algorithm changes to sha384 and back.  (The wait for
-- the reload as in 06_verify_export.)
SELECT bh_audit.emit('READ', 'S46bRange', 'r' || i, 'pat_r' || i) IS NOT NULL AS emitted
  FROM generate_series(1, 2) AS i;
SELECT bh_audit.seal() >= 0 AS sealed;
ALTER SYSTEM SET bh_audit.hash_algorithm = 'sha384';
SELECT pg_reload_conf();
\set ECHO none
SELECT format('DO $$BEGIN IF current_setting(%L) <> %L THEN PERFORM pg_sleep(0.01); END IF; END$$',
              'bh_audit.hash_algorithm', 'sha384')
  FROM generate_series(1, 2000) \gexec
\set ECHO all
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT bh_audit.emit('READ', 'S46bRange', 's' || i, 'pat_s' || i) IS NOT NULL AS emitted
  FROM generate_series(1, 2) AS i;
SELECT bh_audit.seal() >= 0 AS sealed;
ALTER SYSTEM RESET bh_audit.hash_algorithm;
SELECT pg_reload_conf();
\set ECHO none
SELECT format('DO $$BEGIN IF current_setting(%L) <> %L THEN PERFORM pg_sleep(0.01); END IF; END$$',
              'bh_audit.hash_algorithm', 'sha256')
  FROM generate_series(1, 2000) \gexec
\set ECHO all
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT bh_audit.emit('READ', 'S46bRange', 't1', 'pat_t1') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
-- The events emitted under sha384 are sealed with it, those before and
-- after with sha256.  (The recorded changes of the setting are sealed with
-- either, as the sealer takes the reload before or after them.)
SELECT max(seq) AS r2 FROM bh_audit.events WHERE resource_id = 'r2' \gset
SELECT max(seq) AS t1 FROM bh_audit.events WHERE resource_id = 't1' \gset
SELECT resource_id, hash_alg FROM bh_audit.events
 WHERE seq BETWEEN :r2 AND :t1 AND resource_type = 'S46bRange' ORDER BY seq;
SELECT min(seq) AS first384, max(seq) AS last384 FROM bh_audit.events
 WHERE seq BETWEEN :r2 AND :t1 AND hash_alg = 'sha384' \gset

-- The export of r2 .. t1, one line per event in seq order: each line's
-- hash, recomputed from its own event and the hash before it (the first
-- line's: that of the event before the range), is the one it records, and
-- it links to that hash; twice, a line links to a hash of the other
-- algorithm.
CREATE TEMP TABLE cross_lines AS
SELECT n, line::json AS j FROM bh_audit.export_jsonl(:r2, :t1) WITH ORDINALITY AS t(line, n);
CREATE TEMP VIEW cross_checked AS
SELECT n, j -> 'integrity' ->> 'hash_alg' AS alg,
       length(j -> 'integrity' ->> 'event_hash') AS hash_length,
       length(j -> 'integrity' ->> 'prev_event_hash') AS link_length,
       bh_audit.event_hash(j, coalesce(lag(j -> 'integrity' ->> 'event_hash') OVER (ORDER BY n),
                                       (SELECT event_hash FROM bh_audit.events WHERE seq = :r2 - 1)),
                           j -> 'integrity' ->> 'hash_alg') = j -> 'integrity' ->> 'event_hash' AS hash_ok,
       j -> 'integrity' ->> 'prev_event_hash' IS NOT DISTINCT FROM
         coalesce(lag(j -> 'integrity' ->> 'event_hash') OVER (ORDER BY n),
                  (SELECT event_hash FROM bh_audit.events WHERE seq = :r2 - 1)) AS link_ok
  FROM cross_lines;
SELECT count(*) = :t1 - :r2 + 1 AS one_line_each,
       count(*) FILTER (WHERE hash_ok AND link_ok) = count(*) AS all_verified,
       count(*) FILTER (WHERE hash_length <> link_length) AS links_across_algorithms
  FROM cross_checked;
SELECT count(*) AS out_of_order FROM cross_lines c JOIN bh_audit.events e ON e.seq = :r2 + c.n - 1
 WHERE (c.j ->> 'event_id')::uuid <> e.event_id;

-- Verified by range: the first sha384 event alone links to the sha256
-- hash before it; the sha384 stretch, anchored at its last hash given in
-- capitals, is found; its last event and the sha256 one after it link.
SELECT result, events_scanned, chain_gaps, hash_mismatches, head_seq = :first384 AS head_is_end
  FROM bh_audit.verify_chain(:first384, :first384);
SELECT result, events_scanned = :last384 - :first384 + 1 AS all_scanned, chain_gaps,
       hash_mismatches, head_seq = :last384 AS head_is_end
  FROM bh_audit.verify_chain(:first384, :last384,
       expected_head => (SELECT upper(event_hash) FROM bh_audit.events WHERE seq = :last384));
SELECT result, events_scanned, chain_gaps, hash_mismatches, head_seq = :last384 + 1 AS head_is_end
  FROM bh_audit.verify_chain(:last384, :last384 + 1);
-- An anchor before the range is not in it: a head_mismatch at the range's
-- last event.
SELECT seq = :last384 AS at_end, failure_type,
       expected = (SELECT event_hash FROM bh_audit.events WHERE seq = :first384 - 1) AS expected_is_anchor,
       actual = (SELECT event_hash FROM bh_audit.events WHERE seq = :last384) AS actual_is_last
  FROM bh_audit.chain_failures(:first384, :last384,
       expected_head => (SELECT event_hash FROM bh_audit.events WHERE seq = :first384 - 1));

-- 3. The ends of the chain.
SELECT max(seq) AS head FROM bh_audit.events \gset
-- From the start: the first line has no prev_event_hash key; a start at or
-- below 0 is the start.
SELECT n, j -> 'integrity' ? 'prev_event_hash' AS has_prev
  FROM (SELECT n, line::jsonb AS j FROM bh_audit.export_jsonl(-5, 2) WITH ORDINALITY AS t(line, n)) x
 ORDER BY n;
SELECT count(*) AS lines FROM bh_audit.export_jsonl(NULL, 0);
-- At the end: the last line is the head's; past it, nothing, and a range
-- running past it stops at it.
SELECT line::json -> 'integrity' ->> 'event_hash' = (SELECT event_hash FROM bh_audit.chain_head()) AS is_head
  FROM bh_audit.export_jsonl(:head, NULL) AS line;
SELECT count(*) AS lines FROM bh_audit.export_jsonl(:head + 1, NULL);
SELECT count(*) AS lines FROM bh_audit.export_jsonl(:head - 1, :head + 100);
SELECT result, events_scanned, head_seq = :head AS at_head
  FROM bh_audit.verify_chain(:head - 1, :head + 100, expected_head => (SELECT event_hash FROM bh_audit.chain_head()));
-- Past the end: nothing scanned, PASS; with the head expected, FAIL.
SELECT result, events_scanned, head_seq FROM bh_audit.verify_chain(:head + 1, NULL);
SELECT seq, failure_type, actual FROM bh_audit.chain_failures(:head + 1, NULL,
       expected_head => (SELECT event_hash FROM bh_audit.chain_head()));
