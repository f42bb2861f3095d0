-- The export writes the 32 astral noncharacters (U+1FFFE, U+1FFFF, ...
-- U+10FFFE, U+10FFFF), which psql leaves out of what it prints, as JSON
-- escapes (surrogate pairs); their neighbours stay raw.  Hashes cover the
-- raw characters, as before: the chain verifies, each hash recomputes from
-- the ledger's event and from the escaped line, which reads back as the
-- ledger's values.  (Characters are shown as code points: psql would drop
-- the noncharacters from this output too.)
SELECT getdatabaseencoding();
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

SET bh_audit.actor_id = U&'dr \+05FFFE';
SELECT bh_audit.emit('READ', 'Patient', U&'r\+01FFFE\+10FFFF', U&'p\+00FFFF\+10FFFD\+01F600') IS NOT NULL AS emitted;
SELECT bh_audit.emit('READ', 'Patient', U&'\+02FFFF"\+0EFFFE', U&'\+01FFFF\+10FFFE') IS NOT NULL AS emitted;
RESET bh_audit.actor_id;
SELECT bh_audit.seal() >= 0 AS sealed;

SELECT result, hash_mismatches, chain_gaps FROM bh_audit.verify_chain();

CREATE TEMP TABLE lines AS
SELECT seq, line, line::json AS j
  FROM bh_audit.export_jsonl((SELECT seq + 1 FROM mark)) WITH ORDINALITY AS t(line, n)
  JOIN bh_audit.events e ON e.seq = (SELECT seq FROM mark) + t.n;
SELECT count(*) AS exported FROM lines;

-- The escapes, as the lines have them (the rest of each line is ASCII).
SELECT seq - (SELECT seq FROM mark) AS n,
       substring(line FROM '"resource":\{[^}]*\}') AS resource,
       substring(line FROM '"subject_id":"[^"]*"') AS actor
  FROM lines ORDER BY seq;
-- Kept raw: U+FFFF, U+10FFFD, U+1F600; no noncharacter left raw.
SELECT seq - (SELECT seq FROM mark) AS n,
       strpos(line, U&'\+00FFFF\+10FFFD\+01F600') > 0 AS raw_neighbours,
       line ~ U&'[\+01FFFE\+01FFFF\+02FFFE\+02FFFF\+05FFFE\+05FFFF\+0EFFFE\+10FFFE\+10FFFF]' AS raw_nonchar
  FROM lines ORDER BY seq;

-- Read back: the ledger's values, code point by code point.
SELECT seq - (SELECT seq FROM mark) AS n,
       (SELECT string_agg(to_hex(ascii(c)), ' ') FROM regexp_split_to_table(j -> 'resource' ->> 'patient_id', '') c) AS patient_id,
       j -> 'resource' ->> 'patient_id' = e.patient_id AS same_patient,
       j -> 'resource' ->> 'id' = e.resource_id AS same_id,
       j -> 'actor' ->> 'subject_id' = e.actor_id AS same_actor
  FROM lines JOIN bh_audit.events e USING (seq) ORDER BY seq;

-- The hashes: from the ledger's event and from the line, both the recorded one.
SELECT seq - (SELECT seq FROM mark) AS n,
       bh_audit.event_hash(e.event::json, e.prev_event_hash, e.hash_alg) = e.event_hash AS ledger_hash,
       bh_audit.event_hash(j, j -> 'integrity' ->> 'prev_event_hash', j -> 'integrity' ->> 'hash_alg') = e.event_hash AS line_hash,
       j -> 'integrity' ->> 'event_hash' = e.event_hash AS recorded,
       bh_audit.canonical_json(j) = bh_audit.canonical_json(e.event::json) AS same_canonical
  FROM lines JOIN bh_audit.events e USING (seq) ORDER BY seq;
