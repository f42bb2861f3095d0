-- Verification, the chain head and the JSONL export of an intact chain.
SELECT bh_audit.emit('READ', 'Patient', 'pat_v' || i, 'pat_v' || i) IS NOT NULL AS emitted
  FROM generate_series(1, 3) AS i;
SELECT bh_audit.seal() >= 0 AS sealed;

SELECT result, events_scanned = (SELECT count(*) FROM bh_audit.events) AS all_scanned,
       chain_length = events_scanned AS all_chained, chain_gaps, hash_mismatches,
       head_seq = (SELECT max(seq) FROM bh_audit.events) AS head_is_last
  FROM bh_audit.verify_chain();
SELECT count(*) AS failures FROM bh_audit.chain_failures();

-- Seq is dense from 1 and every event links to its predecessor.
SELECT min(seq) = 1 AND max(seq) = count(*) AS dense FROM bh_audit.events;
SELECT count(*) AS broken_links
  FROM bh_audit.events e LEFT JOIN bh_audit.events p ON p.seq = e.seq - 1
 WHERE e.prev_event_hash IS DISTINCT FROM p.event_hash;
SELECT hash_alg, count(*) > 0 AS present FROM bh_audit.events GROUP BY 1;

-- The head names the last event; with it as the expected head: PASS.
SELECT h.seq = e.seq AND h.event_hash = e.event_hash AND h.ts = e.ts AS head_ok
  FROM bh_audit.chain_head() h, (SELECT * FROM bh_audit.events ORDER BY seq DESC LIMIT 1) e;
SELECT result FROM bh_audit.verify_chain(expected_head => (SELECT event_hash FROM bh_audit.chain_head()));
-- An earlier head is fine too: the chain only grew since it was stored.
SELECT result FROM bh_audit.verify_chain(expected_head => (SELECT event_hash FROM bh_audit.events WHERE seq = 2));
-- The stored head as it may come back from where it was kept: in capitals,
-- it is the same hash; with blanks around it, cut short or not a hash at
-- all, it is refused (22023) rather than reported as a head_mismatch, whose
-- message says events may have been removed.
SELECT result FROM bh_audit.verify_chain(expected_head => (SELECT upper(event_hash) FROM bh_audit.events WHERE seq = 2));
SELECT count(*) AS failures FROM bh_audit.chain_failures(expected_head => (SELECT upper(event_hash) FROM bh_audit.chain_head()));
SELECT regress_err($$SELECT bh_audit.verify_chain(expected_head => (SELECT event_hash || E'\n' FROM bh_audit.chain_head()))$$);
SELECT regress_err($$SELECT bh_audit.verify_chain(expected_head => (SELECT ' ' || event_hash FROM bh_audit.chain_head()))$$);
SELECT regress_err($$SELECT count(*) FROM bh_audit.chain_failures(expected_head => (SELECT left(event_hash, 63) FROM bh_audit.chain_head()))$$);
SELECT regress_err($$SELECT bh_audit.verify_chain(expected_head => '')$$);
SELECT regress_err($$SELECT bh_audit.verify_chain(expected_head => repeat('g', 64))$$);
SELECT result FROM bh_audit.verify_chain(expected_head => (SELECT ' ' || event_hash FROM bh_audit.chain_head()));

-- Ranges: partial chains link to the event before them.
SELECT result, events_scanned, head_seq FROM bh_audit.verify_chain(2, 3);
SELECT result, events_scanned, head_seq FROM bh_audit.verify_chain(from_seq => 3, to_seq => 3);
-- From an anchor (seq 2 and its hash) on: the range starts at the anchored
-- event; one starting after it does not hold the anchor, and fails.
SELECT result, events_scanned = (SELECT count(*) FROM bh_audit.events WHERE seq >= 2) AS scanned_from_anchor
  FROM bh_audit.verify_chain(from_seq => 2,
       expected_head => (SELECT event_hash FROM bh_audit.events WHERE seq = 2));
SELECT result, events_scanned = (SELECT count(*) FROM bh_audit.events WHERE seq >= 3) AS scanned_after_anchor
  FROM bh_audit.verify_chain(from_seq => 3,
       expected_head => (SELECT event_hash FROM bh_audit.events WHERE seq = 2));
SELECT result, events_scanned, head_seq FROM bh_audit.verify_chain(100000, 200000);
-- a range whose start is past its end is empty, and passes
SELECT result, events_scanned, chain_gaps FROM bh_audit.verify_chain(3, 1);
SELECT count(*) AS failures FROM bh_audit.chain_failures(3, 1);

-- The export: one line per event, seq order, hash of each line (without
-- its integrity block) chained from the previous line = its recorded hash.
CREATE TEMP TABLE export AS
SELECT n, line::json AS j, line FROM bh_audit.export_jsonl() WITH ORDINALITY AS t(line, n);
SELECT count(*) = (SELECT count(*) FROM bh_audit.events) AS one_line_per_event FROM export;
SELECT count(*) AS non_canonical_lines FROM export
 WHERE line <> bh_audit.canonical_json(j) AND line NOT LIKE '%"integrity"%';
