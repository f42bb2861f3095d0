-- Version negotiation: bh_audit.schema_version selects the bh-audit-schema
-- version of the events the extension builds.  Each event validates
-- against its own version; a chain mixing the four versions verifies.
SELECT bh_audit.seal() >= 0 AS sealed_before;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- 1.1 by default; superuser-only (a lower version drops information).
SHOW bh_audit.schema_version;
SET bh_audit.schema_version = '3.0';
CREATE ROLE regress_bh_version_user;
SET ROLE regress_bh_version_user;
SET bh_audit.schema_version = '1.0';
RESET ROLE;
DROP ROLE regress_bh_version_user;

-- The same four events in each version, with an owner organisation in the
-- context (1.0 has no actor.owner_org_id).
SET bh_audit.actor_org_id = 'org_1';
SET bh_audit.owner_org_id = 'org_2';
CREATE FUNCTION pg_temp.emit_four() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bh_audit.emit('READ', 'Patient', 'pat_1', 'pat_1', phi_touched => true);
    PERFORM bh_audit.emit('READ', 'Note', 'note_1', 'pat_1', 'DENIED', 'PermissionDenied');
    PERFORM bh_audit.emit('LOGIN', 'Session', outcome => 'DENIED',
                          error_type => 'InvalidCredentials', error_message => 'bad password');
    PERFORM bh_audit.emit('UPDATE', 'Note', 'note_1', 'pat_1', 'FAILURE', 'Timeout', 'write timed out');
    RETURN 4;
END $$;
SET bh_audit.schema_version = '1.0';
SELECT pg_temp.emit_four() AS emitted_1_0;
SET bh_audit.schema_version = '1.1';
SELECT pg_temp.emit_four() AS emitted_1_1;
SET bh_audit.schema_version = '2.0';
SELECT pg_temp.emit_four() AS emitted_2_0;
SET bh_audit.schema_version = 2.1;
SELECT pg_temp.emit_four() AS emitted_2_1;
RESET bh_audit.schema_version;
RESET bh_audit.actor_org_id;
RESET bh_audit.owner_org_id;
SELECT bh_audit.seal() >= 0 AS sealed;

-- What was stored, per version.  1.0: DENIED became FAILURE with its
-- error_type kept (and standing in for a missing error_message), and no
-- owner_org_id.  1.1, 2.0 and 2.1 events differ only in schema_version.
SELECT seq - (SELECT seq FROM mark) AS n,
       event ->> 'schema_version' AS v,
       event -> 'action' ->> 'type' AS action,
       event -> 'outcome' AS outcome,
       event -> 'actor' ? 'owner_org_id' AS has_owner_org,
       outcome AS outcome_column
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark) ORDER BY seq;

SELECT count(*) AS events,
       count(DISTINCT event - 'schema_version' - 'event_id' - 'timestamp') AS shapes
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND event ->> 'schema_version' IN ('1.1', '2.0', '2.1');

-- Every stored event validates against its own version, and only there
-- where the versions differ.
SELECT event ->> 'schema_version' AS v, count(*) AS events,
       count(*) FILTER (WHERE bh_audit.validate_event(event)) AS valid_own,
       count(*) FILTER (WHERE bh_audit.validate_event(event, '1.0')) AS valid_as_1_0,
       count(*) FILTER (WHERE bh_audit.validate_event(event, '1.1')) AS valid_as_1_1
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark)
 GROUP BY 1 ORDER BY 1;
SELECT count(*) AS rows_of_errors
  FROM bh_audit.events, bh_audit.validation_errors(event)
 WHERE seq > (SELECT seq FROM mark);

-- The mixed chain verifies, over the new events and as a whole.
SELECT result, events_scanned, chain_gaps, hash_mismatches
  FROM bh_audit.verify_chain((SELECT seq + 1 FROM mark));
SELECT result, chain_gaps, hash_mismatches FROM bh_audit.verify_chain();
SELECT count(*) AS exported,
       count(DISTINCT line::jsonb ->> 'schema_version') AS versions
  FROM bh_audit.export_jsonl((SELECT seq + 1 FROM mark)) AS line;
