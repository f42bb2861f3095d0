-- The upstream verifier's vectors (test/vectors, from bh-audit-schema) as a
-- ledger.  verify_chain() "re-hashes the chain exactly as the
-- bh-audit-logger verifier does" (docs/sql-reference.md): each vector file,
-- its lines stored as the ledger's rows in file order, gives the counts
-- and the failures expected_verify_results.json gives it (event_index =
-- seq - 1, each failure's event id, expected and actual hashes, message).
-- Left out: tamper_unchained_middle_idx3.jsonl, whose line without an
-- integrity block no ledger row can stand for (a row always has its chain
-- columns; export_jsonl() never writes such a line).  The intact sha256
-- chain is accepted by the ledger's guard as a restore is, and exported
-- back as the same events with the same integrity blocks.
\getenv abs_srcdir PG_ABS_SRCDIR
\set dir :abs_srcdir '/test/vectors/'
CREATE DATABASE regress_s46b_vectors;
\c regress_s46b_vectors
SET client_min_messages = error;
CREATE EXTENSION bh_audit;
RESET client_min_messages;
CREATE TEMP TABLE vec (file text, n int, line jsonb);
INSERT INTO vec
SELECT f, n, l::jsonb
  FROM unnest(ARRAY['chain_v1_1_sha256.jsonl', 'chain_v1_1_sha384.jsonl', 'chain_v1_1_sha512.jsonl',
                    'tamper_modified_field_idx2.jsonl', 'tamper_deleted_event_idx3.jsonl',
                    'tamper_swapped_idx1_idx2.jsonl', 'tamper_missing_prev_idx4.jsonl',
                    'tamper_modified_first_event.jsonl', 'tamper_wrong_prev_idx5.jsonl']) AS f,
       regexp_split_to_table(rtrim(pg_read_file(:'dir' || f), E'\n'), E'\n') WITH ORDINALITY AS t(l, n);
CREATE TEMP TABLE expected_results AS
SELECT key AS file, value AS r
  FROM jsonb_each(pg_read_file(:'dir' || 'expected_verify_results.json')::jsonb);
SELECT file, count(*) AS lines FROM vec GROUP BY 1 ORDER BY 1;

-- A vector's lines as the ledger's rows (the event without its integrity
-- block, the block's columns), in file order.
CREATE FUNCTION pg_temp.load(f text) RETURNS void LANGUAGE sql AS $$
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT n, line - 'integrity', line -> 'integrity' ->> 'hash_alg',
       line -> 'integrity' ->> 'prev_event_hash', line -> 'integrity' ->> 'event_hash'
  FROM vec WHERE file = f ORDER BY n
$$;

-- 1. The intact sha256 chain, guard on: accepted row by row, verified, and
-- exported as the file's events and integrity blocks.
BEGIN;
SELECT pg_temp.load('chain_v1_1_sha256.jsonl');
SELECT result, events_scanned, chain_length, chain_gaps, hash_mismatches, head_seq FROM bh_audit.verify_chain();
SELECT count(*) AS differing_lines
  FROM bh_audit.export_jsonl() WITH ORDINALITY AS x(line, n)
  FULL JOIN (SELECT n, line FROM vec WHERE file = 'chain_v1_1_sha256.jsonl') v USING (n)
 WHERE x.line::jsonb IS DISTINCT FROM v.line;
ROLLBACK;

-- 2. Each file, the guard off (as a superuser tampering with the ledger
-- would have it): verify_chain()'s counts and chain_failures()'s rows
-- against the expected results (less what the ledger has no counterpart
-- of: the time range, the count of unchained events, the files'
-- descriptions, and each failure's timestamp).
ALTER TABLE bh_audit.events DISABLE TRIGGER USER;
CREATE TEMP TABLE got (file text, counts jsonb, failures jsonb);
DO $$
DECLARE
    f text;
BEGIN
    FOR f IN SELECT DISTINCT file FROM vec ORDER BY 1 LOOP
        DELETE FROM bh_audit.events;
        PERFORM pg_temp.load(f);
        INSERT INTO got
        SELECT f,
               (SELECT jsonb_build_object('result', result, 'events_scanned', events_scanned,
                                          'chain_length', chain_length, 'chain_gaps', chain_gaps,
                                          'hash_mismatches', hash_mismatches)
                  FROM bh_audit.verify_chain()),
               (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                  'event_index', seq - 1, 'event_id', event_id::text,
                                  'failure_type', failure_type, 'expected', expected,
                                  'actual', actual, 'message', message)
                                ORDER BY seq, failure_type DESC), '[]')
                  FROM bh_audit.chain_failures());
    END LOOP;
    DELETE FROM bh_audit.events;
END $$;
SELECT g.file, g.counts ->> 'result' AS result,
       g.counts = (e.r - 'failures' - 'time_range' - 'unchained_events' - 'description')
         AS counts_as_expected,
       g.failures = (SELECT coalesce(jsonb_agg(x - 'timestamp' ORDER BY (x ->> 'event_index')::int,
                                               x ->> 'failure_type' DESC), '[]')
                       FROM jsonb_array_elements(e.r -> 'failures') x) AS failures_as_expected,
       jsonb_array_length(g.failures) AS failures
  FROM got g JOIN expected_results e USING (file)
 ORDER BY 1;
\c contrib_regression
DROP DATABASE regress_s46b_vectors;