SELECT count(*) AS bad_lines FROM (
  SELECT j -> 'integrity' ->> 'event_hash' AS recorded,
         bh_audit.event_hash(j, lag(j -> 'integrity' ->> 'event_hash') OVER (ORDER BY n),
                             j -> 'integrity' ->> 'hash_alg') AS recomputed,
         j -> 'integrity' ->> 'prev_event_hash' AS prev,
         lag(j -> 'integrity' ->> 'event_hash') OVER (ORDER BY n) AS prev_line
    FROM export) x
 WHERE recorded <> recomputed OR prev IS DISTINCT FROM prev_line;
SELECT count(*) AS first_with_prev FROM export WHERE n = 1 AND (j -> 'integrity' ->> 'prev_event_hash') IS NOT NULL;
SELECT count(*) AS mismatched_ids FROM export x JOIN bh_audit.events e ON e.seq = x.n
 WHERE (x.j ->> 'event_id')::uuid <> e.event_id OR x.j -> 'integrity' ->> 'event_hash' <> e.event_hash;
SELECT count(*) AS ranged_lines FROM bh_audit.export_jsonl(2, 3);

-- Another algorithm for new events: the chain stays verifiable.  The
-- postmaster signals a reload to every process at once: once this session
-- has the new setting (each generated DO, not echoed, is a statement of its
-- own, and a session reloads between statements), the sealer has its signal
-- too, and takes the setting at the start of its next round, before any
-- batch.  seal() ends the round in progress, so the event is sealed by a
-- later one.
ALTER SYSTEM SET bh_audit.hash_algorithm = 'sha512';
SELECT pg_reload_conf();
\set ECHO none
SELECT format('DO $$BEGIN IF current_setting(%L) <> %L THEN PERFORM pg_sleep(0.01); END IF; END$$',
              'bh_audit.hash_algorithm', 'sha512')
  FROM generate_series(1, 2000) \gexec
\set ECHO all
SELECT current_setting('bh_audit.hash_algorithm') AS reloaded;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT bh_audit.emit('READ', 'Patient', 'pat_512', 'pat_512') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT hash_alg, length(event_hash) FROM bh_audit.events ORDER BY seq DESC LIMIT 1;
ALTER SYSTEM RESET bh_audit.hash_algorithm;
SELECT pg_reload_conf();
\set ECHO none
SELECT format('DO $$BEGIN IF current_setting(%L) <> %L THEN PERFORM pg_sleep(0.01); END IF; END$$',
              'bh_audit.hash_algorithm', 'sha256')
  FROM generate_series(1, 2000) \gexec
\set ECHO all
SELECT current_setting('bh_audit.hash_algorithm') AS reloaded;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT bh_audit.emit('READ', 'Patient', 'pat_256', 'pat_256') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT hash_alg, length(event_hash) FROM bh_audit.events ORDER BY seq DESC LIMIT 1;
SELECT result, chain_gaps, hash_mismatches FROM bh_audit.verify_chain();

-- Counters: sealed counts every event chained since the server started,
-- which made this ledger (nothing is left to seal after seal() above).
SELECT events_emitted_total > 0 AS emitted,
       events_sealed_total = (SELECT count(*) FROM bh_audit.events) AS sealed_each,
       events_dropped_total, validation_failures_total, queued_events,
       sealer_last_seal_at BETWEEN pg_postmaster_start_time() AND clock_timestamp() AS last_seal,
       sealer_pid = (SELECT pid FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer')
       AS sealer_running
  FROM bh_audit.stats();

-- seal() in a transaction holding a lock that the sealer's writes wait
-- for (SHARE or stronger on the ledger or the queue) would never return:
-- refused at once.  A weaker lock does not stop it.
BEGIN;
LOCK TABLE bh_audit.events IN SHARE MODE;
SELECT bh_audit.seal();
ROLLBACK;
BEGIN;
LOCK TABLE bh_audit.queue IN ACCESS EXCLUSIVE MODE;
SELECT bh_audit.seal();
ROLLBACK;
-- Any lock on the queue that row locks take is refused too, whether or not
-- a row was locked (the sealer deletes the rows it seals).
BEGIN;
SELECT count(*) AS queue_rows_locked FROM (SELECT * FROM bh_audit.queue FOR UPDATE) q;
SELECT bh_audit.seal();
ROLLBACK;
BEGIN;
LOCK TABLE bh_audit.queue IN ROW SHARE MODE;
SELECT bh_audit.seal();
ROLLBACK;
BEGIN;
LOCK TABLE bh_audit.events IN SHARE UPDATE EXCLUSIVE MODE;
SELECT bh_audit.emit('READ', 'Patient', 'pat_lock', 'pat_lock') IS NOT NULL AS emitted;
COMMIT;
BEGIN;
LOCK TABLE bh_audit.events IN ACCESS SHARE MODE;
-- (the event committed above may be sealed before the call or during it:
-- once the call returns it is in the ledger)
SELECT bh_audit.seal() >= 0 AS sealed_under_weaker_lock;
SELECT count(*) AS pat_lock_sealed FROM bh_audit.events WHERE patient_id = 'pat_lock';
COMMIT;
