-- The end user's context values are cut to the schema's limits when they
-- are set (actor_id and the correlation ids to 256 characters, the
-- organization ids to 128, a roles list to its first 25 non-blank roles of
-- at most 64 characters), exactly as the event builder cuts them: the
-- events are the same as before, and building each costs no more than the
-- limits, however long the value given.  Any role may set them.
CREATE SCHEMA cc;
CREATE TABLE cc.notes (id int PRIMARY KEY, pid text NOT NULL);
INSERT INTO cc.notes SELECT g, 'p' || g FROM generate_series(1, 200) g;
SELECT bh_audit.tag_table('cc.notes', 'DocumentReference', 'id', 'pid', capture_writes => false);
CREATE ROLE regress_cc_user;
GRANT USAGE ON SCHEMA cc TO regress_cc_user;
GRANT SELECT ON cc.notes TO regress_cc_user;
SELECT regress_reads.mark_now();

-- 100,000 roles: blanks, empty entries and roles longer than 64 characters
-- among them.  The roles an event takes: the first 25 non-blank ones,
-- trimmed, those over 64 characters cut to 61 and "...".
CREATE TEMP TABLE long_roles AS
SELECT string_agg(CASE WHEN i % 3 = 0 THEN ' 	'
                       WHEN i % 5 = 0 THEN ' ' || repeat('ü', 60 + i % 20) || '	'
                       ELSE ' role' || i || ' ' END, ',' ORDER BY i) AS list
  FROM generate_series(1, 100000) i;
CREATE TEMP TABLE expected_roles AS
SELECT jsonb_agg(CASE WHEN length(r) > 64 THEN left(r, 61) || '...' ELSE r END ORDER BY i) AS roles,
       string_agg(CASE WHEN length(r) > 64 THEN left(r, 61) || '...' ELSE r END, ',' ORDER BY i) AS list
  FROM (SELECT i, btrim(r, E' \t') AS r
          FROM long_roles, unnest(string_to_array(list, ',')) WITH ORDINALITY AS u(r, i)
         WHERE btrim(r, E' \t') <> '' ORDER BY i LIMIT 25) s;
GRANT SELECT ON long_roles, expected_roles TO regress_cc_user;
SELECT octet_length(list) > 1000000 AS long_list FROM long_roles;

SET SESSION AUTHORIZATION regress_cc_user;
SELECT length(set_config('bh_audit.actor_id', repeat('a', 10000000), false)) AS actor_id,
       length(set_config('bh_audit.request_id', repeat('r', 10000000), false)) AS request_id,
       length(set_config('bh_audit.trace_id', repeat('✓', 1000000), false)) AS trace_id,
       length(set_config('bh_audit.session_id', repeat('𝄞', 1000000), false)) AS session_id,
       length(set_config('bh_audit.actor_org_id', repeat('ö', 1000000), false)) AS org_id,
       length(set_config('bh_audit.owner_org_id', repeat('中', 1000000), false)) AS owner_org_id,
       length(set_config('bh_audit.actor_roles', (SELECT list FROM long_roles), false)) AS roles_chars;
-- What the settings hold now: the cut values.
SELECT current_setting('bh_audit.actor_id') = repeat('a', 253) || '...' AS actor_id_cut,
       current_setting('bh_audit.request_id') = repeat('r', 253) || '...' AS request_id_cut,
       current_setting('bh_audit.trace_id') = repeat('✓', 253) || '...' AS trace_id_cut,
       current_setting('bh_audit.session_id') = repeat('𝄞', 253) || '...' AS session_id_cut,
       current_setting('bh_audit.actor_org_id') = repeat('ö', 125) || '...' AS org_id_cut,
       current_setting('bh_audit.owner_org_id') = repeat('中', 125) || '...' AS owner_org_id_cut,
       current_setting('bh_audit.actor_roles') = (SELECT list FROM expected_roles) AS roles_cut;

