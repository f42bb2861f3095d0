-- The jsonb of every kind of event is what PostgreSQL itself makes of the
-- same JSON: its keys in jsonb's order (shorter keys first, then bytewise),
-- each once, at every level.  The builder lays the event out directly, so a
-- key out of order or twice would go unnoticed by the operators that look
-- keys up; its text would show it.  Checked on the events as queued
-- (the last still held by pending_events(), before the commit) and as
-- sealed (the ledger stores them as built): the text of the
-- event is the text of its text parsed again, the two compare equal, and
-- so do their send forms and their sizes.  The events cover
-- the paths that build one: reads (with their counts), writes (changed
-- columns, a moved patient), emit() with the caller's metadata merged with
-- the extension's own keys (collisions, keys not allowed, non-scalar
-- values, the key limit, cut values), a full actor (org, owner org, roles)
-- and correlation, a statement run as another role (db_role), a denial, a
-- failure, and version 1.0.
SELECT bh_audit.seal() >= 0 AS sealed_before;
CREATE TEMP TABLE eb_mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE SCHEMA eb;
CREATE TABLE eb.notes (id int PRIMARY KEY, patient_id text, body text, extra text);
INSERT INTO eb.notes VALUES (1, 'p1', 'a', 'x'), (2, 'p2', 'b', 'y'), (3, NULL, 'c', 'z');
SELECT bh_audit.tag_table('eb.notes', 'EbNote', 'id', 'patient_id') IS NOT NULL AS tagged;
CREATE ROLE regress_eb_role;
GRANT USAGE ON SCHEMA eb TO regress_eb_role;
GRANT SELECT ON eb.notes TO regress_eb_role;
CREATE TABLE eb.secret (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('eb.secret', 'EbSecret', 'id', 'patient_id') IS NOT NULL AS tagged;

-- The checks, over the events given.
CREATE FUNCTION pg_temp.eb_check(events jsonb[]) RETURNS TABLE (n bigint, text_differs bigint,
                                                                not_equal bigint, send_differs bigint,
                                                                size_differs bigint)
LANGUAGE sql AS $$
    SELECT count(*),
           count(*) FILTER (WHERE e::text <> e::text::jsonb::text),
           count(*) FILTER (WHERE e <> e::text::jsonb),
           count(*) FILTER (WHERE jsonb_send(e) <> jsonb_send(e::text::jsonb)),
           count(*) FILTER (WHERE pg_column_size(e) <> pg_column_size(e::text::jsonb))
      FROM unnest(events) AS e
$$;

-- Queued events (emit, writes), as built, before the commit.
SET bh_audit.metadata_allowlist = 'a, zz, db_rolf, dc, b, long_key_of_the_caller, k01, k02, k03, k04, k05, k06, k07, k08, k09, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, nested, num, flag, nothing';
SET bh_audit.max_metadata_value_length = 16;
SET bh_audit.service_version = '1.2.3';
SET bh_audit.service_environment = 'staging';
BEGIN;
SELECT bh_audit.set_context(actor_id => 'user_1', actor_type => 'human',
                            roles => ARRAY['nurse', 'admin', 'auditor'], org_id => 'org_1',
                            owner_org_id => 'org_2', request_id => 'req_1',
                            trace_id => 'trace_1', session_id => 'sess_1');
CREATE FUNCTION pg_temp.eb_make() RETURNS SETOF jsonb LANGUAGE plpgsql AS $$
BEGIN
    -- keys on both sides of the extension's own (db_user, db_role: 7
    -- bytes), one of them, one not allowed, a nested value, a number, a
    -- flag, nulls, a string cut
    PERFORM bh_audit.emit('UPDATE', 'EbDoc', 'doc_1', 'pat_1', 'FAILURE', 'Timeout', 'timed out',
                          '{"a": "1", "zz": 2, "db_rolf": true, "dc": null, "db_user": "me",
                            "b": "a long value that is cut", "not_allowed": 1, "nested": {"x": 1},
                            "long_key_of_the_caller": 3.25, "num": -12345678901234, "flag": false,
                            "nothing": null}',
                          'PHI', true, 'sign_note');
    -- over the key limit
    PERFORM bh_audit.emit('OTHER', 'EbDoc',
                          metadata => (SELECT jsonb_object_agg(format('k%s', lpad(i::text, 2, '0')), i)
                                         FROM generate_series(1, 20) AS i));
    PERFORM bh_audit.emit('READ', 'EbDoc', outcome => 'DENIED', error_type => 'PermissionDenied');
    INSERT INTO eb.notes VALUES (4, 'p4', 'd', 'w');
    UPDATE eb.notes SET body = 'bb', extra = 'yy' WHERE id = 2;
    UPDATE eb.notes SET patient_id = 'p9' WHERE id = 4;
    DELETE FROM eb.notes WHERE id = 4;
    SET LOCAL ROLE regress_eb_role;
    PERFORM bh_audit.emit('EXPORT', 'EbDoc', metadata => '{"db_role": "x", "a": "y"}');
    RESET ROLE;
    RETURN QUERY SELECT bh_audit.pending_events();
