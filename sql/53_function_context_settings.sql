-- A function's (or procedure's) SET clause of a bh_audit.* setting is a
-- default for every call of it, in every session: SET bh_audit.actor_id
-- names another end user on the events of what the function does,
-- whatever the application stated.  Every change of such a stored setting
-- is an AuditConfiguration event, in the statement's transaction (a
-- rolled-back one leaves none), as ALTER ROLE / ALTER DATABASE ... SET of
-- the same settings: metadata.setting, metadata.value (default: removed),
-- change naming the statement, metadata.setting_function the function.
CREATE SCHEMA fcs;
CREATE TABLE fcs.notes (id int PRIMARY KEY, pid text NOT NULL, body text);
INSERT INTO fcs.notes VALUES (1, 'p1', 'a'), (2, 'p2', 'b');
SELECT bh_audit.tag_table('fcs.notes', 'FcsNote', 'id', 'pid', capture_writes => false);
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- CREATE FUNCTION ... SET: one event per bh_audit.* setting it stores
-- (search_path is none of them)
CREATE FUNCTION fcs.get_note(n int) RETURNS text LANGUAGE sql STABLE
  SET bh_audit.actor_id = 'dr_fn' SET search_path = pg_catalog
  SET bh_audit.request_id = 'req_fn'
  AS $$ SELECT body FROM fcs.notes WHERE id = n $$;
CREATE PROCEDURE fcs.touch() LANGUAGE sql SET bh_audit.actor_type = 'service'
  AS $$ SELECT 1 $$;
-- the setting's name in other letter cases is the same setting
ALTER FUNCTION fcs.get_note(int) SET "BH_Audit.Actor_Org_Id" = 'org_fn';
ALTER FUNCTION fcs.get_note(int) RESET bh_audit.request_id;
-- FROM CURRENT stores the session's value
SET bh_audit.session_id = 'sess_cur';
ALTER ROUTINE fcs.touch() SET bh_audit.session_id FROM CURRENT;
RESET bh_audit.session_id;
-- a clause that leaves the stored value as it was changes nothing
ALTER FUNCTION fcs.get_note(int) SET bh_audit.actor_id = 'dr_fn';
-- settings of other names: nothing
ALTER FUNCTION fcs.get_note(int) SET work_mem = '8MB';
-- rolled back: nothing; nor a CREATE that fails as PostgreSQL checks the
-- body, in a savepoint (a block with EXCEPTION)
BEGIN;
ALTER FUNCTION fcs.get_note(int) SET bh_audit.actor_roles = 'admin';
ROLLBACK;
DO $$BEGIN
  CREATE FUNCTION fcs.broken() RETURNS int LANGUAGE sql
    SET bh_audit.actor_id = 'dr_broken' AS 'SELECT nosuch FROM fcs.notes';
EXCEPTION WHEN undefined_column THEN RAISE NOTICE 'not created: %', SQLERRM;
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_id, event -> 'metadata' ->> 'change' AS change,
       event -> 'metadata' ->> 'setting' AS setting,
       event -> 'metadata' ->> 'value' AS value,
       event -> 'metadata' ->> 'setting_function' AS function
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'AuditConfiguration'
   AND event -> 'metadata' ->> 'change' <> 'tag_table'
 ORDER BY seq;
UPDATE mark SET seq = (SELECT max(seq) FROM bh_audit.events);

-- The function still works, and the READ of what it reads names the
-- function's actor and organisation, not the end user the application
-- stated (the request id, which the function does not set, is the
-- application's); the application's own read, after the call, names the
-- application's end user again: the function's settings hold in the call.
BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr_app', request_id => 'req_app');
SELECT fcs.get_note(1) AS body;
SELECT body FROM fcs.notes WHERE id = 2;
SELECT current_setting('bh_audit.actor_id') AS actor_after_call;
COMMIT;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT event -> 'actor' ->> 'subject_id' AS actor, event -> 'actor' ->> 'org_id' AS org,
       patient_id, event -> 'correlation' ->> 'request_id' AS request_id
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'FcsNote'
 ORDER BY seq;
UPDATE mark SET seq = (SELECT max(seq) FROM bh_audit.events);

-- RESET ALL: one event per bh_audit.* setting stored on the function;
-- CREATE OR REPLACE without the clause removes what was stored; with
-- another value, stores it; with a clause a later RESET in the statement
-- cancels, removes it
ALTER FUNCTION fcs.get_note(int) RESET ALL;
CREATE OR REPLACE PROCEDURE fcs.touch() LANGUAGE sql AS $$ SELECT 2 $$;
CREATE OR REPLACE FUNCTION fcs.get_note(n int) RETURNS text LANGUAGE sql STABLE
  SET bh_audit.actor_id = 'dr_other'
  AS $$ SELECT body FROM fcs.notes WHERE id = n $$;
CREATE OR REPLACE FUNCTION fcs.get_note(n int) RETURNS text LANGUAGE sql STABLE
  SET bh_audit.actor_id = 'dr_third' RESET bh_audit.actor_id
  AS $$ SELECT body FROM fcs.notes WHERE id = n $$;
-- ALTER ... RESET ALL of a function with none: nothing
ALTER FUNCTION fcs.get_note(int) RESET ALL;
-- bh_audit.enabled: one event as the function is created (PostgreSQL then
-- applies the clause while checking the body, which reads nothing: not
-- recorded again), and at each call that switches capture
CREATE FUNCTION fcs.quiet() RETURNS int LANGUAGE sql SET bh_audit.enabled = off
  AS $$ SELECT 1 $$;
SELECT fcs.quiet();
ALTER FUNCTION fcs.quiet() RESET bh_audit.enabled;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_id, event -> 'metadata' ->> 'change' AS change,
       event -> 'metadata' ->> 'setting' AS setting,
       event -> 'metadata' ->> 'value' AS value,
       event -> 'metadata' ->> 'setting_function' AS function
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'AuditConfiguration'
 ORDER BY seq;
SELECT count(*) AS invalid FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND NOT bh_audit.validate_event(event);

DROP SCHEMA fcs CASCADE;
