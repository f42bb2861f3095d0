-- The role a statement runs as, when it is not the login: after SET ROLE,
-- and inside a SECURITY DEFINER function (its owner).  Every event built
-- then carries it in metadata.db_role, next to metadata.db_user (the
-- login), so that a denial names the role that was refused and a read the
-- role whose privileges it used; reads, writes, denials, failures (built
-- while the statement fails) and emit() alike.  No db_role when the
-- statement runs as the login.  A renamed role is named by its new name.
-- An application cannot set db_role itself.
CREATE SCHEMA sr;
CREATE ROLE regress_sr_clerk;
CREATE ROLE regress_sr_app;
GRANT USAGE ON SCHEMA sr TO regress_sr_clerk, regress_sr_app;
CREATE TABLE sr.notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO sr.notes VALUES (1, 'p1', 'x'), (2, 'p2', 'y');
SELECT bh_audit.tag_table('sr.notes', 'SrNote', 'id', 'patient_id');
GRANT SELECT, INSERT ON sr.notes TO regress_sr_app;
CREATE FUNCTION sr.count_notes() RETURNS bigint LANGUAGE sql SECURITY DEFINER
  AS 'SELECT count(*) FROM sr.notes WHERE id = 2';
ALTER FUNCTION sr.count_notes() OWNER TO regress_sr_app;
GRANT EXECUTE ON FUNCTION sr.count_notes() TO regress_sr_clerk;
CREATE FUNCTION pg_temp.roles() RETURNS TABLE (action text, patient_id text, outcome text,
                                               error_type text, db_role text, db_user text)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM regress_reads.mark;
    RETURN QUERY SELECT e.action, e.patient_id, e.outcome, e.error_type,
                        e.event -> 'metadata' ->> 'db_role', e.event -> 'metadata' ->> 'db_user'
                   FROM bh_audit.events e
                  WHERE e.seq > m AND e.resource_type IN ('SrNote', 'Probe')
                  ORDER BY e.action, e.outcome, e.seq;
    UPDATE regress_reads.mark SET seq = (SELECT max(seq) FROM bh_audit.events);
END $$;
SELECT regress_reads.mark_now();

-- As the login: no db_role.
SELECT count(*) FROM sr.notes WHERE id = 1;
SELECT * FROM pg_temp.roles();

-- SET ROLE to a role without privileges: the denial names it.
SET ROLE regress_sr_clerk;
SELECT regress_err('SELECT * FROM sr.notes');
RESET ROLE;
SELECT * FROM pg_temp.roles();

-- SET ROLE to a role with privileges: its read, its write, and its
-- failure (a division by zero raised while the rows are read).
SET ROLE regress_sr_app;
SELECT count(*) FROM sr.notes WHERE id = 1;
INSERT INTO sr.notes VALUES (3, 'p3', 'z');
SELECT regress_err('SELECT 1 / (id - 1) FROM sr.notes WHERE id = 1');
RESET ROLE;
SELECT * FROM pg_temp.roles();

-- A SECURITY DEFINER function reads with its owner's privileges: its
-- owner is the role named, whoever calls it.
SET ROLE regress_sr_clerk;
SELECT sr.count_notes();
RESET ROLE;
SELECT * FROM pg_temp.roles();

-- A renamed role is named by its new name, in the same session.
ALTER ROLE regress_sr_app RENAME TO regress_sr_app2;
SET ROLE regress_sr_app2;
SELECT count(*) FROM sr.notes WHERE id = 2;
RESET ROLE;
SELECT * FROM pg_temp.roles();

-- emit(): the role too; an application's own db_role key is dropped
-- (a key bh_audit sets itself), even when the allowlist names it.
SET bh_audit.metadata_allowlist = 'db_role';
SELECT bh_audit.emit('READ', 'Probe', 'r1', 'p9', metadata => '{"db_role": "forged"}') IS NOT NULL AS emitted;
SET ROLE regress_sr_clerk;
SELECT bh_audit.emit('READ', 'Probe', 'r2', 'p9', metadata => '{"db_role": "forged"}') IS NOT NULL AS emitted;
RESET ROLE;
RESET bh_audit.metadata_allowlist;
SELECT * FROM pg_temp.roles();

-- A utility statement's events (a setting stored for a database) name the
-- role too, as the first statement after SET ROLE.  RESET ALL by a role
-- that is not a superuser records only what PostgreSQL removes: the
-- superuser-only settings stay (bh_audit.service_roles).  (The mark comes
-- before the superuser's settings, whose events are shown too: mark_now()
-- does not seal, and after it they would be shown or not as the sealer had
-- chained them or not by then.)
SELECT regress_reads.mark_now();
CREATE ROLE regress_sr_dbo CREATEROLE;
CREATE ROLE regress_sr_u;
ALTER ROLE regress_sr_u SET bh_audit.service_roles = 'svc';
ALTER ROLE regress_sr_u SET bh_audit.actor_id = 'stored_actor';
SET ROLE regress_sr_dbo;
ALTER ROLE regress_sr_u SET bh_audit.request_id = 'req_stored';
ALTER ROLE regress_sr_u RESET ALL;
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_id, event -> 'metadata' ->> 'change' AS change,
       event -> 'metadata' ->> 'db_role' AS db_role
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM regress_reads.mark) AND resource_type = 'AuditConfiguration'
   AND event -> 'metadata' ->> 'setting_role' = 'regress_sr_u'
 ORDER BY seq;
SELECT unnest(setconfig) AS kept FROM pg_db_role_setting
 WHERE setrole = 'regress_sr_u'::regrole;
DROP ROLE regress_sr_u;
DROP ROLE regress_sr_dbo;

DROP SCHEMA sr CASCADE;
DROP ROLE regress_sr_clerk;
DROP ROLE regress_sr_app2;
