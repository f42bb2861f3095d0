-- bh_audit.tags.tagged_by and the event of the tagging name the same role:
-- the login (metadata.db_user is the authenticated user, event.c's
-- bh_session_user_name()), the role it ran as in db_role.  Before, the
-- column's DEFAULT session_user named the role a superuser's SET SESSION
-- AUTHORIZATION switched to, which never logged in, while the event named
-- the login.  Under SET ROLE both named the login already.
\set VERBOSITY terse
CREATE TEMP TABLE s43c_login AS SELECT session_user::text AS login;
CREATE ROLE regress_s43c_admin SUPERUSER;
CREATE TABLE s43c_a (id int PRIMARY KEY, pat text);
CREATE TABLE s43c_b (id int PRIMARY KEY, pat text);
CREATE TABLE s43c_c (id int PRIMARY KEY, pat text);
ALTER TABLE s43c_b OWNER TO regress_s43c_admin;
ALTER TABLE s43c_c OWNER TO regress_s43c_admin;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE s43c_mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
-- as the login
SELECT bh_audit.tag_table('s43c_a', 'S43CA', 'id', 'pat');
-- under SET SESSION AUTHORIZATION
SET SESSION AUTHORIZATION regress_s43c_admin;
SELECT bh_audit.tag_table('s43c_b', 'S43CB', 'id', 'pat');
RESET SESSION AUTHORIZATION;
-- under SET ROLE
SET ROLE regress_s43c_admin;
SELECT bh_audit.tag_table('s43c_c', 'S43CC', 'id', 'pat');
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT t.tbl, t.tagged_by = l.login AS tagged_by_login,
       e.event -> 'metadata' ->> 'db_user' = l.login AS event_db_user_login,
       e.event -> 'metadata' ->> 'db_role' AS event_db_role,
       t.tagged_by::text = e.event -> 'metadata' ->> 'db_user' AS agree
  FROM bh_audit.tags t CROSS JOIN s43c_login l
  JOIN bh_audit.events e ON e.resource_type = 'AuditConfiguration'
   AND e.event -> 'metadata' ->> 'change' = 'tag_table'
   AND e.resource_id = 'public.' || t.tbl::text AND e.seq > (SELECT seq FROM s43c_mark)
 WHERE t.tbl::text LIKE 's43c_%' ORDER BY 1;
SELECT bh_audit.untag_table('s43c_a'), bh_audit.untag_table('s43c_b'), bh_audit.untag_table('s43c_c');
DROP TABLE s43c_a, s43c_b, s43c_c;
DROP ROLE regress_s43c_admin;
\set VERBOSITY default
