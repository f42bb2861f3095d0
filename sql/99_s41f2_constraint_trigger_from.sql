-- CREATE CONSTRAINT TRIGGER ... FROM a tagged table asks for the TRIGGER
-- privilege on that table too (after the one on the table it is created
-- on): refused, an UPDATE denial of the tagged table, as CREATE TRIGGER on
-- it is (sql/37_denied_access).
CREATE SCHEMA sct;
CREATE TABLE sct.notes (id int PRIMARY KEY, patient_id text, body text);
SELECT bh_audit.tag_table('sct.notes', 'SctNote', 'id', 'patient_id');
CREATE ROLE regress_sct_user;
GRANT USAGE, CREATE ON SCHEMA sct TO regress_sct_user;
CREATE FUNCTION sct.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE sct_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

SET ROLE regress_sct_user;
CREATE TABLE sct.mine (id int);
-- on the tagged table: a denial
CREATE CONSTRAINT TRIGGER t1 AFTER INSERT ON sct.notes
    FOR EACH ROW EXECUTE FUNCTION sct.noop();
-- on the role's own table, from the tagged table: a denial too
CREATE CONSTRAINT TRIGGER t2 AFTER INSERT ON sct.mine FROM sct.notes
    FOR EACH ROW EXECUTE FUNCTION sct.noop();
RESET ROLE;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type, resource_type,
       event -> 'metadata' ->> 'table' AS tbl,
       event -> 'outcome' ->> 'error_message' AS message,
       event -> 'metadata' ->> 'db_role' AS db_role
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM sct_mark) AND resource_type = 'SctNote'
 ORDER BY seq;

DROP TABLE sct.mine;
DROP FUNCTION sct.noop();
SELECT bh_audit.untag_table('sct.notes');
DROP TABLE sct.notes;
DROP SCHEMA sct;
DROP ROLE regress_sct_user;
