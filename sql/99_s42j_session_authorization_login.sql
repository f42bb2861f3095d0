-- metadata.db_user is "the real login" (docs/compliance-mapping.md,
-- docs/threat-model.md): the role that logged in, next to db_role, the
-- role a statement ran as.  Before f31823e event.c's bh_session_user_name()
-- took GetSessionUserId(), which SET SESSION AUTHORIZATION (a superuser's)
-- changes: after it, a write was recorded as made by the other login,
-- which never connected, and without db_role.  Here: db_user stays the
-- login (the authenticated user) for INSERT, UPDATE and DELETE events; the
-- role the statement ran as is named in db_role (sql/99_s42i_session_
-- authorization_actor checks reads and denials).
\set VERBOSITY terse
CREATE TEMP TABLE s42j_login AS SELECT session_user::text AS login;
GRANT SELECT ON s42j_login TO PUBLIC;
CREATE SCHEMA s42j;
CREATE TABLE s42j.t (id int, pat text, v int);
SELECT bh_audit.tag_table('s42j.t', 'S42JA', 'id', 'pat');
CREATE ROLE s42j_other LOGIN;
GRANT USAGE ON SCHEMA s42j TO s42j_other;
GRANT ALL ON s42j.t TO s42j_other;
-- control: the login, as itself
INSERT INTO s42j.t VALUES (1, 'p1', 1);
SET SESSION AUTHORIZATION s42j_other;
INSERT INTO s42j.t VALUES (2, 'p2', 2);
UPDATE s42j.t SET v = 3 WHERE id = 2;
DELETE FROM s42j.t WHERE id = 2;
RESET SESSION AUTHORIZATION;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_id,
       event -> 'metadata' ->> 'db_user' = (SELECT login FROM s42j_login) AS db_user_is_login,
       event -> 'metadata' ->> 'db_role' AS db_role
  FROM bh_audit.events WHERE resource_type = 'S42JA' ORDER BY seq;
SELECT bh_audit.untag_table('s42j.t');
DROP SCHEMA s42j CASCADE;
DROP ROLE s42j_other;
\set VERBOSITY default
