-- An end-user context value made only of blanks (spaces, tabs, line
-- breaks) names nobody: refused when set, with 22023 naming the setting
-- and never the value, by SET, SET LOCAL, set_config(), set_context() and
-- ALTER ROLE ... SET alike.  '' (not stated) and RESET keep working, a
-- value with blanks around words is kept as given, and actor_roles keeps
-- skipping entries of blanks (trimmed around, line breaks included).
SELECT bh_audit.seal() >= 0 AS sealed_before;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- SET: the error in full, once
SET bh_audit.actor_id = '   ';
SHOW bh_audit.actor_id;

-- every setting, SET and set_config(), spaces, a tab, line breaks
CREATE TEMP TABLE blanks (b text);
INSERT INTO blanks VALUES (' '), ('   '), (E'\t'), (E'\n'), (E' \r\n\t ');
SELECT s AS setting,
       count(*) FILTER (WHERE regress_err(format('SET %s = %L', s, b))
                        = '22023: ' || s || ' shows no character') AS set_refused,
       count(*) FILTER (WHERE regress_err(format('SELECT set_config(%L, %L, false)', s, b))
                        = '22023: ' || s || ' shows no character') AS set_config_refused,
       count(*) FILTER (WHERE regress_err(format('SELECT set_config(%L, %L, true)', s, b))
                        = '22023: ' || s || ' shows no character') AS set_config_local_refused,
       count(*) AS blanks
  FROM unnest(ARRAY['bh_audit.actor_id', 'bh_audit.actor_type', 'bh_audit.actor_org_id',
                    'bh_audit.owner_org_id', 'bh_audit.request_id', 'bh_audit.trace_id',
                    'bh_audit.session_id']) AS s, blanks
 GROUP BY s ORDER BY s;
-- none of them was taken
SELECT s AS setting, current_setting(s) = '' AS still_empty
  FROM unnest(ARRAY['bh_audit.actor_id', 'bh_audit.actor_type', 'bh_audit.actor_org_id',
                    'bh_audit.owner_org_id', 'bh_audit.request_id', 'bh_audit.trace_id',
                    'bh_audit.session_id']) AS s ORDER BY s;

-- set_context(): each argument
SELECT bh_audit.set_context(actor_id => E' \t');
SELECT regress_err(format('SELECT bh_audit.set_context(%s => %L)', a, E'\n  '))
  FROM unnest(ARRAY['actor_id', 'actor_type', 'org_id', 'owner_org_id', 'request_id',
                    'trace_id', 'session_id']) AS a;

-- SET LOCAL in a transaction fails that statement alone: rolled back to a
-- savepoint, the values stated before hold, and the events record them
BEGIN;
SET LOCAL bh_audit.actor_id = 'dr_blank_a';
SAVEPOINT s;
SET LOCAL bh_audit.actor_id = E'\t \t';
ROLLBACK TO s;
SHOW bh_audit.actor_id;
SELECT bh_audit.set_context(actor_id => 'dr_blank_b', request_id => 'req-blank-1');
SAVEPOINT s2;
-- a blank argument refuses the whole call: actor_id before it is not taken
SELECT bh_audit.set_context(actor_id => 'dr_blank_c', trace_id => '  ');
ROLLBACK TO s2;
SELECT current_setting('bh_audit.actor_id') AS actor,
       current_setting('bh_audit.request_id') AS request,
       current_setting('bh_audit.trace_id') AS trace;
SELECT bh_audit.emit('READ', 'Ctx44f', 'in-block') IS NOT NULL AS emitted;
COMMIT;

-- Blanks around words: kept as given
BEGIN;
SELECT bh_audit.set_context(actor_id => ' dr x ', org_id => E'\torg 1', owner_org_id => E'org 2\n',
                            request_id => ' r ', trace_id => E'\r\nt', session_id => 's ',
                            actor_type => 'service');
SELECT bh_audit.emit('READ', 'Ctx44f', 'around') IS NOT NULL AS emitted;
COMMIT;

-- '' and RESET keep working: the actor is the login
SET bh_audit.actor_id = 'dr_session';
SET bh_audit.actor_id = '';
SET bh_audit.request_id = 'req-session';
RESET bh_audit.request_id;
BEGIN;
SELECT bh_audit.set_context(actor_id => '', actor_type => '', org_id => '', owner_org_id => '',
                            request_id => '', trace_id => '', session_id => '');
SELECT bh_audit.emit('READ', 'Ctx44f', 'empty') IS NOT NULL AS emitted;
COMMIT;

-- actor_roles: entries of blanks skipped, blanks (line breaks too) trimmed
-- around the others; a list of blanks only gives no roles
SET bh_audit.actor_roles = E' \t\n ';
SELECT current_setting('bh_audit.actor_roles') = E' \t\n ' AS kept_as_given;
SELECT bh_audit.emit('READ', 'Ctx44f', 'roles-blank') IS NOT NULL AS emitted;
BEGIN;
SELECT bh_audit.set_context(roles => ARRAY[' ', E'\n', E'\r\nnurse\n', ' head nurse ']);
SELECT bh_audit.emit('READ', 'Ctx44f', 'roles-trimmed') IS NOT NULL AS emitted;
COMMIT;
RESET bh_audit.actor_roles;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_id, event -> 'actor' = jsonb_build_object('subject_id', session_user, 'subject_type', 'human') AS actor_is_login,
       -- the login's name left out: it is whoever runs the tests
       (event -> 'actor') - CASE WHEN actor_id = session_user THEN 'subject_id' ELSE '' END AS actor,
       event -> 'correlation' AS correlation,
       bh_audit.validate_event(event) AS valid
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'Ctx44f' ORDER BY seq;

-- A role's stored setting goes through the same check
CREATE ROLE s44f_blank_role;
ALTER ROLE s44f_blank_role SET bh_audit.actor_id = ' ';
ALTER ROLE s44f_blank_role SET bh_audit.session_id = E'\n';
ALTER ROLE s44f_blank_role SET bh_audit.actor_id = '';
ALTER ROLE s44f_blank_role SET bh_audit.session_id = ' s ';
SELECT setconfig FROM pg_db_role_setting
 WHERE setrole = 's44f_blank_role'::regrole;
DROP ROLE s44f_blank_role;

-- actor_type: other values refused as before
SELECT regress_err($$SET bh_audit.actor_type = 'robot'$$);
SELECT regress_err($$SET bh_audit.actor_type = ' human '$$);

-- the ALTER ROLE events (configuration changes) chained: nothing left queued
SELECT bh_audit.seal() >= 0 AS sealed;