END $$;
SELECT * FROM pg_temp.eb_check(ARRAY(SELECT pg_temp.eb_make()));
COMMIT;

-- Autonomous events (reads, denials, failures) and 1.0, sealed with the rest.
SELECT count(*) FROM eb.notes WHERE id = 1;
SELECT count(*) FROM eb.notes;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'user_2', roles => ARRAY['clerk'], org_id => 'o',
                            request_id => 'r2');
SELECT body FROM eb.notes WHERE id = 2;
COMMIT;
SET ROLE regress_eb_role;
SELECT count(*) FROM eb.notes WHERE id = 3;
SELECT count(*) FROM eb.secret;
RESET ROLE;
SELECT count(*) FROM eb.notes WHERE id = 1 / (SELECT count(*) - count(*) FROM eb.notes);
SET bh_audit.schema_version = '1.0';
BEGIN;
SELECT bh_audit.set_context(actor_id => 'user_3', owner_org_id => 'org_3', trace_id => 't3');
SELECT count(*) FROM eb.notes WHERE id = 2;
SELECT bh_audit.emit('LOGIN', 'Session', outcome => 'DENIED', error_type => 'PermissionDenied',
                     metadata => '{"zz": "1", "a": 2}') IS NOT NULL AS emitted;
COMMIT;
RESET bh_audit.schema_version;
RESET bh_audit.metadata_allowlist;
RESET bh_audit.max_metadata_value_length;
RESET bh_audit.service_version;
RESET bh_audit.service_environment;
SELECT bh_audit.seal() >= 0 AS sealed;

-- What was sealed: every kind above, and all of it checked.
SELECT action, outcome, event ->> 'schema_version' AS v, count(*)
  FROM bh_audit.events WHERE seq > (SELECT seq FROM eb_mark)
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT * FROM pg_temp.eb_check(ARRAY(SELECT event FROM bh_audit.events
                                      WHERE seq > (SELECT seq FROM eb_mark)));
-- The layout itself, for the fullest event (keys as stored, at each level).
SELECT jsonb_object_keys(event) AS top FROM bh_audit.events
 WHERE seq > (SELECT seq FROM eb_mark) AND resource_type = 'EbDoc' AND action = 'UPDATE';
SELECT event -> 'actor' AS actor, event -> 'metadata' AS metadata, event -> 'correlation' AS correlation
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM eb_mark) AND resource_type = 'EbDoc' AND action = 'UPDATE';

SELECT bh_audit.untag_table('eb.notes') IS NOT NULL AS untagged;
SELECT bh_audit.untag_table('eb.secret') IS NOT NULL AS untagged;
DROP SCHEMA eb CASCADE;
DROP ROLE regress_eb_role;
