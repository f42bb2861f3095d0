-- event_hash() with an explicit NULL hash_alg: no hash (NULL), as
-- verify_chain() gives no expected hash for an event whose hash_alg is NULL;
-- not a SHA-256 one that would match a ledger row whose hash_alg was nulled.
-- Left out, hash_alg is still 'sha256' (its default).

-- 1-3. An explicit NULL algorithm hashes nothing, with or without a predecessor.
SELECT bh_audit.event_hash('{"a":1}', NULL, NULL) IS NULL AS no_prev_null_alg_is_null,
       bh_audit.event_hash('{"a":1}', 'ab', NULL) IS NULL AS prev_null_alg_is_null,
       bh_audit.event_hash('{"a":1}', hash_alg => NULL) IS NULL AS named_null_alg_is_null;

-- 4-5. The default (argument left out) is SHA-256, as before.
SELECT bh_audit.event_hash('{"a":1}') = encode(sha256('{"a":1}'), 'hex') AS default_is_sha256,
       bh_audit.event_hash('{"a":1}', 'ab') = encode(sha256('ab{"a":1}'), 'hex') AS default_prev_is_sha256;

-- 6. Recomputing a ledger row whose hash_alg reads NULL agrees with
-- verify_chain(): no hash that equals the recorded one.
CREATE TEMP TABLE s42e_row AS
SELECT '{"a":1}'::jsonb AS event, NULL::text AS hash_alg, NULL::text AS prev_event_hash,
       encode(sha256('{"a":1}'), 'hex') AS event_hash;
SELECT count(*) FILTER (WHERE bh_audit.event_hash(event::json, prev_event_hash, hash_alg)
                              IS NOT DISTINCT FROM event_hash) AS rows_matching
  FROM s42e_row;
