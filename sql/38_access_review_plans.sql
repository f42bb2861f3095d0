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
-- The queries that filter on the event itself, which no B-tree holds, read
-- only the block ranges of their period (events_ts_brin): a bitmap scan of
-- the block-range index, not the whole ledger.  (With the ledger's
-- statistics, as autovacuum keeps them: ts nearly follows seq.)
ANALYZE bh_audit.events;
SET enable_seqscan = off;
-- 42 CFR Part 2 records read or changed this month.
EXPLAIN (COSTS OFF)
SELECT ts, actor_id, action, resource_type, resource_id, patient_id
  FROM bh_audit.events
 WHERE event -> 'metadata' -> 'part2' = 'true'::jsonb AND ts >= date_trunc('month', now())
   AND resource_type <> 'AuditConfiguration' AND outcome <> 'DENIED'
 ORDER BY ts;
-- Cross-organisation access this month.
EXPLAIN (COSTS OFF)
SELECT ts, actor_id, event -> 'actor' ->> 'org_id' AS actor_org,
       event -> 'actor' ->> 'owner_org_id' AS owner_org, action, resource_type, patient_id
  FROM bh_audit.events
 WHERE event -> 'actor' ->> 'org_id' IS DISTINCT FROM event -> 'actor' ->> 'owner_org_id'
   AND event -> 'actor' ? 'owner_org_id' AND ts >= date_trunc('month', now())
 ORDER BY ts;
-- A page of what was sealed since the last review, for an actor with a
-- large share of the ledger (postgres: most of this one's events): in seq
-- order from the primary key, continuing after the last seq seen (never by
-- ts, which does not always follow seq), not all of the actor's events
-- through the actor index and a sort.
EXPLAIN (COSTS OFF)
SELECT seq, ts, action, resource_type, resource_id, patient_id, outcome
  FROM bh_audit.events
 WHERE actor_id = 'postgres'
   AND seq > 1
 ORDER BY seq
 LIMIT 1000;
SELECT count(*) FILTER (WHERE actor_id = 'postgres') * 2 > count(*) AS postgres_has_most
  FROM bh_audit.events;
-- The logins that assert other actors, over a period.
EXPLAIN (COSTS OFF)
SELECT event -> 'metadata' ->> 'db_user' AS login, count(DISTINCT actor_id) AS actors
  FROM bh_audit.events WHERE ts >= date_trunc('month', now()) GROUP BY 1 ORDER BY 2 DESC;
RESET enable_seqscan;
