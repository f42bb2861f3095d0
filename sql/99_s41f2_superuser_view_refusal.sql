-- A superuser's statement on a tagged table, refused a table of the same
-- name in another schema that a view it reads reads as its owner (who may
-- not read it), was refused no privilege on the tagged table (a superuser
-- passes every check): the statement's FAILURE (insufficient_privilege)
-- on the tagged table, as for any other role, not a DENIED of it.  A view
-- whose owner may not read the tagged table itself is its denial.
CREATE SCHEMA sfv;
CREATE SCHEMA sfv_other;
CREATE TABLE sfv.notes (id int PRIMARY KEY, patient_id text, body text);
CREATE TABLE sfv_other.notes (id int, x text);
INSERT INTO sfv.notes VALUES (1, 'p1', 'b1');
INSERT INTO sfv_other.notes VALUES (1, 'o');
SELECT bh_audit.tag_table('sfv.notes', 'SfvNote', 'id', 'patient_id');
CREATE ROLE regress_sfv_owner;
CREATE ROLE regress_sfv_reader;
GRANT USAGE ON SCHEMA sfv, sfv_other TO regress_sfv_owner, regress_sfv_reader;
GRANT SELECT ON sfv.notes TO regress_sfv_reader;
-- a view of the untagged table, whose owner may not read that table
CREATE VIEW sfv_other.v AS SELECT * FROM sfv_other.notes;
ALTER VIEW sfv_other.v OWNER TO regress_sfv_owner;
GRANT SELECT ON sfv_other.v TO regress_sfv_reader;
-- a view of the tagged table, whose owner may not read it
CREATE VIEW sfv.v AS SELECT * FROM sfv.notes;
ALTER VIEW sfv.v OWNER TO regress_sfv_owner;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE sfv_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- a role that may read the tagged table: the statement's failure
SET ROLE regress_sfv_reader;
SELECT * FROM sfv.notes n JOIN sfv_other.v o USING (id);
RESET ROLE;
-- a superuser: the same
SELECT * FROM sfv.notes n JOIN sfv_other.v o USING (id);
INSERT INTO sfv.notes SELECT id + 10, 'p2', x FROM sfv_other.v;
-- a superuser through a view whose owner may not read the tagged table:
-- its denial
SELECT * FROM sfv.v;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type, resource_type,
       event -> 'metadata' ->> 'table' AS tbl,
       event -> 'outcome' ->> 'error_message' AS message,
       actor_id = session_user AS session_actor
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM sfv_mark) AND resource_type = 'SfvNote'
 ORDER BY seq;

DROP VIEW sfv.v, sfv_other.v;
DROP TABLE sfv_other.notes;
SELECT bh_audit.untag_table('sfv.notes');
DROP TABLE sfv.notes;
DROP SCHEMA sfv, sfv_other;
DROP ROLE regress_sfv_owner, regress_sfv_reader;
