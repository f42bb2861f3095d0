-- The documented access-review queries (docs/compliance-mapping.md,
-- docs/operations.md) are served by the ledger's indexes: with sequential
-- scans discouraged, each plan reads bh_audit.events through an index, so
-- its cost follows the events it returns, not the ledger's size.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
-- All access to a patient's records.
EXPLAIN (COSTS OFF)
SELECT ts, actor_id, action, resource_type, resource_id, outcome
  FROM bh_audit.events
 WHERE patient_id = 'pat_456' AND ts >= now() - interval '90 days'
 ORDER BY ts;
-- The events that name no patient but may concern them: found by resource
-- type (the patient's own events' types, by the patient index, and the
-- tagged tables'), then these, one type at a time.
EXPLAIN (COSTS OFF)
SELECT ts, actor_id, action, resource_type, event -> 'metadata' AS what
  FROM bh_audit.events
 WHERE patient_id IS NULL
   AND resource_type = ANY (ARRAY(SELECT resource_type FROM bh_audit.events
                                   WHERE patient_id = 'pat_456'
                                  UNION
                                  SELECT resource_type FROM bh_audit.tagged_tables
                                   WHERE patient_column IS NOT NULL))
   AND ts >= now() - interval '90 days'
 ORDER BY ts;
-- Everything a user did.
EXPLAIN (COSTS OFF)
SELECT ts, action, resource_type, resource_id, patient_id, outcome
  FROM bh_audit.events
 WHERE actor_id = 'dr_smith' AND ts >= now() - interval '30 days'
 ORDER BY ts;
-- All denied attempts.
EXPLAIN (COSTS OFF)
SELECT ts, actor_id, action, resource_type, resource_id, patient_id, error_type
  FROM bh_audit.events
 WHERE outcome = 'DENIED' AND ts >= now() - interval '7 days'
 ORDER BY ts;
-- Changes to what is audited.
EXPLAIN (COSTS OFF)
SELECT ts, actor_id, event -> 'metadata' ->> 'db_user' AS login, action, resource_id,
       event -> 'metadata' ->> 'change' AS change
  FROM bh_audit.events
 WHERE resource_type = 'AuditConfiguration' AND patient_id IS NULL ORDER BY ts;
-- Losses recorded in the chain.
EXPLAIN (COSTS OFF)
SELECT ts, event -> 'metadata' FROM bh_audit.events
 WHERE resource_type = 'AuditLog' AND patient_id IS NULL AND error_type = 'EventsLost'
 ORDER BY ts;
RESET enable_seqscan;
RESET enable_bitmapscan;