-- A read of 200 patients: each event carries the cut values.
SELECT count(*) FROM cc.notes;
RESET SESSION AUTHORIZATION;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS events,
       count(DISTINCT e.patient_id) AS patients,
       bool_and(e.event -> 'actor' ->> 'subject_id' = repeat('a', 253) || '...') AS actor_id,
       bool_and(e.event -> 'actor' -> 'roles' = (SELECT roles FROM expected_roles)) AS roles,
       bool_and(e.event -> 'actor' ->> 'org_id' = repeat('ö', 125) || '...') AS org_id,
       bool_and(e.event -> 'actor' ->> 'owner_org_id' = repeat('中', 125) || '...') AS owner_org_id,
       bool_and(e.event -> 'correlation' = jsonb_build_object(
                    'request_id', repeat('r', 253) || '...', 'trace_id', repeat('✓', 253) || '...',
                    'session_id', repeat('𝄞', 253) || '...')) AS correlation,
       -- the login; the role SET SESSION AUTHORIZATION switched to is db_role
       bool_and(e.event -> 'metadata' ->> 'db_user' = session_user AND
                e.event -> 'metadata' ->> 'db_role' = 'regress_cc_user') AS db_user,
       bool_and(bh_audit.validate_event(e.event)) AS valid
  FROM bh_audit.events e
 WHERE e.seq > (SELECT seq FROM regress_reads.mark) AND e.resource_type = 'DocumentReference';
SELECT jsonb_array_length(roles) AS roles, roles ->> 0 AS first, roles ->> 3 AS fourth,
       length(roles ->> 3) AS fourth_length
  FROM expected_roles;

-- SET, SET LOCAL and set_context() cut too; values within the limits are
-- kept as given (a short roles list with its blanks and empty entries too).
SET SESSION AUTHORIZATION regress_cc_user;
BEGIN;
SELECT bh_audit.set_context(actor_id => repeat('b', 1000000),
                            roles => ARRAY(SELECT 'r' || i FROM generate_series(1, 5000) i),
                            request_id => repeat('q', 300));
SELECT length(current_setting('bh_audit.actor_id')) AS actor_id,
       right(current_setting('bh_audit.actor_id'), 4) AS ending,
       current_setting('bh_audit.actor_roles') = (SELECT string_agg('r' || i, ',') FROM generate_series(1, 25) i) AS roles_cut,
       length(current_setting('bh_audit.request_id')) AS request_id;
COMMIT;
SELECT set_config('bh_audit.actor_id', repeat('c', 1000), false) IS NOT NULL AS set;
SELECT length(current_setting('bh_audit.actor_id')) AS set_config_length;
SET bh_audit.trace_id = 'ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé';
SELECT length(current_setting('bh_audit.trace_id')) AS set_length,
       right(current_setting('bh_audit.trace_id'), 4) AS ending;
SET bh_audit.actor_id = 'dr-1';
SET bh_audit.actor_roles = ' nurse , ,	clerk,';
SET bh_audit.session_id = '';
SELECT current_setting('bh_audit.actor_id') AS actor_id,
       '[' || current_setting('bh_audit.actor_roles') || ']' AS roles,
       '[' || current_setting('bh_audit.session_id') || ']' AS session_id;
DO $$ BEGIN EXECUTE format('SET bh_audit.request_id = %L', repeat('r', 256)); END $$;
SELECT current_setting('bh_audit.request_id') = repeat('r', 256) AS kept_whole_at_256;
RESET SESSION AUTHORIZATION;
RESET bh_audit.actor_id;
RESET bh_audit.actor_roles;
RESET bh_audit.actor_org_id;
RESET bh_audit.owner_org_id;
RESET bh_audit.request_id;
RESET bh_audit.trace_id;
RESET bh_audit.session_id;

SELECT bh_audit.untag_table('cc.notes');
DROP SCHEMA cc CASCADE;
REVOKE ALL ON long_roles, expected_roles FROM regress_cc_user;
DROP ROLE regress_cc_user;
