-- Last of the suite: every event that the whole suite left in the ledger
-- validates against the schema of its own version, and the chain verifies.
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) > 0 AS has_events,
       count(*) FILTER (WHERE NOT bh_audit.validate_event(event)) AS invalid
  FROM bh_audit.events;
-- the errors of any invalid event (none expected)
SELECT seq, event ->> 'schema_version' AS v, e.path, e.message
  FROM bh_audit.events, bh_audit.validation_errors(event) AS e
 ORDER BY 1, 3, 4;
SELECT count(*) AS queued FROM bh_audit.queue;
SELECT result, chain_gaps, hash_mismatches FROM bh_audit.verify_chain();
