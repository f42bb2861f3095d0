-- A denial (and a read) in a session whose superuser login ran SET SESSION
-- AUTHORIZATION names the real login in metadata.db_user, "who actually
-- connected" (docs/tagging.md), and the role refused in db_role: the
-- session user it switched to never logged in.  A superuser impersonating
-- another role (pg_restore --use-set-session-authorization, a DBA testing
-- "as" a user) must not leave events that say that role connected.
CREATE SCHEMA ssa;
CREATE TABLE ssa.notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO ssa.notes VALUES (1, 'p1', 'a');
SELECT bh_audit.tag_table('ssa.notes', 'SsaNote', 'id', 'patient_id');
CREATE ROLE regress_ssa_user;
GRANT USAGE ON SCHEMA ssa TO regress_ssa_user;
CREATE TEMP TABLE ssa_login AS SELECT session_user::text AS login;
GRANT SELECT ON ssa_login TO regress_ssa_user;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE ssa_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
GRANT SELECT ON ssa_mark TO regress_ssa_user;

-- refused: a READ denial
SET SESSION AUTHORIZATION regress_ssa_user;
SELECT * FROM ssa.notes;
RESET SESSION AUTHORIZATION;
-- permitted: a READ success
GRANT SELECT ON ssa.notes TO regress_ssa_user;
SET SESSION AUTHORIZATION regress_ssa_user;
SELECT count(*) FROM ssa.notes;
RESET SESSION AUTHORIZATION;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type,
       event -> 'metadata' ->> 'db_user' = (SELECT login FROM ssa_login) AS db_user_is_login,
       event -> 'metadata' ->> 'db_role' AS db_role
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM ssa_mark) AND resource_type = 'SsaNote'
 ORDER BY seq;

SELECT bh_audit.untag_table('ssa.notes');
DROP TABLE ssa.notes;
DROP SCHEMA ssa;
DROP TABLE ssa_login, ssa_mark;
DROP ROLE regress_ssa_user;
